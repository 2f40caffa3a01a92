//! Giving a job to its best bidder: at the end of the bidding window (`Assign`) or at once on an
//! urgent job's fast path (`Bid`).

use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, Job, JobState, Node},
};
use pinocchio::ProgramResult;

use super::{Now, err, latest_slot_hash};

/// The node becomes busy, the class loses an open job, and the job gets its watermark seed: the
/// latest slot hash, which nobody knew when bidding.
#[inline(always)]
pub fn assign_to(job: &mut Job, node: &mut Node, class: &mut GpuClass, now: &Now) -> ProgramResult {
    if node.is_idle() {
        class.idle_nodes = class.idle_nodes.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    }
    class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    node.header.in_flight = node.header.in_flight.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    class.update_price(now.slot);
    job.seed = latest_slot_hash()?;
    job.set_state(JobState::Assigned);
    Ok(())
}
