//! Committees: who verifies a job. Validators' activated stakes live in one account as a Fenwick
//! tree ([`ValidatorSet`]), so drawing a seat costs `O(log n)` reads for `n` validators and never
//! a scan. A round's seats are drawn by stake, with replacement, from a seed fixed only after the
//! step that opened the round ([`committee_seed`]): the hash of the first slot after it, which
//! nobody knew when taking that step. Seats whose validator stakes less than the job's value are
//! drawn again, so every seat's stake covers what a wrong vote could win; the node's and the
//! submitter's own validators are drawn again too. The same functions run on chain (with the
//! `sol_sha256` syscall) and in the agents (with `sha2`): `hash` is the caller's SHA-256 of the
//! concatenation of its parts.
//!
//! Votes are committed, then revealed ([`vote_commitment`]): a member cannot copy a vote it has
//! not seen, and a lazy member that reveals nothing pays the missed-vote penalty.

use crate::{
    GpuFuelError,
    settlement::{self, Outcome},
    state::{Job, Phase, SeatVote},
};

/// Bytes before the tree in a validator set account: kind (1), padding (3), capacity (u32),
/// total activated stake (u64).
pub const HEADER_LEN: usize = 16;
/// How many candidates a draw tries per seat before it leaves seats empty.
pub const TRIES_PER_SEAT: usize = 8;

/// The size of a validator set account holding `capacity` validators.
pub const fn account_len(capacity: u32) -> usize {
    HEADER_LEN + 8 * capacity as usize
}

/// The validators' activated stakes as a Fenwick tree over indices `1..=capacity`, stored
/// `tree[i - 1]`.
pub struct ValidatorSet<T> {
    /// Total activated stake (the sum of every leaf).
    pub total: u64,
    /// The tree.
    pub tree: T,
}

impl<T: AsRef<[u64]>> ValidatorSet<T> {
    /// Validators the tree can hold.
    pub fn capacity(&self) -> u32 {
        self.tree.as_ref().len() as u32
    }

    /// Stake of validators `1..=i`.
    pub fn prefix(&self, mut i: usize) -> u64 {
        let tree = self.tree.as_ref();
        let mut sum = 0u64;
        while i > 0 {
            sum = sum.wrapping_add(tree[i - 1]);
            i &= i - 1;
        }
        sum
    }

    /// Stake of validator `i` (0 outside the tree).
    pub fn stake(&self, i: u32) -> u64 {
        let i = i as usize;
        if i == 0 || i > self.tree.as_ref().len() { 0 } else { self.prefix(i).wrapping_sub(self.prefix(i - 1)) }
    }

    /// The validator whose stake interval holds `u` (`u < total`): the smallest `i` with
    /// `prefix(i) > u`.
    pub fn find(&self, mut u: u64) -> u32 {
        let tree = self.tree.as_ref();
        let n = tree.len();
        let (mut pos, mut step) = (0usize, n.checked_next_power_of_two().map_or(1 << 31, |p| p));
        while step > 0 {
            let next = pos + step;
            if next <= n && tree[next - 1] <= u {
                pos = next;
                u -= tree[next - 1];
            }
            step >>= 1;
        }
        (pos + 1) as u32
    }
}

impl<T: AsMut<[u64]> + AsRef<[u64]>> ValidatorSet<T> {
    /// Adds `amount` to validator `i`'s stake.
    pub fn add(&mut self, i: u32, amount: u64) -> Result<(), GpuFuelError> {
        let tree = self.tree.as_mut();
        let mut i = i as usize;
        if i == 0 || i > tree.len() {
            return Err(GpuFuelError::InvalidValidatorSet);
        }
        self.total = self.total.checked_add(amount).ok_or(GpuFuelError::Overflow)?;
        while i <= tree.len() {
            tree[i - 1] = tree[i - 1].checked_add(amount).ok_or(GpuFuelError::Overflow)?;
            i += i & i.wrapping_neg();
        }
        Ok(())
    }

    /// Takes `amount` from validator `i`'s stake (at most its stake).
    pub fn sub(&mut self, i: u32, amount: u64) -> Result<(), GpuFuelError> {
        if amount > self.stake(i) {
            return Err(GpuFuelError::InvalidValidatorSet);
        }
        let tree = self.tree.as_mut();
        let mut i = i as usize;
        self.total -= amount;
        while i <= tree.len() {
            tree[i - 1] -= amount;
            i += i & i.wrapping_neg();
        }
        Ok(())
    }
}

/// The seed a round's committee is drawn from: the hash of the first slot after the step that
/// opened the round, bound to the job and its result.
#[inline]
pub fn committee_seed(
    hash: impl Fn(&[&[u8]]) -> [u8; 32],
    slot_hash: &[u8; 32],
    job: &[u8; 32],
    commitment: &[u8; 32],
) -> [u8; 32] {
    hash(&[b"gpufuel-committee", slot_hash, job, commitment])
}

/// What a draw may not seat: validators staking less than the job's value, and those of the
/// job's own parties.
pub trait Eligible {
    /// Whether validator `index`, staking `stake`, may take a seat.
    fn eligible(&self, index: u32, stake: u64) -> bool;
}

/// Draws up to `out.len()` seats for `round` by stake, with replacement, trying at most
/// [`TRIES_PER_SEAT`] candidates per seat; returns how many were filled (fewer when too few
/// validators are eligible).
#[inline]
pub fn draw<T: AsRef<[u64]>>(
    hash: impl Fn(&[&[u8]]) -> [u8; 32],
    seed: &[u8; 32],
    round: u8,
    set: &ValidatorSet<T>,
    eligible: &impl Eligible,
    out: &mut [u32],
) -> usize {
    let mut filled = 0;
    if set.total == 0 {
        return 0;
    }
    // At most MAX_APPEAL_COMMITTEE seats: the product is small (wrapping: no 128-bit multiply on
    // SBF).
    for counter in 0..out.len().wrapping_mul(TRIES_PER_SEAT) as u32 {
        if filled == out.len() {
            break;
        }
        let h = hash(&[b"gpufuel-seat", seed, &[round], &counter.to_le_bytes()]);
        let u = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % set.total;
        let index = set.find(u);
        if eligible.eligible(index, set.stake(index)) {
            out[filled] = index;
            filled += 1;
        }
    }
    filled
}

/// What a committee member commits to before revealing: its vote on the job, bound to the round,
/// the seat and a secret salt.
#[inline]
pub fn vote_commitment(
    hash: impl Fn(&[&[u8]]) -> [u8; 32],
    job: &[u8; 32],
    round: u8,
    seat: u8,
    pass: bool,
    salt: &[u8; 32],
) -> [u8; 32] {
    hash(&[b"gpufuel-vote", job, &[round, seat, pass as u8], salt])
}

/// Where a submitted job's verification stands, and what moves it on: the program's rule, read
/// the same way by agents and clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The round's committee is to be drawn (`DrawCommittee`, anyone).
    Draw,
    /// Members commit their votes (until the commit window ends or every seat committed).
    Commit,
    /// Members reveal their votes (until the reveal window ends or every seat revealed).
    Reveal,
    /// The first committee did not decide: `DrawCommittee` opens the appeal round (anyone).
    Escalate,
    /// The first committee decided this unanimously; `Appeal` may contest it until `closes`.
    Appealable {
        /// The decision.
        outcome: Outcome,
        /// Unix time the appeal window closes.
        closes: i64,
    },
    /// Final: `Settle` (anyone) ends the job with this outcome (`None`: unresolved, refunded).
    Settle(Option<Outcome>),
}

/// The step of a submitted job at unix time `now`.
pub fn step(job: &Job, now: i64) -> Result<Step, GpuFuelError> {
    if job.phase != Phase::Voting as u8 {
        return Ok(Step::Draw);
    }
    if !job.voting_over(now)? {
        let (commit_end, _) = job.vote_windows()?;
        let committing = now < commit_end && !job.all_seats_at(SeatVote::Committed);
        return Ok(if committing { Step::Commit } else { Step::Reveal });
    }
    let (pass, fail) = job.tally(job.round);
    if job.round != 0 {
        return Ok(Step::Settle(settlement::appeal_round(pass, fail, job.terms.appeal_quorum)));
    }
    Ok(match settlement::first_round(pass, fail, job.terms.quorum) {
        None => Step::Escalate,
        Some(outcome) => match job.appeal_closes()? {
            closes if now < closes => Step::Appealable { outcome, closes },
            _ => Step::Settle(Some(outcome)),
        },
    })
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::proof::sha256;
    use proptest::prelude::*;

    struct Anyone;
    impl Eligible for Anyone {
        fn eligible(&self, _: u32, _: u64) -> bool {
            true
        }
    }

    fn set(stakes: &[u64]) -> ValidatorSet<Vec<u64>> {
        let mut s = ValidatorSet { total: 0, tree: vec![0; stakes.len()] };
        for (i, &v) in stakes.iter().enumerate() {
            s.add(i as u32 + 1, v).unwrap();
        }
        s
    }

    proptest! {
        #[test]
        fn the_tree_holds_every_stake_and_finds_their_intervals(stakes in prop::collection::vec(0u64..1_000, 1..200)) {
            let s = set(&stakes);
            prop_assert_eq!(s.total, stakes.iter().sum::<u64>());
            for (i, &v) in stakes.iter().enumerate() {
                prop_assert_eq!(s.stake(i as u32 + 1), v);
            }
            let mut start = 0;
            for (i, &v) in stakes.iter().enumerate() {
                for u in [start, start + v.saturating_sub(1)] {
                    if v > 0 {
                        prop_assert_eq!(s.find(u), i as u32 + 1);
                    }
                }
                start += v;
            }
        }
    }

    #[test]
    fn draws_follow_stake_and_updates() {
        let mut s = set(&[100, 0, 300, 600]);
        let mut counts = [0u32; 5];
        for j in 0..2_000u32 {
            let seed = sha256(&[&j.to_le_bytes()]);
            let mut seats = [0u32; 3];
            assert_eq!(draw(sha256, &seed, 0, &s, &Anyone, &mut seats), 3);
            seats.iter().for_each(|&i| counts[i as usize] += 1);
        }
        assert_eq!(counts[2], 0, "no stake, no seat");
        let share = |i: usize| f64::from(counts[i]) / 6_000.0;
        assert!((share(1) - 0.1).abs() < 0.02 && (share(3) - 0.3).abs() < 0.03 && (share(4) - 0.6).abs() < 0.03);
        s.sub(4, 600).unwrap();
        assert!(s.sub(4, 1).is_err(), "no stake left to take");
        let mut seats = [0u32; 5];
        draw(sha256, &[7; 32], 1, &s, &Anyone, &mut seats);
        assert!(seats.iter().all(|&i| i == 1 || i == 3));
        assert_eq!(s.add(5, 1), Err(GpuFuelError::InvalidValidatorSet));
    }

    #[test]
    fn ineligible_validators_are_skipped_and_seats_may_stay_empty() {
        struct Rich;
        impl Eligible for Rich {
            fn eligible(&self, _: u32, stake: u64) -> bool {
                stake >= 500
            }
        }
        let s = set(&[400, 600]);
        let mut seats = [0u32; 3];
        assert_eq!(draw(sha256, &[1; 32], 0, &s, &Rich, &mut seats), 3);
        assert_eq!(seats, [2, 2, 2]);
        let poor = set(&[100, 200]);
        assert_eq!(draw(sha256, &[1; 32], 0, &poor, &Rich, &mut seats), 0);
    }

    #[test]
    fn vote_commitments_bind_every_field() {
        let h = |p: &[&[u8]]| sha256(p);
        let base = vote_commitment(h, &[1; 32], 0, 2, true, &[9; 32]);
        assert_ne!(base, vote_commitment(h, &[1; 32], 0, 2, false, &[9; 32]));
        assert_ne!(base, vote_commitment(h, &[1; 32], 1, 2, true, &[9; 32]));
        assert_ne!(base, vote_commitment(h, &[1; 32], 0, 3, true, &[9; 32]));
        assert_ne!(base, vote_commitment(h, &[2; 32], 0, 2, true, &[9; 32]));
        assert_ne!(base, vote_commitment(h, &[1; 32], 0, 2, true, &[8; 32]));
    }
}
