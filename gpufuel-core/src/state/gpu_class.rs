use borsh::{BorshDeserialize, BorshSerialize};

use super::{AccountData, AccountKind, assert_size};
use crate::pricing;

/// A GPU class (for example 0 = CPU, 3 = H100), at PDA `["class", id]`. Its reference price
/// follows the demand nodes can serve against idle nodes; see [`pricing::next_reference_price`].
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
    /// Unix time of the last price step (at most one step per bidding window).
    pub last_update_at: i64,
    /// Protocol fees and missed-vote penalties collected on this class's jobs, held in the
    /// vault until the authority withdraws them.
    pub fees: u64,
    /// Open jobs of this class that a node bid on: demand a node can serve (dust and impossible
    /// jobs draw no bid and do not count).
    pub open_jobs: u32,
    /// Active nodes of this class with nothing in flight.
    pub idle_nodes: u32,
    /// Active nodes of this class.
    pub nodes: u32,
    /// Explicit padding (zero).
    pub _pad2: [u8; 4],
}
assert_size!(GpuClass, 56);

// SAFETY: repr(C), integers and byte arrays only, no implicit padding (asserted), kind first.
unsafe impl AccountData for GpuClass {
    const KIND: AccountKind = AccountKind::GpuClass;
}

impl GpuClass {
    /// Applies one price step at unix time `now` if none was applied in the last `window`
    /// seconds: however many jobs arrive, the price moves at most one step per window.
    pub fn update_price(&mut self, now: i64, window: u64) {
        if now.saturating_sub(self.last_update_at).max(0) as u64 >= window {
            self.ref_price =
                pricing::next_reference_price(self.ref_price, self.min_price, self.open_jobs, self.idle_nodes);
            self.last_update_at = now;
        }
    }
}
