//! Steps several instructions share: account checks, PDA creation, token moves, sysvars,
//! hashing, a node's work, assignment and reopening, and the validator set.

mod accounts;
mod assignment;
mod hash;
mod pda;
mod sysvar;
mod token;
mod validators;
mod work;

pub use accounts::*;
pub use assignment::*;
pub use hash::*;
pub use pda::*;
pub use sysvar::*;
pub use token::*;
pub use validators::*;
pub use work::*;

use gpufuel_core::{
    GpuFuelError,
    state::{Job, JobState},
};
use pinocchio::{ProgramResult, error::ProgramError};

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

/// The job must be in `expected` (a corrupt state byte is an error, never a state).
#[inline(never)]
pub fn require_state(job: &Job, expected: JobState) -> ProgramResult {
    require(job.job_state().map_err(err)? == expected, GpuFuelError::InvalidJobState)
}

/// `a + b` in time arithmetic, as a protocol overflow error.
#[inline(always)]
pub fn add_secs(t: i64, secs: u64) -> Result<i64, ProgramError> {
    i64::try_from(secs).ok().and_then(|s| t.checked_add(s)).ok_or(err(GpuFuelError::Overflow))
}
