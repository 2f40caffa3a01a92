//! Account layouts. Each account is a `#[repr(C)]` struct of plain integers and byte arrays with
//! explicit padding, so it has no implicit padding bytes: the program reads it in place (a
//! pointer cast, no copy) and clients decode the same bytes with borsh.

mod gpu_class;
mod job;
mod market;
mod staker;

pub use gpu_class::GpuClass;
pub use job::{
    JOB_ACKED, JOB_INVALID_TASK, JOB_URGENT, Job, JobState, MAX_APPEAL_COMMITTEE, MAX_COMMITTEE, MAX_SEATS, Phase,
    Seat, SeatVote, Workload,
};
pub use market::{JobTerms, MAX_COVER_BPS, MAX_FEE_BPS, MAX_WINDOW_SECS, Market, MarketParams};
pub use staker::{Node, NodeSpec, StakeHeader, Staker, StakerStatus, Submitter, Validator};

use crate::GpuFuelError;

/// The first byte of every account: what it is. Zero means uninitialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AccountKind {
    /// [`Market`].
    Market = 1,
    /// [`GpuClass`].
    GpuClass = 2,
    /// [`Node`].
    Node = 3,
    /// [`Validator`].
    Validator = 4,
    /// [`Submitter`].
    Submitter = 5,
    /// [`Job`].
    Job = 6,
    /// The validators' stake tree ([`crate::committee`]).
    ValidatorSet = 7,
}

/// An account type with a fixed layout, readable in place.
///
/// # Safety
/// Implementors are `#[repr(C)]`, contain only integers and byte arrays (every bit pattern is
/// valid), have no implicit padding, and store their [`AccountKind`] in their first byte.
pub unsafe trait AccountData: Sized + 'static {
    /// The discriminator in the first byte.
    const KIND: AccountKind;
    /// Size of the account data in bytes.
    const LEN: usize = core::mem::size_of::<Self>();

    /// Views initialised account bytes as `Self`: the length, alignment and kind must match.
    fn from_bytes(data: &[u8]) -> Result<&Self, GpuFuelError> {
        check_layout::<Self>(data)?;
        // SAFETY: length and alignment checked; every bit pattern is a valid `Self`.
        Ok(unsafe { &*(data.as_ptr() as *const Self) })
    }

    /// Mutable variant of [`AccountData::from_bytes`].
    fn from_bytes_mut(data: &mut [u8]) -> Result<&mut Self, GpuFuelError> {
        check_layout::<Self>(data)?;
        // SAFETY: as in `from_bytes`, and the borrow is unique.
        Ok(unsafe { &mut *(data.as_mut_ptr() as *mut Self) })
    }

    /// Views freshly allocated, all-zero bytes as `Self` to initialise them.
    fn init_bytes(data: &mut [u8]) -> Result<&mut Self, GpuFuelError> {
        if data.len() != Self::LEN {
            return Err(GpuFuelError::InvalidAccountType);
        }
        if data[0] != 0 {
            return Err(GpuFuelError::AlreadyInitialized);
        }
        if !data.as_ptr().cast::<Self>().is_aligned() {
            return Err(GpuFuelError::Misaligned);
        }
        // SAFETY: length and alignment checked; every bit pattern is a valid `Self`.
        let account = unsafe { &mut *(data.as_mut_ptr() as *mut Self) };
        // SAFETY: the first byte of every implementor is its kind.
        unsafe { *(account as *mut Self as *mut u8) = Self::KIND as u8 };
        Ok(account)
    }
}

fn check_layout<T: AccountData>(data: &[u8]) -> Result<(), GpuFuelError> {
    if data.len() != T::LEN || data[0] != T::KIND as u8 {
        return Err(GpuFuelError::InvalidAccountType);
    }
    if !data.as_ptr().cast::<T>().is_aligned() {
        return Err(GpuFuelError::Misaligned);
    }
    Ok(())
}

/// Asserts at compile time that a layout has exactly the size of its fields (no implicit padding).
macro_rules! assert_size {
    ($t:ty, $size:expr) => {
        const _: () = assert!(core::mem::size_of::<$t>() == $size);
    };
}
pub(crate) use assert_size;
