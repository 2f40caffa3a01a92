use gpufuel_core::{GpuFuelError, state::Job};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([owner, job_account], _) = take::<2>(accounts)?;
    check_signer(owner)?;
    let job = load_mut::<Job>(program_id, job_account)?;
    require(owner.address().as_array() == &job.submitter, GpuFuelError::Unauthorized)?;
    let terminal = job.job_state().map_err(err)?.is_terminal();
    require(terminal, GpuFuelError::InvalidJobState)?;
    close(job_account, owner)
}
