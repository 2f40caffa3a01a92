use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, assert_size};
use crate::{BPS, GpuFuelError};

/// Parameters of the market, set at initialisation and changed by the authority.
/// Durations are in seconds, shares in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct MarketParams {
    /// Minimum stake of a node operator.
    pub min_node_stake: u64,
    /// Minimum stake of a validator.
    pub min_validator_stake: u64,
    /// Minimum stake of a job submitter.
    pub min_submitter_stake: u64,
    /// How long a normal job takes bids.
    pub bid_window_secs: u64,
    /// How long an urgent job takes bids (shorter).
    pub urgent_bid_window_secs: u64,
    /// How long validators may attest after a result is submitted.
    pub challenge_window_secs: u64,
    /// How long an unstaking staker waits before withdrawing.
    pub unstake_cooldown_secs: u64,
    /// Share of a node's stake slashed on a failing quorum.
    pub slash_bps: u16,
    /// Share of a slash paid to the submitter; the rest goes to the validators who voted fail.
    pub slash_submitter_share_bps: u16,
    /// Protocol fee on the node's gross pay, paid to the treasury.
    pub protocol_fee_bps: u16,
    /// Validator fee on the node's gross pay, split between the validators who voted pass.
    pub validator_fee_bps: u16,
    /// Share of a node's stake paid to the submitter when it misses a deadline.
    pub miss_penalty_bps: u16,
    /// Premium an urgent job escrows on top of its budget, paid to the node.
    pub urgent_premium_bps: u16,
    /// Attestations needed on one side to decide a job (1..=[`super::MAX_QUORUM`]).
    pub quorum: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 3],
}
assert_size!(MarketParams, 72);

impl Default for MarketParams {
    /// The parameters of the embedded network, the demos and the tests: small stakes and short
    /// windows (seconds).
    fn default() -> Self {
        Self {
            min_node_stake: 1_000_000,
            min_validator_stake: 500_000,
            min_submitter_stake: 100_000,
            bid_window_secs: 30,
            urgent_bid_window_secs: 5,
            challenge_window_secs: 120,
            unstake_cooldown_secs: 3_600,
            slash_bps: 5_000,
            slash_submitter_share_bps: 5_000,
            protocol_fee_bps: 200,
            validator_fee_bps: 300,
            miss_penalty_bps: 1_000,
            urgent_premium_bps: 2_500,
            quorum: 2,
            _pad: [0; 3],
        }
    }
}

impl MarketParams {
    /// Checks the ranges: shares within 100%, fees together below 100%, windows and quorum sane.
    pub fn validate(&self) -> Result<(), GpuFuelError> {
        let bps = [
            self.slash_bps,
            self.slash_submitter_share_bps,
            self.protocol_fee_bps,
            self.validator_fee_bps,
            self.miss_penalty_bps,
        ];
        let fees = self.protocol_fee_bps as u64 + self.validator_fee_bps as u64;
        let ok = bps.iter().all(|&b| b as u64 <= BPS)
            && fees < BPS
            && self.urgent_premium_bps as u64 <= 10 * BPS
            && (1..=super::MAX_QUORUM as u8).contains(&self.quorum)
            && self.bid_window_secs > 0
            && self.urgent_bid_window_secs <= self.bid_window_secs
            && self.challenge_window_secs > 0
            && self.min_node_stake > 0
            && self.min_validator_stake > 0
            && self.bid_window_secs <= i64::MAX as u64
            && self.challenge_window_secs <= i64::MAX as u64
            && self.unstake_cooldown_secs <= i64::MAX as u64;
        if ok { Ok(()) } else { Err(GpuFuelError::InvalidParams) }
    }
}

/// The market: one per deployment, at PDA `["market"]`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Market {
    /// [`AccountKind::Market`].
    pub kind: u8,
    /// Canonical bump of the market PDA (it signs for the vault).
    pub bump: u8,
    /// Canonical bump of the vault PDA.
    pub vault_bump: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 5],
    /// The current parameters.
    pub params: MarketParams,
    /// May change the parameters and add GPU classes.
    pub authority: [u8; 32],
    /// The GPUFuel SPL token mint.
    pub mint: [u8; 32],
    /// Token account (PDA `["vault"]`) holding every stake and escrow.
    pub vault: [u8; 32],
    /// Token account receiving protocol fees.
    pub treasury: [u8; 32],
    /// Validators registered so far; the next validator's index is this plus one.
    pub validator_count: u32,
    /// Explicit padding (zero).
    pub _pad2: [u8; 4],
}
assert_size!(Market, 216);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for Market {
    const KIND: AccountKind = AccountKind::Market;
}
