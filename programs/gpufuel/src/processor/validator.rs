//! A validator joining the committee draws once bonded, and collecting its rewards.

use gpufuel_core::{
    GpuFuelError,
    state::{Market, Validator},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// Puts a bonded validator's stake into the tree (anyone may call once the bonding period is
/// over): a validator registered after a job's result cannot be drawn onto its committee at
/// once.
#[inline(never)]
pub fn activate(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([market, validator, validator_set_account], _) = take::<3>(accounts)?;
    let market = load::<Market>(program_id, market)?;
    let validator = load_mut::<Validator>(program_id, validator)?;
    require(validator.header.is_active(), GpuFuelError::StakerExiting)?;
    require(validator.activated == 0, GpuFuelError::AlreadyInitialized)?;
    require(clock()?.unix_timestamp >= validator.active_from, GpuFuelError::NotActivated)?;
    let mut view = validator_set(program_id, market, validator_set_account, true)?;
    view.set.add(validator.index, validator.header.stake).map_err(err)?;
    view.store();
    validator.activated = 1;
    Ok(())
}

/// Pays the validator's rewards to its operator's token account.
#[inline(never)]
pub fn claim_rewards(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([owner, market_account, validator, owner_token, vault, token], _) = take::<6>(accounts)?;
    check_signer(owner)?;
    let market = load::<Market>(program_id, market_account)?;
    let validator = load_mut::<Validator>(program_id, validator)?;
    require(owner.address().as_array() == &validator.header.owner, GpuFuelError::Unauthorized)?;
    check_vault(market, vault)?;
    check_token_program(token)?;
    check_token_account(market, owner_token, &validator.header.owner)?;
    let amount = validator.rewards;
    require(amount > 0, GpuFuelError::ZeroAmount)?;
    validator.rewards = 0;
    pay_out(&Vault { market, market_account, vault }, owner_token, amount)
}
