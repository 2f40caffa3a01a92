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

/// `amount * bps / 10_000`, rounded down, without a 128-bit multiply (the SBF backend has none).
/// `None` on overflow (only possible when `bps > 10_000`).
pub fn bps_of(amount: u64, bps: u64) -> Option<u64> {
    let whole = (amount / BPS).checked_mul(bps)?;
    let part = (amount % BPS) * bps / BPS; // (< 10^4) * bps: fits for any bps < 1.8e15
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
    let pressure_bps = open.abs_diff(idle) * BPS / total; // <= 2^33 * 10^4: fits
    let step = bps_of(max_step, pressure_bps).unwrap_or(max_step).max(1);
    if open > idle {
        price.saturating_add(step)
    } else {
        price.saturating_sub(step).max(min_price)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
