use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, Job, JobState, Node},
};
use pinocchio::{AccountView, ProgramResult, error::ProgramError, sysvars::slot_hashes};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView]) -> ProgramResult {
    let program_id = &crate::ID;
    let ([job, node_account, class], _) = take::<3>(accounts)?;
    let job = load_mut::<Job>(program_id, job)?;
    require(job.state == JobState::Open as u8, GpuFuelError::InvalidJobState)?;
    require(job.best_bid != 0, GpuFuelError::NoBid)?;
    let now = clock()?;
    require(now.unix_timestamp >= job.bid_close, GpuFuelError::BiddingOpen)?;
    require(now.unix_timestamp < job.deadline, GpuFuelError::DeadlinePassed)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let node = load_mut::<Node>(program_id, node_account)?;
    let class = load_mut::<GpuClass>(program_id, class)?;
    require(class.class_id == job.gpu_class, GpuFuelError::UnknownGpuClass)?;
    assign_to(job, node, class, &now)
}

/// Gives the job to its best bidder: the node becomes busy, the class loses an open job, and the
/// job gets its watermark seed, the latest slot hash, which nobody knew when bidding.
#[inline(always)]
pub(super) fn assign_to(job: &mut Job, node: &mut Node, class: &mut GpuClass, now: &Now) -> ProgramResult {
    if node.is_idle() {
        class.idle_nodes = class.idle_nodes.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    }
    class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    node.header.active = node.header.active.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    class.update_price(now.slot);
    job.seed = latest_slot_hash()?;
    job.state = JobState::Assigned as u8;
    Ok(())
}

/// The most recent entry of the SlotHashes sysvar, read by syscall.
#[inline(always)]
fn latest_slot_hash() -> Result<[u8; 32], ProgramError> {
    let mut entry = [0u8; slot_hashes::ENTRY_SIZE];
    slot_hashes::raw::fetch_into(&mut entry, slot_hashes::NUM_ENTRIES_SIZE)?;
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&entry[slot_hashes::SLOT_SIZE..]);
    Ok(hash)
}
