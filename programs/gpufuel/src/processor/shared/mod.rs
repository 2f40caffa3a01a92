//! Steps several instructions share: account checks, PDA creation, token moves, the clock.

mod accounts;
mod pda;
mod token;

pub use accounts::*;
pub use pda::*;
pub use token::*;

use gpufuel_core::GpuFuelError;
use pinocchio::{
    error::ProgramError,
    sysvars::{clock::Clock, Sysvar},
};

/// A protocol error as a program error.
#[inline(always)]
pub fn err(e: GpuFuelError) -> ProgramError {
    ProgramError::Custom(e as u32)
}

/// Fails with `e` unless `cond` holds.
#[inline(always)]
pub fn require(cond: bool, e: GpuFuelError) -> Result<(), ProgramError> {
    if cond { Ok(()) } else { Err(err(e)) }
}

/// The clock, read by syscall (no sysvar account to spoof).
#[inline(always)]
pub fn clock() -> Result<Clock, ProgramError> {
    Clock::get()
}

/// `a + b` in time arithmetic, as a protocol overflow error.
#[inline(always)]
pub fn add_secs(t: i64, secs: u64) -> Result<i64, ProgramError> {
    i64::try_from(secs).ok().and_then(|s| t.checked_add(s)).ok_or(err(GpuFuelError::Overflow))
}
