//! The validator agent: checks every submitted result it has not voted on (by the workload's
//! method), attests, settles decided jobs and expires overdue ones. A result whose files cannot
//! be fetched from the store counts as invalid: keeping them available is the node's duty.

use std::sync::Arc;

use gpufuel_chain::{Chain, GpuFuelClient, pda, query::JobFilter};
use gpufuel_core::{
    proof::{Hash, challenge::Tolerance, freivalds, sha256},
    settlement,
    state::{Job, JobState, VOTE_FAIL, Validator, Workload},
    task::{
        ResultManifest, Task,
        verify::{self, Failure},
    },
};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use gpufuel_store::{ContentStore, StoreError};

use super::{AgentError, fetch_f32s, fetch_task, fetch_work, keys};
use crate::executor::{Executor, Output, RunContext};

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
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            stake: 5_000_000,
            freivalds_rounds: freivalds::DEFAULT_ROUNDS,
            tolerance: Tolerance::default(),
            executor: None,
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
    /// Votes cast: (job, verdict).
    pub votes: Vec<(Address, Verdict)>,
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
    index: u32,
    config: ValidatorConfig,
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
        let account = pda::validator(&operator.pubkey());
        if client.chain().account(&account).await?.is_none() {
            client.register_validator(&operator, token, config.stake).await?;
        }
        let index = gpufuel_chain::query::account::<Validator, _>(client.chain(), &account).await?.index;
        Ok(Self { client, store, operator, index, config })
    }

    /// The operator's wallet.
    pub fn operator(&self) -> Address {
        self.operator.pubkey()
    }

    /// One pass: vote on new results, settle decided jobs, expire overdue ones.
    pub async fn tick(&self) -> Result<ValidatorTick, AgentError> {
        let mut out = ValidatorTick::default();
        let now = self.client.chain().unix_time().await?;
        let params = self.client.market().await?.params;
        for (address, job) in self.client.jobs(&[JobFilter::State(JobState::Submitted)]).await? {
            let voted = job.voters.iter().any(|&v| v & !VOTE_FAIL == self.index);
            let elapsed = now >= job.submitted_at.saturating_add(params.challenge_window_secs as i64);
            if !voted && !elapsed && job.node != pda::node(&self.operator.pubkey()).to_bytes() {
                let verdict = self.verify(&address, &job).await?;
                if verdict != Verdict::Abstain {
                    let pass = verdict == Verdict::Pass;
                    match self.client.attest(&self.operator, &address, pass).await {
                        Ok(_) => out.votes.push((address, verdict)),
                        Err(e) => tracing::debug!(job = %address, "vote refused: {e}"),
                    }
                }
            }
            let job = self.client.job(&address).await?;
            if job.state == JobState::Submitted as u8
                && settlement::outcome(job.votes_pass, job.votes_fail, params.quorum, elapsed).is_some()
                && self.client.settle(&self.operator, &address).await.is_ok()
            {
                out.settled += 1;
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
        let manifest = ResultManifest::decode(&store.get(&job.result_cid).await?)?;
        if let Err(f) = verify::check_commitment(&manifest, &job.commitment) {
            return Ok(Verdict::Fail(f));
        }
        let keys = keys(address, job);
        // Fixed after the commitment: the latest blockhash, observed now, after the submission.
        let seed = self.challenge_seed(address, &job.commitment).await?;
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
                    .map_err(|e| crate::executor::ExecError::Failed(e.to_string()))?
            }
            Task::Iterative(t) => self.check_iterative(t, &manifest, &keys, &seed).await?,
            Task::Kernel(t) => {
                let Some(executor) =
                    self.config.executor.clone().filter(|e| e.capabilities().workloads.contains(&Workload::Kernel))
                else {
                    return Ok(Verdict::Abstain);
                };
                let work = fetch_work(store, Task::Kernel(t)).await?;
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

    async fn challenge_seed(&self, job: &Address, commitment: &Hash) -> Result<Hash, AgentError> {
        let (blockhash, _) = self.client.chain().latest_blockhash().await?;
        let own = sha256(&[&blockhash.to_bytes(), &self.operator.pubkey().to_bytes()]);
        Ok(gpufuel_core::proof::challenge::challenge_seed(&own, &job.to_bytes(), commitment))
    }
}

fn missing(e: StoreError) -> &'static str {
    tracing::info!("result file unavailable: {e}");
    match e {
        StoreError::Corrupted(_) => "a result file is corrupted in the store",
        _ => "a result file is missing from the store",
    }
}
