use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, MAX_APPEAL_COMMITTEE, MAX_COMMITTEE, assert_size};
use crate::{BPS, GpuFuelError};

/// The longest window, cooldown, bonding period or timelock a market may set: 30 days. Anything
/// longer could lock stakes and escrows for good.
pub const MAX_WINDOW_SECS: u64 = 30 * 24 * 3_600;
/// The highest protocol fee and the highest validator fee, each: 10% of a job's pay.
pub const MAX_FEE_BPS: u16 = 1_000;
/// The most stake a node may have to hold per unit of the work it holds: 5×.
pub const MAX_COVER_BPS: u16 = 50_000;

/// The terms a job is created under and keeps until it ends: a later change of the market's
/// parameters never applies to work already agreed. Durations are in seconds, shares in basis
/// points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(deny_unknown_fields))]
#[repr(C)]
pub struct JobTerms {
    /// After bidding closes, how long the auction may still be assigned to its leader; after
    /// that it reopens and the leader pays the miss penalty.
    pub assign_grace_secs: u32,
    /// How long an assigned node has to acknowledge the job before it can be replaced.
    pub start_grace_secs: u32,
    /// How long a committee's members have to commit their votes after the draw.
    pub commit_window_secs: u32,
    /// How long they then have to reveal them.
    pub reveal_window_secs: u32,
    /// After a unanimous first committee, how long anyone may appeal its decision.
    pub appeal_window_secs: u32,
    /// Protocol fee on the node's gross pay.
    pub protocol_fee_bps: u16,
    /// Validator fee on the node's gross pay, shared by the seats that voted with the outcome.
    pub validator_fee_bps: u16,
    /// Stake a node locks per unit of a job's value while it leads or runs it; what a failed
    /// job costs it (10,000 = the job's value).
    pub node_cover_bps: u16,
    /// Share of a job's value a node pays when it misses the job (no result by the deadline,
    /// no acknowledgement, an auction it let lapse).
    pub miss_penalty_bps: u16,
    /// Share of a node's slash paid to the submitter; the rest goes to the validators who
    /// voted fail.
    pub slash_submitter_share_bps: u16,
    /// Share of a validator's stake slashed for a vote against the final outcome.
    pub vote_slash_bps: u16,
    /// Share of a validator's stake slashed for a seat it did not reveal in time.
    pub miss_vote_bps: u16,
    /// Bond an appeal posts, as a share of the job's value (at least 1 token unit).
    pub appeal_bond_bps: u16,
    /// Seats of the first committee (1..=[`MAX_COMMITTEE`]).
    pub committee_size: u8,
    /// Seats of the appeal committee (`committee_size..=`[`MAX_APPEAL_COMMITTEE`]).
    pub appeal_committee_size: u8,
    /// Unanimous revealed votes the first committee needs to decide.
    pub quorum: u8,
    /// Votes on the winning side the appeal committee needs (more than half its seats).
    pub appeal_quorum: u8,
}
assert_size!(JobTerms, 40);

/// Parameters of the market, set at initialisation and changed by the authority through a
/// timelocked proposal. Durations are in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(deny_unknown_fields))]
#[repr(C)]
pub struct MarketParams {
    /// Minimum stake of a node operator.
    pub min_node_stake: u64,
    /// Minimum stake of a validator.
    pub min_validator_stake: u64,
    /// Minimum stake of a job submitter.
    pub min_submitter_stake: u64,
    /// Smallest budget (`max_price × gpu_seconds`) a job may escrow: dust jobs cost something.
    pub min_job_value: u64,
    /// How long a normal job takes bids.
    pub bid_window_secs: u64,
    /// How long an urgent job takes bids (shorter).
    pub urgent_bid_window_secs: u64,
    /// How long an unstaking staker waits before withdrawing.
    pub unstake_cooldown_secs: u64,
    /// How long a validator is bonded before it can be drawn onto committees.
    pub validator_bonding_secs: u64,
    /// How long a proposed change waits before it applies (at least the unstake cooldown, so
    /// every staker can leave first).
    pub params_timelock_secs: u64,
    /// The terms new jobs are created under.
    pub terms: JobTerms,
    /// Premium an urgent job escrows on top of its budget, paid to the node.
    pub urgent_premium_bps: u16,
    /// Explicit padding (zero).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub _pad: [u8; 6],
}
assert_size!(MarketParams, 120);

impl Default for MarketParams {
    /// The parameters of the embedded network, the demos and the tests: small stakes and short
    /// windows.
    fn default() -> Self {
        Self {
            min_node_stake: 1_000_000,
            min_validator_stake: 500_000,
            min_submitter_stake: 100_000,
            min_job_value: 100,
            bid_window_secs: 30,
            urgent_bid_window_secs: 5,
            unstake_cooldown_secs: 3_600,
            validator_bonding_secs: 10,
            params_timelock_secs: 3_600,
            terms: JobTerms {
                assign_grace_secs: 60,
                start_grace_secs: 120,
                commit_window_secs: 30,
                reveal_window_secs: 30,
                appeal_window_secs: 30,
                protocol_fee_bps: 200,
                validator_fee_bps: 300,
                node_cover_bps: 20_000,
                miss_penalty_bps: 10_000,
                slash_submitter_share_bps: 5_000,
                vote_slash_bps: 5_000,
                miss_vote_bps: 100,
                appeal_bond_bps: 1_000,
                committee_size: 3,
                appeal_committee_size: 9,
                quorum: 2,
                appeal_quorum: 5,
            },
            urgent_premium_bps: 2_500,
            _pad: [0; 6],
        }
    }
}

impl JobTerms {
    /// The first bound the terms break, naming the field: no window that could lock funds, fees
    /// within [`MAX_FEE_BPS`], a node's cover at least the job's value, committees that can
    /// decide.
    pub fn violation(&self) -> Option<&'static str> {
        let bps = BPS as u16;
        let window = |w: u32| w > 0 && u64::from(w) <= MAX_WINDOW_SECS;
        let (c0, c1) = (self.committee_size, self.appeal_committee_size);
        let rules = [
            (window(self.assign_grace_secs), "terms.assign_grace_secs must be 1 s to 30 days"),
            (window(self.start_grace_secs), "terms.start_grace_secs must be 1 s to 30 days"),
            (window(self.commit_window_secs), "terms.commit_window_secs must be 1 s to 30 days"),
            (window(self.reveal_window_secs), "terms.reveal_window_secs must be 1 s to 30 days"),
            (window(self.appeal_window_secs), "terms.appeal_window_secs must be 1 s to 30 days"),
            (self.protocol_fee_bps <= MAX_FEE_BPS, "terms.protocol_fee_bps must be at most 1000"),
            (self.validator_fee_bps <= MAX_FEE_BPS, "terms.validator_fee_bps must be at most 1000"),
            ((bps..=MAX_COVER_BPS).contains(&self.node_cover_bps), "terms.node_cover_bps must be 10000 to 50000"),
            (self.miss_penalty_bps <= self.node_cover_bps, "terms.miss_penalty_bps must be at most node_cover_bps"),
            (self.slash_submitter_share_bps <= bps, "terms.slash_submitter_share_bps must be at most 10000"),
            (self.vote_slash_bps <= bps, "terms.vote_slash_bps must be at most 10000"),
            (self.miss_vote_bps <= self.vote_slash_bps, "terms.miss_vote_bps must be at most vote_slash_bps"),
            ((1..=bps).contains(&self.appeal_bond_bps), "terms.appeal_bond_bps must be 1 to 10000"),
            ((1..=MAX_COMMITTEE as u8).contains(&c0), "terms.committee_size must be 1 to 5"),
            (
                (c0..=MAX_APPEAL_COMMITTEE as u8).contains(&c1),
                "terms.appeal_committee_size must be committee_size to 11",
            ),
            ((1..=c0).contains(&self.quorum), "terms.quorum must be 1 to committee_size"),
            (
                self.appeal_quorum <= c1 && 2 * self.appeal_quorum > c1,
                "terms.appeal_quorum must be a majority of appeal_committee_size",
            ),
        ];
        rules.iter().find(|(ok, _)| !ok).map(|(_, why)| *why)
    }

    /// [`Self::violation`] as the program's error.
    pub fn validate(&self) -> Result<(), GpuFuelError> {
        if self.violation().is_none() { Ok(()) } else { Err(GpuFuelError::InvalidParams) }
    }
}

impl MarketParams {
    /// The first bound the parameters break, naming the field: stakes and the dust floor
    /// positive, windows and cooldowns within [`MAX_WINDOW_SECS`], a timelock no shorter than
    /// the unstake cooldown, and the job terms'.
    pub fn violation(&self) -> Option<&'static str> {
        let within = |w: u64| w <= MAX_WINDOW_SECS;
        let rules = [
            (self.min_node_stake > 0, "min_node_stake must be positive"),
            (self.min_validator_stake > 0, "min_validator_stake must be positive"),
            (self.min_submitter_stake > 0, "min_submitter_stake must be positive"),
            (self.min_job_value > 0, "min_job_value must be positive"),
            ((1..=MAX_WINDOW_SECS).contains(&self.bid_window_secs), "bid_window_secs must be 1 s to 30 days"),
            (
                (1..=self.bid_window_secs).contains(&self.urgent_bid_window_secs),
                "urgent_bid_window_secs must be 1 s to bid_window_secs",
            ),
            (within(self.unstake_cooldown_secs), "unstake_cooldown_secs must be at most 30 days"),
            (within(self.validator_bonding_secs), "validator_bonding_secs must be at most 30 days"),
            (within(self.params_timelock_secs), "params_timelock_secs must be at most 30 days"),
            (
                self.params_timelock_secs >= self.unstake_cooldown_secs,
                "params_timelock_secs must be at least unstake_cooldown_secs",
            ),
            (u64::from(self.urgent_premium_bps) <= BPS, "urgent_premium_bps must be at most 10000"),
        ];
        rules.iter().find(|(ok, _)| !ok).map(|(_, why)| *why).or_else(|| self.terms.violation())
    }

    /// [`Self::violation`] as the program's error.
    pub fn validate(&self) -> Result<(), GpuFuelError> {
        if self.violation().is_none() { Ok(()) } else { Err(GpuFuelError::InvalidParams) }
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
    /// The parameters in force.
    pub params: MarketParams,
    /// A proposed change, in force from `pending_at` (when that is not 0).
    pub pending_params: MarketParams,
    /// Unix time from which `pending_params` may be applied; 0 when nothing is proposed.
    pub pending_at: i64,
    /// Proposes parameter changes, adds GPU classes, withdraws protocol fees.
    pub authority: [u8; 32],
    /// The authority's proposed successor (all zero when none), who must accept.
    pub pending_authority: [u8; 32],
    /// The GPUFuel SPL token mint (without a freeze authority).
    pub mint: [u8; 32],
    /// Token account (PDA `["vault"]`) holding every stake, escrow, reward and fee.
    pub vault: [u8; 32],
    /// The account holding the validators' stake tree ([`super::ValidatorSet`]).
    pub validator_set: [u8; 32],
    /// Validators registered so far; the next validator's index is this plus one.
    pub validator_count: u32,
    /// Explicit padding (zero).
    pub _pad2: [u8; 4],
}
assert_size!(Market, 424);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for Market {
    const KIND: AccountKind = AccountKind::Market;
}
