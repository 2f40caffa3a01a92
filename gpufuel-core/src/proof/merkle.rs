//! Binary Merkle trees over chunks of output and checkpoints.
//!
//! Hash: SHA-256, domain-separated by a final tag byte (`leaf = H(data || 0x00)`,
//! `node = H(left || right || 0x01)`): the last byte of every hash input says which it is, so an
//! inner node can never pass for a leaf. The tag goes last (RFC 6962 puts it first) so chunk data
//! reaches the hasher 64-byte aligned instead of being copied block by block. SHA-256 because
//! (1) Solana verifies it natively (`sol_sha256`: 85 CU + 1 CU per 2 bytes), so a proof of depth
//! `d` costs about `d * 117` CU on chain; (2) x86 SHA-NI and ARMv8 crypto make it 1.4-2 GB/s per core,
//! so committing is bound by the hash, not the tree; (3) IPFS CIDs are SHA-256 already. BLAKE3 is
//! faster on CPUs but its Solana syscall is not enabled on mainnet.
//!
//! Shape: leaves are paired level by level; an odd last node moves up unchanged. A proof of leaf
//! `i` of `n` therefore has exactly as many siblings as `(i, n)` dictates, which lets the
//! verifier reject a truncated or padded proof before hashing.

use borsh::{BorshDeserialize, BorshSerialize};

use super::{Hash, ProofError};
use sha2::{Digest, Sha256};

/// Chunk size of output commitments: a challenged chunk is small to fetch, and the per-chunk
/// hashing overhead (one extra block per chunk, one inner node per two) stays under 0.2%.
pub const DEFAULT_CHUNK: usize = 64 * 1024;

const LEAF: u8 = 0;
const NODE: u8 = 1;

/// Hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(data);
    h.update([LEAF]);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    h.update([NODE]);
    h.finalize().into()
}

/// A Merkle tree with every level kept, so any leaf can be proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes, the last level is the root alone.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// A tree over the given leaves (at least one, at most `u32::MAX`).
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, ProofError> {
        Self::from_leaf_hashes(leaves.into_iter().map(leaf_hash).collect())
    }

    /// A tree over `data` cut into `chunk_size`-byte chunks (the last may be shorter).
    pub fn from_chunks(data: &[u8], chunk_size: usize) -> Result<Self, ProofError> {
        if chunk_size == 0 {
            return Err(ProofError::InvalidSize("chunk size is zero"));
        }
        Self::from_leaves(data.chunks(chunk_size))
    }

    /// A tree over already hashed leaves.
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Result<Self, ProofError> {
        if leaves.is_empty() {
            return Err(ProofError::Empty { what: "Merkle tree" });
        }
        if u32::try_from(leaves.len()).is_err() {
            return Err(ProofError::InvalidSize("more than u32::MAX leaves"));
        }
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("non-empty");
            let up = below
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [only] => *only,
                    _ => unreachable!("chunks(2)"),
                })
                .collect();
            levels.push(up);
        }
        Ok(Self { levels })
    }

    /// The root: the commitment posted on chain.
    pub fn root(&self) -> Hash {
        self.levels.last().expect("at least one level")[0]
    }

    /// Number of leaves.
    pub fn leaves(&self) -> u32 {
        self.levels[0].len() as u32
    }

    /// The proof that leaf `index` is in the tree.
    pub fn prove(&self, index: u32) -> Result<MerkleProof, ProofError> {
        let leaves = self.leaves();
        if index >= leaves {
            return Err(ProofError::LeafOutOfRange { index, leaves });
        }
        let mut i = index as usize;
        let mut siblings = vec![];
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(s) = level.get(i ^ 1) {
                siblings.push(*s);
            }
            i >>= 1;
        }
        Ok(MerkleProof { index, leaves, siblings })
    }
}

/// Proof that a leaf is at `index` in a tree of `leaves` leaves.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MerkleProof {
    /// The leaf's position.
    pub index: u32,
    /// Leaves in the tree.
    pub leaves: u32,
    /// Sibling hashes from the leaf level up.
    pub siblings: Vec<Hash>,
}

impl MerkleProof {
    /// Checks that `data` is leaf `index` under `root`.
    pub fn verify(&self, root: &Hash, data: &[u8]) -> Result<(), ProofError> {
        self.verify_hash(root, leaf_hash(data))
    }

    /// Checks that the leaf with this hash is leaf `index` under `root`.
    pub fn verify_hash(&self, root: &Hash, leaf: Hash) -> Result<(), ProofError> {
        let (index, leaves) = (self.index, self.leaves);
        if index >= leaves {
            return Err(ProofError::LeafOutOfRange { index, leaves });
        }
        let expected = expected_siblings(index, leaves);
        if self.siblings.len() != expected {
            return Err(ProofError::ProofLength { index, leaves, expected, got: self.siblings.len() });
        }
        let (mut i, mut width, mut hash) = (index, leaves, leaf);
        let mut siblings = self.siblings.iter();
        while width > 1 {
            if i ^ 1 < width {
                let s = siblings.next().expect("length checked");
                hash = if i & 1 == 0 { node_hash(&hash, s) } else { node_hash(s, &hash) };
            }
            i >>= 1;
            width = width.div_ceil(2);
        }
        if &hash == root { Ok(()) } else { Err(ProofError::RootMismatch) }
    }
}

/// Siblings on the path of leaf `index` of `leaves`: one per level where the node has a partner.
fn expected_siblings(mut index: u32, mut leaves: u32) -> usize {
    let mut n = 0;
    while leaves > 1 {
        n += usize::from(index ^ 1 < leaves);
        index >>= 1;
        leaves = leaves.div_ceil(2);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_leaf_root_is_its_hash() {
        let t = MerkleTree::from_leaves([&b"x"[..]]).unwrap();
        assert_eq!(t.root(), leaf_hash(b"x"));
        assert!(t.prove(0).unwrap().siblings.is_empty());
    }

    #[test]
    fn empty_and_zero_sizes_are_errors() {
        assert_eq!(MerkleTree::from_chunks(b"", 4), Err(ProofError::Empty { what: "Merkle tree" }));
        assert!(matches!(MerkleTree::from_chunks(b"abc", 0), Err(ProofError::InvalidSize(_))));
        let t = MerkleTree::from_chunks(b"abcdef", 2).unwrap();
        assert!(matches!(t.prove(3), Err(ProofError::LeafOutOfRange { index: 3, leaves: 3 })));
    }

    #[test]
    fn leaf_and_node_domains_differ() {
        // A two-leaf tree's root must not verify as a leaf made of the two child hashes.
        let t = MerkleTree::from_leaves([&b"a"[..], b"b"]).unwrap();
        let mut inner = leaf_hash(b"a").to_vec();
        inner.extend(leaf_hash(b"b"));
        assert_ne!(leaf_hash(&inner), t.root());
    }

    proptest! {
        #[test]
        fn every_leaf_round_trips(data in proptest::collection::vec(any::<u8>(), 1..2000), chunk in 1usize..64) {
            let t = MerkleTree::from_chunks(&data, chunk).unwrap();
            let root = t.root();
            for (i, c) in data.chunks(chunk).enumerate() {
                let p = t.prove(i as u32).unwrap();
                prop_assert_eq!(p.verify(&root, c), Ok(()));
                let bytes = borsh::to_vec(&p).unwrap();
                prop_assert_eq!(MerkleProof::try_from_slice(&bytes).unwrap(), p);
            }
        }

        #[test]
        fn tampered_proofs_are_rejected(leaves in 2u32..300, pick: u32, flip: u8) {
            let data: Vec<Vec<u8>> = (0..leaves).map(|i| i.to_le_bytes().to_vec()).collect();
            let t = MerkleTree::from_leaves(data.iter().map(Vec::as_slice)).unwrap();
            let root = t.root();
            let i = pick % leaves;
            let p = t.prove(i).unwrap();
            // Wrong data.
            prop_assert_eq!(p.verify(&root, b"forged"), Err(ProofError::RootMismatch));
            // Truncated and padded.
            let mut short = p.clone();
            short.siblings.pop();
            prop_assert!(matches!(short.verify(&root, &data[i as usize]), Err(ProofError::ProofLength { .. })), "length");
            let mut long = p.clone();
            long.siblings.push([0; 32]);
            prop_assert!(matches!(long.verify(&root, &data[i as usize]), Err(ProofError::ProofLength { .. })), "length");
            // Reordered siblings (when they differ) and a flipped bit.
            if p.siblings.len() >= 2 && p.siblings[0] != p.siblings[1] {
                let mut swapped = p.clone();
                swapped.siblings.swap(0, 1);
                prop_assert_eq!(swapped.verify(&root, &data[i as usize]), Err(ProofError::RootMismatch));
            }
            let mut bent = p.clone();
            bent.siblings[0][usize::from(flip) % 32] ^= 1;
            prop_assert_eq!(bent.verify(&root, &data[i as usize]), Err(ProofError::RootMismatch));
            // Another index claimed for the same leaf.
            let mut moved = p.clone();
            moved.index = (i + 1) % leaves;
            prop_assert!(moved.verify(&root, &data[i as usize]).is_err());
            // An index beyond the tree.
            let mut outside = p;
            outside.index = leaves;
            prop_assert!(matches!(outside.verify(&root, &data[i as usize]), Err(ProofError::LeafOutOfRange { .. })), "range");
        }
    }
}
