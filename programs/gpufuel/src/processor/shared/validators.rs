//! The validator set account: its header and the stake tree, read and written in place.

use gpufuel_core::{
    GpuFuelError,
    committee::{HEADER_LEN, ValidatorSet},
    state::{AccountKind, Market},
};
use pinocchio::{AccountView, Address, error::ProgramError};

use super::{err, require};

/// The stake tree over a validator set account's data, and its header for the total.
pub struct SetView<'a> {
    header: &'a mut [u8],
    /// The tree.
    pub set: ValidatorSet<&'a mut [u64]>,
}

impl SetView<'_> {
    /// Writes the total back to the header (the tree is written in place).
    #[inline(always)]
    pub fn store(&mut self) {
        self.header[8..16].copy_from_slice(&self.set.total.to_le_bytes());
    }
}

/// The market's validator set, checked (address, owner, kind, alignment). `writable` also
/// requires the account to be writable.
#[inline(never)]
pub fn validator_set<'a>(
    program_id: &Address,
    market: &Market,
    account: &'a mut AccountView,
    writable: bool,
) -> Result<SetView<'a>, ProgramError> {
    require(account.address().as_array() == &market.validator_set, GpuFuelError::InvalidValidatorSet)?;
    require(account.owned_by(program_id), GpuFuelError::InvalidAccountOwner)?;
    require(!writable || account.is_writable(), GpuFuelError::AccountNotWritable)?;
    // SAFETY: the `&mut AccountView` makes this borrow unique in the handler.
    let data = unsafe { account.borrow_unchecked_mut() };
    require(data.len() >= HEADER_LEN && data[0] == AccountKind::ValidatorSet as u8, GpuFuelError::InvalidValidatorSet)?;
    let (header, tree) = data.split_at_mut(HEADER_LEN);
    require(tree.len() % 8 == 0 && tree.as_ptr().cast::<u64>().is_aligned(), GpuFuelError::Misaligned)?;
    let total = u64::from_le_bytes(header[8..16].try_into().map_err(|_| err(GpuFuelError::InvalidValidatorSet))?);
    // SAFETY: length a multiple of 8 and alignment checked; every bit pattern is a valid u64 (the
    // SBF target is little-endian, as the tree is stored).
    let tree = unsafe { core::slice::from_raw_parts_mut(tree.as_mut_ptr().cast::<u64>(), tree.len() / 8) };
    Ok(SetView { header, set: ValidatorSet { total, tree } })
}
