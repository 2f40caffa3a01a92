use gpufuel_core::{
    GpuFuelError, settlement,
    state::{Job, JobState, Market, Node},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView]) -> ProgramResult {
    let program_id = &crate::ID;
    let ([market_account, job, submitter, class, vault, submitter_token, token], rest) = take::<7>(accounts)?;
    let market = load::<Market>(program_id, market_account)?;
    let job = load_mut::<Job>(program_id, job)?;
    let was = job.job_state().map_err(err)?;
    require(matches!(was, JobState::Open | JobState::Assigned), GpuFuelError::InvalidJobState)?;
    let now = clock()?;
    require(now.unix_timestamp > job.deadline, GpuFuelError::DeadlineNotReached)?;
    let parties = JobParties { submitter, class, vault, token_program: token, submitter_token };
    let (submitter, class) = parties.load(market, job)?;

    let vault = Vault { market, market_account, vault };
    let mut refund = job.escrow;
    if was == JobState::Open {
        class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    } else {
        // The node that won the job let it lapse: part of its stake goes to the submitter.
        let ([node_account], _) = take::<1>(rest)?;
        require(node_account.address().as_array() == &job.node, GpuFuelError::WrongNode)?;
        let node = load_mut::<Node>(program_id, node_account)?;
        let penalty = settlement::miss_penalty(node.header.stake, &market.params).map_err(err)?;
        node.header.stake -= penalty; // penalty <= stake
        node.missed_deadlines = node.missed_deadlines.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
        node.header.in_flight = node.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
        if node.is_idle() {
            class.idle_nodes = class.idle_nodes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
        }
        refund = refund.checked_add(penalty).ok_or(err(GpuFuelError::Overflow))?;
    }
    job.set_state(JobState::Expired);
    class.update_price(now.slot);
    submitter.header.in_flight = submitter.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    pay_out(&vault, submitter_token, refund)
}
