use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, Market},
};
use pinocchio::{AccountView, Address, ProgramResult};
use pinocchio_token::state::Account as TokenAccount;

use super::shared::*;

/// Pays a class's fee pool to a token account of the mint the authority names. The pool is
/// the program's bookkeeping inside the vault: no outside account can be closed to block
/// settlements, as an external treasury could.
#[inline(never)]
pub fn withdraw(program_id: &Address, accounts: &mut [AccountView]) -> ProgramResult {
    let ([authority, market_account, class, vault, destination, token], _) = take::<6>(accounts)?;
    check_signer(authority)?;
    let market = load::<Market>(program_id, market_account)?;
    require(authority.address().as_array() == &market.authority, GpuFuelError::Unauthorized)?;
    let class = load_mut::<GpuClass>(program_id, class)?;
    check_vault(market, vault)?;
    check_token_program(token)?;
    let to = TokenAccount::from_account_view(destination).map_err(|_| err(GpuFuelError::InvalidAccountOwner))?;
    require(to.mint().as_array() == &market.mint, GpuFuelError::InvalidMint)?;
    drop(to);
    let amount = class.fees;
    require(amount > 0, GpuFuelError::ZeroAmount)?;
    class.fees = 0;
    pay_out(&Vault { market, market_account, vault }, destination, amount)
}
