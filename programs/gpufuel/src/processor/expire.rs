use gpufuel_core::{
    GpuFuelError, settlement,
    state::{Job, JobState, Market, Node},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// A job past its deadline without a result (anyone may call): the escrow returns, with the miss
/// penalty of the node that held it (assigned, or leading an auction it let lapse) — a share of
/// the job's value, not of the node's shrinking stake.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([market_account, job, submitter, class, vault, submitter_token, token], rest) = take::<7>(accounts)?;
    let market = load::<Market>(program_id, market_account)?;
    let job = load_mut::<Job>(program_id, job)?;
    let was = job.job_state().map_err(err)?;
    require(matches!(was, JobState::Open | JobState::Assigned), GpuFuelError::InvalidJobState)?;
    let now = clock()?;
    require(now.unix_timestamp > job.deadline, GpuFuelError::DeadlineNotReached)?;
    let parties = JobParties { submitter, class, vault, token_program: token, submitter_token };
    let (submitter, class) = parties.load(program_id, market, job)?;

    let mut refund = job.escrow;
    if job.best_bid != 0 {
        let ([node_account], _) = take::<1>(rest)?;
        require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
        let node = load_mut::<Node>(program_id, node_account)?;
        if was == JobState::Open {
            class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
        }
        release_work(node, class, job)?;
        let value = job.value().ok_or(err(GpuFuelError::Overflow))?;
        let penalty = settlement::miss_penalty(value, node.header.stake, &job.terms).map_err(err)?;
        node.header.stake -= penalty; // ≤ stake
        node.missed_deadlines = node.missed_deadlines.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
        refund = refund.checked_add(penalty).ok_or(err(GpuFuelError::Overflow))?;
    }
    job.set_state(JobState::Expired);
    class.update_price(now.unix_timestamp, market.params.bid_window_secs);
    submitter.header.in_flight = submitter.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    pay_out(&Vault { market, market_account, vault }, submitter_token, refund)
}
