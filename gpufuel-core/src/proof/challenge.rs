//! Challenges for checkpointed (iterative) work.
//!
//! A node runs `S` segments (each `k` steps between two checkpoints), commits every checkpoint in
//! its Merkle root, and only then learns the challenge: [`challenge_seed`] mixes a slot hash from
//! after the submission (the program records `submitted_slot`) with the job and the commitment. The
//! validator re-executes the selected segments from the committed checkpoint before each and
//! [`compare`]s its result with the committed checkpoint after it.
//!
//! Detection: a node that fakes `f` of `S` segments (skips them, or computes only part of their
//! steps) escapes `s` distinct samples with probability
//! `C(S − f, s) / C(S, s) ≤ (1 − f/S)^s` ([`escape_probability`]). The verifier's cost is `s / S`
//! of the job plus fetching `2s` checkpoints and their proofs.

use super::{Hash, Prf, ProofError, check_finite};

/// Default segments re-executed per job: a node faking half its segments escapes with
/// probability at most `2^-16`; with 512 segments the validator redoes 3% of the work.
pub const DEFAULT_SAMPLES: u32 = 16;

/// The seed of a job's challenges: fixed only once the commitment is on chain and a later slot
/// hash exists.
pub fn challenge_seed(slot_hash: &Hash, job: &[u8; 32], commitment: &Hash) -> Hash {
    *Prf::new(b"gpufuel/challenge/v1", &[slot_hash, job, commitment]).key()
}

/// `samples` distinct segment indices in `0..segments`, ascending (all of them when
/// `samples >= segments`). Floyd's algorithm: uniform, no retries.
pub fn select_segments(seed: &Hash, segments: u32, samples: u32) -> Result<Vec<u32>, ProofError> {
    if segments == 0 {
        return Err(ProofError::Empty { what: "segment list" });
    }
    if samples == 0 {
        return Err(ProofError::InvalidParams("at least one sample"));
    }
    let s = samples.min(segments);
    let mut prf = Prf::new(b"gpufuel/challenge/segments", &[seed]);
    let mut chosen = std::collections::BTreeSet::new();
    for j in segments - s..segments {
        let t = prf.below(u64::from(j) + 1) as u32;
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    Ok(chosen.into_iter().collect())
}

/// Probability that `samples` distinct draws from `segments` miss all `faked` ones.
pub fn escape_probability(segments: u32, faked: u32, samples: u32) -> f64 {
    let s = samples.min(segments);
    (0..s).fold(1.0, |p, i| p * f64::from(segments.saturating_sub(faked).saturating_sub(i)) / f64::from(segments - i))
}

/// Probability that a result with `faked` of `units` chunks or segments faked passes a committee
/// of `members`, each drawing `samples` distinct units under its own seed (independent draws).
pub fn committee_escape_probability(units: u32, faked: u32, samples: u32, members: u32) -> f64 {
    escape_probability(units, faked, samples).powi(members as i32)
}

/// How far a recomputed value may be from the committed one: `|a − b| ≤ abs + rel·|a|`.
#[derive(Debug, Clone, Copy, PartialEq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Tolerance {
    /// Relative part.
    pub rel: f32,
    /// Absolute part.
    pub abs: f32,
}

impl Default for Tolerance {
    /// Loose enough for different summation orders over one segment and the watermark's ulp,
    /// tight against a skipped step.
    fn default() -> Self {
        Self { rel: 1e-4, abs: 1e-6 }
    }
}

/// The outcome of comparing a recomputed checkpoint with the committed one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Values outside the tolerance.
    pub mismatches: usize,
    /// Largest `|a − b| / (abs + rel·|a|)`.
    pub worst: f64,
}

impl Comparison {
    /// Whether every value is within tolerance.
    pub fn passed(&self) -> bool {
        self.mismatches == 0
    }
}

/// Compares the validator's `recomputed` values with the node's `committed` ones.
pub fn compare(recomputed: &[f32], committed: &[f32], tol: Tolerance) -> Result<Comparison, ProofError> {
    if !(tol.rel >= 0.0 && tol.abs >= 0.0 && tol.rel + tol.abs > 0.0) {
        return Err(ProofError::InvalidParams("tolerance must be non-negative and not zero"));
    }
    if recomputed.is_empty() {
        return Err(ProofError::Empty { what: "checkpoint" });
    }
    if recomputed.len() != committed.len() {
        return Err(ProofError::ShapeMismatch { what: "checkpoint", expected: recomputed.len(), got: committed.len() });
    }
    check_finite("recomputed checkpoint", recomputed)?;
    check_finite("checkpoint", committed)?;
    let mut out = Comparison { mismatches: 0, worst: 0.0 };
    for (a, b) in recomputed.iter().zip(committed) {
        let ratio = f64::from((a - b).abs()) / f64::from(tol.abs + tol.rel * a.abs());
        out.mismatches += usize::from(ratio > 1.0);
        out.worst = out.worst.max(ratio);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_probability_matches_the_formula() {
        assert_eq!(escape_probability(10, 0, 3), 1.0);
        assert_eq!(escape_probability(10, 10, 1), 0.0);
        assert!((escape_probability(10, 5, 2) - 5.0 / 10.0 * 4.0 / 9.0).abs() < 1e-12);
        assert!(escape_probability(512, 256, DEFAULT_SAMPLES) < 2f64.powi(-16));
        // Three members, each 16 of 512 chunks: a node faking 10% escapes below 1%.
        let p = committee_escape_probability(512, 51, DEFAULT_SAMPLES, 3);
        assert!(p < 0.01 && (p - escape_probability(512, 51, DEFAULT_SAMPLES).powi(3)).abs() < 1e-15, "{p}");
    }

    #[test]
    fn selection_is_roughly_uniform() {
        let mut hits = [0u32; 10];
        for i in 0..2000u32 {
            for s in select_segments(&crate::proof::sha256(&[&i.to_le_bytes()]), 10, 3).unwrap() {
                hits[s as usize] += 1;
            }
        }
        // 600 expected per index; a 5-sigma band is about ±110.
        assert!(hits.iter().all(|&h| (490..=710).contains(&h)), "{hits:?}");
    }

    #[test]
    fn bad_comparisons_are_typed_errors() {
        let t = Tolerance::default();
        assert!(matches!(compare(&[1.0], &[1.0, 2.0], t), Err(ProofError::ShapeMismatch { .. })));
        assert!(matches!(compare(&[], &[], t), Err(ProofError::Empty { .. })));
        assert!(matches!(compare(&[1.0], &[f32::NAN], t), Err(ProofError::NonFinite { what: "checkpoint", index: 0 })));
        assert!(matches!(compare(&[1.0], &[1.0], Tolerance { rel: 0.0, abs: 0.0 }), Err(ProofError::InvalidParams(_))));
        assert!(compare(&[1.0, 2.0], &[1.00001, 2.0], t).unwrap().passed());
        assert_eq!(compare(&[1.0, 2.0], &[1.01, 2.0], t).unwrap().mismatches, 1);
    }

    proptest! {
        #[test]
        fn selections_are_distinct_sorted_and_in_range(seed: [u8; 32], segments in 1u32..5000, samples in 1u32..100) {
            let s = select_segments(&seed, segments, samples).unwrap();
            prop_assert_eq!(s.len() as u32, samples.min(segments));
            prop_assert!(s.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(s.iter().all(|&i| i < segments));
        }
    }
}
