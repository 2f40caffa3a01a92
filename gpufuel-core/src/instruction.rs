//! The instruction set. The data of every instruction is the borsh encoding of
//! [`GpuFuelInstruction`]: a one-byte tag, then the fields. The accounts of each instruction are
//! listed on its variant, in order (`s` signer, `w` writable).

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{
    cid::Cid,
    state::{MarketParams, NodeSpec, Workload},
};

/// What a submitter asks for when creating a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct JobSpec {
    /// Submitter-chosen id, unique per submitter (part of the job's PDA seeds).
    pub job_id: u64,
    pub workload: Workload,
    /// Required GPU class.
    pub gpu_class: u8,
    /// GPUs needed (at least 1).
    pub gpu_count: u8,
    /// Minimum compute capability (major * 10 + minor; 0 for any).
    pub min_compute_capability: u8,
    /// Minimum memory per GPU in MiB.
    pub min_vram_mib: u32,
    /// GPU-seconds billed (at least 1).
    pub gpu_seconds: u32,
    /// Highest acceptable price, base units per GPU-second.
    pub max_price: u64,
    /// Unix time by which the result must be submitted.
    pub deadline: i64,
    /// Pay the urgent premium: short bidding window, immediate assignment of a bid at or under
    /// the reference price, ranked first by node agents.
    pub urgent: bool,
    /// Binary CID of the input.
    pub input_cid: Cid,
}

/// A new GPU class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct GpuClassArgs {
    /// The class id (part of the PDA seeds).
    pub class_id: u8,
    /// Starting reference price, base units per GPU-second.
    pub ref_price: u64,
    /// Floor of the reference price (at least 1).
    pub min_price: u64,
}

/// GPUFuel instructions.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GpuFuelInstruction {
    /// Creates the market and its vault.
    /// Accounts: authority (s, w: pays rent), market (w), mint, vault (w), treasury,
    /// system program, token program.
    InitMarket(MarketParams),
    /// Replaces the market parameters. Accounts: authority (s), market (w).
    UpdateParams(MarketParams),
    /// Adds a GPU class. Accounts: authority (s, w: pays rent), market, class (w), system program.
    AddGpuClass(GpuClassArgs),
    /// Registers a node and stakes. Accounts: operator (s, w), market, node (w), class (w),
    /// operator token account (w), vault (w), system program, token program.
    RegisterNode { spec: NodeSpec, stake: u64 },
    /// Registers a validator and stakes. Accounts: operator (s, w), market (w), validator (w),
    /// operator token account (w), vault (w), system program, token program.
    RegisterValidator { stake: u64 },
    /// Registers a job submitter and stakes. Accounts: authority (s, w), market, submitter (w),
    /// authority token account (w), vault (w), system program, token program.
    RegisterSubmitter { stake: u64 },
    /// Adds to a stake (node, validator or submitter). Accounts: owner (s), market,
    /// staker account (w), owner token account (w), vault (w), token program.
    TopUp { amount: u64 },
    /// Starts the unstake cooldown; refused while the staker has active work.
    /// Accounts: owner (s), market, staker account (w); for a node also its class (w).
    RequestUnstake,
    /// After the cooldown, returns the whole stake and closes the staker account.
    /// Accounts: owner (s, w: receives the rent), market, staker account (w),
    /// owner token account (w), vault (w), token program.
    Withdraw,
    /// Records that a node is alive. Accounts: operator (s), node (w).
    Heartbeat,
    /// Creates a job and escrows `max_price * gpu_seconds` plus any urgent premium.
    /// Accounts: submitter (s, w: pays rent), market, submitter account (w), job (w), class (w),
    /// submitter token account (w), vault (w), system program, token program.
    CreateJob(JobSpec),
    /// Bids on an open job; an urgent job is assigned at once to a bid at or under the reference
    /// price. Accounts: operator (s), market, node (w), job (w), class (w).
    Bid { price: u64 },
    /// Assigns the best bid once the bidding window has closed (anyone may call).
    /// Accounts: job (w), node (w: the best bidder), class (w).
    Assign,
    /// Posts the result CID and the Merkle root of the proof of execution.
    /// Accounts: operator (s), node, job (w).
    SubmitResult { result_cid: Cid, commitment: [u8; 32] },
    /// A validator's verdict on a submitted result.
    /// Accounts: operator (s), market, validator (w), job (w), node (the job's node).
    Attest { pass: bool },
    /// Resolves a submitted job by its votes (anyone may call): pays node, validators and
    /// treasury and refunds the rest, or slashes the node and refunds the escrow.
    /// Accounts: market, job (w), node (w), submitter account (w), class (w), vault (w),
    /// node operator token account (w), submitter token account (w), treasury (w), token
    /// program, then for each voter in vote order: validator (w), its operator's token account (w).
    Settle,
    /// Cancels an open job and refunds the escrow. Accounts: submitter (s), market, job (w),
    /// submitter account (w), class (w), vault (w), submitter token account (w), token program.
    Cancel,
    /// Expires a job whose deadline passed without a result (anyone may call): refunds the
    /// escrow and penalises the assigned node. Accounts: market, job (w), submitter account (w),
    /// class (w), vault (w), submitter token account (w), token program, then for an assigned
    /// job its node (w).
    Expire,
    /// Closes a finished job and returns its rent. Accounts: submitter (s, w), job (w).
    CloseJob,
}

#[cfg(feature = "std")]
impl GpuFuelInstruction {
    /// The instruction data.
    pub fn pack(&self) -> std::vec::Vec<u8> {
        borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail")
    }
}
