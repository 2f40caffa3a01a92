//! The authority's powers, bounded: parameter changes wait out a timelock no shorter than the
//! unstake cooldown (every staker can leave first) and never touch jobs already created (they
//! keep their terms); the authority passes on in two steps.

use gpufuel_core::{
    GpuFuelError,
    state::{Market, MarketParams},
};
use pinocchio::{AccountView, Address, ProgramResult};

use super::shared::*;

/// The market, written, with its authority signing.
#[inline(always)]
fn authorised<'a>(
    program_id: &Address,
    authority: &AccountView,
    market: &'a mut AccountView,
) -> Result<&'a mut Market, pinocchio::error::ProgramError> {
    check_signer(authority)?;
    let market = load_mut::<Market>(program_id, market)?;
    require(authority.address().as_array() == &market.authority, GpuFuelError::Unauthorized)?;
    Ok(market)
}

#[inline(never)]
pub fn propose(program_id: &Address, accounts: &mut [AccountView], params: &MarketParams) -> ProgramResult {
    let ([authority, market], _) = take::<2>(accounts)?;
    let market = authorised(program_id, authority, market)?;
    params.validate().map_err(err)?;
    market.pending_params = *params;
    market.pending_at = add_secs(clock()?.unix_timestamp, market.params.params_timelock_secs)?.max(1);
    Ok(())
}

#[inline(never)]
pub fn apply(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([market], _) = take::<1>(accounts)?;
    let market = load_mut::<Market>(program_id, market)?;
    require(market.pending_at != 0 && clock()?.unix_timestamp >= market.pending_at, GpuFuelError::Timelocked)?;
    market.params = market.pending_params;
    market.pending_at = 0;
    Ok(())
}

#[inline(never)]
pub fn transfer_authority(
    program_id: &Address,
    accounts: &mut [AccountView],
    new_authority: &[u8; 32],
) -> ProgramResult {
    let ([authority, market], _) = take::<2>(accounts)?;
    authorised(program_id, authority, market)?.pending_authority = *new_authority;
    Ok(())
}

#[inline(never)]
pub fn accept_authority(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([new_authority, market], _) = take::<2>(accounts)?;
    check_signer(new_authority)?;
    let market = load_mut::<Market>(program_id, market)?;
    let key = new_authority.address().as_array();
    require(market.pending_authority != [0; 32] && key == &market.pending_authority, GpuFuelError::Unauthorized)?;
    market.authority = *key;
    market.pending_authority = [0; 32];
    Ok(())
}
