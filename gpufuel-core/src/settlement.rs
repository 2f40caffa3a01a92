//! How tokens move when a job is created, decided, slashed, missed or appealed, and how its
//! committees decide. Pure arithmetic shared by the program (which performs the moves) and clients
//! (which quote and display them). Every split gives its rounding remainder to a named party, so
//! the parts always add up to the whole. All shares come from the job's own [`JobTerms`], fixed
//! when it was created.

use crate::{
    GpuFuelError,
    pricing::{bps_of, mul},
    state::{JobTerms, MarketParams},
};

/// What a job escrows at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escrow {
    /// Total locked: budget plus premium.
    pub total: u64,
    /// Urgent premium (0 for normal jobs).
    pub premium: u64,
}

/// Escrow for a job: `max_price * gpu_seconds`, plus the urgent premium on that budget. A budget
/// below the market's minimum job value is refused: dust jobs cost something.
pub fn escrow(max_price: u64, gpu_seconds: u32, urgent: bool, params: &MarketParams) -> Result<Escrow, GpuFuelError> {
    let budget = mul(max_price, gpu_seconds as u64).ok_or(GpuFuelError::Overflow)?;
    if budget < params.min_job_value {
        return Err(GpuFuelError::JobTooSmall);
    }
    let premium =
        if urgent { bps_of(budget, params.urgent_premium_bps as u64).ok_or(GpuFuelError::Overflow)? } else { 0 };
    let total = budget.checked_add(premium).ok_or(GpuFuelError::Overflow)?;
    Ok(Escrow { total, premium })
}

/// What a node earns for a job at `price`: `price × gpu_seconds + premium`; committees, covers,
/// bonds and penalties all scale with it.
pub fn job_value(price: u64, gpu_seconds: u32, premium: u64) -> Result<u64, GpuFuelError> {
    mul(price, u64::from(gpu_seconds)).and_then(|v| v.checked_add(premium)).ok_or(GpuFuelError::Overflow)
}

/// Stake a node locks while it leads or runs a job worth `value`, and loses if the job fails.
pub fn cover(value: u64, terms: &JobTerms) -> Result<u64, GpuFuelError> {
    bps_of(value, u64::from(terms.node_cover_bps)).ok_or(GpuFuelError::Overflow)
}

/// What a node pays for missing a job worth `value` (a lapsed auction, no acknowledgement, no
/// result by the deadline): a share of the job's value, never of its shrinking stake, capped by
/// the stake it has.
pub fn miss_penalty(value: u64, stake: u64, terms: &JobTerms) -> Result<u64, GpuFuelError> {
    Ok(bps_of(value, u64::from(terms.miss_penalty_bps)).ok_or(GpuFuelError::Overflow)?.min(stake))
}

/// The bond an appeal of a job worth `value` posts (at least one base unit).
pub fn appeal_bond(value: u64, terms: &JobTerms) -> Result<u64, GpuFuelError> {
    Ok(bps_of(value, u64::from(terms.appeal_bond_bps)).ok_or(GpuFuelError::Overflow)?.max(1))
}

/// How a verified job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The result stands: pay the node.
    Pass,
    /// The result is invalid: slash the node, refund the submitter.
    Fail,
}

impl Outcome {
    /// The outcome a vote stands for.
    pub fn of(pass: bool) -> Self {
        if pass { Self::Pass } else { Self::Fail }
    }
}

/// The first committee decides only unanimously, with at least `quorum` revealed votes; anything
/// else (a dissent, too few votes) goes to the appeal committee. No outcome passes by default.
pub fn first_round(pass: u8, fail: u8, quorum: u8) -> Option<Outcome> {
    match (pass, fail) {
        (p, 0) if p >= quorum => Some(Outcome::Pass),
        (0, f) if f >= quorum => Some(Outcome::Fail),
        _ => None,
    }
}

/// The appeal committee decides by a majority of its revealed votes with at least `quorum` on the
/// winning side; otherwise the job is unresolved (refunded, the node neither paid nor slashed).
pub fn appeal_round(pass: u8, fail: u8, quorum: u8) -> Option<Outcome> {
    if pass > fail && pass >= quorum {
        Some(Outcome::Pass)
    } else if fail > pass && fail >= quorum {
        Some(Outcome::Fail)
    } else {
        None
    }
}

/// The split of a job that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassPayout {
    /// To the node operator: gross pay less fees.
    pub node: u64,
    /// Protocol fee, to the class's fee pool.
    pub protocol_fee: u64,
    /// Validator fee, shared by the seats that voted pass.
    pub validators: u64,
    /// Unused escrow back to the submitter.
    pub refund: u64,
}

/// Splits the escrow of a passing job: the node earns `price * gpu_seconds + premium`, less the
/// protocol fee and the validator fee.
pub fn pass_payout(
    escrow: u64,
    price: u64,
    gpu_seconds: u32,
    premium: u64,
    terms: &JobTerms,
) -> Result<PassPayout, GpuFuelError> {
    let gross = job_value(price, gpu_seconds, premium)?;
    let refund = escrow.checked_sub(gross).ok_or(GpuFuelError::Overflow)?;
    let protocol_fee = bps_of(gross, u64::from(terms.protocol_fee_bps)).ok_or(GpuFuelError::Overflow)?;
    let validators = bps_of(gross, u64::from(terms.validator_fee_bps)).ok_or(GpuFuelError::Overflow)?;
    let node = gross - protocol_fee - validators; // fees ≤ 20% of gross (JobTerms::validate)
    Ok(PassPayout { node, protocol_fee, validators, refund })
}

/// The split of a job whose task the committee found to fail for everyone: the validators
/// are paid their fee on the job's value from the escrow, the rest returns to the submitter; the
/// node earns nothing and loses nothing (its cover is released).
pub fn invalid_payout(
    escrow: u64,
    price: u64,
    gpu_seconds: u32,
    premium: u64,
    terms: &JobTerms,
) -> Result<(u64, u64), GpuFuelError> {
    let gross = job_value(price, gpu_seconds, premium)?;
    let validators = bps_of(gross, u64::from(terms.validator_fee_bps)).ok_or(GpuFuelError::Overflow)?;
    let refund = escrow.checked_sub(validators).ok_or(GpuFuelError::Overflow)?;
    Ok((validators, refund))
}

/// The split of a failed job's slash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashPayout {
    /// Taken from the node's stake: its cover for the job.
    pub slashed: u64,
    /// To the submitter (beside its escrow refund), with the rounding remainder.
    pub submitter: u64,
    /// To the seats that voted fail.
    pub validators: u64,
}

/// Splits the slash of a node whose job failed: it loses the job's cover (at most its stake).
pub fn slash_payout(cover: u64, stake: u64, terms: &JobTerms) -> Result<SlashPayout, GpuFuelError> {
    let slashed = cover.min(stake);
    let submitter = bps_of(slashed, u64::from(terms.slash_submitter_share_bps)).ok_or(GpuFuelError::Overflow)?;
    Ok(SlashPayout { slashed, submitter, validators: slashed - submitter })
}

/// What settlement does to one seat's validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatResult {
    /// Voted with the outcome: a share of the validators' pot.
    Reward,
    /// Voted against the final outcome: loses this much stake, to the winners.
    Overruled(u64),
    /// Revealed nothing in time: loses this much stake, to the fee pool.
    Missed(u64),
    /// Voted, but no outcome was reached: nothing moves.
    Neither,
}

/// The result of a seat whose validator stakes `stake`, given its revealed vote and the job's
/// final outcome (`None`: unresolved).
pub fn seat_result(
    stake: u64,
    vote: Option<bool>,
    outcome: Option<Outcome>,
    terms: &JobTerms,
) -> Result<SeatResult, GpuFuelError> {
    let share = |bps: u16| bps_of(stake, u64::from(bps)).ok_or(GpuFuelError::Overflow);
    Ok(match (vote, outcome) {
        (None, _) => SeatResult::Missed(share(terms.miss_vote_bps)?),
        (Some(_), None) => SeatResult::Neither,
        (Some(v), Some(o)) if Outcome::of(v) == o => SeatResult::Reward,
        (Some(_), Some(_)) => SeatResult::Overruled(share(terms.vote_slash_bps)?),
    })
}

/// `pot` shared by `winners` seats: the share each, and the remainder for the fee pool.
pub fn share(pot: u64, winners: u32) -> (u64, u64) {
    match winners {
        0 => (0, pot),
        n => (pot / u64::from(n), pot % u64::from(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn terms() -> JobTerms {
        MarketParams::default().terms
    }

    #[test]
    fn committees_decide_unanimously_or_by_appeal_majority_and_nothing_passes_by_default() {
        assert_eq!(first_round(2, 0, 2), Some(Outcome::Pass));
        assert_eq!(first_round(0, 3, 2), Some(Outcome::Fail));
        assert_eq!(first_round(2, 1, 2), None, "a dissent escalates");
        assert_eq!(first_round(1, 0, 2), None, "too few votes escalate");
        assert_eq!(first_round(0, 0, 1), None, "no votes never pass");
        assert_eq!(appeal_round(5, 4, 5), Some(Outcome::Pass));
        assert_eq!(appeal_round(3, 6, 5), Some(Outcome::Fail));
        assert_eq!(appeal_round(4, 0, 5), None, "short of the quorum: unresolved");
        assert_eq!(appeal_round(5, 5, 5), None);
    }

    #[test]
    fn escrow_overflow_and_dust_are_errors() {
        let p = MarketParams::default();
        assert_eq!(escrow(u64::MAX, 2, false, &p), Err(GpuFuelError::Overflow));
        assert_eq!(escrow(1, 99, false, &p), Err(GpuFuelError::JobTooSmall));
        assert_eq!(escrow(100, 10, true, &p).unwrap(), Escrow { total: 1250, premium: 250 });
    }

    #[test]
    fn penalties_scale_with_the_job_not_the_stake() {
        let t = terms();
        assert_eq!(cover(1_000, &t).unwrap(), 2_000);
        assert_eq!(miss_penalty(1_000, 1_000_000, &t).unwrap(), 1_000);
        assert_eq!(miss_penalty(1_000, 600, &t).unwrap(), 600, "capped by what is staked");
        assert_eq!(appeal_bond(1_000, &t).unwrap(), 100);
        assert_eq!(appeal_bond(3, &t).unwrap(), 1);
        assert_eq!(
            slash_payout(2_000, 1_500, &t).unwrap(),
            SlashPayout { slashed: 1_500, submitter: 750, validators: 750 }
        );
        assert_eq!(seat_result(10_000, None, Some(Outcome::Pass), &t).unwrap(), SeatResult::Missed(100));
        assert_eq!(seat_result(10_000, Some(false), Some(Outcome::Pass), &t).unwrap(), SeatResult::Overruled(5_000));
        assert_eq!(seat_result(10_000, Some(true), Some(Outcome::Pass), &t).unwrap(), SeatResult::Reward);
        assert_eq!(seat_result(10_000, Some(true), None, &t).unwrap(), SeatResult::Neither);
        assert_eq!(share(10, 3), (3, 1));
        assert_eq!(share(10, 0), (0, 10));
    }

    proptest! {
        #[test]
        fn pass_payout_conserves(max_price in 1u64..1_000_000, price_frac in 0u64..=100, secs in 100u32..100_000, urgent: bool) {
            let p = MarketParams::default();
            let e = escrow(max_price, secs, urgent, &p).unwrap();
            let price = (max_price * price_frac / 100).max(1);
            let out = pass_payout(e.total, price, secs, e.premium, &p.terms).unwrap();
            prop_assert_eq!(out.node + out.protocol_fee + out.validators + out.refund, e.total);
        }

        #[test]
        fn slash_payout_conserves(cover: u64, stake: u64) {
            let out = slash_payout(cover, stake, &terms()).unwrap();
            prop_assert_eq!(out.submitter + out.validators, out.slashed);
            prop_assert!(out.slashed <= stake && out.slashed <= cover);
        }
    }
}
