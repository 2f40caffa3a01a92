//! A simulation of honest and dishonest nodes against the validator's checks, to measure
//! detection and false rejection at given parameters (`gpufuel-bench -- proofs` runs 10,000 jobs
//! per strategy).
//!
//! Jobs alternate between the two verifiable workload kinds:
//! - `MatMul`: `C = A·B`; the validator recomputes the Merkle root of the output it downloads,
//!   checks the watermark, and runs [`freivalds`];
//! - `Iterative`: SGD steps of a linear model on noisy data, a checkpoint every `k` steps, each
//!   watermarked before the next segment starts from it; the validator verifies the final and the
//!   challenged checkpoints against the committed root, checks their watermarks, and re-executes
//!   the [`challenge`]d segments.
//!
//! Honest nodes behave like GPUs: every run sums in its own order (tile sizes, reversed tiles,
//! fused multiply-adds, shuffled batches), and so does the validator. Dishonest strategies, each
//! watermarking with its own key where that helps it:
//! - lazy: zero or random outputs and checkpoints;
//! - copying: another node's honest output for the same job, verbatim;
//! - partial: half the work (half the rows or half the inner dimension of a product; half the
//!   segments skipped, or half the steps of every segment);
//! - replay: the honest output of an earlier job with the same inputs.

use std::time::Instant;

use rand::{Rng as _, SeedableRng, rngs::SmallRng};

use gpufuel_core::proof::{
    Hash,
    challenge::{self, Tolerance, compare},
    freivalds::{self, Shape},
    merkle::MerkleTree,
    watermark::Watermark,
};

/// How a simulated node behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    Honest,
    Lazy,
    Copying,
    Partial,
    Replay,
}

impl Strategy {
    /// The dishonest strategies.
    pub const DISHONEST: [Strategy; 4] = [Self::Lazy, Self::Copying, Self::Partial, Self::Replay];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Honest => "honest",
            Self::Lazy => "lazy",
            Self::Copying => "copying",
            Self::Partial => "partial",
            Self::Replay => "replay",
        }
    }
}

/// Size of the simulated SGD job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IterativeSize {
    pub features: usize,
    pub rows: usize,
    pub batch: usize,
    pub segments: u32,
    pub steps_per_segment: usize,
}

/// Simulation parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub jobs: usize,
    pub matmul: Shape,
    pub iterative: IterativeSize,
    pub freivalds_rounds: u32,
    /// Segments re-executed per iterative job.
    pub samples: u32,
    pub tolerance: Tolerance,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            jobs: 10_000,
            matmul: Shape { m: 48, k: 96, n: 48 },
            iterative: IterativeSize { features: 16, rows: 256, batch: 16, segments: 512, steps_per_segment: 2 },
            freivalds_rounds: freivalds::DEFAULT_ROUNDS,
            samples: challenge::DEFAULT_SAMPLES,
            tolerance: Tolerance::default(),
            seed: 1,
        }
    }
}

/// Time spent on one workload kind.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cost {
    /// Seconds the nodes spent producing results (compute, watermark, commitment).
    pub node_secs: f64,
    /// Seconds the validator spent checking them.
    pub validator_secs: f64,
}

impl Cost {
    /// Validator time relative to the nodes' time.
    pub fn ratio(&self) -> f64 {
        self.validator_secs / self.node_secs
    }
}

/// Results for one strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub strategy: Strategy,
    pub jobs: usize,
    /// Jobs the validator rejected.
    pub rejected: usize,
    pub matmul: Cost,
    pub iterative: Cost,
}

impl Outcome {
    /// Share of jobs rejected: the detection rate for a dishonest strategy, the false-rejection
    /// rate for honest nodes.
    pub fn rejection_rate(&self) -> f64 {
        self.rejected as f64 / self.jobs.max(1) as f64
    }
}

/// Runs `config.jobs` jobs with nodes following `strategy`.
pub fn simulate(strategy: Strategy, config: &Config) -> Outcome {
    let mut out =
        Outcome { strategy, jobs: config.jobs, rejected: 0, matmul: Cost::default(), iterative: Cost::default() };
    for i in 0..config.jobs {
        let mut rng = Rng(SmallRng::seed_from_u64(config.seed ^ (i as u64) << 8 ^ strategy as u64));
        let (key, node, seed) = (rng.hash(), rng.hash(), rng.hash());
        let t = Instant::now();
        let accepted = if i % 2 == 0 {
            let job = MatMulJob::new(config.matmul, &mut rng);
            let sub = job.submit(strategy, &key, &node, &seed, &mut rng);
            out.matmul.node_secs += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let ok = job.validate(&sub, &key, &node, &seed, config);
            out.matmul.validator_secs += t.elapsed().as_secs_f64();
            ok
        } else {
            let job = SgdJob::new(config.iterative, &mut rng);
            let sub = job.submit(strategy, &key, &node, &seed, &mut rng);
            out.iterative.node_secs += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let ok = job.validate(&sub, &key, &node, &seed, config, &mut rng);
            out.iterative.validator_secs += t.elapsed().as_secs_f64();
            ok
        };
        out.rejected += usize::from(!accepted);
    }
    out
}

/// Test data and the order in which a simulated GPU sums.
struct Rng(SmallRng);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }
    fn coin(&mut self) -> bool {
        self.0.random()
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        self.0.random_range(-1.0..1.0)
    }
    fn hash(&mut self) -> Hash {
        self.0.random()
    }
}

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stand-in slot hash after the submission: known only once the commitment exists.
fn later_slot_hash(commitment: &Hash) -> Hash {
    gpufuel_core::proof::sha256(&[b"slot after", commitment])
}

const CHUNK: usize = 4096;
/// The matrix workloads' relative tolerance (f32 marks change values by 2^-23).
const MATMUL_TOLERANCE: f64 = 1e-6;

struct MatMulJob {
    shape: Shape,
    a: Vec<f32>,
    b: Vec<f32>,
}

struct MatMulResult {
    c: Vec<f32>,
    commitment: Hash,
}

impl MatMulJob {
    fn new(shape: Shape, rng: &mut Rng) -> Self {
        let a = (0..shape.m * shape.k).map(|_| rng.unit()).collect();
        let b = (0..shape.k * shape.n).map(|_| rng.unit()).collect();
        Self { shape, a, b }
    }

    /// `A·B` summed like a GPU: inner dimension in tiles of a random size, tiles in a random
    /// direction, with or without fused multiply-add; `rows` and `depth` limit the work.
    fn gemm(&self, rng: &mut Rng, rows: usize, depth: usize) -> Vec<f32> {
        let Shape { m, k, n } = self.shape;
        let tile = 4 << rng.below(4);
        let (reverse, fma) = (rng.coin(), rng.coin());
        let mut c = vec![0.0f32; m * n];
        for i in 0..rows.min(m) {
            for j in 0..n {
                let tile_sum = |t: usize| {
                    let mut s = 0.0f32;
                    for p in t..(t + tile).min(depth) {
                        let (x, y) = (self.a[i * k + p], self.b[p * n + j]);
                        s = if fma { x.mul_add(y, s) } else { s + x * y };
                    }
                    s
                };
                let tiles = (0..depth).step_by(tile);
                c[i * n + j] = if reverse { tiles.rev().map(tile_sum).sum() } else { tiles.map(tile_sum).sum() };
            }
        }
        c
    }

    fn honest(&self, rng: &mut Rng, job: &Hash, node: &Hash, seed: &Hash) -> Vec<f32> {
        let mut c = self.gemm(rng, self.shape.m, self.shape.k);
        Watermark::new(job, node, seed).embed(&mut c, MATMUL_TOLERANCE).expect("finite output");
        c
    }

    fn submit(&self, strategy: Strategy, job: &Hash, node: &Hash, seed: &Hash, rng: &mut Rng) -> MatMulResult {
        let Shape { m, k, .. } = self.shape;
        let mark = |mut c: Vec<f32>| {
            Watermark::new(job, node, seed).embed(&mut c, MATMUL_TOLERANCE).expect("finite output");
            c
        };
        let c = match strategy {
            Strategy::Honest => self.honest(rng, job, node, seed),
            Strategy::Lazy if rng.coin() => mark(vec![0.0; m * self.shape.n]),
            Strategy::Lazy => mark((0..m * self.shape.n).map(|_| rng.unit() * (k as f32).sqrt()).collect()),
            Strategy::Copying => {
                let other = rng.hash();
                self.honest(rng, job, &other, seed)
            }
            Strategy::Partial if rng.coin() => mark(self.gemm(rng, m / 2, k)),
            Strategy::Partial => mark(self.gemm(rng, m, k / 2)),
            Strategy::Replay => {
                let (earlier, old_seed) = (rng.hash(), rng.hash());
                self.honest(rng, &earlier, node, &old_seed)
            }
        };
        let commitment = MerkleTree::from_chunks(&bytes(&c), CHUNK).expect("non-empty").root();
        MatMulResult { c, commitment }
    }

    fn validate(&self, r: &MatMulResult, job: &Hash, node: &Hash, seed: &Hash, config: &Config) -> bool {
        let committed = MerkleTree::from_chunks(&bytes(&r.c), CHUNK).is_ok_and(|t| t.root() == r.commitment);
        let marked = Watermark::new(job, node, seed).verify(&r.c).is_ok_and(|w| w.passed());
        let params = freivalds::Params { rounds: config.freivalds_rounds, ..Default::default() };
        let challenge = challenge::challenge_seed(&later_slot_hash(&r.commitment), job, &r.commitment);
        committed
            && marked
            && freivalds::check(&self.a, &self.b, &r.c, self.shape, params, &challenge).is_ok_and(|f| f.passed())
    }
}

/// Mini-batch SGD on least squares with noisy targets, so every step moves the weights.
struct SgdJob {
    size: IterativeSize,
    x: Vec<f32>,
    y: Vec<f32>,
    w0: Vec<f32>,
}

struct SgdResult {
    checkpoints: Vec<Vec<f32>>,
    tree: MerkleTree,
}

const LEARNING_RATE: f32 = 0.05;

impl SgdJob {
    fn new(size: IterativeSize, rng: &mut Rng) -> Self {
        let d = size.features;
        let truth: Vec<f32> = (0..d).map(|_| rng.unit()).collect();
        let x: Vec<f32> = (0..size.rows * d).map(|_| rng.unit()).collect();
        let y =
            (0..size.rows).map(|r| (0..d).map(|j| x[r * d + j] * truth[j]).sum::<f32>() + 0.3 * rng.unit()).collect();
        let w0 = (0..d).map(|_| rng.unit()).collect();
        Self { size, x, y, w0 }
    }

    /// SGD step `t` on its mini-batch, summing the batch in a random order like a GPU reduction.
    fn step(&self, w: &mut [f32], t: usize, rng: &mut Rng, grad: &mut [f32], order: &mut [usize]) {
        let (d, b) = (self.size.features, self.size.batch);
        for (i, o) in order.iter_mut().enumerate() {
            *o = i;
        }
        for i in (1..b).rev() {
            order.swap(i, rng.below(i + 1));
        }
        grad.fill(0.0);
        for &i in order.iter() {
            let r = (t * b + i) % self.size.rows;
            let row = &self.x[r * d..(r + 1) * d];
            let err = row.iter().zip(&*w).map(|(a, b)| a * b).sum::<f32>() - self.y[r];
            for (g, a) in grad.iter_mut().zip(row) {
                *g += a * err;
            }
        }
        for (wi, g) in w.iter_mut().zip(&*grad) {
            *wi -= LEARNING_RATE * g / b as f32;
        }
    }

    /// Runs segment `s` (steps `s*k .. s*k + steps`) from `w`.
    fn segment(&self, w: &mut [f32], s: u32, steps: usize, rng: &mut Rng) {
        let (mut grad, mut order) = (vec![0.0; self.size.features], vec![0; self.size.batch]);
        let first = s as usize * self.size.steps_per_segment;
        for t in first..first + steps {
            self.step(w, t, rng, &mut grad, &mut order);
        }
    }

    /// A run that computes `steps(s)` steps of segment `s`, marking every checkpoint.
    fn run(&self, wm: &Watermark, rng: &mut Rng, steps: impl Fn(u32, &mut Rng) -> usize) -> Vec<Vec<f32>> {
        let mut w = self.w0.clone();
        let mut cps = vec![w.clone()];
        for s in 0..self.size.segments {
            let n = steps(s, rng);
            self.segment(&mut w, s, n, rng);
            wm.part(s + 1).embed(&mut w, MATMUL_TOLERANCE).expect("finite weights");
            cps.push(w.clone());
        }
        cps
    }

    fn submit(&self, strategy: Strategy, job: &Hash, node: &Hash, seed: &Hash, rng: &mut Rng) -> SgdResult {
        let k = self.size.steps_per_segment;
        let own = Watermark::new(job, node, seed);
        let checkpoints = match strategy {
            Strategy::Honest => self.run(&own, rng, |_, _| k),
            Strategy::Lazy => {
                let zeros = rng.coin();
                let mut cps = vec![self.w0.clone()];
                for s in 1..=self.size.segments {
                    let mut w: Vec<f32> =
                        (0..self.size.features).map(|_| if zeros { 0.0 } else { rng.unit() }).collect();
                    own.part(s).embed(&mut w, MATMUL_TOLERANCE).expect("finite");
                    cps.push(w);
                }
                cps
            }
            Strategy::Copying => self.run(&Watermark::new(job, &rng.hash(), seed), rng, |_, _| k),
            Strategy::Partial if rng.coin() => self.run(&own, rng, |_, rng| if rng.coin() { k } else { 0 }),
            Strategy::Partial => self.run(&own, rng, |_, _| k.div_ceil(2)),
            Strategy::Replay => self.run(&Watermark::new(&rng.hash(), node, &rng.hash()), rng, |_, _| k),
        };
        let tree =
            MerkleTree::from_leaves(checkpoints.iter().map(|c| bytes(c)).collect::<Vec<_>>().iter().map(Vec::as_slice))
                .expect("non-empty");
        SgdResult { checkpoints, tree }
    }

    /// Opens checkpoint `i` as the validator would: the data with its Merkle proof, checked
    /// against the committed root, and its watermark.
    fn open(&self, r: &SgdResult, i: u32, wm: &Watermark) -> Option<Vec<f32>> {
        let data = r.checkpoints.get(i as usize)?;
        r.tree.prove(i).ok()?.verify(&r.tree.root(), &bytes(data)).ok()?;
        if i == 0 {
            return (data == &self.w0).then(|| data.clone());
        }
        wm.part(i).verify(data).ok()?.passed().then(|| data.clone())
    }

    fn validate(&self, r: &SgdResult, job: &Hash, node: &Hash, seed: &Hash, config: &Config, rng: &mut Rng) -> bool {
        let root = r.tree.root();
        let wm = Watermark::new(job, node, seed);
        let segments = self.size.segments;
        if self.open(r, segments, &wm).is_none() {
            return false;
        }
        let challenge = challenge::challenge_seed(&later_slot_hash(&root), job, &root);
        let Ok(picked) = challenge::select_segments(&challenge, segments, config.samples) else { return false };
        picked.into_iter().all(|s| {
            let (Some(mut w), Some(next)) = (self.open(r, s, &wm), self.open(r, s + 1, &wm)) else { return false };
            self.segment(&mut w, s, self.size.steps_per_segment, rng);
            compare(&w, &next, config.tolerance).is_ok_and(|c| c.passed())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_nodes_pass_and_every_dishonest_strategy_is_caught() {
        let config = Config { jobs: 200, ..Config::default() };
        assert_eq!(simulate(Strategy::Honest, &config).rejected, 0);
        for s in Strategy::DISHONEST {
            let o = simulate(s, &config);
            assert_eq!(o.rejected, o.jobs, "{} escaped", s.name());
        }
    }
}
