//! A keyed watermark in the low bits of float outputs.
//!
//! The key is `SHA-256("gpufuel/watermark/v1" || job || node || seed)`, where `seed` is the slot
//! hash the program stores at assignment, so no node can produce a marked output before it wins
//! the job. The output is cut into blocks of `b` values (`b` a power of two, at most 64, chosen so
//! there are at least [`MIN_MARKS`] blocks when the output allows); in each block the key picks
//! one position and one bit, and the mark sets that value's lowest mantissa bit. A mark changes a
//! value by at most one unit in the last place: `2^-23` relative for `f32`, `2^-7` for `bf16`.
//!
//! Verification reads bits only (no float arithmetic), so an honest output, stored verbatim,
//! matches every mark. An output marked under another key (copied from another node, replayed from
//! an earlier job, or unmarked) matches each mark with probability 1/2, independently, so it passes
//! with probability `2^-marks`: at most `2^-256` for outputs of 256 values or more.
//!
//! What it does not do: the key derives from public values, so a node that holds a correct output
//! can re-mark it under its own key. That output is still a correct result for this job (Freivalds
//! and re-execution check correctness); the watermark binds each stored output to one job, node and
//! assignment, which is what stops verbatim copying and replay.
//!
//! Cost: one pseudo-random byte per block and one bit write per mark.

use half::{bf16, f16};

use super::{Hash, Prf, ProofError};

/// Least number of marks when the output has that many values.
pub const MIN_MARKS: usize = 256;
/// Largest block: at least one mark per 64 values.
pub const MAX_BLOCK: usize = 64;

/// A float format the watermark can mark.
pub trait Markable: Copy {
    /// Largest relative change a mark makes to a normal value.
    const MAX_RELATIVE_CHANGE: f64;
    /// Whether the value is finite.
    fn finite(self) -> bool;
    /// The lowest mantissa bit.
    fn low_bit(self) -> bool;
    /// The value with its lowest mantissa bit set to `bit`.
    fn with_low_bit(self, bit: bool) -> Self;
}

impl Markable for f32 {
    const MAX_RELATIVE_CHANGE: f64 = 1.0 / (1u64 << 23) as f64;
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn low_bit(self) -> bool {
        self.to_bits() & 1 == 1
    }
    fn with_low_bit(self, bit: bool) -> Self {
        f32::from_bits(self.to_bits() & !1 | u32::from(bit))
    }
}

impl Markable for bf16 {
    const MAX_RELATIVE_CHANGE: f64 = 1.0 / 128.0;
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn low_bit(self) -> bool {
        self.to_bits() & 1 == 1
    }
    fn with_low_bit(self, bit: bool) -> Self {
        bf16::from_bits(self.to_bits() & !1 | u16::from(bit))
    }
}

impl Markable for f16 {
    const MAX_RELATIVE_CHANGE: f64 = 1.0 / 1024.0;
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn low_bit(self) -> bool {
        self.to_bits() & 1 == 1
    }
    fn with_low_bit(self, bit: bool) -> Self {
        f16::from_bits(self.to_bits() & !1 | u16::from(bit))
    }
}

impl Markable for f64 {
    const MAX_RELATIVE_CHANGE: f64 = 1.0 / (1u64 << 52) as f64;
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn low_bit(self) -> bool {
        self.to_bits() & 1 == 1
    }
    fn with_low_bit(self, bit: bool) -> Self {
        f64::from_bits(self.to_bits() & !1 | u64::from(bit))
    }
}

/// The watermark of one job, node and assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    key: Hash,
}

/// The outcome of checking a watermark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatermarkCheck {
    /// Marks checked.
    pub marks: usize,
    /// Marks found.
    pub matching: usize,
}

impl WatermarkCheck {
    /// Whether every mark is present (honest outputs are stored verbatim, so no slack is needed).
    pub fn passed(&self) -> bool {
        self.marks > 0 && self.matching == self.marks
    }
}

impl Watermark {
    /// The watermark for `job` (its account address), run by `node` (its account address), with the
    /// assignment `seed` stored in the job.
    pub fn new(job: &[u8; 32], node: &[u8; 32], seed: &[u8; 32]) -> Self {
        let prf = Prf::new(b"gpufuel/watermark/v1", &[job, node, seed]);
        Self { key: *prf.key() }
    }

    /// The same key for a distinct part of the output (a checkpoint number, a named tensor), so
    /// each part carries its own marks.
    pub fn part(&self, part: u32) -> Self {
        let prf = Prf::new(b"gpufuel/watermark/part", &[&self.key, &part.to_le_bytes()]);
        Self { key: *prf.key() }
    }

    /// Marks `values` in place. `tolerance` is the workload's relative tolerance; the format's
    /// one-ulp change must fit in it. Returns the number of marks.
    pub fn embed<T: Markable>(&self, values: &mut [T], tolerance: f64) -> Result<usize, ProofError> {
        if tolerance.is_nan() || T::MAX_RELATIVE_CHANGE > tolerance {
            return Err(ProofError::InvalidParams("the mark's one-ulp change exceeds the workload tolerance"));
        }
        check(values)?;
        Ok(self.walk(values.len(), |i, bit| values[i] = values[i].with_low_bit(bit)))
    }

    /// Checks the marks in `values`.
    pub fn verify<T: Markable>(&self, values: &[T]) -> Result<WatermarkCheck, ProofError> {
        check(values)?;
        let mut matching = 0;
        let marks = self.walk(values.len(), |i, bit| matching += usize::from(values[i].low_bit() == bit));
        Ok(WatermarkCheck { marks, matching })
    }

    /// Calls `mark(index, bit)` once per block; returns the number of blocks.
    fn walk(&self, len: usize, mut mark: impl FnMut(usize, bool)) -> usize {
        let block = block_size(len);
        let mut prf = Prf::new(b"gpufuel/watermark/bits", &[&self.key]);
        let mut start = 0;
        while start < len {
            let width = block.min(len - start);
            let byte = prf.next_u8();
            mark(start + usize::from(byte & 0x3f) % width, byte & 0x80 != 0);
            start += width;
        }
        len.div_ceil(block)
    }
}

/// Block size: the largest power of two `<= len / MIN_MARKS`, within `1..=MAX_BLOCK`.
fn block_size(len: usize) -> usize {
    let target = (len / MIN_MARKS).clamp(1, MAX_BLOCK);
    1 << target.ilog2()
}

fn check<T: Markable>(values: &[T]) -> Result<(), ProofError> {
    if values.is_empty() {
        return Err(ProofError::Empty { what: "watermarked output" });
    }
    match values.iter().position(|v| !v.finite()) {
        Some(index) => Err(ProofError::NonFinite { what: "watermarked output", index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wm(job: u8, node: u8, seed: u8) -> Watermark {
        Watermark::new(&[job; 32], &[node; 32], &[seed; 32])
    }

    #[test]
    fn block_sizes_keep_enough_marks() {
        assert_eq!(block_size(1), 1);
        assert_eq!(block_size(300), 1);
        assert_eq!(block_size(1024), 4);
        assert_eq!(block_size(1 << 20), 64);
    }

    #[test]
    fn bad_outputs_are_typed_errors() {
        let w = wm(1, 2, 3);
        assert_eq!(w.verify::<f32>(&[]), Err(ProofError::Empty { what: "watermarked output" }));
        assert_eq!(w.verify(&[1.0, f32::NAN]), Err(ProofError::NonFinite { what: "watermarked output", index: 1 }));
        assert!(matches!(w.embed(&mut [f32::INFINITY], 1e-3), Err(ProofError::NonFinite { index: 0, .. })));
        // bf16's one-ulp change (2^-7) does not fit a 1e-4 tolerance.
        assert!(matches!(w.embed(&mut [bf16::ONE], 1e-4), Err(ProofError::InvalidParams(_))));
    }

    proptest! {
        #[test]
        fn marks_round_trip_within_one_ulp(values in proptest::collection::vec(-1e6f32..1e6, 1..5000), key: u8) {
            let w = wm(key, 7, 9);
            let mut marked = values.clone();
            let marks = w.embed(&mut marked, 1e-6).unwrap();
            prop_assert!(marks >= values.len().min(MIN_MARKS));
            prop_assert!(w.verify(&marked).unwrap().passed());
            for (a, b) in values.iter().zip(&marked) {
                prop_assert!((a.to_bits() ^ b.to_bits()) <= 1);
                prop_assert!(((a - b).abs() as f64) <= a.abs() as f64 * f32::MAX_RELATIVE_CHANGE + 1e-44);
            }
        }

        #[test]
        fn foreign_copied_and_replayed_marks_fail(values in proptest::collection::vec(-1e3f32..1e3, 300..3000)) {
            let honest = wm(1, 2, 3);
            let mut out = values.clone();
            honest.embed(&mut out, 1e-6).unwrap();
            // Another node copies the output verbatim; an earlier job is replayed; a new seed.
            for other in [wm(1, 4, 3), wm(5, 2, 3), wm(1, 2, 8), honest.part(1)] {
                prop_assert!(!other.verify(&out).unwrap().passed());
            }
        }

        #[test]
        fn bf16_marks_round_trip(values in proptest::collection::vec(-100f32..100.0, 1..1000)) {
            let w = wm(3, 3, 3);
            let mut out: Vec<bf16> = values.iter().map(|&v| bf16::from_f32(v)).collect();
            w.embed(&mut out, 1e-2).unwrap();
            prop_assert!(w.verify(&out).unwrap().passed());
        }
    }
}
