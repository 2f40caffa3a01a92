//! `matching`: time to match 1k, 10k, 100k and 1M open jobs against 10k nodes on one core.

use std::time::Instant;

use gpufuel_core::{
    matching::{MatchingEngine, NodeOffer, OpenJob, Requirements},
    state::NodeSpec,
};
use rand::{Rng as _, SeedableRng, rngs::SmallRng};
use serde_json::json;

const NODES: usize = 10_000;
const NOW: i64 = 1_000_000;

/// Reproducible markets.
struct Rng(SmallRng);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0.random()
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.0.random_range(0..xs.len())]
    }
    fn key(&mut self) -> [u8; 32] {
        self.0.random()
    }
}

/// 10k nodes over 3 classes with realistic GPU models, counts and load. Some floors are above
/// every max price, so capacity never runs out and every job is examined (the worst case).
fn nodes(rng: &mut Rng) -> Vec<NodeOffer> {
    (0..NODES)
        .map(|_| {
            let (vram_mib, compute_capability) =
                rng.pick(&[(24_576, 89), (40_960, 80), (81_920, 80), (81_920, 90), (144_384, 90)]);
            let gpu_count = rng.pick(&[1u8, 1, 2, 4, 8]);
            let spec = NodeSpec {
                gpu_class: rng.pick(&[1u8, 2, 3]),
                gpu_count,
                compute_capability,
                vram_mib,
                price_floor: 50 + rng.next() % 1_450,
            };
            NodeOffer { key: rng.key(), spec, busy_gpus: (rng.next() % (u64::from(gpu_count) / 2 + 1)) as u8 }
        })
        .collect()
}

fn job(rng: &mut Rng) -> OpenJob {
    let requirements = Requirements {
        gpu_class: rng.pick(&[1u8, 2, 3]),
        gpu_count: rng.pick(&[1u8, 1, 1, 2, 4]),
        min_vram_mib: rng.pick(&[0u32, 16_384, 40_960, 81_920]),
        min_compute_capability: rng.pick(&[0u8, 80, 90]),
    };
    let gpu_seconds = 60 + (rng.next() % 3_600) as u32;
    OpenJob {
        key: rng.key(),
        requirements,
        max_price: 50 + rng.next() % 950,
        gpu_seconds,
        deadline: NOW + 600 + (rng.next() % 86_400) as i64,
        urgent: rng.next().is_multiple_of(10),
    }
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng(SmallRng::seed_from_u64(42));
    let nodes = nodes(&mut rng);
    println!(
        "{:>9} {:>7} {:>10} {:>10} {:>9} {:>14} {:>12}",
        "jobs", "nodes", "index s", "match s", "matched", "match growth", "n log n is"
    );
    let mut points = vec![];
    let mut last: Option<(usize, f64)> = None;
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let jobs: Vec<OpenJob> = (0..n).map(|_| job(&mut rng)).collect();
        let t = Instant::now();
        let mut engine = MatchingEngine::new();
        for node in &nodes {
            engine.upsert_node(*node);
        }
        engine.extend_jobs(jobs);
        let load = t.elapsed().as_secs_f64();
        // Best of three: the figure is the engine, not a page fault or a scheduler hiccup.
        let mut seconds = f64::MAX;
        let mut matched = 0;
        for _ in 0..3 {
            let t = Instant::now();
            matched = engine.match_all(NOW).len();
            seconds = seconds.min(t.elapsed().as_secs_f64());
        }
        // Exponent b in time ∝ n^b between consecutive points, next to n log n's own.
        let exponent = |m: usize, a: f64, b: f64| (b / a).ln() / (n as f64 / m as f64).ln();
        let nlogn = |x: usize| x as f64 * (x as f64).ln();
        let growth = last.map(|(m, s)| (exponent(m, s, seconds), exponent(m, nlogn(m), nlogn(n))));
        let fmt = |g: Option<f64>| g.map_or("-".into(), |g| format!("n^{g:.2}"));
        println!(
            "{n:>9} {NODES:>7} {load:>10.4} {seconds:>10.4} {matched:>9} {:>14} {:>12}",
            fmt(growth.map(|g| g.0)),
            fmt(growth.map(|g| g.1))
        );
        points
            .push(json!({ "jobs": n, "nodes": NODES, "seconds": seconds, "index_seconds": load, "matched": matched }));
        last = Some((n, seconds));
    }
    let at_100k = points[2]["seconds"].as_f64().unwrap_or(f64::MAX);
    println!("100k x 10k: {at_100k:.4} s (target <= 1 s: {})", if at_100k <= 1.0 { "met" } else { "MISSED" });
    super::write_json("matching", &json!({ "points": points }))
}
