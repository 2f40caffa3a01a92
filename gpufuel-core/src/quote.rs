//! Price quotes for submitters and bid prices for nodes.
//!
//! A quote answers "what will a job with these requirements cost, and how long until a node takes
//! it", from the current market: the class's reference price (see [`crate::pricing`]) and the
//! engine's open jobs and nodes. With
//!
//! - `E` the nodes that satisfy the requirements, `A ⊆ E` those with enough free GPUs now, their
//!   floors sorted `f_0 ≤ f_1 ≤ …`;
//! - `D` the open jobs of the class ranked ahead (for an urgent job: the urgent ones; otherwise all,
//!   a conservative count);
//! - `r'` = the reference price after one update that counts this job as open;
//!
//! the quote is
//!
//! ```text
//! price_low  = f_D                       if D < |A|   (the cheapest ask left after the jobs ahead)
//!              min floor over E          otherwise
//! price_high = max(price_low, r')
//! wait       = window                    if D < |A|   (an urgent job's window is the short one)
//!              window + ceil((D − |A| + 1) / |E|) · mean runtime of the jobs ahead   otherwise
//! ```
//!
//! Bounds: `min floor over E ≤ price_low ≤ price_high ≤ max(price_low, r + max(r / 8, 1))`, since
//! one reference-price update moves at most 12.5%; `wait ≥ window`.
//! Setting `max_price = price_high` makes the job acceptable to every node the low end counts on.

use crate::{
    BPS, GpuFuelError,
    matching::{MatchingEngine, OpenJob, Requirements},
    pricing::{bps_of, next_reference_price},
    settlement,
    state::{GpuClass, MarketParams},
};

/// Why no quote can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// No node of the GPU class satisfies the requirements.
    #[error("no node in GPU class {0} satisfies the requirements")]
    NoEligibleNode(u8),
    /// The GPU count or GPU-seconds is zero.
    #[error("the GPU count or GPU-seconds is zero")]
    ZeroSize,
}

/// What a submitter asks a quote for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteRequest {
    /// What the job needs from a node.
    pub requirements: Requirements,
    /// GPU-seconds billed.
    pub gpu_seconds: u32,
    /// Whether the job pays the urgent premium.
    pub urgent: bool,
}

/// Bidding windows of the market, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// A normal job's bidding window.
    pub bid_window_secs: u64,
    /// An urgent job's (shorter) bidding window.
    pub urgent_bid_window_secs: u64,
}

/// A quote; prices in base units per GPU-second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// The lowest price a node is expected to take the job at.
    pub price_low: u64,
    /// A price every node the low end counts on accepts: use it as `max_price`.
    pub price_high: u64,
    /// The class's reference price now.
    pub reference_price: u64,
    /// Seconds until a node is expected to take the job.
    pub expected_wait_secs: u64,
    /// Nodes that satisfy the requirements, and those with free GPUs now.
    pub eligible_nodes: usize,
    /// Eligible nodes with enough free GPUs now.
    pub available_nodes: usize,
    /// Open jobs ranked ahead.
    pub jobs_ahead: usize,
}

impl Quote {
    /// Escrow for the job at `max_price = price_high`, with the urgent premium if asked: the
    /// amount `CreateJob` will lock (same rule as the program, [`settlement::escrow`]).
    pub fn escrow(&self, gpu_seconds: u32, urgent: bool, params: &MarketParams) -> Result<u64, GpuFuelError> {
        settlement::escrow(self.price_high, gpu_seconds, urgent, params).map(|e| e.total)
    }
}

/// Quotes a job against the engine's market and the class account.
pub fn quote(
    engine: &MatchingEngine,
    class: &GpuClass,
    windows: Windows,
    req: &QuoteRequest,
) -> Result<Quote, QuoteError> {
    let r = &req.requirements;
    if r.gpu_count == 0 || req.gpu_seconds == 0 {
        return Err(QuoteError::ZeroSize);
    }
    let eligible: Vec<_> = engine.nodes_of(r.gpu_class).filter(|n| r.satisfied_by(&n.spec)).collect();
    let Some(cheapest) = eligible.iter().map(|n| n.spec.price_floor).min() else {
        return Err(QuoteError::NoEligibleNode(r.gpu_class));
    };
    let mut free: Vec<u64> =
        eligible.iter().filter(|n| n.free_gpus() >= r.gpu_count).map(|n| n.spec.price_floor).collect();
    free.sort_unstable();
    let ahead: Vec<&OpenJob> = engine.ranked_jobs(r.gpu_class).filter(|j| j.urgent || !req.urgent).collect();
    let next_ref =
        next_reference_price(class.ref_price, class.min_price, class.open_jobs.saturating_add(1), class.idle_nodes);
    let (d, a) = (ahead.len(), free.len());
    let price_low = if d < a { free[d] } else { cheapest };
    let price_high = price_low.max(next_ref);
    let window = if req.urgent { windows.urgent_bid_window_secs } else { windows.bid_window_secs };
    let expected_wait_secs = if d < a {
        window
    } else {
        let queued = (d - a + 1) as u64;
        let rounds = queued.div_ceil(eligible.len() as u64);
        // The mean runtime of the jobs ahead; with none ahead, this job's own.
        let mean = match d {
            0 => r.runtime_secs(req.gpu_seconds),
            _ => ahead.iter().map(|j| j.runtime_secs()).sum::<i64>() / d as i64,
        };
        window.saturating_add(rounds.saturating_mul((mean as u64).max(1)))
    };
    Ok(Quote {
        price_low,
        price_high,
        reference_price: class.ref_price,
        expected_wait_secs,
        eligible_nodes: eligible.len(),
        available_nodes: a,
        jobs_ahead: d,
    })
}

/// How a node agent prices its bids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingStrategy {
    /// Bid the node's floor: wins most, earns least.
    Floor,
    /// Bid the class reference price.
    Reference,
    /// Bid the reference price plus or minus some basis points.
    Relative {
        /// Basis points added to the reference price (negative: below it).
        bps: i32,
    },
}

/// A pricing strategy name that is none of those [`PricingStrategy`]'s `FromStr` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected 'floor', 'reference', or basis points relative to the reference (e.g. '-500')")]
pub struct PricingParseError;

/// `floor`, `reference`, or signed basis points relative to the reference (`-500`), as operators
/// write it on the command line and in the bindings.
impl core::str::FromStr for PricingStrategy {
    type Err = PricingParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "floor" => Ok(Self::Floor),
            "reference" => Ok(Self::Reference),
            bps => bps.parse().map(|bps| Self::Relative { bps }).map_err(|_| PricingParseError),
        }
    }
}

impl core::fmt::Display for PricingStrategy {
    /// What [`core::str::FromStr`] reads back: `floor`, `reference`, or the basis points.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Floor => f.write_str("floor"),
            Self::Reference => f.write_str("reference"),
            Self::Relative { bps } => write!(f, "{bps}"),
        }
    }
}

impl PricingStrategy {
    /// The bid for a job with `max_price`, or `None` when the node's floor is above it.
    /// Never under the floor nor over the job's max price.
    pub fn bid(&self, floor: u64, reference: u64, max_price: u64) -> Option<u64> {
        if floor > max_price {
            return None;
        }
        let wanted = match *self {
            Self::Floor => floor,
            Self::Reference => reference,
            Self::Relative { bps } => {
                let delta = bps_of(reference, u64::from(bps.unsigned_abs()).min(10 * BPS)).unwrap_or(u64::MAX);
                if bps >= 0 { reference.saturating_add(delta) } else { reference.saturating_sub(delta) }
            }
        };
        Some(wanted.clamp(floor, max_price))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{matching::NodeOffer, state::NodeSpec};

    fn class(ref_price: u64) -> GpuClass {
        GpuClass {
            kind: 0,
            bump: 0,
            class_id: 1,
            _pad: [0; 5],
            ref_price,
            min_price: 10,
            last_update_at: 0,
            fees: 0,
            open_jobs: 0,
            idle_nodes: 2,
            nodes: 2,
            _pad2: [0; 4],
        }
    }

    fn engine(floors: &[(u64, u8)], open: usize, urgent: bool) -> MatchingEngine {
        let mut e = MatchingEngine::new();
        for (i, &(floor, busy)) in floors.iter().enumerate() {
            let spec =
                NodeSpec { gpu_class: 1, gpu_count: 1, compute_capability: 90, vram_mib: 80_000, price_floor: floor };
            e.upsert_node(NodeOffer { key: [i as u8; 32], spec, busy_gpus: busy });
        }
        for i in 0..open {
            e.upsert_job(OpenJob {
                key: [100 + i as u8; 32],
                requirements: req(),
                max_price: 500,
                gpu_seconds: 120,
                deadline: 10_000,
                urgent,
            });
        }
        e
    }

    fn req() -> Requirements {
        Requirements { gpu_class: 1, gpu_count: 1, min_vram_mib: 40_000, min_compute_capability: 80 }
    }

    const W: Windows = Windows { bid_window_secs: 30, urgent_bid_window_secs: 5 };

    #[test]
    fn free_market_quotes_the_next_cheapest_ask() {
        let e = engine(&[(100, 0), (150, 0), (90, 1)], 1, false);
        let q =
            quote(&e, &class(200), W, &QuoteRequest { requirements: req(), gpu_seconds: 60, urgent: false }).unwrap();
        // One job ahead takes the 100 ask; the 90 node is busy.
        assert_eq!((q.price_low, q.available_nodes, q.jobs_ahead, q.expected_wait_secs), (150, 2, 1, 30));
        // Counting this job, 1 open job against 2 idle nodes: the reference steps down by a third
        // of 200 / 8.
        assert_eq!(q.price_high, 192);
        let params = MarketParams { urgent_premium_bps: 1_000, ..MarketParams::default() };
        assert_eq!(q.escrow(60, true, &params), Ok(192 * 60 + 192 * 6));
        // Urgent jobs skip the normal queue and wait only their short window.
        let q =
            quote(&e, &class(200), W, &QuoteRequest { requirements: req(), gpu_seconds: 60, urgent: true }).unwrap();
        assert_eq!((q.price_low, q.jobs_ahead, q.expected_wait_secs), (100, 0, 5));
    }

    #[test]
    fn a_full_market_quotes_a_queueing_wait() {
        let e = engine(&[(100, 1), (120, 1)], 3, false);
        let q =
            quote(&e, &class(200), W, &QuoteRequest { requirements: req(), gpu_seconds: 60, urgent: false }).unwrap();
        // Four jobs (3 ahead + this one) on 2 nodes of 120 s jobs: two rounds.
        assert_eq!((q.price_low, q.expected_wait_secs), (100, 30 + 2 * 120));
    }

    #[test]
    fn every_node_busy_and_nothing_ahead_waits_one_own_runtime() {
        let e = engine(&[(100, 1)], 0, false);
        let q =
            quote(&e, &class(200), W, &QuoteRequest { requirements: req(), gpu_seconds: 90, urgent: false }).unwrap();
        assert_eq!((q.price_low, q.available_nodes, q.jobs_ahead, q.expected_wait_secs), (100, 0, 0, 30 + 90));
    }

    #[test]
    fn impossible_requests_are_errors() {
        let e = engine(&[(100, 0)], 0, false);
        let mut r = QuoteRequest { requirements: req(), gpu_seconds: 60, urgent: false };
        r.requirements.min_vram_mib = 100_000;
        assert_eq!(quote(&e, &class(200), W, &r), Err(QuoteError::NoEligibleNode(1)));
        r.gpu_seconds = 0;
        assert_eq!(quote(&e, &class(200), W, &r), Err(QuoteError::ZeroSize));
    }

    #[test]
    fn bids_stay_between_floor_and_max() {
        assert_eq!(PricingStrategy::Floor.bid(50, 100, 80), Some(50));
        assert_eq!(PricingStrategy::Reference.bid(50, 100, 80), Some(80));
        assert_eq!(PricingStrategy::Relative { bps: -2_000 }.bid(50, 100, 90), Some(80));
        assert_eq!(PricingStrategy::Relative { bps: -9_000 }.bid(50, 100, 90), Some(50));
        assert_eq!(PricingStrategy::Relative { bps: i32::MAX }.bid(50, u64::MAX, u64::MAX), Some(u64::MAX));
        assert_eq!(PricingStrategy::Floor.bid(100, 100, 80), None);
    }
}
