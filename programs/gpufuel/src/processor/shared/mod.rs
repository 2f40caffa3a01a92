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
    sysvars::{clock::CLOCK_ID, get_sysvar, rent::RENT_ID},
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

/// The parts of the clock the program uses.
pub struct Now {
    pub slot: u64,
    pub unix_timestamp: i64,
}

// Sysvars are read with `sol_get_sysvar` (no sysvar account to spoof). pinocchio's `Sysvar::get`
// compiles its syscall only for `target_os = "solana"`, not for `bpfel-unknown-none`.

/// The clock.
#[inline(always)]
pub fn clock() -> Result<Now, ProgramError> {
    let mut raw = [0u8; 40]; // slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp
    get_sysvar(&mut raw, &CLOCK_ID, 0)?;
    let word = |i: usize| <[u8; 8]>::try_from(&raw[i..i + 8]).map_err(|_| ProgramError::UnsupportedSysvar);
    Ok(Now { slot: u64::from_le_bytes(word(0)?), unix_timestamp: i64::from_le_bytes(word(32)?) })
}

/// The rent-exempt minimum balance of an account of `len` bytes.
#[inline(always)]
pub fn rent_exempt_minimum(len: usize) -> Result<u64, ProgramError> {
    const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;
    let mut lamports_per_byte = [0u8; 8];
    get_sysvar(&mut lamports_per_byte, &RENT_ID, 0)?;
    gpufuel_core::pricing::mul(len as u64 + ACCOUNT_STORAGE_OVERHEAD, u64::from_le_bytes(lamports_per_byte))
        .ok_or(err(GpuFuelError::Overflow))
}

/// `a + b` in time arithmetic, as a protocol overflow error.
#[inline(always)]
pub fn add_secs(t: i64, secs: u64) -> Result<i64, ProgramError> {
    i64::try_from(secs).ok().and_then(|s| t.checked_add(s)).ok_or(err(GpuFuelError::Overflow))
}
