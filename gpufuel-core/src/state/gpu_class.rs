use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, assert_size};
use crate::pricing;

/// A GPU class (for example 0 = consumer 24 GB, 1 = A100, 2 = H100), at PDA `["class", id]`.
/// Its reference price follows open jobs against idle nodes; see [`pricing::next_reference_price`].
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[repr(C)]
pub struct GpuClass {
    /// [`AccountKind::GpuClass`].
    pub kind: u8,
    /// Canonical bump of the class PDA.
    pub bump: u8,
    /// The class id (part of the PDA seeds).
    pub class_id: u8,
    /// Explicit padding (zero).
    pub _pad: [u8; 5],
    /// Current reference price, base units per GPU-second.
    pub ref_price: u64,
    /// The reference price never goes below this.
    pub min_price: u64,
    /// Slot of the last price step (at most one step per slot).
    pub last_update_slot: u64,
    /// Jobs of this class waiting for assignment.
    pub open_jobs: u32,
    /// Active nodes of this class with no assigned job.
    pub idle_nodes: u32,
    /// Active nodes of this class.
    pub nodes: u32,
    /// Explicit padding (zero).
    pub _pad2: [u8; 4],
}
assert_size!(GpuClass, 48);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for GpuClass {
    const KIND: AccountKind = AccountKind::GpuClass;
}

impl GpuClass {
    /// Applies one price step for `slot` if none was applied in it yet.
    pub fn update_price(&mut self, slot: u64) {
        if slot > self.last_update_slot {
            self.ref_price =
                pricing::next_reference_price(self.ref_price, self.min_price, self.open_jobs, self.idle_nodes);
            self.last_update_slot = slot;
        }
    }
}
