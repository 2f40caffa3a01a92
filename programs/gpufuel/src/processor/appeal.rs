use gpufuel_core::{
    GpuFuelError,
    committee::{self, Step},
    settlement,
    state::{Job, JobState, Market, Phase},
};
use pinocchio::{AccountView, Address, ProgramResult};
use pinocchio_token::state::Account as TokenAccount;

use super::shared::*;

/// Anyone who disagrees with a unanimous first committee (the node it failed, the submitter it
/// passed garbage for, any validator who checked) posts a bond and has a larger committee,
/// drawn from a slot hash after this one, decide instead. The bond returns if the outcome
/// changes or none is reached; otherwise it rewards the seats that upheld the decision.
#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([appellant, market, job, appellant_token, vault, token], _) = take::<6>(accounts)?;
    check_signer(appellant)?;
    let market = load::<Market>(program_id, market)?;
    let job = load_mut::<Job>(program_id, job)?;
    require_state(job, JobState::Submitted)?;
    require(job.round == 0, GpuFuelError::WrongPhase)?;
    let now = clock()?;
    match committee::step(job, now.unix_timestamp).map_err(err)? {
        Step::Appealable { .. } => {}
        Step::Draw | Step::Escalate => return Err(err(GpuFuelError::WrongPhase)),
        _ => return Err(err(GpuFuelError::WindowClosed)),
    }
    check_vault(market, vault)?;
    check_token_program(token)?;
    let source =
        TokenAccount::from_account_view(appellant_token).map_err(|_| err(GpuFuelError::InvalidAccountOwner))?;
    require(source.mint().as_array() == &market.mint, GpuFuelError::InvalidMint)?;
    drop(source);
    let value = job.value().ok_or(err(GpuFuelError::Overflow))?;
    let bond = settlement::appeal_bond(value, &job.terms).map_err(err)?;
    job.appeal_bond = bond;
    job.appellant = *appellant_token.address().as_array();
    job.round = 1;
    job.phase = Phase::Drawing as u8;
    job.step_slot = now.slot;
    deposit(appellant_token, vault, appellant, bond)
}
