//! How tokens move when a job is created, settled, slashed or expires. Pure arithmetic shared by
//! the program (which performs the transfers) and clients (which quote and display them). Every
//! split gives its rounding remainder to a named party, so the parts always add up to the whole.

use crate::{
    GpuFuelError,
    pricing::{bps_of, mul},
    state::MarketParams,
};

/// What a job escrows at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escrow {
    /// Total locked: budget plus premium.
    pub total: u64,
    /// Urgent premium (0 for normal jobs).
    pub premium: u64,
}

/// Escrow for a job: `max_price * gpu_seconds`, plus the urgent premium on that budget.
pub fn escrow(max_price: u64, gpu_seconds: u32, urgent: bool, params: &MarketParams) -> Result<Escrow, GpuFuelError> {
    let budget = mul(max_price, gpu_seconds as u64).ok_or(GpuFuelError::Overflow)?;
    let premium =
        if urgent { bps_of(budget, params.urgent_premium_bps as u64).ok_or(GpuFuelError::Overflow)? } else { 0 };
    let total = budget.checked_add(premium).ok_or(GpuFuelError::Overflow)?;
    Ok(Escrow { total, premium })
}

/// The split of a job that passed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassPayout {
    /// To the node operator: gross pay less fees, plus rounding remainders.
    pub node: u64,
    /// Protocol fee to the treasury.
    pub treasury: u64,
    /// To each validator who voted pass.
    pub per_validator: u64,
    /// Unused escrow back to the submitter.
    pub refund: u64,
}

/// Splits the escrow of a passing job: the node earns `price * gpu_seconds + premium`, less the
/// protocol fee and the validator fee (shared by the `pass_voters`; kept by the node if none).
pub fn pass_payout(
    escrow: u64,
    price: u64,
    gpu_seconds: u32,
    premium: u64,
    pass_voters: u32,
    params: &MarketParams,
) -> Result<PassPayout, GpuFuelError> {
    let pay = mul(price, gpu_seconds as u64).ok_or(GpuFuelError::Overflow)?;
    let gross = pay.checked_add(premium).ok_or(GpuFuelError::Overflow)?;
    let refund = escrow.checked_sub(gross).ok_or(GpuFuelError::Overflow)?;
    let treasury = bps_of(gross, params.protocol_fee_bps as u64).ok_or(GpuFuelError::Overflow)?;
    let per_validator = match pass_voters {
        0 => 0,
        n => bps_of(gross, params.validator_fee_bps as u64).ok_or(GpuFuelError::Overflow)? / n as u64,
    };
    let validators = per_validator.wrapping_mul(pass_voters as u64); // <= the validator fee <= gross
    let node = gross - treasury - validators; // fees < 100% of gross (MarketParams::validate)
    Ok(PassPayout { node, treasury, per_validator, refund })
}

/// The split of a slash after a failing quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashPayout {
    /// Taken from the node's stake.
    pub slashed: u64,
    /// To the submitter: its share of the slash plus rounding remainders (the escrow refund is
    /// separate).
    pub submitter: u64,
    /// To each validator who voted fail.
    pub per_validator: u64,
}

/// Splits `slash_bps` of the node's stake between the submitter and the `fail_voters`.
pub fn slash_payout(node_stake: u64, fail_voters: u32, params: &MarketParams) -> Result<SlashPayout, GpuFuelError> {
    let slashed = bps_of(node_stake, params.slash_bps as u64).ok_or(GpuFuelError::Overflow)?;
    let submitter_share = bps_of(slashed, params.slash_submitter_share_bps as u64).ok_or(GpuFuelError::Overflow)?;
    let per_validator = match fail_voters {
        0 => 0,
        n => (slashed - submitter_share) / n as u64,
    };
    let submitter = slashed - per_validator.wrapping_mul(fail_voters as u64); // <= slashed
    Ok(SlashPayout { slashed, submitter, per_validator })
}

/// Stake taken from a node that let an assigned job expire, paid to the submitter.
pub fn miss_penalty(node_stake: u64, params: &MarketParams) -> Result<u64, GpuFuelError> {
    bps_of(node_stake, params.miss_penalty_bps as u64).ok_or(GpuFuelError::Overflow)
}

/// How a submitted job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The result stands: pay the node.
    Pass,
    /// The result is invalid: slash the node, refund the submitter.
    Fail,
}

/// Decides a submitted job from its votes. A side that reaches the quorum wins at once. Once the
/// challenge window has elapsed, the majority of the votes cast decides, and a tie (including no
/// votes at all) stands in the node's favour: validators had their window to object.
pub fn outcome(pass: u8, fail: u8, quorum: u8, window_elapsed: bool) -> Option<Outcome> {
    if pass >= quorum {
        Some(Outcome::Pass)
    } else if fail >= quorum {
        Some(Outcome::Fail)
    } else if window_elapsed {
        Some(if fail > pass { Outcome::Fail } else { Outcome::Pass })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params() -> MarketParams {
        MarketParams {
            protocol_fee_bps: 200,
            validator_fee_bps: 300,
            slash_bps: 5_000,
            slash_submitter_share_bps: 5_000,
            miss_penalty_bps: 1_000,
            urgent_premium_bps: 2_500,
            quorum: 2,
            ..MarketParams::default()
        }
    }

    #[test]
    fn outcome_follows_quorum_then_majority() {
        assert_eq!(outcome(2, 0, 2, false), Some(Outcome::Pass));
        assert_eq!(outcome(1, 2, 2, false), Some(Outcome::Fail));
        assert_eq!(outcome(1, 1, 2, false), None);
        assert_eq!(outcome(0, 0, 2, true), Some(Outcome::Pass));
        assert_eq!(outcome(0, 1, 2, true), Some(Outcome::Fail));
    }

    #[test]
    fn escrow_overflow_is_an_error() {
        assert_eq!(escrow(u64::MAX, 2, false, &params()), Err(GpuFuelError::Overflow));
        assert_eq!(escrow(100, 10, true, &params()).unwrap(), Escrow { total: 1250, premium: 250 });
    }

    proptest! {
        #[test]
        fn pass_payout_conserves(max_price in 1u64..1_000_000, price_frac in 0u64..=100, secs in 1u32..100_000,
                                 urgent: bool, voters in 0u32..=3) {
            let p = params();
            let e = escrow(max_price, secs, urgent, &p).unwrap();
            let price = (max_price * price_frac / 100).max(1);
            let out = pass_payout(e.total, price, secs, e.premium, voters, &p).unwrap();
            prop_assert_eq!(out.node + out.treasury + out.per_validator * voters as u64 + out.refund, e.total);
        }

        #[test]
        fn slash_payout_conserves(stake: u64, voters in 1u32..=3) {
            let out = slash_payout(stake, voters, &params()).unwrap();
            prop_assert_eq!(out.submitter + out.per_validator * voters as u64, out.slashed);
            prop_assert!(out.slashed <= stake);
        }
    }
}
