use gpufuel_core::{
    GpuFuelError,
    state::{Job, JobState, Market, Node},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// The submitter withdraws an open job: the escrow returns, a leading node gets its GPUs and
/// cover back.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([owner, market_account, job, submitter, class, vault, owner_token, token], rest) = take::<8>(accounts)?;
    check_signer(owner)?;
    let market = load::<Market>(program_id, market_account)?;
    let job = load_mut::<Job>(program_id, job)?;
    require(owner.address().as_array() == &job.submitter, GpuFuelError::Unauthorized)?;
    require_state(job, JobState::Open)?;
    let parties = JobParties { submitter, class, vault, token_program: token, submitter_token: owner_token };
    let (submitter, class) = parties.load(program_id, market, job)?;
    if job.best_bid != 0 {
        let ([leader], _) = take::<1>(rest)?;
        require(leader.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
        release_work(load_mut::<Node>(program_id, leader)?, class, job)?;
        class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    }
    job.set_state(JobState::Cancelled);
    class.update_price(clock()?.unix_timestamp, market.params.bid_window_secs);
    submitter.header.in_flight = submitter.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    pay_out(&Vault { market, market_account, vault }, owner_token, job.escrow)
}
