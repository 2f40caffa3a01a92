//! Ending an auction: the leader gets the job (`Assign`),
//! or, when it can no longer run it or let the auction lapse, is released, pays the miss penalty
//! into the job's escrow, may not bid again, and the auction reopens (`Assign`, `Reassign`).

use gpufuel_core::{
    GpuFuelError, settlement,
    state::{GpuClass, JOB_ACKED, Job, JobState, Market, Node},
};
use pinocchio::ProgramResult;

use super::{Now, add_secs, err, latest_slot_hash, release_work};

/// The job leaves the open (bid-on) demand of its class.
#[inline(always)]
fn leave_demand(class: &mut GpuClass) -> ProgramResult {
    class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    Ok(())
}

/// Gives the job to its leader, which already holds its GPUs and cover; the job gets its
/// watermark seed, the latest slot hash, which nobody knew when bidding.
#[inline(never)]
pub fn assign_to(job: &mut Job, class: &mut GpuClass, now: &Now, window: u64) -> ProgramResult {
    leave_demand(class)?;
    class.update_price(now.unix_timestamp, window);
    job.seed = latest_slot_hash()?;
    job.assigned_at = now.unix_timestamp;
    job.set_state(JobState::Assigned);
    Ok(())
}

/// Takes the job from its node (leader or assignee): released, it pays the miss penalty into the
/// escrow and is excluded; the auction reopens for a full bidding window before the deadline.
#[inline(always)]
pub fn reopen(job: &mut Job, node: &mut Node, class: &mut GpuClass, market: &Market, now: &Now) -> ProgramResult {
    if job.job_state().map_err(err)? == JobState::Open {
        leave_demand(class)?;
    }
    release_work(node, class, job)?;
    let value = job.value().ok_or(err(GpuFuelError::Overflow))?;
    let penalty = settlement::miss_penalty(value, node.header.stake, &job.terms).map_err(err)?;
    node.header.stake -= penalty; // ≤ stake
    node.missed_deadlines = node.missed_deadlines.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    job.escrow = job.escrow.checked_add(penalty).ok_or(err(GpuFuelError::Overflow))?;
    job.excluded = job.node;
    job.node = [0; 32];
    job.best_bid = 0;
    job.cover = 0;
    job.flags &= !JOB_ACKED;
    let window = if job.is_urgent() { market.params.urgent_bid_window_secs } else { market.params.bid_window_secs };
    job.bid_close = add_secs(now.unix_timestamp, window)?;
    job.set_state(JobState::Open);
    class.update_price(now.unix_timestamp, market.params.bid_window_secs);
    Ok(())
}
