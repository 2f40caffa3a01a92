//! The instruction set. The data of every instruction is the borsh encoding of
//! [`GpuFuelInstruction`]: a one-byte tag, then the fields. The accounts of each instruction are
//! listed on its variant, numbered in order.

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
    /// The kind of work (decides how it is verified).
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

/// GPUFuel instructions. Each lists its accounts in order, as the SPL token program does.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum GpuFuelInstruction {
    /// Creates the market and its vault.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The authority (pays rent).
    /// 1. `[writable]` The market PDA.
    /// 2. `[]` The GPUFuel mint.
    /// 3. `[writable]` The vault PDA (a token account created here).
    /// 4. `[]` The treasury, a token account of the mint.
    /// 5. `[]` The system program.
    /// 6. `[]` The SPL Token program.
    InitMarket(MarketParams),
    /// Replaces the market parameters.
    ///
    /// Accounts:
    /// 0. `[signer]` The authority.
    /// 1. `[writable]` The market.
    UpdateParams(MarketParams),
    /// Adds a GPU class.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The authority (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The class PDA.
    /// 3. `[]` The system program.
    AddGpuClass(GpuClassArgs),
    /// Registers a node and stakes.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The operator (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The node PDA.
    /// 3. `[writable]` The node's GPU class.
    /// 4. `[writable]` The operator's token account (the stake's source).
    /// 5. `[writable]` The vault.
    /// 6. `[]` The system program.
    /// 7. `[]` The SPL Token program.
    RegisterNode {
        /// The node's hardware and price floor.
        spec: NodeSpec,
        /// Tokens staked (at least the market's minimum).
        stake: u64,
    },
    /// Registers a validator and stakes.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The operator (pays rent).
    /// 1. `[writable]` The market (counts validators).
    /// 2. `[writable]` The validator PDA.
    /// 3. `[writable]` The operator's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The system program.
    /// 6. `[]` The SPL Token program.
    RegisterValidator {
        /// Tokens staked (at least the market's minimum).
        stake: u64,
    },
    /// Registers a job submitter and stakes.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The submitter's wallet (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The submitter PDA.
    /// 3. `[writable]` The wallet's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The system program.
    /// 6. `[]` The SPL Token program.
    RegisterSubmitter {
        /// Tokens staked (at least the market's minimum).
        stake: u64,
    },
    /// Adds to a stake (node, validator or submitter).
    ///
    /// Accounts:
    /// 0. `[signer]` The owner.
    /// 1. `[]` The market.
    /// 2. `[writable]` The staker account.
    /// 3. `[writable]` The owner's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The SPL Token program.
    TopUp {
        /// Tokens added.
        amount: u64,
    },
    /// Starts the unstake cooldown; refused while the staker has work in flight.
    ///
    /// Accounts:
    /// 0. `[signer]` The owner.
    /// 1. `[]` The market.
    /// 2. `[writable]` The staker account.
    /// 3. `[writable]` For a node: its GPU class (it leaves the class's supply).
    RequestUnstake,
    /// After the cooldown, returns the whole stake and closes the staker account.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The owner (receives the rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The staker account.
    /// 3. `[writable]` The owner's token account.
    /// 4. `[writable]` The vault.
    /// 5. `[]` The SPL Token program.
    Withdraw,
    /// Records that a node is alive.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[writable]` The node.
    Heartbeat,
    /// Creates a job and escrows `max_price * gpu_seconds` plus any urgent premium.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The submitter's wallet (pays rent).
    /// 1. `[]` The market.
    /// 2. `[writable]` The submitter account.
    /// 3. `[writable]` The job PDA.
    /// 4. `[writable]` The job's GPU class.
    /// 5. `[writable]` The wallet's token account (the escrow's source).
    /// 6. `[writable]` The vault.
    /// 7. `[]` The system program.
    /// 8. `[]` The SPL Token program.
    CreateJob(JobSpec),
    /// Bids on an open job; an urgent job is assigned at once to a bid at or under the reference
    /// price.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[]` The market.
    /// 2. `[writable]` The operator's node.
    /// 3. `[writable]` The job.
    /// 4. `[writable]` The job's GPU class.
    Bid {
        /// Base units per GPU-second.
        price: u64,
    },
    /// Assigns the best bid once the bidding window has closed (anyone may call).
    ///
    /// Accounts:
    /// 0. `[writable]` The job.
    /// 1. `[writable]` The best bidder's node.
    /// 2. `[writable]` The job's GPU class.
    Assign,
    /// Posts the result CID and the Merkle root of the proof of execution.
    ///
    /// Accounts:
    /// 0. `[signer]` The operator.
    /// 1. `[]` The operator's node (assigned to the job).
    /// 2. `[writable]` The job.
    SubmitResult {
        /// Binary CID of the result manifest.
        result_cid: Cid,
        /// Merkle root over the result's files ([`crate::task::ResultManifest::commitment`]).
        commitment: [u8; 32],
    },
    /// A validator's verdict on a submitted result.
    ///
    /// Accounts:
    /// 0. `[signer]` The validator's operator.
    /// 1. `[]` The market.
    /// 2. `[writable]` The validator.
    /// 3. `[writable]` The job.
    /// 4. `[]` The job's node.
    Attest {
        /// Whether the result is valid.
        pass: bool,
    },
    /// Resolves a submitted job by its votes (anyone may call): pays node, validators and
    /// treasury and refunds the rest, or slashes the node and refunds the escrow.
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[writable]` The job's node.
    /// 3. `[writable]` The submitter account.
    /// 4. `[writable]` The job's GPU class.
    /// 5. `[writable]` The vault.
    /// 6. `[writable]` The node operator's token account.
    /// 7. `[writable]` The submitter's token account.
    /// 8. `[writable]` The treasury.
    /// 9. `[]` The SPL Token program.
    /// 10. For each vote in order: `[writable]` the validator, `[writable]` its operator's token
    ///     account.
    Settle,
    /// Cancels an open job and refunds the escrow.
    ///
    /// Accounts:
    /// 0. `[signer]` The submitter's wallet.
    /// 1. `[]` The market.
    /// 2. `[writable]` The job.
    /// 3. `[writable]` The submitter account.
    /// 4. `[writable]` The job's GPU class.
    /// 5. `[writable]` The vault.
    /// 6. `[writable]` The wallet's token account.
    /// 7. `[]` The SPL Token program.
    Cancel,
    /// Expires a job whose deadline passed without a result (anyone may call): refunds the
    /// escrow and penalises the assigned node.
    ///
    /// Accounts:
    /// 0. `[]` The market.
    /// 1. `[writable]` The job.
    /// 2. `[writable]` The submitter account.
    /// 3. `[writable]` The job's GPU class.
    /// 4. `[writable]` The vault.
    /// 5. `[writable]` The submitter's token account.
    /// 6. `[]` The SPL Token program.
    /// 7. `[writable]` For an assigned job: its node.
    Expire,
    /// Closes a finished job and returns its rent.
    ///
    /// Accounts:
    /// 0. `[writable, signer]` The submitter's wallet.
    /// 1. `[writable]` The job.
    CloseJob,
}

#[cfg(feature = "std")]
impl GpuFuelInstruction {
    /// The instruction data.
    pub fn pack(&self) -> std::vec::Vec<u8> {
        borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail")
    }
}
