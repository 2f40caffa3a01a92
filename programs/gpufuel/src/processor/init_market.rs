use gpufuel_core::{
    GpuFuelError, TOKEN_PROGRAM_ID, seeds,
    state::{Market, MarketParams},
};
use pinocchio::{
    AccountView, Address, ProgramResult,
    cpi::{Seed, Signer},
};
use pinocchio_token::{
    instructions::InitializeAccount3,
    state::{Account as TokenAccount, Mint},
};

use super::shared::*;

#[inline(never)]
pub fn process(accounts: &mut [AccountView], params: &MarketParams) -> ProgramResult {
    let program_id = &crate::ID;
    let ([authority, market, mint, vault, treasury, system, token], _) = take::<7>(accounts)?;
    check_signer(authority)?;
    params.validate().map_err(err)?;
    check_system_program(system)?;
    check_token_program(token)?;
    Mint::from_account_view(mint).map_err(|_| err(GpuFuelError::InvalidMint))?;
    let treasury_mint =
        *TokenAccount::from_account_view(treasury).map_err(|_| err(GpuFuelError::InvalidTreasury))?.mint();
    require(&treasury_mint == mint.address(), GpuFuelError::InvalidMint)?;

    let market_bump = canonical_bump(program_id, market, &[seeds::MARKET])?;
    let vault_bump = canonical_bump(program_id, vault, &[seeds::VAULT])?;

    let bump = [vault_bump];
    let vault_seeds = [Seed::from(seeds::VAULT), Seed::from(&bump)];
    let token_program = Address::new_from_array(TOKEN_PROGRAM_ID);
    let signer = Signer::from(&vault_seeds);
    create_pda(&NewAccount {
        payer: authority,
        account: vault,
        space: TokenAccount::LEN,
        owner: &token_program,
        signer: &signer,
    })?;
    InitializeAccount3::new(vault, mint, market.address()).invoke()?;

    let bump = [market_bump];
    let market_seeds = [Seed::from(seeds::MARKET), Seed::from(&bump)];
    let state = create_pda_account::<Market>(program_id, authority, market, &Signer::from(&market_seeds))?;
    state.bump = market_bump;
    state.vault_bump = vault_bump;
    state.params = *params;
    state.authority = *authority.address().as_array();
    state.mint = *mint.address().as_array();
    state.vault = *vault.address().as_array();
    state.treasury = *treasury.address().as_array();
    Ok(())
}
