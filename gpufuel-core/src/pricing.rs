//! The reference-price rule and basis-point arithmetic, shared by the program and the clients.
//!
//! Each GPU class keeps a reference price that moves like a base fee. At most once per slot:
//!
//! ```text
//! step  = max(price / 8, 1) * |open - idle| / (open + idle)      (0 when both are 0)
//! price = price + step   if open jobs outnumber idle nodes
//!         max(price - step, min_price)   otherwise
//! ```
//!
//! so one update moves the price by at most 12.5% (or 1 base unit for prices below 8), reaching
//! the bound only when one side is empty. Repeated pressure compounds: `k` slots of pure demand
//! multiply the price by at most `1.125^k`.

use crate::BPS;

/// `a * b`, or `None` on overflow. `u64::checked_mul` (and any multiply-then-divide check, which
/// LLVM folds back into it) lowers to a 128-bit multiply on SBF that the stock LLVM BPF backend
/// cannot emit; 32-bit halves keep every product within 64 bits.
#[inline]
pub fn mul(a: u64, b: u64) -> Option<u64> {
    const LOW: u64 = u32::MAX as u64;
    let (a_hi, a_lo, b_hi, b_lo) = (a >> 32, a & LOW, b >> 32, b & LOW);
    if a_hi != 0 && b_hi != 0 {
        return None;
    }
    // At most one cross term is non-zero; each 32x32-bit product fits in 64 bits.
    let cross = a_hi.wrapping_mul(b_lo) | a_lo.wrapping_mul(b_hi);
    if cross > LOW {
        return None;
    }
    a_lo.wrapping_mul(b_lo).checked_add(cross << 32)
}

/// `amount * bps / 10_000`, rounded down, without a 128-bit intermediate.
/// `None` on overflow (only possible when `bps > 10_000`).
pub fn bps_of(amount: u64, bps: u64) -> Option<u64> {
    let whole = mul(amount / BPS, bps)?;
    let part = mul(amount % BPS, bps)? / BPS;
    whole.checked_add(part)
}

/// The next reference price of a GPU class; see the module documentation.
pub fn next_reference_price(price: u64, min_price: u64, open_jobs: u32, idle_nodes: u32) -> u64 {
    let (open, idle) = (open_jobs as u64, idle_nodes as u64);
    let total = open + idle;
    if total == 0 || open == idle {
        return price.max(min_price);
    }
    let max_step = (price / 8).max(1);
    let pressure_bps = open.abs_diff(idle).wrapping_mul(BPS) / total; // <= 2^33 * 10^4: fits
    let step = bps_of(max_step, pressure_bps).unwrap_or(max_step).max(1);
    if open > idle { price.saturating_add(step) } else { price.saturating_sub(step).max(min_price) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mul_detects_overflow() {
        assert_eq!(mul(0, u64::MAX), Some(0));
        assert_eq!(mul(u64::MAX, 1), Some(u64::MAX));
        assert_eq!(mul(1 << 32, 1 << 32), None);
        assert_eq!(mul(3, 5), Some(15));
        assert_eq!(mul(u32::MAX as u64 + 1, u32::MAX as u64), Some((u32::MAX as u64) << 32));
    }

    #[test]
    fn bps_of_rounds_down_and_is_exact_for_whole_units() {
        assert_eq!(bps_of(10_000, 250), Some(250));
        assert_eq!(bps_of(9_999, 1), Some(0));
        assert_eq!(bps_of(u64::MAX, 10_000), Some(u64::MAX));
        assert_eq!(bps_of(u64::MAX, 20_000), None);
    }

    #[test]
    fn price_moves_towards_demand_and_respects_the_floor() {
        assert_eq!(next_reference_price(800, 1, 10, 0), 900);
        assert_eq!(next_reference_price(800, 1, 0, 10), 700);
        assert_eq!(next_reference_price(800, 750, 0, 10), 750);
        assert_eq!(next_reference_price(800, 1, 5, 5), 800);
        assert_eq!(next_reference_price(800, 1, 3, 1), 850);
        assert_eq!(next_reference_price(3, 1, 1, 0), 4);
    }

    proptest! {
        #[test]
        fn mul_matches_checked_mul(a: u64, b: u64) {
            prop_assert_eq!(mul(a, b), a.checked_mul(b));
        }

        #[test]
        fn bps_of_matches_wide_arithmetic(amount: u64, bps in 0u64..=10_000) {
            prop_assert_eq!(bps_of(amount, bps), Some((amount as u128 * bps as u128 / 10_000) as u64));
        }

        #[test]
        fn one_step_is_bounded(price in 1u64..u64::MAX / 2, min in 0u64..1000, open: u32, idle: u32) {
            let next = next_reference_price(price, min, open, idle);
            let bound = (price / 8).max(1);
            prop_assert!(next <= price + bound);
            prop_assert!(next >= price.saturating_sub(bound).max(min) || next == min.max(price));
            prop_assert!(next >= min);
        }
    }
}
