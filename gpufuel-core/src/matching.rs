//! The off-chain matching engine: which node should run which open job.
//!
//! Node agents use it to choose what to bid on ([`MatchingEngine::jobs_for`]); submitters and
//! the quote API use it to see the market ([`crate::quote`]); [`MatchingEngine::match_all`]
//! computes the market-clearing assignment the bids converge to.
//!
//! Order: urgent jobs first, then the highest max price, then the earliest deadline (then the key,
//! so results are deterministic). Each job in turn goes to the cheapest node that satisfies it
//! (class, VRAM, compute capability, free GPUs, floor at or under the job's max price) and can
//! finish before the deadline; ties go to the smaller node, keeping large ones for large jobs.
//!
//! Scaling: nodes of a class are bucketed by `(VRAM, capability, free GPUs)`, each bucket ordered
//! by floor, so a job inspects one entry per bucket instead of every node. Buckets are few (GPU
//! models × GPU counts), so matching `n` jobs against `m` nodes costs `O(n log n + m log m)`
//! (the job ranking is kept sorted as jobs arrive).

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, HashMap},
};

use crate::state::{Job, JobState, Node, NodeSpec};

/// An account address.
pub type Key = [u8; 32];

/// What a job needs from a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Requirements {
    /// Required GPU class.
    pub gpu_class: u8,
    /// GPUs the job runs on at once (at least 1).
    pub gpu_count: u8,
    /// Minimum memory per GPU in MiB.
    pub min_vram_mib: u32,
    /// Minimum compute capability (major * 10 + minor; 0 for any).
    pub min_compute_capability: u8,
}

impl Requirements {
    /// Wall-clock seconds that `gpu_seconds` take on the required GPUs.
    pub fn runtime_secs(&self, gpu_seconds: u32) -> i64 {
        i64::from(gpu_seconds.div_ceil(u32::from(self.gpu_count.max(1))))
    }

    /// Whether a node with this spec can run the job (capacity aside).
    pub fn satisfied_by(&self, spec: &NodeSpec) -> bool {
        spec.gpu_class == self.gpu_class
            && spec.gpu_count >= self.gpu_count
            && spec.vram_mib >= self.min_vram_mib
            && spec.compute_capability >= self.min_compute_capability
    }
}

/// An open job as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenJob {
    /// The job account.
    pub key: Key,
    /// What a node needs to run it.
    pub requirements: Requirements,
    /// Highest price, base units per GPU-second.
    pub max_price: u64,
    /// GPU-seconds billed.
    pub gpu_seconds: u32,
    /// Unix time by which the result is due.
    pub deadline: i64,
    /// Whether it pays the urgent premium (ranked first).
    pub urgent: bool,
}

impl OpenJob {
    /// The engine's view of a job account; `None` unless the job is open.
    pub fn from_account(key: Key, job: &Job) -> Option<Self> {
        (job.job_state() == Ok(JobState::Open)).then(|| Self {
            key,
            requirements: Requirements {
                gpu_class: job.gpu_class,
                gpu_count: job.gpu_count,
                min_vram_mib: job.min_vram_mib,
                min_compute_capability: job.min_compute_capability,
            },
            max_price: job.max_price,
            gpu_seconds: job.gpu_seconds,
            deadline: job.deadline,
            urgent: job.is_urgent(),
        })
    }

    /// Wall-clock seconds the job needs on its GPUs.
    pub fn runtime_secs(&self) -> i64 {
        self.requirements.runtime_secs(self.gpu_seconds)
    }

    /// Whether, started at `now`, it finishes by its deadline.
    pub fn feasible_at(&self, now: i64) -> bool {
        now.saturating_add(self.runtime_secs()) <= self.deadline
    }

    fn rank(&self) -> Rank {
        (!self.urgent, Reverse(self.max_price), self.deadline, self.key)
    }
}

/// Sort key: urgent first, highest price, earliest deadline, key.
type Rank = (bool, Reverse<u64>, i64, Key);

/// A node and how much of it is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeOffer {
    /// The node account.
    pub key: Key,
    /// What the node offers.
    pub spec: NodeSpec,
    /// GPUs running jobs now.
    pub busy_gpus: u8,
}

impl NodeOffer {
    /// The engine's view of a node account (its GPUs taken by the auctions it leads and the jobs
    /// it runs); `None` if the node is leaving the market.
    pub fn from_account(key: Key, node: &Node) -> Option<Self> {
        node.header.is_active().then_some(Self {
            key,
            spec: NodeSpec {
                gpu_class: node.gpu_class,
                gpu_count: node.gpu_count,
                compute_capability: node.compute_capability,
                vram_mib: node.vram_mib,
                price_floor: node.price_floor,
            },
            busy_gpus: node.gpus_busy,
        })
    }

    /// GPUs free for new work.
    pub fn free_gpus(&self) -> u8 {
        self.spec.gpu_count.saturating_sub(self.busy_gpus)
    }
}

/// A job placed on a node at the node's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// The job account.
    pub job: Key,
    /// The node account.
    pub node: Key,
    /// Base units per GPU-second.
    pub price: u64,
}

/// Open jobs and available nodes, indexed for matching.
#[derive(Debug, Default, Clone)]
pub struct MatchingEngine {
    /// Where each job is filed: its class and rank.
    jobs: HashMap<Key, (u8, Rank)>,
    /// Per GPU class, the open jobs in matching order (stored in the tree, so walking it reads
    /// contiguous nodes instead of chasing every job through a hash map).
    ranked: HashMap<u8, BTreeMap<Rank, OpenJob>>,
    nodes: HashMap<Key, NodeOffer>,
}

impl MatchingEngine {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a job or replaces the one with the same key.
    pub fn upsert_job(&mut self, job: OpenJob) {
        self.remove_job(&job.key);
        let class = job.requirements.gpu_class;
        self.jobs.insert(job.key, (class, job.rank()));
        self.ranked.entry(class).or_default().insert(job.rank(), job);
    }

    /// Adds many jobs (a snapshot of the chain's open jobs). Into an empty class the ranking is
    /// built in bulk from sorted jobs, several times faster than one insert at a time.
    pub fn extend_jobs(&mut self, jobs: impl IntoIterator<Item = OpenJob>) {
        let jobs = jobs.into_iter();
        self.jobs.reserve(jobs.size_hint().0);
        let mut by_class: HashMap<u8, Vec<(Rank, OpenJob)>> = HashMap::new();
        for job in jobs {
            self.remove_job(&job.key);
            self.jobs.insert(job.key, (job.requirements.gpu_class, job.rank()));
            by_class.entry(job.requirements.gpu_class).or_default().push((job.rank(), job));
        }
        for (class, jobs) in by_class {
            let ranked = self.ranked.entry(class).or_default();
            if ranked.is_empty() {
                *ranked = jobs.into_iter().collect();
            } else {
                ranked.extend(jobs);
            }
        }
    }

    /// Removes a job (assigned, cancelled or expired).
    pub fn remove_job(&mut self, key: &Key) -> Option<OpenJob> {
        let (class, rank) = self.jobs.remove(key)?;
        self.ranked.get_mut(&class)?.remove(&rank)
    }

    /// Adds a node or replaces the one with the same key.
    pub fn upsert_node(&mut self, node: NodeOffer) {
        self.nodes.insert(node.key, node);
    }

    /// Removes a node.
    pub fn remove_node(&mut self, key: &Key) -> Option<NodeOffer> {
        self.nodes.remove(key)
    }

    /// Number of open jobs.
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// A job by key.
    pub fn job(&self, key: &Key) -> Option<&OpenJob> {
        let (class, rank) = self.jobs.get(key)?;
        self.ranked.get(class)?.get(rank)
    }

    /// A node by key.
    pub fn node(&self, key: &Key) -> Option<&NodeOffer> {
        self.nodes.get(key)
    }

    /// Open jobs of a class in matching order.
    pub fn ranked_jobs(&self, gpu_class: u8) -> impl Iterator<Item = &OpenJob> {
        self.ranked.get(&gpu_class).into_iter().flat_map(BTreeMap::values)
    }

    /// Nodes of a class, in no particular order.
    pub fn nodes_of(&self, gpu_class: u8) -> impl Iterator<Item = &NodeOffer> {
        self.nodes.values().filter(move |n| n.spec.gpu_class == gpu_class)
    }

    /// Up to `limit` open jobs `node` can take now, best first: what its agent should bid on.
    /// Walks the node's class in matching order, so it costs at most one pass over that class.
    pub fn jobs_for(&self, node: &NodeOffer, now: i64, limit: usize) -> Vec<&OpenJob> {
        self.ranked_jobs(node.spec.gpu_class)
            .filter(|j| {
                j.requirements.satisfied_by(&node.spec)
                    && j.requirements.gpu_count <= node.free_gpus()
                    && j.max_price >= node.spec.price_floor
                    && j.feasible_at(now)
            })
            .take(limit)
            .collect()
    }

    /// The assignment of open jobs to free capacity described in the module documentation,
    /// with every job starting at `now`.
    pub fn match_all(&self, now: i64) -> Vec<Match> {
        let mut by_class: HashMap<u8, Vec<&NodeOffer>> = HashMap::new();
        for n in self.nodes.values() {
            by_class.entry(n.spec.gpu_class).or_default().push(n);
        }
        let mut out = vec![];
        let mut classes: Vec<_> = self.ranked.keys().copied().collect();
        classes.sort_unstable();
        for class in classes {
            let Some(nodes) = by_class.get_mut(&class) else { continue };
            // Ties between equal floors go to the lower key, whatever the hash map's order.
            nodes.sort_unstable_by_key(|n| n.key);
            let mut capacity = Capacity::new(nodes);
            for job in self.ranked_jobs(class) {
                if capacity.free == 0 {
                    break;
                }
                if !job.feasible_at(now) {
                    continue;
                }
                if let Some((node, price)) = capacity.take(&job.requirements, job.max_price) {
                    out.push(Match { job: job.key, node, price });
                }
            }
        }
        out
    }
}

/// Free capacity of one class, bucketed by `(VRAM, capability, free GPUs)`.
struct Capacity<'a> {
    nodes: &'a [&'a NodeOffer],
    buckets: Vec<Bucket>,
    index: HashMap<(u32, u8, u8), usize>,
    /// Free GPUs over all nodes.
    free: u64,
}

struct Bucket {
    vram_mib: u32,
    capability: u8,
    free: u8,
    /// `(floor, node index)`, cheapest first.
    by_floor: BTreeSet<(u64, u32)>,
    /// `by_floor`'s first entry, read by every job without walking the tree.
    cheapest: Option<(u64, u32)>,
}

impl<'a> Capacity<'a> {
    fn new(nodes: &'a [&'a NodeOffer]) -> Self {
        let mut c = Self { nodes, buckets: vec![], index: HashMap::new(), free: 0 };
        for (i, n) in nodes.iter().enumerate() {
            c.place(i as u32, n.free_gpus());
            c.free += u64::from(n.free_gpus());
        }
        c
    }

    fn place(&mut self, i: u32, free: u8) {
        if free == 0 {
            return;
        }
        let spec = &self.nodes[i as usize].spec;
        let key = (spec.vram_mib, spec.compute_capability, free);
        let b = *self.index.entry(key).or_insert_with(|| {
            self.buckets.push(Bucket {
                vram_mib: key.0,
                capability: key.1,
                free,
                by_floor: BTreeSet::new(),
                cheapest: None,
            });
            self.buckets.len() - 1
        });
        let bucket = &mut self.buckets[b];
        bucket.by_floor.insert((spec.price_floor, i));
        bucket.cheapest = bucket.by_floor.first().copied();
    }

    /// Takes the cheapest fitting node for `req`; returns it and the price.
    fn take(&mut self, req: &Requirements, max_price: u64) -> Option<(Key, u64)> {
        let want = req.gpu_count.max(1);
        let mut best: Option<(u64, u32, u8, usize)> = None;
        for (b, bucket) in self.buckets.iter().enumerate() {
            if bucket.free < want
                || bucket.vram_mib < req.min_vram_mib
                || bucket.capability < req.min_compute_capability
            {
                continue;
            }
            let Some((floor, _)) = bucket.cheapest else { continue };
            let candidate = (floor, bucket.vram_mib, bucket.free, b);
            if floor <= max_price && best.is_none_or(|c| candidate < c) {
                best = Some(candidate);
            }
        }
        let (floor, _, free, b) = best?;
        let bucket = &mut self.buckets[b];
        let (_, i) = bucket.by_floor.pop_first().expect("bucket has a first entry");
        bucket.cheapest = bucket.by_floor.first().copied();
        self.place(i, free - want);
        self.free -= u64::from(want);
        Some((self.nodes[i as usize].key, floor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(tag: u8, i: u32) -> Key {
        let mut k = [tag; 32];
        k[..4].copy_from_slice(&i.to_le_bytes());
        k
    }

    fn node(i: u32, class: u8, gpus: u8, vram: u32, cc: u8, floor: u64, busy: u8) -> NodeOffer {
        NodeOffer {
            key: key(1, i),
            spec: NodeSpec {
                gpu_class: class,
                gpu_count: gpus,
                compute_capability: cc,
                vram_mib: vram,
                price_floor: floor,
            },
            busy_gpus: busy,
        }
    }

    fn job(i: u32, class: u8, gpus: u8, vram: u32, cc: u8, max_price: u64, urgent: bool) -> OpenJob {
        OpenJob {
            key: key(2, i),
            requirements: Requirements {
                gpu_class: class,
                gpu_count: gpus,
                min_vram_mib: vram,
                min_compute_capability: cc,
            },
            max_price,
            gpu_seconds: 60,
            deadline: 1_000,
            urgent,
        }
    }

    #[test]
    fn urgent_first_then_price_and_cheapest_fitting_node() {
        let mut e = MatchingEngine::new();
        e.upsert_node(node(0, 1, 1, 24_000, 86, 50, 0));
        e.upsert_node(node(1, 1, 1, 80_000, 90, 70, 0));
        e.upsert_job(job(0, 1, 1, 16_000, 80, 100, false));
        e.upsert_job(job(1, 1, 1, 16_000, 80, 60, true));
        e.upsert_job(job(2, 1, 1, 40_000, 90, 200, false));
        let m = e.match_all(0);
        // The urgent job takes the cheap node despite its lower price; the 40 GB job needs node 1;
        // job 0 finds nothing left.
        assert_eq!(
            m,
            vec![
                Match { job: key(2, 1), node: key(1, 0), price: 50 },
                Match { job: key(2, 2), node: key(1, 1), price: 70 },
            ]
        );
        // What each node's agent would bid on, best first (node 1's floor is above job 1's max).
        let keys = |n: NodeOffer| e.jobs_for(&n, 0, 10).iter().map(|j| j.key).collect::<Vec<_>>();
        assert_eq!(keys(node(1, 1, 1, 80_000, 90, 70, 0)), vec![key(2, 2), key(2, 0)]);
        assert_eq!(keys(node(0, 1, 1, 24_000, 86, 50, 0)), vec![key(2, 1), key(2, 0)]);
    }

    #[test]
    fn floors_deadlines_and_load_are_respected() {
        let mut e = MatchingEngine::new();
        e.upsert_node(node(0, 1, 4, 24_000, 86, 500, 0)); // too expensive
        e.upsert_node(node(1, 1, 4, 24_000, 86, 10, 3)); // one GPU free
        e.upsert_job(job(0, 1, 2, 0, 0, 100, false));
        let late = OpenJob { deadline: 30, ..job(1, 1, 1, 0, 0, 100, false) };
        e.upsert_job(late);
        e.upsert_job(job(2, 1, 1, 0, 0, 100, false));
        assert_eq!(e.match_all(0), vec![Match { job: key(2, 2), node: key(1, 1), price: 10 }]);
        assert!(e.remove_job(&key(2, 2)).is_some());
        assert!(e.match_all(0).is_empty());
    }

    fn arb_node() -> impl Strategy<Value = (u8, u8, u32, u8, u64, u8)> {
        (
            1u8..3,
            1u8..5,
            prop::sample::select(vec![16_000u32, 24_000, 80_000]),
            prop::sample::select(vec![80u8, 86, 90]),
            1u64..100,
            0u8..4,
        )
    }

    fn arb_job() -> impl Strategy<Value = (u8, u8, u32, u8, u64, bool, u32, i64)> {
        (
            1u8..3,
            1u8..4,
            prop::sample::select(vec![0u32, 20_000, 40_000]),
            prop::sample::select(vec![0u8, 86, 90]),
            1u64..120,
            any::<bool>(),
            1u32..200,
            0i64..300,
        )
    }

    proptest! {
        #[test]
        fn matches_respect_requirements_and_capacity(
            nodes in prop::collection::vec(arb_node(), 0..40),
            jobs in prop::collection::vec(arb_job(), 0..120),
        ) {
            let mut e = MatchingEngine::new();
            for (i, &(class, gpus, vram, cc, floor, busy)) in nodes.iter().enumerate() {
                e.upsert_node(node(i as u32, class, gpus, vram, cc, floor, busy.min(gpus)));
            }
            for (i, &(class, gpus, vram, cc, max, urgent, secs, deadline)) in jobs.iter().enumerate() {
                e.upsert_job(OpenJob { gpu_seconds: secs, deadline, ..job(i as u32, class, gpus, vram, cc, max, urgent) });
            }
            let matches = e.match_all(0);
            let mut used: HashMap<Key, u32> = HashMap::new();
            let mut seen = std::collections::HashSet::new();
            for m in &matches {
                prop_assert!(seen.insert(m.job), "job matched twice");
                let (j, n) = (e.job(&m.job).unwrap(), e.node(&m.node).unwrap());
                prop_assert!(j.requirements.satisfied_by(&n.spec));
                prop_assert!(j.feasible_at(0));
                prop_assert!(n.spec.price_floor <= m.price && m.price <= j.max_price);
                *used.entry(m.node).or_default() += u32::from(j.requirements.gpu_count);
            }
            for (k, gpus) in used {
                prop_assert!(gpus <= u32::from(e.node(&k).unwrap().free_gpus()), "node over capacity");
            }
            // Nothing left unmatched that a node with spare capacity could still take.
            for j in e.ranked.values().flat_map(BTreeMap::values).filter(|j| !seen.contains(&j.key) && j.feasible_at(0)) {
                let spare = e.nodes.values().any(|n| {
                    let taken: u32 = matches.iter().filter(|m| m.node == n.key).map(|m| u32::from(e.job(&m.job).unwrap().requirements.gpu_count)).sum();
                    j.requirements.satisfied_by(&n.spec) && n.spec.price_floor <= j.max_price
                        && u32::from(n.free_gpus()) >= taken + u32::from(j.requirements.gpu_count)
                });
                prop_assert!(!spare, "an unmatched job fits a node with spare capacity");
            }
        }
    }
}
