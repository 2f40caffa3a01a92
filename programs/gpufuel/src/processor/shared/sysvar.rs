//! Sysvars, read with `sol_get_sysvar` so that no instruction takes a sysvar account (nothing to
//! spoof). pinocchio's `Sysvar::get` compiles its syscall only for `target_os = "solana"`, not
//! for `bpfel-unknown-none`, so the fields are read here at their `offset_of!` in pinocchio's own
//! `repr(C)` layouts.

use core::mem::{offset_of, size_of};

use gpufuel_core::GpuFuelError;
use pinocchio::{
    error::ProgramError,
    sysvars::{
        clock::{CLOCK_ID, Clock},
        get_sysvar,
        rent::{ACCOUNT_STORAGE_OVERHEAD, RENT_ID},
        slot_hashes,
    },
};

use super::err;

/// The parts of the clock the program uses.
pub struct Now {
    pub slot: u64,
    pub unix_timestamp: i64,
}

/// Eight bytes at `offset` of `raw`, little-endian.
#[inline(always)]
fn word(raw: &[u8], offset: usize) -> Result<[u8; 8], ProgramError> {
    raw.get(offset..offset + 8).and_then(|b| b.try_into().ok()).ok_or(ProgramError::UnsupportedSysvar)
}

/// The clock.
#[inline(always)]
pub fn clock() -> Result<Now, ProgramError> {
    let mut raw = [0u8; size_of::<Clock>()];
    get_sysvar(&mut raw, &CLOCK_ID, 0)?;
    Ok(Now {
        slot: u64::from_le_bytes(word(&raw, offset_of!(Clock, slot))?),
        unix_timestamp: i64::from_le_bytes(word(&raw, offset_of!(Clock, unix_timestamp))?),
    })
}

/// The rent-exempt minimum balance of an account of `len` bytes.
#[inline(always)]
pub fn rent_exempt_minimum(len: usize) -> Result<u64, ProgramError> {
    let mut lamports_per_byte = [0u8; 8];
    get_sysvar(&mut lamports_per_byte, &RENT_ID, 0)?;
    gpufuel_core::pricing::mul(len as u64 + ACCOUNT_STORAGE_OVERHEAD, u64::from_le_bytes(lamports_per_byte))
        .ok_or(err(GpuFuelError::Overflow))
}

/// The hash of the most recent slot (the first SlotHashes entry).
#[inline(always)]
pub fn latest_slot_hash() -> Result<[u8; 32], ProgramError> {
    let mut entry = [0u8; slot_hashes::ENTRY_SIZE];
    slot_hashes::raw::fetch_into(&mut entry, slot_hashes::NUM_ENTRIES_SIZE)?;
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&entry[slot_hashes::SLOT_SIZE..]);
    Ok(hash)
}
