use gpufuel_core::{GpuFuelError, state::AccountData};
use pinocchio::{AccountView, Address, cpi::Signer, error::ProgramError};
use pinocchio_system::instructions::{Allocate, Assign, CreateAccount, Transfer};

use super::{err, require};

/// Checks that `account` is the canonical PDA of `seeds` and returns its bump.
#[inline(always)]
pub fn canonical_bump(program_id: &Address, account: &AccountView, seeds: &[&[u8]]) -> Result<u8, ProgramError> {
    let (address, bump) = Address::find_program_address(seeds, program_id);
    require(&address == account.address(), GpuFuelError::InvalidPda)?;
    Ok(bump)
}

/// An account to create at a PDA: `signer` holds its seeds with the bump.
pub struct NewAccount<'a> {
    pub payer: &'a AccountView,
    pub account: &'a AccountView,
    pub space: usize,
    pub owner: &'a Address,
    pub signer: &'a Signer<'a, 'a>,
}

/// Creates the account. An account that exists is refused; lamports sent to the address
/// beforehand (to block its creation) are kept and topped up.
#[inline(never)]
pub fn create_pda(new: &NewAccount) -> Result<(), ProgramError> {
    let NewAccount { payer, account, space, owner, signer } = *new;
    require(account.is_writable(), GpuFuelError::AccountNotWritable)?;
    require(
        account.owned_by(&Address::new_from_array(gpufuel_core::SYSTEM_PROGRAM_ID)) && account.is_data_empty(),
        GpuFuelError::AlreadyInitialized,
    )?;
    let rent = super::rent_exempt_minimum(space)?;
    let signers = core::slice::from_ref(signer);
    let held = account.lamports();
    if held == 0 {
        CreateAccount { from: payer, to: account, lamports: rent, space: space as u64, owner }.invoke_signed(signers)
    } else {
        if held < rent {
            Transfer { from: payer, to: account, lamports: rent - held }.invoke()?;
        }
        Allocate { account, space: space as u64 }.invoke_signed(signers)?;
        Assign { account, owner }.invoke_signed(signers)
    }
}

/// Creates the program account `T` at a PDA (see [`create_pda`]) and returns its zeroed data
/// with the kind set.
#[inline(always)]
pub fn create_pda_account<'a, T: AccountData>(
    program_id: &Address,
    payer: &AccountView,
    account: &'a mut AccountView,
    signer: &Signer,
) -> Result<&'a mut T, ProgramError> {
    create_pda(&NewAccount { payer, account, space: T::LEN, owner: program_id, signer })?;
    // SAFETY: the account was just created for this instruction; no other borrow exists.
    T::init_bytes(unsafe { account.borrow_unchecked_mut() }).map_err(err)
}
