use gpufuel_core::{
    GpuFuelError,
    state::{Job, JobState, Market},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView]) -> ProgramResult {
    let program_id = &crate::ID;
    let ([owner, market_account, job, submitter, class, vault, owner_token, token], _) = take::<8>(accounts)?;
    check_signer(owner)?;
    let market = load::<Market>(program_id, market_account)?;
    let job = load_mut::<Job>(program_id, job)?;
    require(owner.address().as_array() == &job.submitter, GpuFuelError::Unauthorized)?;
    require_state(job, JobState::Open)?;
    let parties = JobParties { submitter, class, vault, token_program: token, submitter_token: owner_token };
    let (submitter, class) = parties.load(market, job)?;

    let vault = Vault { market, market_account, vault };
    job.set_state(JobState::Cancelled);
    class.open_jobs = class.open_jobs.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    class.update_price(clock()?.slot);
    submitter.header.in_flight = submitter.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    pay_out(&vault, owner_token, job.escrow)
}
