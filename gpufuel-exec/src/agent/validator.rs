//! The validator agent: on the committees it is drawn into, checks the result (by the workload's
//! method), commits its vote, then reveals it; it appeals unanimous decisions it finds wrong, and
//! moves every submitted job on (draws committees, escalates, settles) and expires overdue ones.
//! A result whose files cannot be fetched from the store counts as invalid: keeping them
//! available is the node's duty.
//!
//! Its salts and challenge seeds derive from its own key and the job, so a restarted agent
//! reveals what it committed without storing anything.

use std::sync::Arc;

use std::{collections::HashMap, sync::Mutex};

use gpufuel_chain::{Chain, GpuFuelClient, pda, query::JobFilter};
use gpufuel_core::{
    committee::{self, Step, vote_commitment},
    proof::{Hash, challenge::Tolerance, freivalds, sha256},
    settlement::Outcome,
    state::{Job, JobState, MAX_COMMITTEE, SeatVote, Workload},
    task::{
        InvalidReport, ResultManifest, Task,
        verify::{self, Failure},
    },
};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use gpufuel_store::{ContentStore, StoreError};

use super::{AgentError, fetch_f32s, fetch_model, fetch_onnx, fetch_task, fetch_whole, keys};
use crate::executor::{
    ExecError, Executor, Feed, Output, RunContext, Work,
    onnx::{EngineOptions, OnnxEngine, Pick, recheck},
};

/// How a validator checks.
#[derive(Clone)]
pub struct ValidatorConfig {
    /// Tokens staked when the validator registers (default 5,000,000).
    pub stake: u64,
    /// Freivalds rounds (false accept below 2^-rounds).
    pub freivalds_rounds: u32,
    /// How far re-executed segments may differ from the committed checkpoints.
    pub tolerance: Tolerance,
    /// Re-executes kernels (a GPU executor); without one, kernel jobs are left to others.
    pub executor: Option<Arc<dyn Executor>>,
    /// How it re-runs ONNX chunks (default: ONNX Runtime's CPU provider, all optimisations, a
    /// thread per core); where ONNX Runtime does not load, ONNX jobs are left to others.
    pub onnx: EngineOptions,
    /// Also checks unanimous decisions it did not sit on, and appeals those it finds wrong
    /// (default yes): what keeps a captured committee from deciding.
    pub watch: bool,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            stake: 5_000_000,
            freivalds_rounds: freivalds::DEFAULT_ROUNDS,
            tolerance: Tolerance::default(),
            executor: None,
            onnx: EngineOptions::default(),
            watch: true,
        }
    }
}

/// A validator's judgement of one result.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The result is valid.
    Pass,
    /// The result is invalid, for this reason.
    Fail(Failure),
    /// This validator cannot check it (a kernel without a GPU): no vote.
    Abstain,
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ValidatorTick {
    /// Votes committed: (job, verdict).
    pub votes: Vec<(Address, Verdict)>,
    /// Votes revealed.
    pub revealed: usize,
    /// Committees drawn or appeal rounds opened.
    pub drawn: usize,
    /// Decisions appealed.
    pub appealed: usize,
    /// Jobs settled.
    pub settled: usize,
    /// Overdue jobs expired.
    pub expired: usize,
}

/// A validator's agent.
pub struct ValidatorAgent<C: Chain> {
    client: Arc<GpuFuelClient<C>>,
    store: Arc<dyn ContentStore>,
    operator: Keypair,
    token: Address,
    index: u32,
    config: ValidatorConfig,
    /// Verdicts by (job, result commitment): each result is checked once.
    verdicts: Mutex<HashMap<(Address, Hash), Verdict>>,
    /// Whether its stake is in the draw yet.
    activated: std::sync::atomic::AtomicBool,
    /// The ONNX engine, built on the first ONNX job (`None`: ONNX Runtime does not load here).
    onnx: std::sync::OnceLock<Option<Arc<OnnxEngine>>>,
}

impl<C: Chain + Send + Sync + 'static> ValidatorAgent<C> {
    /// An agent for `operator`, registering it with the config's stake from `token` if needed.
    pub async fn start(
        client: Arc<GpuFuelClient<C>>,
        store: Arc<dyn ContentStore>,
        operator: Keypair,
        token: &Address,
        config: ValidatorConfig,
    ) -> Result<Self, AgentError> {
        let account = pda::validator(client.program(), &operator.pubkey());
        if client.chain().account(&account).await?.is_none() {
            client.register_validator(&operator, token, config.stake).await?;
        }
        let validator = client.validator(&operator.pubkey()).await?;
        let (index, activated) = (validator.index, (validator.activated != 0).into());
        Ok(Self {
            client,
            store,
            operator,
            token: *token,
            index,
            config,
            verdicts: Mutex::default(),
            activated,
            onnx: std::sync::OnceLock::new(),
        })
    }

    /// The operator's wallet.
    pub fn operator(&self) -> Address {
        self.operator.pubkey()
    }

    /// One pass: activate once bonded; over the submitted jobs (commit or reveal on its seats, appeal, draw, escalate,
    /// settle), then over the overdue ones (expire).
    pub async fn tick(&self) -> Result<ValidatorTick, AgentError> {
        let mut out = ValidatorTick::default();
        let now = self.client.chain().unix_time().await?;
        self.activate(now).await?;
        for (address, job) in self.client.jobs(&[JobFilter::State(JobState::Submitted)]).await? {
            if let Err(e) = self.step(&address, &job, now, &mut out).await {
                tracing::debug!(job = %address, "validator step: {e}");
            }
        }
        for state in [JobState::Open, JobState::Assigned] {
            for (address, job) in self.client.jobs(&[JobFilter::State(state)]).await? {
                if now > job.deadline && self.client.expire(&self.operator, &address).await.is_ok() {
                    out.expired += 1;
                }
            }
        }
        Ok(out)
    }

    /// Puts its stake into the draw once its bonding period has passed.
    async fn activate(&self, now: i64) -> Result<(), AgentError> {
        use std::sync::atomic::Ordering::Relaxed;
        if self.activated.load(Relaxed) {
            return Ok(());
        }
        let v = self.client.validator(&self.operator.pubkey()).await?;
        if v.activated == 0 && now >= v.active_from {
            self.client.activate_validator(&self.operator, &self.operator.pubkey()).await?;
        }
        self.activated.store(v.activated != 0 || now >= v.active_from, Relaxed);
        Ok(())
    }

    /// Moves one submitted job on, as far as this validator can.
    async fn step(&self, address: &Address, job: &Job, now: i64, out: &mut ValidatorTick) -> Result<(), AgentError> {
        // A job whose windows overflow is corrupt: nothing moves it.
        let Ok(step) = committee::step(job, now) else { return Ok(()) };
        match step {
            Step::Draw | Step::Escalate => {
                // Errs until the slot the draw reads has been produced: the next tick retries.
                if self.client.draw_committee(&self.operator, address).await.is_ok() {
                    out.drawn += 1;
                }
            }
            Step::Commit => {
                for seat in self.my_seats(job, SeatVote::Drawn) {
                    let verdict = self.verdict(address, job).await?;
                    if verdict == Verdict::Abstain {
                        continue;
                    }
                    let pass = verdict == Verdict::Pass;
                    self.client
                        .commit_vote(
                            &self.operator,
                            address,
                            (seat, job.round),
                            pass,
                            &self.salt(address, job.round, seat),
                        )
                        .await?;
                    out.votes.push((*address, verdict));
                }
            }
            Step::Reveal => {
                for seat in self.my_seats(job, SeatVote::Committed) {
                    let salt = self.salt(address, job.round, seat);
                    let committed = job.seats[usize::from(seat)].commitment;
                    let matches =
                        |pass| vote_commitment(sha256, &address.to_bytes(), job.round, seat, pass, &salt) == committed;
                    if let Some(pass) = [true, false].into_iter().find(|&p| matches(p)) {
                        self.client.reveal_vote(&self.operator, address, seat, pass, salt).await?;
                        out.revealed += 1;
                    }
                }
            }
            Step::Appealable { outcome, .. } if self.config.watch => {
                let verdict = self.verdict(address, job).await?;
                let wrong =
                    matches!((outcome, &verdict), (Outcome::Pass, Verdict::Fail(_)) | (Outcome::Fail, Verdict::Pass));
                if wrong {
                    self.client.appeal(&self.operator, address, &self.token).await?;
                    out.appealed += 1;
                }
            }
            Step::Appealable { .. } => {}
            Step::Settle(_) => {
                self.client.settle(&self.operator, address).await?;
                out.settled += 1;
                self.verdicts.lock().expect("verdicts lock").remove(&(*address, job.commitment));
            }
        }
        Ok(())
    }

    /// This validator's seats of the job's current round at `vote`.
    fn my_seats(&self, job: &Job, vote: SeatVote) -> Vec<u8> {
        let first = if job.round == 0 { 0 } else { MAX_COMMITTEE };
        job.round_seats(job.round)
            .iter()
            .enumerate()
            .filter(|(_, s)| s.validator == self.index && s.vote == vote as u8)
            .map(|(i, _)| (first + i) as u8)
            .collect()
    }

    /// The secret salt of a seat: the operator's key bound to the job, round and seat.
    fn salt(&self, job: &Address, round: u8, seat: u8) -> [u8; 32] {
        sha256(&[b"gpufuel-salt", self.operator.secret_bytes(), &job.to_bytes(), &[round, seat]])
    }

    /// The verdict on the job's result, checked once.
    async fn verdict(&self, address: &Address, job: &Job) -> Result<Verdict, AgentError> {
        let key = (*address, job.commitment);
        if let Some(v) = self.verdicts.lock().expect("verdicts lock").get(&key) {
            return Ok(v.clone());
        }
        let v = self.verify(address, job).await?;
        self.verdicts.lock().expect("verdicts lock").insert(key, v.clone());
        Ok(v)
    }

    /// Checks a submitted result. Errors are the validator's own trouble (chain or its store
    /// unreachable); a result that is wrong or missing is a [`Verdict::Fail`].
    pub async fn verify(&self, address: &Address, job: &Job) -> Result<Verdict, AgentError> {
        match self.check(address, job).await {
            Ok(v) => Ok(v),
            // The validator's own store or disk failing says nothing about the result.
            Err(AgentError::Store(e @ (StoreError::Unavailable(_) | StoreError::Io(_)))) => Err(e.into()),
            Err(AgentError::Store(e)) => Ok(Verdict::Fail(Failure::Layout(missing(e)))),
            Err(AgentError::Task(e)) => Ok(Verdict::Fail(Failure::Malformed(e))),
            Err(e) => Err(e),
        }
    }

    async fn check(&self, address: &Address, job: &Job) -> Result<Verdict, AgentError> {
        let store = self.store.as_ref();
        let submitted = store.get(&job.result_cid).await?;
        // The flag on chain and the file must agree: a report posted as a result would be paid.
        match (job.reports_invalid_task(), InvalidReport::decode(&submitted)) {
            (true, Some(report)) if report.commitment() == job.commitment => {
                return self.check_report(job, &report).await;
            }
            (true, Some(_)) => return Ok(Verdict::Fail(Failure::Commitment)),
            (true, None) => return Ok(Verdict::Fail(Failure::Layout("an invalid-task report"))),
            (false, Some(_)) => return Ok(Verdict::Fail(Failure::Layout("a result manifest"))),
            (false, None) => {}
        }
        let manifest = ResultManifest::decode(&submitted)?;
        if let Err(f) = verify::check_commitment(&manifest, &job.commitment) {
            return Ok(Verdict::Fail(f));
        }
        let keys = keys(address, job);
        let seed = self.challenge_seed(address, job);
        let task = fetch_task(store, job).await?;
        let verdict = match task {
            Task::MatMul(t) => {
                let [output] = manifest.outputs.as_slice() else {
                    return Ok(Verdict::Fail(Failure::Layout("one output")));
                };
                let (na, nb, _) = t.sizes();
                let a = fetch_f32s(store, &t.a, "A", na).await?;
                let b = fetch_f32s(store, &t.b, "B", nb).await?;
                let c = store.get(output).await?;
                let rounds = self.config.freivalds_rounds;
                tokio::task::spawn_blocking(move || verify::check_matmul(&t, &a, &b, &c, &keys, rounds, &seed))
                    .await
                    .map_err(|e| ExecError::Failed(e.to_string()))?
            }
            Task::Iterative(t) => self.check_iterative(t, &manifest, &keys, &seed).await?,
            Task::Onnx(t) => {
                let Some(engine) = self.onnx_engine() else { return Ok(Verdict::Abstain) };
                self.check_onnx(engine, t, &manifest, &keys, &seed).await?
            }
            Task::OnnxSteps(t) => {
                let Some(engine) = self.onnx_engine() else { return Ok(Verdict::Abstain) };
                self.check_steps(engine, t, &manifest, &keys, &seed).await?
            }
            Task::Kernel(t) => {
                let Some(executor) =
                    self.config.executor.clone().filter(|e| e.capabilities().workloads.contains(&Workload::Kernel))
                else {
                    return Ok(Verdict::Abstain);
                };
                let work = fetch_whole(store, Task::Kernel(t)).await?;
                let ctx = RunContext::new(keys, None, vec![]);
                let Output::Buffers(recomputed) = executor.run(work, ctx).await? else {
                    return Ok(Verdict::Fail(Failure::Layout("kernel outputs")));
                };
                if recomputed.len() != manifest.outputs.len() {
                    return Ok(Verdict::Fail(Failure::Layout("one file per output buffer")));
                }
                for (i, (mine, cid)) in recomputed.iter().zip(&manifest.outputs).enumerate() {
                    if store.get(cid).await? != *mine {
                        return Ok(Verdict::Fail(Failure::Segment { segment: i as u32, mismatches: 1 }));
                    }
                }
                Ok(())
            }
        };
        Ok(match verdict {
            Ok(()) => Verdict::Pass,
            Err(f) => Verdict::Fail(f),
        })
    }

    async fn check_iterative(
        &self,
        t: gpufuel_core::task::IterativeTask,
        manifest: &ResultManifest,
        keys: &verify::Keys,
        seed: &Hash,
    ) -> Result<Result<(), Failure>, AgentError> {
        if let Err(f) = verify::check_iterative_layout(&t, manifest) {
            return Ok(Err(f));
        }
        let store = self.store.as_ref();
        let params = t.model.params() as u64;
        let data_len = u64::from(t.rows) * (u64::from(t.model.inputs) + 1);
        let data = fetch_f32s(store, &t.data, "training data", data_len).await?;
        let init = fetch_f32s(store, &t.init, "initial parameters", params).await?;
        let open = |i: u32| {
            let cid = manifest.checkpoints[i as usize];
            let (t, init) = (&t, &init);
            async move {
                let bytes = store.get(&cid).await?;
                Ok::<_, AgentError>(verify::open_checkpoint(t, i, &bytes, init, keys))
            }
        };
        if let Err(f) = open(t.segments).await? {
            return Ok(Err(f));
        }
        let picked = match verify::challenged_segments(&t, seed) {
            Ok(p) => p,
            Err(f) => return Ok(Err(f)),
        };
        for s in picked {
            let before = match open(s).await? {
                Ok(v) => v,
                Err(f) => return Ok(Err(f)),
            };
            let after = match open(s + 1).await? {
                Ok(v) => v,
                Err(f) => return Ok(Err(f)),
            };
            if let Err(f) = verify::check_segment(&t, &data, s, &before, &after, self.config.tolerance) {
                return Ok(Err(f));
            }
        }
        Ok(Ok(()))
    }

    /// Re-runs the challenged segments of a step graph from the committed checkpoint before each
    /// and compares with the one after it; checks the initial state and the marks on the way.
    async fn check_steps(
        &self,
        engine: Arc<OnnxEngine>,
        t: gpufuel_core::task::onnx::OnnxStepsTask,
        manifest: &ResultManifest,
        keys: &verify::Keys,
        seed: &Hash,
    ) -> Result<Result<(), Failure>, AgentError> {
        if let Err(f) = verify::check_steps_layout(&t, manifest) {
            return Ok(Err(f));
        }
        let picked = match verify::challenged_steps(&t, seed) {
            Ok(p) => p,
            Err(f) => return Ok(Err(f)),
        };
        let store = self.store.as_ref();
        let (model, inputs) = fetch_onnx(store, &t.model, t.fed()).await?;
        let init = crate::executor::onnx::initial_state(&t, &inputs)?;
        let states = t.state.len();
        let open = |i: u32| {
            let (t, init) = (&t, &init);
            async move {
                let mut files = Vec::with_capacity(states);
                for k in 0..states {
                    files.push(store.get(&manifest.checkpoints[t.checkpoint_file(i, k)]).await?);
                }
                Ok::<_, AgentError>(verify::open_state(t, i, &files, init, keys))
            }
        };
        if let Err(f) = open(t.segments()).await? {
            return Ok(Err(f));
        }
        let mut segments = Vec::with_capacity(picked.len());
        for s in picked {
            let before = match open(s).await? {
                Ok(v) => v,
                Err(f) => return Ok(Err(f)),
            };
            let after = match open(s + 1).await? {
                Ok(v) => v,
                Err(f) => return Ok(Err(f)),
            };
            segments.push((s, before, after));
        }
        let rerun = move || -> Result<Result<(), Failure>, ExecError> {
            for (s, before, after) in segments {
                let recomputed = engine.run_segment(&t, &model, &inputs, before, s)?;
                if let Err(f) = verify::check_steps_segment(&t, s, &recomputed, &after) {
                    return Ok(Err(f));
                }
            }
            Ok(Ok(()))
        };
        Ok(tokio::task::spawn_blocking(rerun).await.map_err(|e| ExecError::Failed(e.to_string()))??)
    }

    /// Checks a node's report that the task fails for everyone by running the same part of it:
    /// upheld (a pass) when it fails here too for the task's own reasons, refuted when it runs.
    async fn check_report(&self, job: &Job, report: &InvalidReport) -> Result<Verdict, AgentError> {
        let store = self.store.as_ref();
        let upheld = |r: Result<(), AgentError>| match r {
            Ok(()) => Ok(Verdict::Fail(Failure::TaskRuns("it ran here"))),
            Err(AgentError::Task(_) | AgentError::Exec(ExecError::Model(_) | ExecError::Task(_))) => Ok(Verdict::Pass),
            Err(e) => Err(e),
        };
        let task = match fetch_task(store, job).await {
            Ok(task) => task,
            failed @ Err(_) => return upheld(failed.map(|_| ())),
        };
        match task {
            Task::Onnx(t) => {
                let Some(engine) = self.onnx_engine() else { return Ok(Verdict::Abstain) };
                if report.chunk >= t.chunks() {
                    return Ok(Verdict::Fail(Failure::TaskRuns("the reported chunk is not in the task")));
                }
                let (model, inputs) = match fetch_onnx(store, &t.model, &t.inputs).await {
                    Ok(fetched) => fetched,
                    failed @ Err(_) => return upheld(failed.map(|_| ())),
                };
                let (chunk, inputs): (_, Vec<_>) = (report.chunk, inputs.into_iter().map(Feed::whole).collect());
                let run = tokio::task::spawn_blocking(move || engine.run_chunk(&t, &model, &inputs, chunk).map(|_| ()))
                    .await
                    .map_err(|e| ExecError::Failed(e.to_string()))?;
                upheld(run.map_err(AgentError::from))
            }
            // A step graph's claim is checked on its first segment, from the initial state.
            Task::OnnxSteps(t) => {
                let Some(engine) = self.onnx_engine() else { return Ok(Verdict::Abstain) };
                let (model, inputs) = match fetch_onnx(store, &t.model, t.fed()).await {
                    Ok(fetched) => fetched,
                    failed @ Err(_) => return upheld(failed.map(|_| ())),
                };
                let run = tokio::task::spawn_blocking(move || {
                    let init = crate::executor::onnx::initial_state(&t, &inputs)?;
                    engine.run_segment(&t, &model, &inputs, init, 0).map(|_| ())
                })
                .await
                .map_err(|e| ExecError::Failed(e.to_string()))?;
                upheld(run.map_err(AgentError::from))
            }
            // A kernel may fail to compile for everyone; only a GPU validator could tell.
            Task::Kernel(_) => Ok(Verdict::Abstain),
            // Products and training run whenever their inputs have their sizes, and a product's
            // result carries its marks unless an input holds a NaN or an infinity.
            other => match fetch_whole(store, other).await {
                Ok(Work::MatMul { a, b, .. }) if a.iter().chain(&b).any(|v| !v.is_finite()) => Ok(Verdict::Pass),
                fetched => upheld(fetched.map(|_| ())),
            },
        }
    }

    fn onnx_engine(&self) -> Option<Arc<OnnxEngine>> {
        self.onnx
            .get_or_init(|| match OnnxEngine::new(self.config.onnx) {
                Ok(engine) => Some(Arc::new(engine)),
                Err(e) => {
                    tracing::warn!("abstaining on ONNX jobs: {e}");
                    None
                }
            })
            .clone()
    }

    /// Re-runs the challenged chunks of an ONNX result and compares them with the node's files.
    async fn check_onnx(
        &self,
        engine: Arc<OnnxEngine>,
        t: gpufuel_core::task::onnx::OnnxTask,
        manifest: &ResultManifest,
        keys: &verify::Keys,
        seed: &Hash,
    ) -> Result<Result<(), Failure>, AgentError> {
        if let Err(f) = verify::check_onnx_layout(&t, manifest) {
            return Ok(Err(f));
        }
        let picked = match verify::challenged_chunks(&t, seed) {
            Ok(p) => p,
            Err(f) => return Ok(Err(f)),
        };
        // Only the challenged chunks' rows of each batched input are fetched (by range), the
        // constants whole: a validator reads ~samples/chunks of the job's data.
        let store = self.store.as_ref();
        let model = fetch_model(store, &t.model).await?;
        let mut constants = Vec::with_capacity(t.inputs.len());
        for spec in &t.inputs {
            constants.push(if spec.batched { None } else { Some(store.get(&spec.data).await?) });
        }
        // Every pick's rows and files at once: each is a few small reads.
        let task = &t;
        let picks = futures_util::future::try_join_all(picked.iter().map(|&chunk| async move {
            let t = task;
            let rows = futures_util::future::try_join_all(
                t.inputs
                    .iter()
                    .filter(|s| s.batched)
                    .map(|spec| store.get_range(&spec.data, t.input_range(spec, u64::from(chunk)))),
            );
            let files = futures_util::future::try_join_all(
                (0..t.outputs.len()).map(|j| store.get(&manifest.outputs[t.output_file(u64::from(chunk), j)])),
            );
            let (rows, files) = futures_util::future::try_join(rows, files).await?;
            Ok::<_, StoreError>(Pick { chunk, rows, files })
        }))
        .await?;
        let keys = *keys;
        let rerun = move || recheck(&engine, &t, &model, &constants, &picks, &keys);
        let verdict = tokio::task::spawn_blocking(rerun).await.map_err(|e| ExecError::Failed(e.to_string()))?;
        Ok(verdict?)
    }

    /// The segments this validator re-executes: drawn from the committee seed (fixed after the
    /// commitment) and its own key, so neither the node nor the other members know them.
    fn challenge_seed(&self, job: &Address, j: &Job) -> Hash {
        let own = sha256(&[&j.committee_seed, &self.operator.pubkey().to_bytes()]);
        gpufuel_core::proof::challenge::challenge_seed(&own, &job.to_bytes(), &j.commitment)
    }
}

fn missing(e: StoreError) -> &'static str {
    tracing::info!("result file unavailable: {e}");
    match e {
        StoreError::Corrupted(_) => "a result file is corrupted in the store",
        _ => "a result file is missing from the store",
    }
}
