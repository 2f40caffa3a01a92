//! The node agent: keeps the node alive on chain, bids on the jobs it can run at the price its
//! strategy sets, takes the jobs it wins, runs them, watermarks and commits the results, uploads
//! them, submits, and settles to collect payment. After a restart it finds its assigned jobs on
//! chain and resumes iterative work from the checkpoints it journaled and stored.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use gpufuel_chain::{Chain, GpuFuelClient, pda, query::JobFilter};
use gpufuel_core::{
    committee::{self, Step},
    matching::{MatchingEngine, NodeOffer, OpenJob},
    proof::freivalds::Precision,
    quote::PricingStrategy,
    settlement::Outcome,
    state::{JOB_ACKED, Job, JobState, Node, Workload},
    task::{InvalidReport, MARK_TOLERANCE, MARK_TOLERANCE_BF16, ResultManifest, Task, bf16_bytes, f32_bytes},
};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::task::JoinHandle;

use gpufuel_store::{Cid, ContentStore, ImportOptions, PinningService, StoreError, from_chain, to_chain};

use super::{
    AgentError, Alerts, Behaviour, Files, alerts::Watch, fetch_task, fetch_work, keys, served::Served, write_file,
};
use crate::executor::{ExecError, Executor, Output, Progress, RunContext, Work};

/// How a node agent behaves on the market.
#[derive(Clone)]
pub struct NodeConfig {
    /// Tokens staked when the node registers (default 10,000,000).
    pub stake: u64,
    /// How bids are priced (default: the class's reference price).
    pub pricing: PricingStrategy,
    /// Lowest price accepted, base units per GPU-second, registered on chain (default 10).
    pub price_floor: u64,
    /// Seconds of chain time between heartbeats (default 300). A heartbeat shows the market the
    /// node is alive; no instruction acts on it, and each one costs a fee and RPC requests.
    pub heartbeat_secs: i64,
    /// Honest, or a cheat for demonstrations and tests.
    pub behaviour: Behaviour,
    /// How results are added to the store.
    pub import: ImportOptions,
    /// Where the journals of checkpoint CIDs live (none: a restart recomputes from the start).
    pub journal: Option<PathBuf>,
    /// Told how far each job has got.
    pub progress: Option<Arc<dyn Fn(Address, f32) + Send + Sync>>,
    /// A pinning service that keeps each submitted result's files (named `gpufuel <node>
    /// served`, the job in the pin's `job` metadata) until the job ends, so they stay
    /// retrievable while validators check them even if this node goes away (default none).
    pub pinning: Option<PinningService>,
    /// How long after its job ends a result stays pinned in the node's store, for the submitter
    /// to read (default 3 days); then the store may collect it. The ledger of what is kept lives
    /// in `journal/served` (in memory without a journal: a restart then keeps it for good).
    pub retention: Duration,
    /// A webhook told when the node is slashed, misses a deadline or runs low on SOL (default
    /// none).
    pub alerts: Option<Alerts>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            stake: 10_000_000,
            pricing: PricingStrategy::Reference,
            price_floor: 10,
            heartbeat_secs: 300,
            behaviour: Behaviour::Honest,
            import: ImportOptions::default(),
            journal: None,
            progress: None,
            pinning: None,
            retention: Duration::from_secs(3 * 24 * 3600),
            alerts: None,
        }
    }
}

/// A node operator's agent.
pub struct NodeAgent<C: Chain> {
    client: Arc<GpuFuelClient<C>>,
    store: Arc<dyn ContentStore>,
    executor: Arc<dyn Executor>,
    operator: Arc<Keypair>,
    /// The operator's token account: pays appeal bonds.
    token: Address,
    node: Address,
    config: NodeConfig,
    state: Mutex<State>,
    /// Signalled as each run ends.
    ended: tokio::sync::Notify,
    /// The results it served, kept until their jobs end (and then some).
    served: Served,
    /// What the alerts, if any, last saw.
    watch: Option<Watch>,
}

#[derive(Default)]
struct State {
    last_heartbeat: i64,
    running: HashMap<Address, (JoinHandle<Result<(), AgentError>>, RunContext)>,
    /// Jobs whose run ended in an error the agent will not retry.
    failed: HashSet<Address>,
    timings: HashMap<Address, RunTimings>,
}

/// Where a run's time went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunTimings {
    /// Fetching and decoding the task and its inputs.
    pub fetch: Duration,
    /// The executor's run (checkpoint marks included: they happen between segments).
    pub compute: Duration,
    /// After the run: marking the output, adding the files not yet added (checkpoints are added
    /// while the run goes on) and the manifest.
    pub prove: Duration,
    /// Sending the result transaction until confirmed.
    pub submit: Duration,
}

impl RunTimings {
    /// Everything the agent adds to the executor's run.
    pub fn overhead(&self) -> Duration {
        self.fetch + self.prove + self.submit
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NodeTick {
    /// Bids placed.
    pub bids: usize,
    /// Its auctions that closed and were assigned to it.
    pub assigned: usize,
    /// Runs started.
    pub started: usize,
    /// Results submitted.
    pub submitted: usize,
    /// Jobs settled.
    pub settled: usize,
    /// Failed decisions on its jobs it appealed.
    pub appealed: usize,
    /// Runs that ended in an error (logged; the job will expire).
    pub errors: Vec<String>,
}

impl<C: Chain + Send + Sync + 'static> NodeAgent<C> {
    /// An agent for `operator`'s node, registering it with the config's stake from `token` if it
    /// is not registered yet (spec from the executor, floor from the config).
    pub async fn start(
        client: Arc<GpuFuelClient<C>>,
        store: Arc<dyn ContentStore>,
        executor: Arc<dyn Executor>,
        operator: Keypair,
        token: &Address,
        config: NodeConfig,
    ) -> Result<Self, AgentError> {
        let node = pda::node(client.program(), &operator.pubkey());
        if client.chain().account(&node).await?.is_none() {
            let spec =
                gpufuel_core::state::NodeSpec { price_floor: config.price_floor, ..executor.capabilities().spec };
            client.register_node(&operator, token, spec, config.stake).await?;
        }
        let operator = Arc::new(operator);
        let ledger = config.journal.as_ref().map(|d| d.join("served"));
        let served = Served::open(store.clone(), config.pinning.clone(), &node, ledger, config.retention).await;
        let watch = config.alerts.clone().map(Watch::new);
        Ok(Self {
            client,
            store,
            executor,
            operator,
            token: *token,
            node,
            config,
            state: Mutex::default(),
            ended: tokio::sync::Notify::new(),
            served,
            watch,
        })
    }

    /// The node's account address.
    pub fn node(&self) -> Address {
        self.node
    }

    /// The operator's wallet.
    pub fn operator(&self) -> Address {
        self.operator.pubkey()
    }

    /// How this node behaves.
    pub fn behaviour(&self) -> Behaviour {
        self.config.behaviour
    }

    /// Where the time of a finished run of `job` went.
    pub fn timings(&self, job: &Address) -> Option<RunTimings> {
        self.state.lock().expect("state lock").timings.get(job).copied()
    }

    /// Jobs being run now.
    pub fn running(&self) -> usize {
        self.state.lock().expect("state lock").running.len()
    }

    /// Waits until a run ends (at once when one ended since the last wait).
    pub async fn run_ended(&self) {
        self.ended.notified().await
    }

    /// Abandons every run, as a crash would (nothing more is submitted for them).
    pub fn abort(&self) {
        for (_, (handle, ctx)) in self.state.lock().expect("state lock").running.drain() {
            ctx.cancel(); // stops the computation at its next step
            handle.abort();
        }
    }

    /// One pass: heartbeat, collect finished runs; end every closed auction and replace every
    /// silent node (anyone may, and a node that waits for others loses the job to a lapse);
    /// start its assigned jobs; settle or appeal its verified ones; bid.
    pub async fn tick(self: &Arc<Self>) -> Result<NodeTick, AgentError> {
        let mut out = NodeTick::default();
        let now = self.client.chain().unix_time().await?;
        let due = now - self.state.lock().expect("state lock").last_heartbeat >= self.config.heartbeat_secs;
        if due {
            self.client.heartbeat(&self.operator).await?;
            self.state.lock().expect("state lock").last_heartbeat = now;
        }
        self.reap(&mut out).await;
        let open = self.client.jobs(&[JobFilter::State(JobState::Open)]).await?;
        for (address, job) in &open {
            let closed = job.best_bid != 0 && now >= job.bid_close;
            if closed && self.client.assign(&self.operator, address).await.is_ok() && job.node == self.node.to_bytes() {
                out.assigned += 1;
            }
        }
        for (address, job) in self.client.jobs(&[JobFilter::State(JobState::Assigned)]).await? {
            let silent = job.flags & JOB_ACKED == 0
                && now >= job.assigned_at.saturating_add(i64::from(job.terms.start_grace_secs));
            if job.node != self.node.to_bytes() && silent {
                let _ = self.client.reassign(&self.operator, &address).await;
            }
        }
        let mine = self.client.jobs(&[JobFilter::Node(self.node)]).await?;
        for (address, job) in &mine {
            match job.job_state() {
                Ok(JobState::Assigned) => {
                    let idle = {
                        let state = self.state.lock().expect("state lock");
                        !state.running.contains_key(address) && !state.failed.contains(address)
                    };
                    if idle {
                        if job.flags & JOB_ACKED == 0 {
                            self.client.acknowledge(&self.operator, address).await?;
                        }
                        self.spawn(*address, job.clone()).await?;
                        out.started += 1;
                    }
                }
                Ok(JobState::Submitted) => match committee::step(job, now) {
                    Ok(Step::Settle(_)) if self.client.settle(&self.operator, address).await.is_ok() => {
                        out.settled += 1
                    }
                    // An honest node knows its result is right: a committee that failed it is
                    // appealed (the bond returns when the appeal overturns it).
                    Ok(Step::Appealable { outcome: Outcome::Fail, .. })
                        if self.config.behaviour == Behaviour::Honest =>
                    {
                        match self.client.appeal(&self.operator, address, &self.token).await {
                            Ok(_) => out.appealed += 1,
                            Err(e) => tracing::debug!(job = %address, "appeal refused: {e}"),
                        }
                    }
                    Ok(Step::Draw | Step::Escalate) => {
                        let _ = self.client.draw_committee(&self.operator, address).await;
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        self.served.release(&mine, now).await;
        out.bids = self.bid(now, &open).await?;
        self.alert().await;
        Ok(out)
    }

    /// Tells the operator's webhook, if any, what went wrong since the last pass.
    async fn alert(&self) {
        let Some(watch) = &self.watch else { return };
        let Ok(node) = self.client.node(&self.operator.pubkey()).await else { return };
        watch.record(&self.node, &node).await;
        if watch.sol_due()
            && let Ok(wallet) = self.client.chain().account(&self.operator.pubkey()).await
        {
            watch.sol(&self.node, &node, wallet.map_or(0, |a| a.lamports)).await;
        }
    }

    /// Collects the runs that ended.
    async fn reap(&self, out: &mut NodeTick) {
        let finished: Vec<(Address, JoinHandle<_>)> = {
            let mut state = self.state.lock().expect("state lock");
            let done: Vec<Address> =
                state.running.iter().filter(|(_, (h, _))| h.is_finished()).map(|(a, _)| *a).collect();
            done.into_iter().filter_map(|a| state.running.remove(&a).map(|(h, _)| (a, h))).collect()
        };
        for (address, handle) in finished {
            match handle.await {
                Ok(Ok(())) => out.submitted += 1,
                Ok(Err(e)) => {
                    tracing::warn!(job = %address, "run failed: {e}");
                    out.errors.push(format!("{address}: {e}"));
                    self.state.lock().expect("state lock").failed.insert(address);
                }
                Err(e) => out.errors.push(format!("{address}: {e}")),
            }
        }
    }

    async fn spawn(self: &Arc<Self>, address: Address, job: Job) -> Result<(), AgentError> {
        let progress: Option<Progress> =
            self.config.progress.clone().map(|p| Arc::new(move |f: f32| p(address, f)) as Progress);
        let ctx = RunContext::new(keys(&address, &job), progress, self.resume(&address).await);
        let (agent, run) = (self.clone(), ctx.clone());
        let handle = tokio::spawn(async move {
            let ran = agent.execute(address, job, run).await;
            agent.ended.notify_one();
            ran
        });
        self.state.lock().expect("state lock").running.insert(address, (handle, ctx));
        Ok(())
    }

    /// Bids on the open jobs the matching engine ranks for this node, while it has free GPUs (the
    /// program counts the auctions it leads against them too).
    async fn bid(&self, now: i64, open: &[(Address, Job)]) -> Result<usize, AgentError> {
        let node: Node = self.client.node(&self.operator.pubkey()).await?;
        let Some(offer) = NodeOffer::from_account(self.node.to_bytes(), &node) else {
            return Ok(0);
        };
        if offer.free_gpus() == 0 {
            return Ok(0);
        }
        let mut engine = MatchingEngine::new();
        engine.extend_jobs(
            open.iter()
                .filter(|(_, j)| j.gpu_class == node.gpu_class && j.node != self.node.to_bytes())
                .filter(|(_, j)| j.excluded != self.node.to_bytes())
                // Only work this node's executor runs (no ONNX Runtime, no ONNX jobs).
                .filter(|(_, j)| {
                    Workload::try_from(j.workload).is_ok_and(|w| self.executor.capabilities().workloads.contains(&w))
                })
                .filter_map(|(a, j)| OpenJob::from_account(a.to_bytes(), j)),
        );
        engine.upsert_node(offer);
        let reference = self.client.gpu_class(node.gpu_class).await?.ref_price;
        let mut bids = 0;
        for job in engine.jobs_for(&offer, now, usize::from(offer.free_gpus())) {
            let address = Address::new_from_array(job.key);
            let Some((_, current)) = open.iter().find(|(a, _)| *a == address) else { continue };
            let Some(price) = self.config.pricing.bid(node.price_floor, reference, job.max_price) else { continue };
            if current.best_bid != 0 && price >= current.best_bid {
                continue;
            }
            match self.client.bid(&self.operator, &address, price).await {
                Ok(_) => bids += 1,
                Err(e) => tracing::debug!(job = %address, "bid refused: {e}"),
            }
        }
        Ok(bids)
    }

    /// Runs an assigned job and submits its result.
    async fn execute(&self, address: Address, job: Job, ctx: RunContext) -> Result<(), AgentError> {
        let mut timings = RunTimings::default();
        let computed = match self.copied_result(&address, &job).await? {
            Some(copied) => Ok(copied),
            None => self.compute(&address, &job, ctx, &mut timings).await,
        };
        let t = Instant::now();
        match computed {
            Ok((cid, manifest)) => {
                self.client.submit_result(&self.operator, &address, to_chain(&cid)?, manifest.commitment()).await?;
                let files = manifest.outputs.iter().chain(&manifest.checkpoints).map(from_chain);
                match files.collect::<Result<Vec<Cid>, _>>() {
                    Ok(files) => self.served.add(&address, [vec![cid], files].concat()).await,
                    Err(e) => tracing::warn!(job = %address, "a result names a malformed CID: {e}"),
                }
            }
            // The task's own failure (a malformed task, a model that does not load or run): the
            // node reports it rather than miss the deadline; validators check the claim.
            Err(e @ (AgentError::Task(_) | AgentError::Exec(ExecError::InvalidTask { .. }))) => {
                let chunk = match &e {
                    AgentError::Exec(ExecError::InvalidTask { chunk, .. }) => *chunk,
                    _ => 0,
                };
                let report = InvalidReport::new(chunk, &e.to_string());
                tracing::info!(job = %address, "reporting an invalid task: {}", report.reason);
                let cid = self.store.add(report.encode(), &self.config.import).await?;
                self.client.report_invalid_task(&self.operator, &address, to_chain(&cid)?, report.commitment()).await?;
            }
            Err(e) => return Err(e),
        }
        timings.submit = t.elapsed();
        self.state.lock().expect("state lock").timings.insert(address, timings);
        if let Some(path) = self.journal(&address) {
            let _ = tokio::fs::remove_file(path).await;
        }
        Ok(())
    }

    /// The file listing the CIDs of `job`'s checkpoints stored so far, one per line.
    pub fn journal(&self, job: &Address) -> Option<PathBuf> {
        self.config.journal.as_ref().map(|d| d.join(job.to_string()))
    }

    /// Checkpoints of an interrupted run of `job`, fetched back from the store; empty when there
    /// are none or one cannot be read (the run then starts over).
    async fn resume(&self, job: &Address) -> Vec<Vec<f32>> {
        let Some(text) = self.journal(job).and_then(|p| std::fs::read_to_string(p).ok()) else { return vec![] };
        let mut checkpoints = vec![];
        for line in text.lines() {
            let Ok(cid) = line.parse::<Cid>() else { return vec![] };
            let Ok(bytes) = self.store.cat(&cid).await else { return vec![] };
            let values = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
            checkpoints.push(values);
        }
        checkpoints
    }

    /// Records a stored checkpoint in the job's journal.
    async fn record(&self, job: &Address, cid: &Cid) -> Result<(), AgentError> {
        let Some(path) = self.journal(job) else { return Ok(()) };
        write_file(&path, &format!("{cid}\n"), true).await.map_err(StoreError::from)?;
        Ok(())
    }

    /// A copying node's loot: the result of another job with the same input.
    async fn copied_result(&self, address: &Address, job: &Job) -> Result<Option<(Cid, ResultManifest)>, AgentError> {
        if self.config.behaviour != Behaviour::Copying {
            return Ok(None);
        }
        for state in [JobState::Submitted, JobState::Settled] {
            for (other, j) in self.client.jobs(&[JobFilter::State(state)]).await? {
                if other != *address && j.input_cid == job.input_cid {
                    let cid = from_chain(&j.result_cid)?;
                    let manifest = ResultManifest::decode(&self.store.cat(&cid).await?)?;
                    return Ok(Some((cid, manifest)));
                }
            }
        }
        Ok(None)
    }

    async fn compute(
        &self,
        address: &Address,
        job: &Job,
        ctx: RunContext,
        timings: &mut RunTimings,
    ) -> Result<(Cid, ResultManifest), AgentError> {
        let t = Instant::now();
        let task = fetch_task(self.store.as_ref(), job).await?;
        let bf16_output = matches!(&task, Task::MatMul(t) if t.output == Precision::Bf16);
        let (work, mut arrivals) = fetch_work(self.store.as_ref(), task).await?;
        // A run on the CPU holds every core, and work alongside it slows it by more than its own
        // cost (its threads wait for each other at every operator): there, inputs arrive before
        // the run and files are uploaded after it. A GPU run leaves the cores to the agent.
        let alongside = !self.executor.capabilities().on_cpu;
        if !alongside {
            std::mem::take(&mut arrivals).arrive(self.store.as_ref()).await?;
        }
        timings.fetch = t.elapsed();
        let t = Instant::now();
        let add = |bytes: Vec<u8>| async move { self.store.add(bytes, &self.config.import).await };
        let (finished, mut done) = tokio::sync::watch::channel(false);
        let resumed = ctx.checkpoints().len();
        let files = match &work {
            Work::Onnx { task, .. } => Files::Chunks(task.outputs.len()),
            Work::OnnxSteps { task, .. } => Files::Checkpoints(task.state.len()),
            _ => Files::Chunks(0),
        };
        // Checkpoints go to the store as they are made, and into the journal a restarted agent
        // resumes from; ONNX files as they are made when the run leaves the cores free, else
        // after it, each batch in one `add_all` (one transaction in the embedded store). A
        // batched job's outputs get their marks here, a step graph's checkpoints were marked as
        // they were made.
        let upload = async {
            let (mut cids, mut emitted) = (Vec::new(), Vec::new());
            loop {
                // Read before draining: whatever the run made before it finished is drained below.
                let finished = *done.borrow();
                while let Some(cp) = ctx.checkpoint_at(cids.len()) {
                    let cid = add(f32_bytes(&cp)).await?;
                    if cids.len() >= resumed {
                        self.record(address, &cid).await?;
                    }
                    cids.push(to_chain(&cid)?);
                }
                let mut batch = Vec::new();
                let ready = if alongside || finished { ctx.take_emitted() } else { vec![] };
                for (i, mut t) in (emitted.len()..).zip(ready) {
                    self.config.behaviour.tamper(&mut t, i, files, ctx.keys())?;
                    if let Files::Chunks(_) = files {
                        t.mark(&ctx.keys().watermark(Some(i as u32)))?;
                    }
                    batch.push(t.to_npy());
                }
                if !batch.is_empty() {
                    for cid in self.store.add_all(batch, &self.config.import).await? {
                        emitted.push(to_chain(&cid)?);
                    }
                }
                if finished {
                    return Ok::<_, AgentError>((cids, emitted));
                }
                tokio::select! {
                    _ = ctx.added() => {}
                    _ = done.changed() => {}
                }
            }
        };
        let run = async {
            let work = self.config.behaviour.prepare(work);
            let output = match self.config.behaviour.cheat(&work, &ctx) {
                Some(cheated) => cheated,
                None => self.executor.run(work, ctx.clone()).await,
            };
            timings.compute = t.elapsed();
            let _ = finished.send(true);
            output
        };
        // A batched ONNX job's batched inputs stream in while the run goes on.
        let (output, uploaded, arrived) = tokio::join!(run, upload, arrivals.arrive(self.store.as_ref()));
        // An input's own fault (a wrong size) first: the run only saw its consequence.
        arrived?;
        let (output, (checkpoints, emitted)) = (output?, uploaded?);
        // What was still being uploaded when the run ended counts as after the run.
        let t = t + timings.compute;
        let mut manifest = ResultManifest { checkpoints, ..ResultManifest::default() };
        match output {
            Output::Tensor(mut values) if job.workload == gpufuel_core::state::Workload::MatMul as u8 => {
                let wm = ctx.keys().watermark(None);
                let bytes = if bf16_output {
                    let mut c: Vec<half::bf16> = values.iter().map(|&v| half::bf16::from_f32(v)).collect();
                    wm.embed(&mut c, MARK_TOLERANCE_BF16).map_err(gpufuel_core::task::TaskError::from)?;
                    bf16_bytes(&c)
                } else {
                    wm.embed(&mut values, MARK_TOLERANCE).map_err(gpufuel_core::task::TaskError::from)?;
                    f32_bytes(&values)
                };
                manifest.outputs.push(to_chain(&add(bytes).await?)?);
            }
            Output::Tensor(_) => manifest.outputs.extend(manifest.checkpoints.last().copied()),
            Output::Buffers(buffers) => {
                for b in buffers {
                    manifest.outputs.push(to_chain(&add(b).await?)?);
                }
            }
            Output::Emitted(count) if count != emitted.len() => {
                return Err(ExecError::Failed(format!("{count} files made, {} emitted", emitted.len())).into());
            }
            // A step graph's checkpoints; the outputs are the last.
            Output::Emitted(_) if let Files::Checkpoints(states) = files => {
                manifest.outputs = emitted[emitted.len().saturating_sub(states)..].to_vec();
                manifest.checkpoints = emitted;
            }
            Output::Emitted(_) => manifest.outputs = emitted,
        }
        let cid = add(manifest.encode()).await?;
        timings.prove = t.elapsed();
        Ok((cid, manifest))
    }
}
