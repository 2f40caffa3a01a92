use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, assert_size};
use crate::{GpuFuelError, cid::Cid};

/// Most attestations needed on one side.
pub const MAX_QUORUM: usize = 3;
/// Most votes a job can hold: a side reaches the quorum after at most `2 * quorum - 1` votes.
pub const MAX_VOTERS: usize = 2 * MAX_QUORUM - 1;
/// Bit set on a voter's index in [`Job::voters`] when the vote was "invalid".
pub const VOTE_FAIL: u32 = 1 << 31;
/// `Job::flags` bit: the job is urgent (premium paid, short bidding window, fast path).
pub const JOB_URGENT: u8 = 1;

/// Where a job is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum JobState {
    /// Taking bids.
    Open = 1,
    /// A node won and runs it.
    Assigned = 2,
    /// The node posted a result and its commitment; validators attest.
    Submitted = 3,
    /// Paid out (terminal).
    Settled = 4,
    /// Failed validation: the node was slashed, the escrow refunded (terminal).
    Slashed = 5,
    /// Cancelled by the submitter before assignment (terminal).
    Cancelled = 6,
    /// The deadline passed without a result (terminal).
    Expired = 7,
}

impl TryFrom<u8> for JobState {
    type Error = GpuFuelError;

    /// A stored state byte; any other value is corrupt data, never a state.
    fn try_from(v: u8) -> Result<Self, GpuFuelError> {
        use JobState::*;
        Ok(match v {
            1 => Open,
            2 => Assigned,
            3 => Submitted,
            4 => Settled,
            5 => Slashed,
            6 => Cancelled,
            7 => Expired,
            _ => return Err(GpuFuelError::CorruptAccount),
        })
    }
}

impl JobState {
    /// Whether no instruction can move the job any further.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Settled | Self::Slashed | Self::Cancelled | Self::Expired)
    }

    /// The lifecycle's legal transitions (a job may also stay where it is).
    pub fn can_move_to(self, next: Self) -> bool {
        use JobState::*;
        self == next
            || matches!(
                (self, next),
                (Open, Assigned | Cancelled | Expired)
                    | (Assigned, Submitted | Expired)
                    | (Submitted, Settled | Slashed)
            )
    }
}

/// The kind of work, which decides how it is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum Workload {
    /// A matrix product, checked by Freivalds' algorithm.
    MatMul = 0,
    /// A deterministic multi-step computation, checked by re-executing sampled segments.
    Iterative = 1,
    /// A user CUDA kernel, checked by re-executing sampled blocks on a GPU.
    Kernel = 2,
}

impl TryFrom<u8> for Workload {
    type Error = GpuFuelError;

    /// A stored workload byte; any other value is corrupt data.
    fn try_from(v: u8) -> Result<Self, GpuFuelError> {
        Ok(match v {
            0 => Self::MatMul,
            1 => Self::Iterative,
            2 => Self::Kernel,
            _ => return Err(GpuFuelError::CorruptAccount),
        })
    }
}

/// A job and its escrow, at PDA `["job", submitter, job_id]`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Job {
    /// [`AccountKind::Job`].
    pub kind: u8,
    /// A [`JobState`].
    pub state: u8,
    /// Canonical bump of the job PDA.
    pub bump: u8,
    /// A [`Workload`].
    pub workload: u8,
    /// Required GPU class.
    pub gpu_class: u8,
    /// GPUs needed.
    pub gpu_count: u8,
    /// Minimum compute capability (major * 10 + minor).
    pub min_compute_capability: u8,
    /// [`JOB_URGENT`].
    pub flags: u8,
    /// The submitter's id for the job (part of the PDA seeds).
    pub job_id: u64,
    /// Unix time by which the result must be submitted.
    pub deadline: i64,
    /// Unix time at which bidding closes (the best bid can then be assigned).
    pub bid_close: i64,
    /// Unix time of the result submission.
    pub submitted_at: i64,
    /// Slot of the result submission: challenges derive from slot hashes after it.
    pub submitted_slot: u64,
    /// Highest acceptable price, base units per GPU-second.
    pub max_price: u64,
    /// Tokens escrowed: `max_price * gpu_seconds + premium`.
    pub escrow: u64,
    /// Urgent premium, paid to the node on settlement.
    pub premium: u64,
    /// Best (lowest) bid so far, or the winning price once assigned; 0 = no bid.
    pub best_bid: u64,
    /// GPU-seconds the job is billed for.
    pub gpu_seconds: u32,
    /// Minimum memory per GPU in MiB.
    pub min_vram_mib: u32,
    /// The submitter's wallet.
    pub submitter: [u8; 32],
    /// The best bidder's node account, then the assigned node.
    pub node: [u8; 32],
    /// Merkle root committing to the result's chunks and checkpoints.
    pub commitment: [u8; 32],
    /// Unpredictable seed fixed at assignment (a slot hash): keys the watermark.
    pub seed: [u8; 32],
    /// Binary CID of the task (inputs and what to compute).
    pub input_cid: Cid,
    /// Binary CID of the result manifest, once submitted.
    pub result_cid: Cid,
    /// Votes that the result is valid.
    pub votes_pass: u8,
    /// Votes that the result is invalid.
    pub votes_fail: u8,
    /// Indices of the validators who voted, in vote order (0 = empty).
    pub voters: [u32; MAX_VOTERS],
}
assert_size!(Job, 312);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for Job {
    const KIND: AccountKind = AccountKind::Job;
}

impl Job {
    /// The decoded state; [`GpuFuelError::CorruptAccount`] for a byte the program never writes.
    pub fn job_state(&self) -> Result<JobState, GpuFuelError> {
        JobState::try_from(self.state)
    }

    /// Moves the job to `state`.
    pub fn set_state(&mut self, state: JobState) {
        self.state = state as u8;
    }

    /// Whether the job pays the urgent premium.
    pub fn is_urgent(&self) -> bool {
        self.flags & JOB_URGENT != 0
    }

    /// Whether the validator with this index already voted.
    pub fn has_voted(&self, index: u32) -> bool {
        self.voter_indices().iter().any(|v| v & !VOTE_FAIL == index)
    }

    /// The voters recorded so far (indices, with [`VOTE_FAIL`] set on "invalid" votes).
    pub fn voter_indices(&self) -> &[u32] {
        let n = (self.votes_pass + self.votes_fail) as usize;
        &self.voters[..n.min(MAX_VOTERS)]
    }
}
