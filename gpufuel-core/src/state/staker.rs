use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, assert_size};

/// Whether a staker takes part or is leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StakerStatus {
    /// Takes work.
    Active = 1,
    /// Requested to unstake: takes no new work, withdraws after the cooldown.
    Exiting = 2,
}

/// The prefix shared by the three staker accounts (node, validator, submitter), so that top-up,
/// unstake and withdraw are one code path for all of them.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct StakeHeader {
    /// The account's [`AccountKind`].
    pub kind: u8,
    /// Canonical bump of the account's PDA.
    pub bump: u8,
    /// A [`StakerStatus`].
    pub status: u8,
    /// Explicit padding (zero).
    pub _pad: u8,
    /// Work in flight: auctions led and jobs run (node), jobs not yet ended (submitter), seats
    /// on undecided jobs (validator). Unstaking waits for it to be 0.
    pub in_flight: u32,
    /// Tokens staked, held in the market vault.
    pub stake: u64,
    /// Unix time from which an exiting staker may withdraw: its request plus the cooldown in
    /// force then (a later change of the cooldown does not move it); 0 while active.
    pub unstake_ready_at: i64,
    /// The wallet that owns the stake and signs for it.
    pub owner: [u8; 32],
}
assert_size!(StakeHeader, 56);

impl StakeHeader {
    /// Whether the staker is active (not exiting).
    pub fn is_active(&self) -> bool {
        self.status == StakerStatus::Active as u8
    }
}

/// What a node offers: the hardware and its price floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct NodeSpec {
    /// GPU class id (must exist).
    pub gpu_class: u8,
    /// GPUs on the node.
    pub gpu_count: u8,
    /// CUDA compute capability as major * 10 + minor (for example 90 for sm_90).
    pub compute_capability: u8,
    /// Memory per GPU in MiB.
    pub vram_mib: u32,
    /// Lowest price the node accepts, base units per GPU-second.
    pub price_floor: u64,
}

/// A node operator's stake and GPU spec, at PDA `["node", operator]`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Node {
    /// The stake.
    pub header: StakeHeader,
    /// Lowest price the node bids, base units per GPU-second.
    pub price_floor: u64,
    /// Unix time of the last heartbeat.
    pub last_heartbeat: i64,
    /// Stake locked as the cover of the jobs it leads or runs (at most `stake`).
    pub locked: u64,
    /// Memory per GPU in MiB.
    pub vram_mib: u32,
    /// Reputation: jobs settled in the node's favour.
    pub completed: u32,
    /// Reputation: jobs whose committee found the result invalid.
    pub failed_validations: u32,
    /// Reputation: jobs that expired while assigned to the node.
    pub missed_deadlines: u32,
    /// The node's GPU class.
    pub gpu_class: u8,
    /// GPUs on the node.
    pub gpu_count: u8,
    /// CUDA compute capability (major * 10 + minor).
    pub compute_capability: u8,
    /// GPUs taken by the auctions it leads and the jobs it runs.
    pub gpus_busy: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 4],
}
assert_size!(Node, 104);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for Node {
    const KIND: AccountKind = AccountKind::Node;
}

impl Node {
    /// Whether the node is active and has nothing in flight (counted as idle supply for pricing).
    pub fn is_idle(&self) -> bool {
        self.header.is_active() && self.header.in_flight == 0
    }

    /// Stake not locked as cover: what new work can lock.
    pub fn free_stake(&self) -> u64 {
        self.header.stake.saturating_sub(self.locked)
    }

    /// GPUs not taken.
    pub fn free_gpus(&self) -> u8 {
        self.gpu_count.saturating_sub(self.gpus_busy)
    }
}

/// A validator's stake and record, at PDA `["validator", operator]`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Validator {
    /// The stake.
    pub header: StakeHeader,
    /// Fees and slash shares earned, held in the vault until claimed.
    pub rewards: u64,
    /// Unix time from which it may be activated (its bonding period ends).
    pub active_from: i64,
    /// Index in the market and in the stake tree, from 1; seats record validators by index.
    pub index: u32,
    /// Votes revealed.
    pub votes: u32,
    /// Votes against a job's final outcome (slashed).
    pub overruled: u32,
    /// Seats not revealed in time (penalised).
    pub missed: u32,
    /// 1 once its stake is in the tree and it can be drawn.
    pub activated: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 7],
}
assert_size!(Validator, 96);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for Validator {
    const KIND: AccountKind = AccountKind::Validator;
}

/// A job submitter's stake, at PDA `["submitter", authority]`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Submitter {
    /// The stake.
    pub header: StakeHeader,
    /// Jobs created.
    pub jobs_created: u64,
}
assert_size!(Submitter, 64);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for Submitter {
    const KIND: AccountKind = AccountKind::Submitter;
}

/// A staker account (node, validator or submitter): it starts with a [`StakeHeader`].
pub trait Staker: AccountData {
    /// The shared stake header.
    fn header(&self) -> &StakeHeader;
    /// The shared stake header, mutably.
    fn header_mut(&mut self) -> &mut StakeHeader;
}

macro_rules! impl_staker {
    ($($t:ty),*) => {$(
        impl Staker for $t {
            fn header(&self) -> &StakeHeader { &self.header }
            fn header_mut(&mut self) -> &mut StakeHeader { &mut self.header }
        }
    )*};
}
impl_staker!(Node, Validator, Submitter);
