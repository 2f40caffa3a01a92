//! What a submitter sees of jobs and nodes: [`JobStatus`] and [`NodeStatus`].

use gpufuel_chain::ChainError;
use gpufuel_core::{
    class::class_name,
    state::{Job, JobState, Node},
};
use solana_address::Address;

/// A job's state; corrupt data is an account error, never a state.
pub(crate) fn state(address: &Address, job: &Job) -> Result<JobState, ChainError> {
    job.job_state().map_err(|e| ChainError::Account(format!("job {address}: {e}")))
}

/// A job as a submitter follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// The job account.
    pub address: Address,
    /// Where it is in its lifecycle.
    pub state: JobState,
    /// Its GPU class.
    pub gpu_class: u8,
    /// The class's name.
    pub class_name: &'static str,
    /// Whether it pays the urgent premium.
    pub urgent: bool,
    /// Best bid, or the winning price once assigned (0: no bid yet).
    pub price: u64,
    /// Tokens escrowed.
    pub escrow: u64,
    /// The urgent premium, part of the escrow.
    pub premium: u64,
    /// GPU-seconds billed.
    pub gpu_seconds: u32,
    /// Unix time by which the result is due.
    pub deadline: i64,
    /// The assigned node (or best bidder) account; `None` before any bid.
    pub node: Option<Address>,
    /// The submitter's wallet.
    pub submitter: Address,
    /// Verification round: 0 the first committee, 1 the appeal committee.
    pub round: u8,
    /// Revealed votes of the round's committee that the result is valid.
    pub votes_pass: u8,
    /// Revealed votes that it is not.
    pub votes_fail: u8,
}

impl JobStatus {
    pub(crate) fn of(address: Address, j: &Job) -> Result<Self, ChainError> {
        let node = (j.node != [0; 32]).then(|| Address::new_from_array(j.node));
        Ok(Self {
            address,
            state: state(&address, j)?,
            gpu_class: j.gpu_class,
            class_name: class_name(j.gpu_class),
            urgent: j.is_urgent(),
            price: j.best_bid,
            escrow: j.escrow,
            premium: j.premium,
            gpu_seconds: j.gpu_seconds,
            deadline: j.deadline,
            node,
            submitter: Address::new_from_array(j.submitter),
            round: j.round,
            votes_pass: j.tally(j.round).0,
            votes_fail: j.tally(j.round).1,
        })
    }

    /// Settled, slashed, unresolved, cancelled or expired.
    pub fn is_done(&self) -> bool {
        self.state.is_terminal()
    }
}

/// A node as the market sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node account.
    pub address: Address,
    /// The operator's wallet.
    pub operator: Address,
    /// Its GPU class.
    pub gpu_class: u8,
    /// The class's name.
    pub class_name: &'static str,
    /// GPUs on the node.
    pub gpu_count: u8,
    /// Memory per GPU in MiB.
    pub vram_mib: u32,
    /// Tokens staked.
    pub stake: u64,
    /// Lowest price it bids, base units per GPU-second.
    pub price_floor: u64,
    /// Jobs it runs now.
    pub active_jobs: u32,
    /// Jobs settled in its favour.
    pub completed: u32,
    /// Jobs whose result validators rejected.
    pub failed_validations: u32,
    /// Jobs that expired while assigned to it.
    pub missed_deadlines: u32,
}

impl NodeStatus {
    pub(crate) fn of(address: Address, n: &Node) -> Self {
        Self {
            address,
            operator: Address::new_from_array(n.header.owner),
            gpu_class: n.gpu_class,
            class_name: class_name(n.gpu_class),
            gpu_count: n.gpu_count,
            vram_mib: n.vram_mib,
            stake: n.header.stake,
            price_floor: n.price_floor,
            active_jobs: n.header.in_flight,
            completed: n.completed,
            failed_validations: n.failed_validations,
            missed_deadlines: n.missed_deadlines,
        }
    }
}
