//! Proof of execution: how a node shows it did the work and a validator checks it cheaply.
//!
//! | scheme | catches | verifier cost | false accept |
//! |---|---|---|---|
//! | [`merkle`] commitment | outputs or checkpoints changed after submission | `O(log n)` hashes per opened leaf | SHA-256 collision |
//! | [`watermark`] | copied, replayed or foreign-keyed outputs | one pass over the output, no float ops | `2^-marks` |
//! | [`freivalds`] | wrong matrix products beyond rounding | `O(k n²)` against `O(n³)` | `2^-k` |
//! | [`challenge`] segments | skipped or faked steps of iterative work | `samples / segments` of the job | `(1 - f)^samples` for a fraction `f` faked |
//! | [`challenge`] chunks (ONNX) | faked or skipped chunks of batched inference | `samples / chunks` of the job per member | `C(C−f,s)/C(C,s)` per member, to the power `members` ([`challenge::committee_escape_probability`]) |
//!
//! Every random choice derives from [`Prf`]: SHA-256 in counter mode under a key built from public,
//! on-chain values, so node and validators derive the same marks and challenges, and the node
//! cannot know a challenge before its commitment is on chain. The benchmark harness
//! (`gpufuel-bench -- proofs`) measures the schemes against simulated dishonest nodes.

pub mod challenge;
pub mod freivalds;
pub mod merkle;
pub mod watermark;

use sha2::{Digest, Sha256};

/// Why a proof could not be built or checked. Errors about the node's output (non-finite values,
/// wrong shape, a proof that does not lead to the committed root) mean the result is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// An input that must have elements has none.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: &'static str,
    },
    /// An input holds NaN or an infinity.
    #[error("{what} has a non-finite value (NaN or infinity) at index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Where the first one is.
        index: usize,
    },
    /// An input has the wrong number of elements.
    #[error("{what} has {got} elements, expected {expected}")]
    ShapeMismatch {
        /// Which input.
        what: &'static str,
        /// Elements its shape needs.
        expected: usize,
        /// Elements it has.
        got: usize,
    },
    /// A size is zero or beyond the limits.
    #[error("invalid size: {0}")]
    InvalidSize(&'static str),
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParams(&'static str),
    /// A Merkle proof has too few or too many sibling hashes for its leaf.
    #[error("Merkle proof has {got} sibling hashes, expected {expected} for leaf {index} of {leaves}")]
    ProofLength {
        /// The leaf proved.
        index: u32,
        /// Leaves in the tree.
        leaves: u32,
        /// Siblings the path needs.
        expected: usize,
        /// Siblings given.
        got: usize,
    },
    /// A leaf index beyond the tree.
    #[error("leaf {index} is out of range for a tree of {leaves} leaves")]
    LeafOutOfRange {
        /// The leaf asked for.
        index: u32,
        /// Leaves in the tree.
        leaves: u32,
    },
    /// The Merkle proof does not lead to the committed root.
    #[error("the Merkle proof does not lead to the committed root")]
    RootMismatch,
    /// Values too large for the check's `f32` error bound.
    #[error("{what} is too large to check within f32 range")]
    OutOfRange {
        /// Which input.
        what: &'static str,
    },
}

/// A 32-byte SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// A keyed pseudo-random stream: block `i` is `SHA-256(key || i)`. Deterministic, so the node
/// and every validator derive the same stream from the same on-chain values.
#[derive(Debug, Clone)]
pub struct Prf {
    key: Hash,
    counter: u64,
    block: Hash,
    used: usize,
}

impl Prf {
    /// A stream keyed by a domain label and public inputs.
    pub fn new(domain: &[u8], inputs: &[&[u8]]) -> Self {
        let mut parts: Vec<&[u8]> = vec![domain];
        parts.extend_from_slice(inputs);
        Self { key: sha256(&parts), counter: 0, block: [0; 32], used: 32 }
    }

    /// The key the stream was derived into.
    pub fn key(&self) -> &Hash {
        &self.key
    }

    /// The next byte.
    pub fn next_u8(&mut self) -> u8 {
        if self.used == 32 {
            self.block = sha256(&[&self.key, &self.counter.to_le_bytes()]);
            self.counter += 1;
            self.used = 0;
        }
        self.used += 1;
        self.block[self.used - 1]
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(core::array::from_fn(|_| self.next_u8()))
    }

    /// A uniform integer in `0..bound` (rejection sampling, no modulo bias). `bound` must be > 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % bound;
            }
        }
    }
}

/// Checks that every value is finite.
pub(crate) fn check_finite(what: &'static str, values: &[f32]) -> Result<(), ProofError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ProofError::NonFinite { what, index }),
        None => Ok(()),
    }
}
