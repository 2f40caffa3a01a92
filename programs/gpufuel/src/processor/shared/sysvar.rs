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
        slot_hashes::{ENTRY_SIZE, NUM_ENTRIES_SIZE, SLOT_SIZE, SLOTHASHES_ID},
    },
};

use super::{err, require};

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
#[inline(never)]
pub fn clock() -> Result<Now, ProgramError> {
    let mut raw = [0u8; size_of::<Clock>()];
    get_sysvar(&mut raw, &CLOCK_ID, 0)?;
    Ok(Now {
        slot: u64::from_le_bytes(word(&raw, offset_of!(Clock, slot))?),
        unix_timestamp: i64::from_le_bytes(word(&raw, offset_of!(Clock, unix_timestamp))?),
    })
}

/// The rent-exempt minimum balance of an account of `len` bytes: `(128 + len) × lamports per
/// byte-year × exemption threshold`. The threshold (an `f64`, 2.0 in the classic layout, 1.0
/// where the rent is folded into the per-byte price) is rounded up to a whole multiplier: paying
/// a little more than the minimum is still exempt.
#[inline(always)]
pub fn rent_exempt_minimum(len: usize) -> Result<u64, ProgramError> {
    let mut raw = [0u8; 16];
    get_sysvar(&mut raw, &RENT_ID, 0)?;
    let per_byte = u64::from_le_bytes(word(&raw, 0)?);
    let threshold = f64_ceil(u64::from_le_bytes(word(&raw, 8)?));
    let base = gpufuel_core::pricing::mul(len as u64 + ACCOUNT_STORAGE_OVERHEAD, per_byte);
    base.and_then(|b| gpufuel_core::pricing::mul(b, threshold.max(1))).ok_or(err(GpuFuelError::Overflow))
}

/// `ceil(x)` of an IEEE-754 `f64` given by its bits, in integer arithmetic (no floating point on
/// SBF): 0 for negatives and NaN, `u64::MAX` (an overflow later) for thresholds of 2^32 and more.
fn f64_ceil(bits: u64) -> u64 {
    let (negative, exponent, fraction) = (bits >> 63 == 1, ((bits >> 52) & 0x7ff) as i64, bits & ((1 << 52) - 1));
    match exponent {
        _ if negative => 0,
        0x7ff => {
            if fraction == 0 {
                u64::MAX
            } else {
                0
            }
        }
        0 => u64::from(fraction != 0),
        e if e < 1023 => 1,
        e if e - 1023 >= 32 => u64::MAX,
        e => {
            let (mantissa, shift) = (fraction | (1 << 52), 52 - (e - 1023));
            (mantissa >> shift) + u64::from(mantissa & ((1 << shift) - 1) != 0)
        }
    }
}

/// The hash of the first slot after `slot` (the oldest SlotHashes entry with a greater slot):
/// fixed once that slot is produced, unknown to anyone acting in `slot`. `None` once it has left
/// the sysvar, which holds the last 512 slots, newest first; a binary search reads
/// `O(log 512)` entries. Refused while no later slot exists.
#[inline(always)]
pub fn slot_hash_after(slot: u64) -> Result<Option<[u8; 32]>, ProgramError> {
    let mut count = [0u8; 8];
    get_sysvar(&mut count, &SLOTHASHES_ID, 0)?;
    let count = u64::from_le_bytes(count) as usize;
    let slot_at = |i: usize| -> Result<u64, ProgramError> {
        let mut raw = [0u8; SLOT_SIZE];
        get_sysvar(&mut raw, &SLOTHASHES_ID, entry(i))?;
        Ok(u64::from_le_bytes(raw))
    };
    // Entries 0..k have slots > `slot` (descending order): find k.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if slot_at(mid)? > slot { lo = mid + 1 } else { hi = mid }
    }
    require(lo > 0, GpuFuelError::SlotHashUnavailable)?;
    // Every entry is later than `slot`: the first later slot may have left the sysvar, unless
    // the oldest entry is that very slot.
    if lo == count && slot_at(lo - 1)? != slot + 1 {
        return Ok(None);
    }
    let mut hash = [0u8; 32];
    get_sysvar(&mut hash, &SLOTHASHES_ID, entry(lo - 1) + SLOT_SIZE)?;
    Ok(Some(hash))
}

/// Offset of SlotHashes entry `i` (`i` < 512: no overflow, and no 128-bit multiply on SBF).
#[inline(always)]
fn entry(i: usize) -> usize {
    NUM_ENTRIES_SIZE.wrapping_add(i.wrapping_mul(ENTRY_SIZE))
}

/// The hash of the most recent slot (the first SlotHashes entry).
#[inline(always)]
pub fn latest_slot_hash() -> Result<[u8; 32], ProgramError> {
    let mut hash = [0u8; 32];
    get_sysvar(&mut hash, &SLOTHASHES_ID, NUM_ENTRIES_SIZE + SLOT_SIZE)?;
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::f64_ceil;

    #[test]
    fn ceil_of_the_exemption_threshold() {
        for (x, want) in [
            (2.0f64, 2),
            (1.0, 1),
            (1.5, 2),
            (0.5, 1),
            (0.0, 0),
            (3.999, 4),
            (-1.0, 0),
            (f64::NAN, 0),
            (1e12, u64::MAX),
        ] {
            assert_eq!(f64_ceil(x.to_bits()), want, "{x}");
        }
    }
}
