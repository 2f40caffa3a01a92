use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, Job, JobState, Node},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView]) -> ProgramResult {
    let program_id = &crate::ID;
    let ([job, node_account, class], _) = take::<3>(accounts)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Open)?;
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
