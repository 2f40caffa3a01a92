use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, JobTerms, assert_size};
use crate::{GpuFuelError, cid::Cid};

/// Most seats of a first committee.
pub const MAX_COMMITTEE: usize = 5;
/// Most seats of an appeal committee.
pub const MAX_APPEAL_COMMITTEE: usize = 11;
/// Seats a job holds: its first committee's, then its appeal committee's.
pub const MAX_SEATS: usize = MAX_COMMITTEE + MAX_APPEAL_COMMITTEE;
/// `Job::flags` bit: the job is urgent (premium paid, short bidding window).
pub const JOB_URGENT: u8 = 1;
/// `Job::flags` bit: the assigned node acknowledged the job.
pub const JOB_ACKED: u8 = 2;
/// `Job::flags` bit: the node's submission reports that the task fails for everyone.
pub const JOB_INVALID_TASK: u8 = 4;

/// Where a job is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum JobState {
    /// Taking bids.
    Open = 1,
    /// A node won and runs it.
    Assigned = 2,
    /// The node posted a result and its commitment; committees verify it ([`Phase`]).
    Submitted = 3,
    /// Paid out (terminal).
    Settled = 4,
    /// Failed validation: the node was slashed, the escrow refunded (terminal).
    Slashed = 5,
    /// Cancelled by the submitter before assignment (terminal).
    Cancelled = 6,
    /// The deadline passed without a result (terminal).
    Expired = 7,
    /// No committee reached a decision: the escrow refunded, the node neither paid nor slashed
    /// (terminal).
    Unresolved = 8,
    /// The committee upheld the node's report that the task fails for everyone: the escrow
    /// refunded less the validators' fee, the node neither paid nor slashed (terminal).
    Invalid = 9,
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
            8 => Unresolved,
            9 => Invalid,
            _ => return Err(GpuFuelError::CorruptAccount),
        })
    }
}

impl JobState {
    /// Whether no instruction can move the job any further.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Settled | Self::Slashed | Self::Cancelled | Self::Expired | Self::Unresolved | Self::Invalid
        )
    }

    /// The lifecycle's legal transitions (a job may also stay where it is). An assigned job goes
    /// back to `Open` when its node is replaced.
    pub fn can_move_to(self, next: Self) -> bool {
        use JobState::*;
        self == next
            || matches!(
                (self, next),
                (Open, Assigned | Cancelled | Expired)
                    | (Assigned, Open | Submitted | Expired)
                    | (Submitted, Settled | Slashed | Unresolved | Invalid)
            )
    }
}

/// Where a submitted job's verification is, within its round (0: the first committee, 1: the
/// appeal committee).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Waiting for the round's committee to be drawn.
    Drawing = 0,
    /// The committee commits, then reveals, its votes.
    Voting = 1,
}

/// A seat's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SeatVote {
    /// Drawn, nothing committed yet.
    Drawn = 1,
    /// Committed, not revealed.
    Committed = 2,
    /// Revealed: the result is valid.
    Pass = 3,
    /// Revealed: the result is invalid.
    Fail = 4,
}

/// A committee seat: the validator drawn into it and its vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Seat {
    /// The validator's market index (0: an empty seat).
    pub validator: u32,
    /// A [`SeatVote`] (0 for an empty seat).
    pub vote: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 3],
    /// The committed `vote_commitment` until revealed.
    pub commitment: [u8; 32],
}
assert_size!(Seat, 40);

impl Seat {
    /// The revealed vote: `Some(true)` pass, `Some(false)` fail, `None` not revealed.
    pub fn revealed(&self) -> Option<bool> {
        match self.vote {
            v if v == SeatVote::Pass as u8 => Some(true),
            v if v == SeatVote::Fail as u8 => Some(false),
            _ => None,
        }
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
    /// Batched inference of an ONNX model, checked by re-running sampled chunks.
    Onnx = 3,
    /// An iterated ONNX step graph, checked by re-running sampled segments from their checkpoints.
    OnnxSteps = 4,
}

impl TryFrom<u8> for Workload {
    type Error = GpuFuelError;

    /// A stored workload byte; any other value is corrupt data.
    fn try_from(v: u8) -> Result<Self, GpuFuelError> {
        Ok(match v {
            0 => Self::MatMul,
            1 => Self::Iterative,
            2 => Self::Kernel,
            3 => Self::Onnx,
            4 => Self::OnnxSteps,
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
    /// [`JOB_URGENT`], [`JOB_ACKED`], [`JOB_INVALID_TASK`].
    pub flags: u8,
    /// Verification round: 0 the first committee, 1 the appeal committee.
    pub round: u8,
    /// A [`Phase`] of the round.
    pub phase: u8,
    /// Seats of the first committee (they come first in `seats`).
    pub seats0: u8,
    /// Seats of the appeal committee (after the first's).
    pub seats1: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 4],
    /// The submitter's id for the job (part of the PDA seeds).
    pub job_id: u64,
    /// Unix time by which the result must be submitted.
    pub deadline: i64,
    /// Unix time at which bidding closes (the best bid can then be assigned).
    pub bid_close: i64,
    /// Unix time of the assignment.
    pub assigned_at: i64,
    /// Unix time of the result submission.
    pub submitted_at: i64,
    /// Slot of the last step of verification (submission, draw, vote, appeal): the next
    /// committee is drawn from the hash of the first slot after it.
    pub step_slot: u64,
    /// Unix time the current round's committee was drawn (its commit window starts).
    pub drawn_at: i64,
    /// Unix time the first round's voting ended unanimously (the appeal window starts); 0
    /// otherwise.
    pub decided_at: i64,
    /// Highest acceptable price, base units per GPU-second.
    pub max_price: u64,
    /// Tokens escrowed: `max_price * gpu_seconds + premium`.
    pub escrow: u64,
    /// Urgent premium, paid to the node on settlement.
    pub premium: u64,
    /// Best (lowest) bid so far, or the winning price once assigned; 0 = no bid.
    pub best_bid: u64,
    /// Stake the leading or assigned node locked for the job.
    pub cover: u64,
    /// Tokens an appeal posted (in the vault until settlement).
    pub appeal_bond: u64,
    /// GPU-seconds the job is billed for.
    pub gpu_seconds: u32,
    /// Minimum memory per GPU in MiB.
    pub min_vram_mib: u32,
    /// The submitter's wallet.
    pub submitter: [u8; 32],
    /// The best bidder's node account, then the assigned node.
    pub node: [u8; 32],
    /// A node that left the job (replaced or lapsed) and may not bid on it again.
    pub excluded: [u8; 32],
    /// The token account an appeal's bond returns to.
    pub appellant: [u8; 32],
    /// Merkle root committing to the result's chunks and checkpoints.
    pub commitment: [u8; 32],
    /// Unpredictable seed fixed at assignment (a slot hash): keys the watermark.
    pub seed: [u8; 32],
    /// The current round's committee seed (a slot hash after `step_slot`): the draw and the
    /// validators' challenges derive from it.
    pub committee_seed: [u8; 32],
    /// Binary CID of the task (inputs and what to compute).
    pub input_cid: Cid,
    /// Binary CID of the result manifest, once submitted.
    pub result_cid: Cid,
    /// Explicit padding (zero).
    pub _pad2: [u8; 2],
    /// The terms the job was created under.
    pub terms: JobTerms,
    /// The first committee's seats, then the appeal committee's.
    pub seats: [Seat; MAX_SEATS],
    /// Explicit padding (zero).
    pub _pad3: [u8; 4],
}
assert_size!(Job, 1120);

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

    /// Whether the node's submission reports that the task fails for everyone.
    pub fn reports_invalid_task(&self) -> bool {
        self.flags & JOB_INVALID_TASK != 0
    }

    /// What the node earns for the job at the winning price: `best_bid × gpu_seconds + premium`
    /// (the value committees, covers and penalties scale with). `None` on overflow.
    pub fn value(&self) -> Option<u64> {
        crate::pricing::mul(self.best_bid, u64::from(self.gpu_seconds))?.checked_add(self.premium)
    }

    /// The seats of `round` (0 or 1).
    pub fn round_seats(&self, round: u8) -> &[Seat] {
        let (s0, s1) = (usize::from(self.seats0).min(MAX_COMMITTEE), usize::from(self.seats1));
        if round == 0 {
            &self.seats[..s0]
        } else {
            &self.seats[MAX_COMMITTEE..MAX_COMMITTEE + s1.min(MAX_APPEAL_COMMITTEE)]
        }
    }

    /// Every drawn seat, both rounds.
    pub fn drawn_seats(&self) -> impl Iterator<Item = &Seat> {
        self.round_seats(0).iter().chain(self.round_seats(1))
    }

    /// Unix times the current round's commit window and reveal window end.
    pub fn vote_windows(&self) -> Result<(i64, i64), GpuFuelError> {
        let after = |t: i64, secs: u32| t.checked_add(i64::from(secs)).ok_or(GpuFuelError::Overflow);
        let commit_end = after(self.drawn_at, self.terms.commit_window_secs)?;
        Ok((commit_end, after(commit_end, self.terms.reveal_window_secs)?))
    }

    /// Whether every drawn seat of the current round is at least at `vote`.
    pub fn all_seats_at(&self, vote: SeatVote) -> bool {
        self.round_seats(self.round).iter().all(|s| s.vote >= vote as u8)
    }

    /// Whether the current round's voting is over at `now`: its windows passed, or every seat
    /// revealed.
    pub fn voting_over(&self, now: i64) -> Result<bool, GpuFuelError> {
        Ok(now >= self.vote_windows()?.1 || self.all_seats_at(SeatVote::Pass))
    }

    /// When the first round's appeal window closes: its length after the last reveal, or after
    /// the end of the windows.
    pub fn appeal_closes(&self) -> Result<i64, GpuFuelError> {
        let end = if self.decided_at != 0 { self.decided_at } else { self.vote_windows()?.1 };
        end.checked_add(i64::from(self.terms.appeal_window_secs)).ok_or(GpuFuelError::Overflow)
    }

    /// Revealed (pass, fail) votes of `round`.
    pub fn tally(&self, round: u8) -> (u8, u8) {
        self.round_seats(round).iter().filter_map(Seat::revealed).fold(
            (0, 0),
            |(p, f), v| {
                if v { (p + 1, f) } else { (p, f + 1) }
            },
        )
    }
}
