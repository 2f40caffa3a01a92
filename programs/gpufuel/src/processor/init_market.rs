use gpufuel_core::{
    GpuFuelError, TOKEN_PROGRAM_ID, committee, seeds,
    state::{AccountKind, Market, MarketParams},
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

/// The upgradeable loader (`BPFLoaderUpgradeab1e11111111111111111111111`).
const UPGRADEABLE_LOADER: Address = Address::new_from_array([
    2, 168, 246, 145, 78, 136, 161, 176, 226, 16, 21, 62, 247, 99, 174, 43, 0, 194, 185, 61, 22, 193, 36, 210, 192, 83,
    122, 16, 4, 128, 0, 0,
]);

/// `UpgradeableLoaderState::ProgramData` (bincode): tag 3 (u32), slot (u64), then an
/// `Option<Pubkey>` upgrade authority: 1 and the key.
const PROGRAM_DATA_TAG: [u8; 4] = [3, 0, 0, 0];
const AUTHORITY_OFFSET: usize = 12;

#[inline(never)]
pub fn process(program_id: &Address, accounts: &mut [AccountView], params: &MarketParams) -> ProgramResult {
    let ([authority, market, mint, vault, validator_set, program_data, system, token], _) = take::<8>(accounts)?;
    check_signer(authority)?;
    params.validate().map_err(err)?;
    check_system_program(system)?;
    check_token_program(token)?;
    check_upgrade_authority(program_id, program_data, authority)?;
    let mint_state = Mint::from_account_view(mint).map_err(|_| err(GpuFuelError::InvalidMint))?;
    // A freeze authority could freeze the vault, and every stake and escrow with it.
    require(mint_state.freeze_authority().is_none(), GpuFuelError::FreezableMint)?;
    drop(mint_state);
    init_validator_set(program_id, validator_set)?;

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
    state.validator_set = *validator_set.address().as_array();
    Ok(())
}

/// The signer must be the upgrade authority recorded in the program's program data account: a
/// fresh deployment's market is its deployer's to create.
#[inline(always)]
fn check_upgrade_authority(program_id: &Address, program_data: &AccountView, authority: &AccountView) -> ProgramResult {
    let (expected, _) = Address::find_program_address(&[program_id.as_ref()], &UPGRADEABLE_LOADER);
    require(program_data.address() == &expected, GpuFuelError::NotUpgradeAuthority)?;
    require(program_data.owned_by(&UPGRADEABLE_LOADER), GpuFuelError::NotUpgradeAuthority)?;
    // SAFETY: a read-only look at an account this instruction does not write.
    let data = unsafe { program_data.borrow_unchecked() };
    let recorded = data.get(AUTHORITY_OFFSET + 1..AUTHORITY_OFFSET + 33);
    let ok = data.get(..4) == Some(&PROGRAM_DATA_TAG[..])
        && data.get(AUTHORITY_OFFSET) == Some(&1)
        && recorded == Some(authority.address().as_ref());
    require(ok, GpuFuelError::NotUpgradeAuthority)
}

/// The validator set: a zeroed account of the program's (created by the deployer at its full
/// size, beyond what a program may allocate), stamped with its kind and capacity.
#[inline(always)]
fn init_validator_set(program_id: &Address, account: &mut AccountView) -> ProgramResult {
    require(account.owned_by(program_id), GpuFuelError::InvalidAccountOwner)?;
    require(account.is_writable(), GpuFuelError::AccountNotWritable)?;
    // SAFETY: this instruction's only borrow of the account.
    let data = unsafe { account.borrow_unchecked_mut() };
    let tree = data.len().checked_sub(committee::HEADER_LEN).filter(|t| *t >= 8 && t % 8 == 0);
    let tree = tree.ok_or(err(GpuFuelError::InvalidValidatorSet))?;
    // Only the program writes an account it owns: a zero kind byte means untouched, all zero.
    require(data[0] == 0, GpuFuelError::AlreadyInitialized)?;
    let capacity = u32::try_from(tree / 8).map_err(|_| err(GpuFuelError::InvalidValidatorSet))?;
    data[0] = AccountKind::ValidatorSet as u8;
    data[4..8].copy_from_slice(&capacity.to_le_bytes());
    Ok(())
}
