use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, JOB_ACKED, Job, JobState, Market, Node},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// Anyone may end an auction whose bidding closed: the leader gets the job if it still can run
/// it (its stake still covers all it holds) and the assign grace period has not passed;
/// otherwise it is released, pays the miss penalty into the escrow, and the auction reopens.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([market, job, node_account, class], _) = take::<4>(accounts)?;
    let market = load::<Market>(program_id, market)?;
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
    let lapsed = now.unix_timestamp > add_secs(job.bid_close, u64::from(job.terms.assign_grace_secs))?;
    if lapsed || !node.header.is_active() || !is_covered(node) {
        reopen(job, node, class, market, &now)
    } else {
        assign_to(job, class, &now, market.params.bid_window_secs)
    }
}

/// The assigned node starts the job: it may no longer be replaced for silence.
#[inline(never)]
pub fn acknowledge(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([operator, node_account, job], _) = take::<3>(accounts)?;
    check_signer(operator)?;
    let node = load::<Node>(program_id, node_account)?;
    require(operator.address().as_array() == &node.header.owner, GpuFuelError::Unauthorized)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Assigned)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    job.flags |= JOB_ACKED;
    Ok(())
}

/// Anyone may replace an assigned node that has not acknowledged the job within its start grace
/// period: the job reopens before its deadline instead of waiting for it.
#[inline(never)]
pub fn reassign(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([market, job, node_account, class], _) = take::<4>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Assigned)?;
    require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
    let now = clock()?;
    let grace_end = add_secs(job.assigned_at, u64::from(job.terms.start_grace_secs))?;
    require(job.flags & JOB_ACKED == 0 && now.unix_timestamp >= grace_end, GpuFuelError::NodeStarted)?;
    require(now.unix_timestamp < job.deadline, GpuFuelError::DeadlinePassed)?;
    let node = load_mut::<Node>(program_id, node_account)?;
    let class = load_mut::<GpuClass>(program_id, class)?;
    require(class.class_id == job.gpu_class, GpuFuelError::UnknownGpuClass)?;
    reopen(job, node, class, market, &now)
}
