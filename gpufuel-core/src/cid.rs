//! Binary CIDs as stored on-chain: CIDv0 (`0x12 0x20 <digest>`) or CIDv1 with a one-byte codec
//! varint and a sha2-256 multihash (`0x01 <codec> 0x12 0x20 <digest>`), which is what Kubo
//! produces with its default hash. Text forms are the client's business.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::GpuFuelError;

/// Longest stored CID: CIDv1 with a sha2-256 digest.
pub const MAX_CID_LEN: usize = 36;

/// A binary CID in a fixed slot: its length, then its bytes, zero-padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct Cid {
    /// Length of the CID in `bytes` (34 or 36; 0 for none).
    pub len: u8,
    /// The CID's bytes, zero-padded.
    pub bytes: [u8; MAX_CID_LEN],
}

impl Default for Cid {
    fn default() -> Self {
        Self { len: 0, bytes: [0; MAX_CID_LEN] }
    }
}

impl Cid {
    /// Wraps and validates binary CID bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, GpuFuelError> {
        if bytes.len() > MAX_CID_LEN {
            return Err(GpuFuelError::InvalidCid);
        }
        let mut cid = Self { len: bytes.len() as u8, ..Self::default() };
        cid.bytes[..bytes.len()].copy_from_slice(bytes);
        cid.validate()?;
        Ok(cid)
    }

    /// The CID's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..(self.len as usize).min(MAX_CID_LEN)]
    }

    /// Checks the structure: a CIDv0, or a CIDv1 with a one-byte codec, both with a 32-byte
    /// sha2-256 multihash, and zero padding.
    pub fn validate(&self) -> Result<(), GpuFuelError> {
        let len = self.len as usize;
        let ok = match len {
            34 => self.bytes[0] == 0x12 && self.bytes[1] == 0x20,
            36 => self.bytes[0] == 0x01 && self.bytes[1] < 0x80 && self.bytes[2] == 0x12 && self.bytes[3] == 0x20,
            _ => false,
        };
        if ok && self.bytes[len..].iter().all(|&b| b == 0) { Ok(()) } else { Err(GpuFuelError::InvalidCid) }
    }
}
