//! [`Client`]: a submitter's handle on a market (a chain, a store and a funded wallet), with the
//! whole job flow in a few calls: quote, submit inputs, follow, cancel, read the verified result.

use std::{path::PathBuf, sync::Arc, time::Duration};

use gpufuel_chain::{
    Chain, ChainError, GpuFuelClient, RpcChain,
    config::{CliConfig, read_keypair},
    query::{self, JobFilter},
};
use gpufuel_core::{
    matching::Requirements,
    proof::freivalds::Precision,
    quote::{Quote, QuoteRequest},
    state::Job,
    task::Task,
};
use gpufuel_store::{ContentStore, KuboStore, LocalStore, PinningService, pinning::Pin};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{
    ClientError, JobStatus, NodeStatus,
    job::{self, JobOptions, JobResult, Training},
    status,
};

/// Where [`Client::connect`] finds the cluster, the wallet and the store; unset fields come from
/// the Solana CLI config as the `gpufuel` CLI reads them.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// RPC URL or moniker (`devnet`, `localhost`, …).
    pub url: Option<String>,
    /// Keypair JSON file.
    pub keypair: Option<PathBuf>,
    /// `processed`, `confirmed` or `finalized`.
    pub commitment: Option<String>,
    /// Solana CLI config file (default `~/.config/solana/cli/config.yml`).
    pub config: Option<PathBuf>,
    /// Kubo RPC API (`http://127.0.0.1:5001`); else the embedded store in `store`.
    pub kubo: Option<String>,
    /// Directory of the embedded store (default `~/.local/share/gpufuel/store`).
    pub store: Option<PathBuf>,
    /// A pinning service (IPFS Pinning Service API base URL) to keep jobs' inputs and results;
    /// none by default ([`Client::with_pinning`]).
    pub pin_endpoint: Option<String>,
    /// The pinning service's access token.
    pub pin_token: Option<String>,
    /// The program's address (base58); default `$GPUFUEL_PROGRAM_ID`, else the `program_id` of
    /// `~/.config/gpufuel/config.yml`, else the well-known [`gpufuel_chain::PROGRAM_ID`].
    pub program_id: Option<String>,
}

/// Where GPUFuel keeps its files on this machine: `$XDG_DATA_HOME/gpufuel`, by default
/// `~/.local/share/gpufuel` (the embedded store, node journals).
pub fn data_dir() -> PathBuf {
    match std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("gpufuel"),
        None => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".local/share/gpufuel"),
    }
}

impl ConnectOptions {
    /// The RPC chain, the wallet and the store these options name.
    pub fn resolve(&self) -> Result<(RpcChain, Keypair, Arc<dyn ContentStore>), ClientError> {
        let path = self.config.clone().unwrap_or_else(CliConfig::default_path);
        let mut cfg = CliConfig::load(&path)?.resolve(self.url.as_deref(), self.commitment.as_deref())?;
        if let Some(k) = &self.keypair {
            cfg.keypair_path = k.clone();
        }
        let keypair = read_keypair(&cfg.keypair_path)?;
        let store: Arc<dyn ContentStore> = match (&self.kubo, &self.store) {
            (Some(api), _) => Arc::new(KuboStore::new(api, Duration::from_secs(30))?),
            (None, Some(dir)) => Arc::new(LocalStore::open(dir)?),
            (None, None) => Arc::new(LocalStore::open(data_dir().join("store"))?),
        };
        Ok((RpcChain::from_config(&cfg), keypair, store))
    }

    /// The pinning service these options name: both the endpoint and the token, or neither.
    pub fn pinning(&self) -> Result<Option<PinningService>, ClientError> {
        match (&self.pin_endpoint, &self.pin_token) {
            (Some(endpoint), Some(token)) => Ok(Some(PinningService::new(endpoint, token)?)),
            (None, None) => Ok(None),
            _ => Err(ClientError::InvalidArgument("a pinning service needs both its endpoint and its token".into())),
        }
    }

    /// The deployment these options name ([`gpufuel_chain::config::program_id`]).
    pub fn program_id(&self) -> Result<Address, ClientError> {
        Ok(gpufuel_chain::config::program_id(self.program_id.as_deref())?)
    }
}

/// How long a wait for a job lasts when the caller names no limit: 10 minutes.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(600);

/// A submitter's handle on a market.
pub struct Client {
    gpufuel: Arc<GpuFuelClient<Arc<dyn Chain>>>,
    store: Arc<dyn ContentStore>,
    keypair: Keypair,
    token: Address,
    pinning: Option<PinningService>,
}

impl Client {
    /// A client of `chain` and `store` paying from `token`, a GPUFuel token account of `keypair`.
    pub fn new(chain: Arc<dyn Chain>, store: Arc<dyn ContentStore>, keypair: Keypair, token: Address) -> Self {
        Self { gpufuel: Arc::new(GpuFuelClient::new(chain)), store, keypair, token, pinning: None }
    }

    /// The same client, asking `service` to keep each job's input files once the job is created,
    /// and its result files once they are verified, beyond any node's temporary store. The
    /// requests are not waited on: the service fetches the files from the network at its pace
    /// ([`PinningService::pins`] lists them, named `gpufuel <job> input|result`).
    pub fn with_pinning(self, service: PinningService) -> Self {
        Self { pinning: Some(service), ..self }
    }

    /// Asks the pinning service, if any, to keep `files` of `job`.
    async fn pin(&self, job: &Address, what: &str, files: &[gpufuel_core::cid::Cid]) -> Result<(), ClientError> {
        let Some(service) = &self.pinning else { return Ok(()) };
        let name = format!("gpufuel {job} {what}");
        for file in files {
            service.pin(&Pin::new(&gpufuel_store::from_chain(file)?, &name)).await?;
        }
        Ok(())
    }

    /// Connects to a cluster over RPC (Solana CLI conventions) with the wallet's first GPUFuel
    /// token account.
    pub async fn connect(options: ConnectOptions) -> Result<Self, ClientError> {
        let program = options.program_id()?;
        let pinning = options.pinning()?;
        let (chain, keypair, store) = options.resolve()?;
        let gpufuel = GpuFuelClient::new(Arc::new(chain) as Arc<dyn Chain>).with_program(program);
        let token = match gpufuel.token_account(&keypair.pubkey()).await {
            Err(ChainError::Account(_)) => {
                let owner = keypair.pubkey();
                return Err(ClientError::InvalidArgument(format!("the wallet {owner} has no GPUFuel token account")));
            }
            token => token?,
        };
        Ok(Self { gpufuel: Arc::new(gpufuel), store, keypair, token, pinning })
    }

    /// The chain client (every instruction and read).
    pub fn gpufuel(&self) -> &Arc<GpuFuelClient<Arc<dyn Chain>>> {
        &self.gpufuel
    }

    /// The content store inputs and results go through.
    pub fn store(&self) -> &Arc<dyn ContentStore> {
        &self.store
    }

    /// The wallet that signs and pays.
    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    /// The wallet's GPUFuel token account.
    pub fn token(&self) -> Address {
        self.token
    }

    /// The wallet's address.
    pub fn address(&self) -> Address {
        self.keypair.pubkey()
    }

    /// The wallet's GPUFuel balance, in base units.
    pub async fn balance(&self) -> Result<u64, ClientError> {
        Ok(query::token_balance(self.gpufuel.chain(), &self.token).await?)
    }

    /// Registers the wallet as a submitter, staking `stake` (default: the market's minimum),
    /// unless it already is one. A wallet must be registered before it submits.
    pub async fn register(&self, stake: Option<u64>) -> Result<(), ClientError> {
        if self.is_registered().await? {
            return Ok(());
        }
        let stake = match stake {
            Some(stake) => stake,
            None => self.gpufuel.market().await?.params.min_submitter_stake,
        };
        self.gpufuel.register_submitter(&self.keypair, &self.token, stake).await?;
        Ok(())
    }

    /// Whether the wallet is registered as a submitter.
    pub async fn is_registered(&self) -> Result<bool, ClientError> {
        let submitter = gpufuel_chain::pda::submitter(self.gpufuel.program(), &self.address());
        Ok(self.gpufuel.chain().account(&submitter).await?.is_some())
    }

    /// Reference prices per GPU class, `(class id, base units per GPU-second)`.
    pub async fn prices(&self) -> Result<Vec<(u8, u64)>, ClientError> {
        Ok(self.gpufuel.prices().await?)
    }

    /// A quote for a job with these options: the price range, the expected wait, and the escrow
    /// that submitting at `max_price = price_high` would lock.
    pub async fn quote(&self, options: &JobOptions) -> Result<(Quote, u64), ClientError> {
        let request = QuoteRequest {
            requirements: Requirements {
                gpu_class: options.gpu_class,
                gpu_count: options.gpu_count,
                min_vram_mib: options.min_vram_mib,
                min_compute_capability: options.min_compute_capability,
            },
            gpu_seconds: options.gpu_seconds,
            urgent: options.urgent,
        };
        let quote = self.gpufuel.quote(&request).await?;
        let params = self.gpufuel.market().await?.params;
        let escrow = quote
            .escrow(options.gpu_seconds, options.urgent, &params)
            .map_err(|e| ClientError::InvalidArgument(format!("escrow: {e}")))?;
        Ok((quote, escrow))
    }

    /// Submits `task` (its inputs already stored); returns the job's address.
    pub async fn submit(&self, task: &Task, options: JobOptions) -> Result<Address, ClientError> {
        if options.gpu_count == 0 || options.gpu_seconds == 0 || options.max_price == 0 {
            return Err(ClientError::InvalidArgument("gpu_count, gpu_seconds and max_price must be positive".into()));
        }
        if options.deadline_secs <= 0 {
            return Err(ClientError::InvalidArgument("deadline_secs must be positive".into()));
        }
        self.gpufuel.gpu_class(options.gpu_class).await.map_err(|_| {
            ClientError::InvalidArgument(format!("GPU class {} is not in this market", options.gpu_class))
        })?;
        // Job ids only need to be unique per submitter; a random one needs no lookup.
        let id = rand::random::<u64>();
        let (job, input) = match job::submit(
            &self.gpufuel,
            self.store.as_ref(),
            &self.keypair,
            &self.token,
            id,
            task,
            options,
        )
        .await
        {
            // The program refuses an unregistered wallet by the missing account; say what to do
            // (looked up only on failure, so a submission costs no extra read).
            Err(ClientError::Chain(_)) if !self.is_registered().await.unwrap_or(true) => {
                return Err(ClientError::NotRegistered(self.address()));
            }
            result => result?,
        };
        if self.pinning.is_some() {
            self.pin(&job, "input", &[&[input][..], &task.files()].concat()).await?;
        }
        Ok(job)
    }

    /// Stores `a` (`m×k`) and `b` (`k×n`, row-major) and submits their product, delivered in
    /// `output`'s format.
    pub async fn submit_matmul(
        &self,
        (m, k, n): (u32, u32, u32),
        a: &[f32],
        b: &[f32],
        output: Precision,
        options: JobOptions,
    ) -> Result<Address, ClientError> {
        let task = job::matmul_task(self.store.as_ref(), (m, k, n), a, b, output).await?;
        self.submit(&task, options).await
    }

    /// Stores the training data (`x`: `rows×inputs`, `y`: `rows`) and initial parameters of an
    /// MLP and submits its training.
    pub async fn submit_training(
        &self,
        training: Training,
        x: &[f32],
        y: &[f32],
        init: &[f32],
        options: JobOptions,
    ) -> Result<Address, ClientError> {
        let task = job::iterative_task(self.store.as_ref(), training, x, y, init).await?;
        self.submit(&task, options).await
    }

    /// Checks an ONNX job against its model, stores the model and inputs, and submits it.
    /// Nothing is stored or escrowed when the job is refused.
    pub async fn submit_onnx(&self, job: crate::OnnxJob, options: JobOptions) -> Result<Address, ClientError> {
        let task = job.task(self.store.as_ref()).await?;
        self.submit(&task, options).await
    }

    /// Checks a step-graph job against its model, stores the model and inputs, and submits it.
    pub async fn submit_onnx_steps(
        &self,
        job: crate::OnnxStepsJob,
        options: JobOptions,
    ) -> Result<Address, ClientError> {
        let task = job.task(self.store.as_ref()).await?;
        self.submit(&task, options).await
    }

    /// A job's status.
    pub async fn status(&self, job: &Address) -> Result<JobStatus, ClientError> {
        Ok(JobStatus::of(*job, &self.gpufuel.job(job).await?)?)
    }

    /// Jobs on the market, newest deadline first; only this wallet's with `mine`.
    pub async fn jobs(&self, mine: bool) -> Result<Vec<JobStatus>, ClientError> {
        let filters = if mine { vec![JobFilter::Submitter(self.address())] } else { vec![] };
        let jobs = self.gpufuel.jobs(&filters).await?;
        let mut jobs = jobs.iter().map(|(a, j)| JobStatus::of(*a, j)).collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| std::cmp::Reverse(j.deadline));
        Ok(jobs)
    }

    /// Nodes on the market.
    pub async fn nodes(&self) -> Result<Vec<NodeStatus>, ClientError> {
        let nodes = self.gpufuel.nodes(None).await?;
        Ok(nodes.iter().map(|(a, n)| NodeStatus::of(*a, n)).collect())
    }

    /// Cancels an open job; the escrow returns.
    pub async fn cancel(&self, job: &Address) -> Result<(), ClientError> {
        self.gpufuel.cancel(&self.keypair, job, &self.token).await?;
        Ok(())
    }

    /// Waits until the job is settled, slashed, cancelled or expired (a `TIMEOUT` error after
    /// `timeout`).
    pub async fn wait(&self, job: &Address, timeout: Duration) -> Result<JobStatus, ClientError> {
        let done = |j: &Job| status::state(job, j).is_ok_and(|s| s.is_terminal());
        let j = self.gpufuel.wait_for_job(job, done, timeout).await?;
        Ok(JobStatus::of(*job, &j)?)
    }

    /// Waits for the job and reads its verified result, and pins its files in this client's
    /// store (and at the pinning service, if any); a job that ends otherwise than settled is a
    /// `NOT_SETTLED` error naming how it ended.
    pub async fn result(&self, job: &Address, timeout: Duration) -> Result<JobResult, ClientError> {
        self.wait(job, timeout).await?;
        let (result, files) = job::result_and_files(&self.gpufuel, self.store.as_ref(), job).await?;
        // Kept in this client's store too: the node that served it lets it go after a while.
        for file in &files {
            self.store.pin(&gpufuel_store::from_chain(file)?).await?;
        }
        if self.pinning.is_some() {
            self.pin(job, "result", &files).await?;
        }
        Ok(result)
    }
}
