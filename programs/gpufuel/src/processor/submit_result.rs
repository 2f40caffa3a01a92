use gpufuel_core::{
    GpuFuelError,
    cid::Cid,
    state::{JOB_INVALID_TASK, Job, JobState, Node, Phase},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// What a node submits (one argument: BPF calls take at most five registers).
#[derive(Clone, Copy)]
pub struct Submission<'a> {
    /// The result manifest's (or the report's) CID.
    pub result_cid: &'a Cid,
    /// Its commitment.
    pub commitment: &'a [u8; 32],
    /// Whether it reports that the task fails for everyone.
    pub invalid_task: bool,
}

/// The result and its commitment (or a report that the task fails for everyone); the first
/// committee is drawn from the hash of a slot after this one, which the node cannot know when it
/// submits.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView], submission: &Submission) -> ProgramResult {
    let Submission { result_cid, commitment, invalid_task } = *submission;
    let ([operator, node_account, job], _) = take::<3>(accounts)?;
    check_signer(operator)?;
    let node = load::<Node>(program_id, node_account)?;
    require(operator.address().as_array() == &node.header.owner, GpuFuelError::Unauthorized)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Assigned)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let now = clock()?;
    require(now.unix_timestamp <= job.deadline, GpuFuelError::DeadlinePassed)?;
    result_cid.validate().map_err(err)?;
    job.result_cid = *result_cid;
    job.commitment = *commitment;
    job.submitted_at = now.unix_timestamp;
    job.step_slot = now.slot;
    job.round = 0;
    job.phase = Phase::Drawing as u8;
    if invalid_task {
        job.flags |= JOB_INVALID_TASK;
    }
    job.set_state(JobState::Submitted);
    Ok(())
}
