//! A whole market in one process: the embedded chain, the embedded store, node agents (CPU, plus
//! the GPU where one is found) and validators, driven in steps of simulated time. Backs the
//! `gpufuel local` demo, the bindings' local mode and the end-to-end tests.

use std::{path::PathBuf, sync::Arc, time::Duration};

use gpufuel_chain::{ChainError, GpuFuelClient, LocalChain, local::Wallet, market::default_params, pda};
use gpufuel_core::{
    instruction::GpuClassArgs,
    quote::PricingStrategy,
    state::{JobState, MarketParams},
    task::Task,
};
use solana_address::Address;

use crate::{
    agent::{AgentError, Behaviour, NodeAgent, NodeConfig, ValidatorAgent, ValidatorConfig},
    client::Client,
    executor::{CpuExecutor, CudaExecutor, Executor, GPU_CLASSES},
    job::{self, JobOptions},
    store::{ContentStore, LocalStore},
};

/// Why the local network failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("{0}")]
    Config(String),
    #[error("jobs still unfinished after {0} steps")]
    Stalled(usize),
}

/// What to start.
#[derive(Clone)]
pub struct LocalNetworkConfig {
    /// Honest CPU node agents.
    pub nodes: usize,
    pub validators: usize,
    /// One extra node per entry, behaving so.
    pub dishonest: Vec<Behaviour>,
    /// Also run a node on the GPU when one is found.
    pub use_gpu: bool,
    pub params: MarketParams,
    /// Chain seconds per step.
    pub step_secs: i64,
    /// Where the store and the journals live (a temporary directory if `None`).
    pub dir: Option<PathBuf>,
    /// Tokens each participant starts with.
    pub tokens: u64,
    /// Told how far each job has got.
    pub progress: Option<Arc<dyn Fn(Address, f32) + Send + Sync>>,
}

impl Default for LocalNetworkConfig {
    fn default() -> Self {
        Self {
            nodes: 3,
            validators: 3,
            dishonest: vec![],
            use_gpu: true,
            params: default_params(),
            step_secs: 5,
            dir: None,
            tokens: 100_000_000,
            progress: None,
        }
    }
}

/// A node in the network: its wallet, and its agent while it runs.
pub struct LocalNode {
    pub wallet: Wallet,
    pub behaviour: Behaviour,
    pub executor: Arc<dyn Executor>,
    pub agent: Option<Arc<NodeAgent<LocalChain>>>,
    config: NodeConfig,
}

impl LocalNode {
    /// The file where this node journals the checkpoint CIDs of `job`.
    pub fn journal(&self, job: &Address) -> PathBuf {
        self.config.journal.clone().unwrap_or_default().join(job.to_string())
    }

    /// Replaces the progress callback (takes effect when the agent is next started).
    pub fn set_progress(&mut self, progress: Arc<dyn Fn(Address, f32) + Send + Sync>) {
        self.config.progress = Some(progress);
    }
}

/// The network.
pub struct LocalNetwork {
    pub chain: LocalChain,
    pub client: Arc<GpuFuelClient<LocalChain>>,
    pub store: Arc<LocalStore>,
    pub nodes: Vec<LocalNode>,
    pub validators: Vec<ValidatorAgent<LocalChain>>,
    /// Validators skip their ticks while set (to test the challenge window).
    pub validators_silent: bool,
    /// Every token account the network created, for the conservation check.
    accounts: std::sync::Mutex<Vec<Address>>,
    dir: PathBuf,
    step_secs: i64,
    /// Why no GPU node runs, when `use_gpu` was asked.
    pub gpu_note: Option<String>,
    next_job_id: std::sync::atomic::AtomicU64,
    _tmp: Option<tempfile::TempDir>,
}

const NODE_STAKE: u64 = 10_000_000;
const VALIDATOR_STAKE: u64 = 5_000_000;
const SUBMITTER_STAKE: u64 = 1_000_000;

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
        let store = Arc::new(LocalStore::open(dir.join("store")).map_err(AgentError::from)?);
        let chain = LocalChain::new()?;
        let client = Arc::new(GpuFuelClient::new(chain.clone()));
        let authority = chain.wallet(0)?;
        let treasury = chain.token_account(&authority.keypair, &authority.address())?;
        client.init_market(&authority.keypair, &chain.mint(), &treasury, config.params).await?;
        for &(class_id, _) in GPU_CLASSES {
            client.add_gpu_class(&authority.keypair, GpuClassArgs { class_id, ref_price: 100, min_price: 1 }).await?;
        }
        let mut net = Self {
            chain,
            client,
            store,
            nodes: vec![],
            validators: vec![],
            validators_silent: false,
            accounts: std::sync::Mutex::new(vec![treasury, pda::vault()]),
            dir,
            step_secs: config.step_secs,
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
            net.add_node(executor, behaviour, config.tokens, config.progress.clone()).await?;
        }
        for _ in 0..config.validators {
            let wallet = net.wallet(config.tokens)?;
            let v = ValidatorAgent::start(
                net.client.clone(),
                net.store.clone(),
                wallet.keypair.insecure_clone(),
                &wallet.token,
                VALIDATOR_STAKE,
                ValidatorConfig::default(),
            )
            .await?;
            net.validators.push(v);
        }
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
        tokens: u64,
        progress: Option<Arc<dyn Fn(Address, f32) + Send + Sync>>,
    ) -> Result<usize, NetworkError> {
        let i = self.nodes.len();
        let wallet = self.wallet(tokens)?;
        let bps = if behaviour == Behaviour::Honest { -300 * (i as i32 % 4) } else { -800 };
        let config = NodeConfig {
            pricing: PricingStrategy::Relative { bps },
            price_floor: 20 + 5 * i as u64,
            heartbeat_secs: 60,
            behaviour,
            journal: Some(self.dir.join("journal").join(wallet.address().to_string())),
            progress,
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
            NODE_STAKE,
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
        Ok(job::submit(&self.client, self.store.as_ref(), &submitter.keypair, &submitter.token, id, task, options)
            .await?)
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
        if self.nodes.iter().filter_map(|n| n.agent.as_ref()).any(|a| a.running() > 0) {
            tokio::time::sleep(Duration::from_millis(25)).await;
        } else {
            self.chain.advance(self.step_secs);
        }
        Ok(())
    }

    /// Steps until every job in `jobs` is settled, slashed, cancelled or expired.
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
            if !JobState::from_u8(self.client.job(j).await?.state).is_some_and(JobState::is_terminal) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Tokens held by every account the network created (wallets, treasury, the market vault).
    pub fn tokens_held(&self) -> u64 {
        self.accounts.lock().expect("accounts lock").iter().map(|a| self.chain.balance(a)).sum()
    }

    /// Steps `network` in the background, pausing `pause` between steps, until the returned
    /// handle is dropped: the network then runs by itself, as the bindings' local mode wants.
    pub fn drive(network: Arc<tokio::sync::RwLock<Self>>, pause: Duration) -> Driver {
        Driver(tokio::spawn(async move {
            loop {
                if let Err(e) = network.read().await.step().await {
                    tracing::warn!("step failed: {e}");
                }
                tokio::time::sleep(pause).await;
            }
        }))
    }
}

/// Stops the background stepping of [`LocalNetwork::drive`] when dropped.
pub struct Driver(tokio::task::JoinHandle<()>);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}
