//! [`LocalNetwork`]: the market, its agents and simulated time.

use std::{path::PathBuf, sync::Arc, time::Duration};

use gpufuel_chain::{GpuFuelClient, LocalChain, local::Wallet, pda};
use gpufuel_core::{
    class::GPU_CLASSES,
    instruction::GpuClassArgs,
    quote::PricingStrategy,
    state::{JobState, MarketParams},
    task::Task,
};
use gpufuel_exec::{
    agent::{Alerts, Behaviour, NodeAgent, NodeConfig, ValidatorAgent, ValidatorConfig},
    executor::{CpuExecutor, CudaExecutor, Executor},
};
use gpufuel_sdk::{Client, JobOptions, job};
use gpufuel_store::{ContentStore, LocalStore, PinningService};
use solana_address::Address;

use crate::NetworkError;

/// Told how far each job has got, `0.0..=1.0`.
pub type JobProgress = Arc<dyn Fn(Address, f32) + Send + Sync>;

/// What to start. The defaults are the network's, for the bindings and the CLI.
#[derive(Clone)]
pub struct LocalNetworkConfig {
    /// Honest CPU node agents (default 3).
    pub nodes: usize,
    /// Validator agents (default 3).
    pub validators: usize,
    /// One extra node per entry, behaving so (default none).
    pub dishonest: Vec<Behaviour>,
    /// Also run a node on the GPU when one is found (default no: the network is the same on
    /// every machine).
    pub use_gpu: bool,
    /// The market's parameters (default [`MarketParams::default`]).
    pub params: MarketParams,
    /// Chain seconds per step (default 5).
    pub step_secs: i64,
    /// Where the store and the journals live (default: a temporary directory).
    pub dir: Option<PathBuf>,
    /// Tokens each participant starts with (default 100,000,000).
    pub tokens: u64,
    /// Told how far each job has got.
    pub progress: Option<JobProgress>,
    /// A pinning service the nodes keep their submitted results on until settlement (default
    /// none).
    pub pinning: Option<PinningService>,
    /// How long nodes keep their results pinned in the store after their jobs end, in chain time
    /// (default [`NodeConfig`]'s).
    pub retention: Duration,
    /// A webhook every node alerts when it is slashed, misses a deadline or runs low on SOL
    /// (default none).
    pub alerts: Option<Alerts>,
}

impl Default for LocalNetworkConfig {
    fn default() -> Self {
        Self {
            nodes: 3,
            validators: 3,
            dishonest: vec![],
            use_gpu: false,
            params: MarketParams::default(),
            step_secs: 5,
            dir: None,
            tokens: 100_000_000,
            progress: None,
            pinning: None,
            retention: NodeConfig::default().retention,
            alerts: None,
        }
    }
}

/// A node in the network: its wallet, and its agent while it runs.
pub struct LocalNode {
    /// The operator's wallet.
    pub wallet: Wallet,
    /// How it treats the work it wins.
    pub behaviour: Behaviour,
    /// What it runs the work on.
    pub executor: Arc<dyn Executor>,
    /// Its agent, while it runs.
    pub agent: Option<Arc<NodeAgent<LocalChain>>>,
    config: NodeConfig,
}

impl LocalNode {
    /// The file where this node journals the checkpoint CIDs of `job`.
    pub fn journal(&self, job: &Address) -> PathBuf {
        self.config.journal.clone().unwrap_or_default().join(job.to_string())
    }

    /// Replaces the progress callback (takes effect when the agent is next started).
    pub fn set_progress(&mut self, progress: JobProgress) {
        self.config.progress = Some(progress);
    }
}

/// A whole market in one process: the embedded chain (LiteSVM with the real program and SPL
/// Token), the embedded store, node agents (CPU, plus the GPU where one is found and asked for) and
/// validators, driven in steps of simulated time. Backs the `gpufuel local` demo, the bindings'
/// local mode ([`crate::RunningNetwork`]) and the end-to-end tests.
pub struct LocalNetwork {
    /// The embedded chain.
    pub chain: LocalChain,
    /// Every instruction on it.
    pub client: Arc<GpuFuelClient<LocalChain>>,
    /// The embedded store every participant shares.
    pub store: Arc<LocalStore>,
    /// The nodes, honest and dishonest.
    pub nodes: Vec<LocalNode>,
    /// The validators' agents.
    pub validators: Vec<ValidatorAgent<LocalChain>>,
    /// Validators skip their ticks while set (to test the challenge window).
    pub validators_silent: bool,
    /// Every token account the network created, for the conservation check.
    accounts: std::sync::Mutex<Vec<Address>>,
    dir: PathBuf,
    step_secs: i64,
    pinning: Option<PinningService>,
    retention: Duration,
    alerts: Option<Alerts>,
    /// Tokens each new participant gets.
    tokens: u64,
    /// Why no GPU node runs, when `use_gpu` was asked.
    pub gpu_note: Option<String>,
    next_job_id: std::sync::atomic::AtomicU64,
    _tmp: Option<tempfile::TempDir>,
}

/// What the network's submitters stake.
const SUBMITTER_STAKE: u64 = 1_000_000;
/// Validators the network's validator set holds.
const VALIDATOR_CAPACITY: u32 = 256;
/// The longest a step waits for a node's run to end before every party ticks again.
const RUNNING_STEP: Duration = Duration::from_millis(250);

impl LocalNetwork {
    /// Starts the chain and the store, creates the market and its GPU classes, and registers the
    /// nodes and validators.
    pub async fn start(config: LocalNetworkConfig) -> Result<Self, NetworkError> {
        let (dir, tmp) = match &config.dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::tempdir().map_err(|e| NetworkError::Config(e.to_string()))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let store = Arc::new(LocalStore::open(dir.join("store"))?);
        let chain = LocalChain::new()?;
        let client = Arc::new(GpuFuelClient::new(chain.clone()));
        // The market's authority is the program's upgrade authority: no one else can create it.
        let authority = chain.admin();
        client.init_market(&authority, &chain.mint(), config.params, VALIDATOR_CAPACITY).await?;
        for &(class_id, _) in GPU_CLASSES {
            client.add_gpu_class(&authority, GpuClassArgs { class_id, ref_price: 100, min_price: 1 }).await?;
        }
        let vault = pda::vault(client.program());
        let mut net = Self {
            chain,
            client,
            store,
            nodes: vec![],
            validators: vec![],
            validators_silent: false,
            accounts: std::sync::Mutex::new(vec![vault]),
            dir,
            step_secs: config.step_secs,
            pinning: config.pinning.clone(),
            retention: config.retention,
            alerts: config.alerts.clone(),
            tokens: config.tokens,
            gpu_note: None,
            next_job_id: 1.into(),
            _tmp: tmp,
        };
        let cpu: Arc<dyn Executor> = Arc::new(CpuExecutor::new());
        let mut executors: Vec<(Arc<dyn Executor>, Behaviour)> = vec![(cpu.clone(), Behaviour::Honest); config.nodes];
        executors.extend(config.dishonest.iter().map(|&b| (cpu.clone(), b)));
        if config.use_gpu {
            match CudaExecutor::new(0) {
                Ok(gpu) => executors.push((Arc::new(gpu), Behaviour::Honest)),
                Err(e) => net.gpu_note = Some(format!("no GPU node: {e}")),
            }
        }
        for (executor, behaviour) in executors {
            net.add_node(executor, behaviour, config.progress.clone()).await?;
        }
        for _ in 0..config.validators {
            let wallet = net.wallet(config.tokens)?;
            let v = ValidatorAgent::start(
                net.client.clone(),
                net.store.clone(),
                wallet.keypair.insecure_clone(),
                &wallet.token,
                ValidatorConfig::default(),
            )
            .await?;
            net.validators.push(v);
        }
        // The validators bond, then activate themselves on their first tick.
        net.chain.advance(config.params.validator_bonding_secs as i64);
        Ok(net)
    }

    fn wallet(&self, tokens: u64) -> Result<Wallet, NetworkError> {
        let w = self.chain.wallet(tokens)?;
        self.accounts.lock().expect("accounts lock").push(w.token);
        Ok(w)
    }

    /// A funded, registered submitter.
    pub async fn submitter(&self, tokens: u64) -> Result<Wallet, NetworkError> {
        let w = self.wallet(tokens)?;
        self.client.register_submitter(&w.keypair, &w.token, SUBMITTER_STAKE).await?;
        Ok(w)
    }

    /// A [`Client`] of this network for a new funded, registered submitter.
    pub async fn client(&self, tokens: u64) -> Result<Client, NetworkError> {
        let w = self.submitter(tokens).await?;
        Ok(Client::new(Arc::new(self.chain.clone()), self.store.clone(), w.keypair, w.token))
    }

    /// A [`Client`] for a new funded wallet that is not yet a submitter (as a fresh wallet on a
    /// cluster): it must [`Client::register`] before it submits.
    pub fn wallet_client(&self, tokens: u64) -> Result<Client, NetworkError> {
        let w = self.wallet(tokens)?;
        Ok(Client::new(Arc::new(self.chain.clone()), self.store.clone(), w.keypair, w.token))
    }

    /// Adds a node running `executor` with a funded wallet, registers and starts its agent;
    /// returns its index. Prices spread so nodes compete; a cheater undercuts most honest
    /// nodes to win work.
    pub async fn add_node(
        &mut self,
        executor: Arc<dyn Executor>,
        behaviour: Behaviour,
        progress: Option<JobProgress>,
    ) -> Result<usize, NetworkError> {
        let i = self.nodes.len();
        let wallet = self.wallet(self.tokens)?;
        let bps = if behaviour == Behaviour::Honest { -300 * (i as i32 % 4) } else { -800 };
        let config = NodeConfig {
            pricing: PricingStrategy::Relative { bps },
            price_floor: 20 + 5 * i as u64,
            heartbeat_secs: 60,
            behaviour,
            journal: Some(self.dir.join("journal").join(wallet.address().to_string())),
            progress,
            pinning: self.pinning.clone(),
            retention: self.retention,
            alerts: self.alerts.clone(),
            ..NodeConfig::default()
        };
        self.nodes.push(LocalNode { wallet, behaviour, executor, agent: None, config });
        self.start_node(i).await?;
        Ok(i)
    }

    /// Starts (or restarts) node `i`'s agent; a restarted agent resumes from chain state and its
    /// journal.
    pub async fn start_node(&mut self, i: usize) -> Result<(), NetworkError> {
        let node = self.nodes.get_mut(i).ok_or_else(|| NetworkError::Config(format!("no node {i}")))?;
        let agent = NodeAgent::start(
            self.client.clone(),
            self.store.clone() as Arc<dyn ContentStore>,
            node.executor.clone(),
            node.wallet.keypair.insecure_clone(),
            &node.wallet.token,
            node.config.clone(),
        )
        .await?;
        node.agent = Some(Arc::new(agent));
        Ok(())
    }

    /// Stops node `i`'s agent as a crash would: its runs are abandoned mid-way.
    pub fn kill_node(&mut self, i: usize) {
        if let Some(agent) = self.nodes.get_mut(i).and_then(|node| node.agent.take()) {
            agent.abort();
        }
    }

    /// Stores `task` and creates a job for it; returns the job's address.
    pub async fn submit(&self, submitter: &Wallet, task: &Task, options: JobOptions) -> Result<Address, NetworkError> {
        let id = self.next_job_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (job, _) =
            job::submit(&self.client, self.store.as_ref(), &submitter.keypair, &submitter.token, id, task, options)
                .await?;
        Ok(job)
    }

    /// One step: every running agent ticks, then the clock moves on, unless a node is still
    /// computing (simulated time waits for real work).
    pub async fn step(&self) -> Result<(), NetworkError> {
        for agent in self.nodes.iter().filter_map(|n| n.agent.as_ref()) {
            if let Err(e) = agent.tick().await {
                tracing::warn!(node = %agent.node(), "node tick failed: {e}");
            }
        }
        if !self.validators_silent {
            for v in &self.validators {
                if let Err(e) = v.tick().await {
                    tracing::warn!(validator = %v.operator(), "validator tick failed: {e}");
                }
            }
        }
        let running: Vec<_> = self.nodes.iter().filter_map(|n| n.agent.as_ref()).filter(|a| a.running() > 0).collect();
        if !running.is_empty() {
            // Until a run ends, or a while for the other parties' work: ticking every party
            // every few milliseconds would take the cores the runs need (real agents poll every
            // few seconds).
            let ended = futures_util::future::select_all(running.iter().map(|a| Box::pin(a.run_ended())));
            let _ = tokio::time::timeout(RUNNING_STEP, ended).await;
        } else {
            self.chain.advance(self.step_secs);
        }
        Ok(())
    }

    /// Steps until every job in `jobs` is settled, slashed, unresolved, cancelled or expired.
    pub async fn run_until_done(&self, jobs: &[Address], max_steps: usize) -> Result<(), NetworkError> {
        for _ in 0..max_steps {
            if self.all_done(jobs).await? {
                return Ok(());
            }
            self.step().await?;
        }
        if self.all_done(jobs).await? { Ok(()) } else { Err(NetworkError::Stalled(max_steps)) }
    }

    async fn all_done(&self, jobs: &[Address]) -> Result<bool, NetworkError> {
        for j in jobs {
            if !self.client.job(j).await?.job_state().is_ok_and(JobState::is_terminal) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Tokens held by every account the network created (wallets and the market vault, which
    /// holds every stake, escrow, reward and fee pool).
    pub fn tokens_held(&self) -> u64 {
        self.accounts.lock().expect("accounts lock").iter().map(|a| self.chain.balance(a)).sum()
    }
}
