use gpufuel_core::{
    GpuFuelError,
    state::{Market, MarketParams},
};
use pinocchio::{AccountView, ProgramResult};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView], params: &MarketParams) -> ProgramResult {
    let program_id = &crate::ID;
    let ([authority, market], _) = take::<2>(accounts)?;
    check_signer(authority)?;
    let market = load_mut::<Market>(program_id, market)?;
    require(authority.address().as_array() == &market.authority, GpuFuelError::Unauthorized)?;
    params.validate().map_err(err)?;
    market.params = *params;
    Ok(())
}
