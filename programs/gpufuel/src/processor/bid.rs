use gpufuel_core::{
    GpuFuelError, settlement,
    state::{GpuClass, Job, JobState, Market, Node},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// A bid takes the node's GPUs and locks its cover (the job's value at the bid, times the cover
/// share) until it is outbid, so a node can lead no more auctions than it can serve and none it
/// could not pay for; the leader it outbids gets them back. Urgent jobs are auctions too, only
/// shorter: a first-come assignment at the reference price could be captured by whoever pumps
/// that price with its own GPUs.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView], price: u64) -> ProgramResult {
    let ([operator, market, node_account, job, class], rest) = take::<5>(accounts)?;
    check_signer(operator)?;
    let market = load::<Market>(program_id, market)?;
    let node_key = *node_account.address().as_array();
    let node = load_mut::<Node>(program_id, node_account)?;
    require(operator.address().as_array() == &node.header.owner, GpuFuelError::Unauthorized)?;
    require(node.header.stake >= market.params.min_node_stake, GpuFuelError::StakeTooLow)?;

    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Open)?;
    require(job.excluded != node_key, GpuFuelError::ExcludedNode)?;
    let now = clock()?;
    require(now.unix_timestamp < job.deadline, GpuFuelError::DeadlinePassed)?;
    // After the window a first bid is still welcome: the job would otherwise only expire.
    require(now.unix_timestamp < job.bid_close || job.best_bid == 0, GpuFuelError::BiddingClosed)?;
    require(price >= node.price_floor, GpuFuelError::BidBelowFloor)?;
    require(price <= job.max_price, GpuFuelError::BidAboveMax)?;
    require(job.best_bid == 0 || price < job.best_bid, GpuFuelError::BidNotBetter)?;
    require(job.node != node_key, GpuFuelError::BidNotBetter)?;
    let class = load_mut::<GpuClass>(program_id, class)?;
    require(class.class_id == job.gpu_class, GpuFuelError::UnknownGpuClass)?;

    if job.best_bid == 0 {
        // A node wants the job: it is now demand the class's price follows.
        class.open_jobs = class.open_jobs.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    } else {
        let ([leader], _) = take::<1>(rest)?;
        require(leader.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
        release_work(load_mut::<Node>(program_id, leader)?, class, job)?;
    }
    let value = settlement::job_value(price, job.gpu_seconds, job.premium).map_err(err)?;
    let cover = settlement::cover(value, &job.terms).map_err(err)?;
    take_work(node, class, job, cover)?;
    job.best_bid = price;
    job.node = node_key;
    job.cover = cover;
    class.update_price(now.unix_timestamp, market.params.bid_window_secs);
    Ok(())
}
