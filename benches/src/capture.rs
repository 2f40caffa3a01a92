//! Committee capture: an adversary holding a share `p` of the activated validator stake tries to
//! have an honest job failed (the richest attack: as its submitter it would get its payment back
//! and half the node's cover). Committees are drawn with the program's own draw
//! ([`committee::draw`]) from random seeds; every token moved is computed with the program's own
//! settlement rules at the default parameters.
//!
//! The adversary plays its strongest line: every seat it holds votes fail, and it appeals when the
//! first committee passes the job. Honest validators vote the truth and appeal a wrong unanimous
//! decision (the validator agent's `watch`). The first committee (3 seats) decides only
//! unanimously; anything else, and every appeal, goes to the appeal committee (9 seats, majority
//! of at least 5).
//!
//! `profit` is the adversary's tokens after the attack less what it would have had playing
//! honestly (paying for the job, its seats earning their fee share), per attack, in base units.

use std::collections::HashMap;

use gpufuel_core::{
    committee::{self, Eligible, ValidatorSet},
    proof::sha256,
    settlement::{self, Outcome, SeatResult},
    state::{JobTerms, MarketParams},
};

/// Validators in the set, each staking [`VALIDATOR_STAKE`].
const VALIDATORS: u32 = 100;
/// What the validator agent stakes by default.
const VALIDATOR_STAKE: u64 = 5_000_000;
/// The job: 600 per GPU-second for 100 GPU-seconds (the lifecycle benchmark's).
const VALUE: u64 = 60_000;
const NODE_STAKE: u64 = 10_000_000;
const TRIALS: u32 = 100_000;

struct Anyone;
impl Eligible for Anyone {
    fn eligible(&self, _: u32, stake: u64) -> bool {
        stake >= VALUE
    }
}

/// What one adversary share achieves.
pub struct Capture {
    /// Share of attacks whose final outcome is the adversary's (an honest job failed).
    pub p_decide: f64,
    /// Mean profit per attack against playing honestly, base units.
    pub profit: f64,
}

fn draw(set: &ValidatorSet<Vec<u64>>, trial: u32, round: u8, seats: u8) -> Vec<u32> {
    let seed = sha256(&[b"capture", &trial.to_le_bytes(), &[round]]);
    let mut out = vec![0; usize::from(seats)];
    let filled = committee::draw(sha256, &seed, round, set, &Anyone, &mut out);
    out.truncate(filled);
    out
}

/// Tokens the adversary ends with from seats, pot and bond, given every seat's vote (`true`:
/// the adversary's fail) and the final outcome (`Fail` is the adversary's).
fn seats_settle(
    seats: &[(u32, bool)],
    outcome: Outcome,
    mut pot: u64,
    adversary: &dyn Fn(u32) -> bool,
    terms: &JobTerms,
) -> i128 {
    let mut stakes: HashMap<u32, u64> = HashMap::new();
    let mut net: i128 = 0;
    let mut winners = 0u64;
    let mut adversary_winners = 0u64;
    for &(v, votes_fail) in seats {
        let stake = stakes.entry(v).or_insert(VALIDATOR_STAKE);
        match settlement::seat_result(*stake, Some(!votes_fail), Some(outcome), terms).expect("bounded") {
            SeatResult::Reward => {
                winners += 1;
                adversary_winners += u64::from(adversary(v));
            }
            SeatResult::Overruled(x) => {
                *stake -= x;
                pot += x;
                if adversary(v) {
                    net -= i128::from(x);
                }
            }
            SeatResult::Missed(_) | SeatResult::Neither => {}
        }
    }
    let (share, _) = settlement::share(pot, winners as u32);
    net + i128::from(share * adversary_winners)
}

/// Runs [`TRIALS`] attacks by an adversary holding `p` of the stake.
pub fn capture(p: f64) -> Capture {
    let params = MarketParams::default();
    let terms = params.terms;
    let adversaries = ((p * f64::from(VALIDATORS)).round() as u32).max(1);
    let mut set = ValidatorSet { total: 0, tree: vec![0; VALIDATORS as usize] };
    for i in 1..=VALIDATORS {
        set.add(i, VALIDATOR_STAKE).expect("capacity");
    }
    let adversary = |v: u32| v <= adversaries;
    let pass = settlement::pass_payout(VALUE, VALUE / 100, 100, 0, &terms).expect("bounded");
    let slash = settlement::slash_payout(settlement::cover(VALUE, &terms).expect("bounded"), NODE_STAKE, &terms)
        .expect("bounded");
    let bond = settlement::appeal_bond(VALUE, &terms).expect("bounded");
    let (mut decided, mut profit) = (0u32, 0i128);
    for trial in 0..TRIALS {
        let first = draw(&set, trial, 0, terms.committee_size);
        let mine0 = first.iter().filter(|&&v| adversary(v)).count();
        // Honest play: pay for the job; the adversary's first-round seats share the fee.
        let (fee_share, _) = settlement::share(pass.validators, first.len() as u32);
        let honest = -i128::from(VALUE) + i128::from(fee_share * mine0 as u64);
        // Attack: its seats vote fail. Unanimous fail is appealed by honest watchers, unanimous
        // pass by the adversary (bond), a dissent escalates: every line reaches the appeal
        // committee, except a first committee without the adversary that it chooses to appeal.
        let appealed_by_adversary = mine0 == 0;
        let appealed_by_honest = mine0 == first.len();
        let second = draw(&set, trial, 1, terms.appeal_committee_size);
        let mine1 = second.iter().filter(|&&v| adversary(v)).count();
        let fail_wins = 2 * mine1 > second.len() && mine1 >= usize::from(terms.appeal_quorum);
        let outcome = if fail_wins { Outcome::Fail } else { Outcome::Pass };
        let seats: Vec<(u32, bool)> = first.iter().chain(&second).map(|&v| (v, adversary(v))).collect();
        // The pot: the slash's validator half or the validator fee, plus an upheld appeal's bond.
        let upheld =
            (appealed_by_honest && outcome == Outcome::Fail) || (appealed_by_adversary && outcome == Outcome::Pass);
        let pot = match outcome {
            Outcome::Fail => slash.validators,
            Outcome::Pass => pass.validators,
        } + if upheld { bond } else { 0 };
        let mut attack = seats_settle(&seats, outcome, pot, &adversary, &terms);
        attack += match outcome {
            // Its payment back, and the submitter's half of the node's cover.
            Outcome::Fail => i128::from(slash.submitter),
            Outcome::Pass => -i128::from(VALUE),
        };
        if appealed_by_adversary && upheld {
            attack -= i128::from(bond);
        }
        decided += u32::from(outcome == Outcome::Fail);
        profit += attack - honest;
    }
    Capture { p_decide: f64::from(decided) / f64::from(TRIALS), profit: profit as f64 / f64::from(TRIALS) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_is_rare_and_unprofitable_and_grows_with_the_share() {
        let (small, large) = (capture(0.01), capture(0.33));
        assert!(small.p_decide < large.p_decide);
        assert!(large.p_decide < 0.5, "a third of the stake does not decide: {}", large.p_decide);
        assert!(small.profit < 0.0 && large.profit < 0.0, "{} {}", small.profit, large.profit);
    }
}
