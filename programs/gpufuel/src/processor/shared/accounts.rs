use gpufuel_core::{
    GpuFuelError, SYSTEM_PROGRAM_ID, TOKEN_PROGRAM_ID,
    state::{AccountData, GpuClass, Job, Market, Submitter},
};
use pinocchio::{AccountView, Address, error::ProgramError};

use super::{check_token_account, err, require};

/// Splits off the first `N` accounts, or fails with `NotEnoughAccounts`.
#[inline(always)]
pub fn take<const N: usize>(
    accounts: &mut [AccountView],
) -> Result<(&mut [AccountView; N], &mut [AccountView]), ProgramError> {
    if accounts.len() < N {
        return Err(err(GpuFuelError::NotEnoughAccounts));
    }
    let (head, rest) = accounts.split_at_mut(N);
    Ok((head.try_into().map_err(|_| err(GpuFuelError::NotEnoughAccounts))?, rest))
}

/// The account must have signed.
#[inline(always)]
pub fn check_signer(account: &AccountView) -> Result<(), ProgramError> {
    require(account.is_signer(), GpuFuelError::MissingSignature)
}

/// Reads a program account of type `T` in place: owner, length and kind are checked.
#[inline(never)]
pub fn load<'a, T: AccountData>(program_id: &Address, account: &'a AccountView) -> Result<&'a T, ProgramError> {
    require(account.owned_by(program_id), GpuFuelError::InvalidAccountOwner)?;
    // SAFETY: no mutable reference to this account's data is alive: handlers take each
    // account once, and duplicates of a mutable account are refused by the kind and
    // relationship checks before any write.
    T::from_bytes(unsafe { account.borrow_unchecked() }).map_err(err)
}

/// Like [`load`], for an account the instruction writes: it must also be writable.
#[inline(never)]
pub fn load_mut<'a, T: AccountData>(
    program_id: &Address,
    account: &'a mut AccountView,
) -> Result<&'a mut T, ProgramError> {
    require(account.owned_by(program_id), GpuFuelError::InvalidAccountOwner)?;
    require(account.is_writable(), GpuFuelError::AccountNotWritable)?;
    // SAFETY: as in `load`; the `&mut AccountView` makes this borrow unique in the handler.
    T::from_bytes_mut(unsafe { account.borrow_unchecked_mut() }).map_err(err)
}

/// The account must be the market's vault and writable.
#[inline(never)]
pub fn check_vault(market: &Market, vault: &AccountView) -> Result<(), ProgramError> {
    require(vault.address().as_array() == &market.vault, GpuFuelError::InvalidVault)?;
    require(vault.is_writable(), GpuFuelError::AccountNotWritable)
}

/// The account must be the SPL Token program (no look-alike, no Token-2022).
#[inline(always)]
pub fn check_token_program(program: &AccountView) -> Result<(), ProgramError> {
    require(program.address().as_array() == &TOKEN_PROGRAM_ID, GpuFuelError::InvalidTokenProgram)
}

/// The account must be the system program.
#[inline(always)]
pub fn check_system_program(program: &AccountView) -> Result<(), ProgramError> {
    require(program.address().as_array() == &SYSTEM_PROGRAM_ID, GpuFuelError::InvalidSystemProgram)
}

/// The accounts that the instructions ending a job (cancel, expire, settle) check the same way.
pub struct JobParties<'a, 'b> {
    pub submitter: &'a mut AccountView,
    pub class: &'a mut AccountView,
    pub vault: &'b AccountView,
    pub token_program: &'b AccountView,
    /// The submitter's token account (refunds go there).
    pub submitter_token: &'b AccountView,
}

impl<'a> JobParties<'a, '_> {
    /// Checks every party against `job` and the market, and loads the submitter and GPU class for
    /// writing.
    #[inline(never)]
    pub fn load(
        self,
        program_id: &Address,
        market: &Market,
        job: &Job,
    ) -> Result<(&'a mut Submitter, &'a mut GpuClass), ProgramError> {
        let submitter = load_mut::<Submitter>(program_id, self.submitter)?;
        require(submitter.header.owner == job.submitter, GpuFuelError::Unauthorized)?;
        let class = load_mut::<GpuClass>(program_id, self.class)?;
        require(class.class_id == job.gpu_class, GpuFuelError::UnknownGpuClass)?;
        check_vault(market, self.vault)?;
        check_token_program(self.token_program)?;
        check_token_account(market, self.submitter_token, &job.submitter)?;
        Ok((submitter, class))
    }
}

/// Closes a program account: its rent goes to `recipient`, its data and owner are cleared, so it
/// cannot be revived as the same account.
#[inline(always)]
pub fn close(account: &mut AccountView, recipient: &mut AccountView) -> Result<(), ProgramError> {
    require(recipient.is_writable(), GpuFuelError::AccountNotWritable)?;
    let lamports = recipient.lamports().checked_add(account.lamports());
    recipient.set_lamports(lamports.ok_or(err(GpuFuelError::Overflow))?);
    account.set_lamports(0);
    account.close()
}
