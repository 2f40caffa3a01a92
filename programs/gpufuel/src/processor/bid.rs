use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, Job, JobState, Market, Node},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView], price: u64) -> ProgramResult {
    let program_id = &crate::ID;
    let ([operator, market, node_account, job, class], _) = take::<5>(accounts)?;
    check_signer(operator)?;
    let market = load::<Market>(program_id, market)?;
    let node_key = *node_account.address().as_array();
    let node = load_mut::<Node>(program_id, node_account)?;
    require(operator.address().as_array() == &node.header.owner, GpuFuelError::Unauthorized)?;
    require(node.header.is_active(), GpuFuelError::StakerExiting)?;
    require(node.header.stake >= market.params.min_node_stake, GpuFuelError::StakeTooLow)?;

    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Open)?;
    let now = clock()?;
    require(now.unix_timestamp < job.deadline, GpuFuelError::DeadlinePassed)?;
    // After the window a first bid is still welcome: the job would otherwise only expire.
    require(now.unix_timestamp < job.bid_close || job.best_bid == 0, GpuFuelError::BiddingClosed)?;
    require(
        node.gpu_class == job.gpu_class
            && node.vram_mib >= job.min_vram_mib
            && node.gpu_count >= job.gpu_count
            && node.compute_capability >= job.min_compute_capability,
        GpuFuelError::RequirementsNotMet,
    )?;
    require(price >= node.price_floor, GpuFuelError::BidBelowFloor)?;
    require(price <= job.max_price, GpuFuelError::BidAboveMax)?;
    require(job.best_bid == 0 || price < job.best_bid, GpuFuelError::BidNotBetter)?;
    let class = load_mut::<GpuClass>(program_id, class)?;
    require(class.class_id == job.gpu_class, GpuFuelError::UnknownGpuClass)?;

    job.best_bid = price;
    job.node = node_key;
    if job.is_urgent() && price <= class.ref_price {
        assign_to(job, node, class, &now)?;
    }
    Ok(())
}
