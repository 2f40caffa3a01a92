use gpufuel_core::{GpuFuelError, TOKEN_PROGRAM_ID, seeds, state::Market};
use pinocchio::{AccountView, Address, cpi::Seed, cpi::Signer, error::ProgramError};
use pinocchio_token::{instructions::Transfer, state::Account as TokenAccount};

use super::{err, require};

const TOKEN: Address = Address::new_from_array(TOKEN_PROGRAM_ID);

/// Checks that `account` is a token account of the market's mint owned by `owner`: payouts go
/// only where they belong, whoever sends the instruction.
#[inline(never)]
pub fn check_token_account(market: &Market, account: &AccountView, owner: &[u8; 32]) -> Result<(), ProgramError> {
    let token = TokenAccount::from_account_view(account).map_err(|_| err(GpuFuelError::InvalidAccountOwner))?;
    require(token.mint().as_array() == &market.mint, GpuFuelError::InvalidMint)?;
    require(token.owner().as_array() == owner, GpuFuelError::InvalidTokenOwner)?;
    require(account.is_writable(), GpuFuelError::AccountNotWritable)
}

/// Moves `amount` from the signer's token account into the vault.
#[inline(never)]
pub fn deposit(from: &AccountView, vault: &AccountView, owner: &AccountView, amount: u64) -> Result<(), ProgramError> {
    Transfer::<&AccountView>::new(from, vault, owner, amount).invoke_with_unverified_program(&TOKEN)
}

/// The vault and the market PDA that signs for it.
pub struct Vault<'a> {
    pub market: &'a Market,
    pub market_account: &'a AccountView,
    pub vault: &'a AccountView,
}

/// Moves `amount` out of the vault, signed by the market PDA; nothing for zero.
#[inline(never)]
pub fn pay_out(from: &Vault, to: &AccountView, amount: u64) -> Result<(), ProgramError> {
    if amount == 0 {
        return Ok(());
    }
    let bump = [from.market.bump];
    let seeds = [Seed::from(seeds::MARKET), Seed::from(&bump)];
    Transfer::<&AccountView>::new(from.vault, to, from.market_account, amount)
        .invoke_signed_with_unverified_program(&[Signer::from(&seeds)], &TOKEN)
}
