//! The commands that talk to a cluster through RPC: node and validator agents, jobs, prices.

use std::{path::PathBuf, sync::Arc, time::Duration};

use gpufuel_chain::{GpuFuelClient, RpcChain};
use gpufuel_core::quote::PricingStrategy;
use gpufuel_exec::{
    agent::{AgentError, NodeAgent, NodeConfig, ValidatorAgent, ValidatorConfig},
    client::{Client, ClientError, ConnectOptions, token_account},
    executor::{self, CpuExecutor, CudaExecutor, Executor, class_name},
    job::{JobOptions, JobResult},
    store::ContentStore,
};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::CliResult;

/// The cluster, the wallet and the store the command works with.
pub struct Env {
    client: Arc<GpuFuelClient<RpcChain>>,
    keypair: Keypair,
    store: Arc<dyn ContentStore>,
}

impl Env {
    pub fn new(options: &ConnectOptions) -> Result<Self, AgentError> {
        let (chain, keypair, store) = options.resolve()?;
        Ok(Self { client: Arc::new(GpuFuelClient::new(chain)), keypair, store })
    }

    async fn token(&self) -> Result<Address, ClientError> {
        token_account(&self.client, &self.keypair.pubkey()).await
    }
}

#[derive(clap::Subcommand)]
pub enum NodeCommand {
    /// Register (if needed) and run the agent until interrupted.
    Run {
        /// Tokens to stake when registering.
        #[arg(long, default_value_t = 10_000_000)]
        stake: u64,
        /// Lowest price accepted, base units per GPU-second.
        #[arg(long, default_value_t = 10)]
        floor: u64,
        /// floor, reference, or basis points relative to the reference price.
        #[arg(long, default_value = "reference")]
        pricing: PricingStrategy,
        /// Seconds between passes.
        #[arg(long, default_value_t = 2)]
        poll: u64,
        /// Use the CPU even where a GPU is found.
        #[arg(long)]
        cpu: bool,
    },
}

pub async fn node(env: &Env, command: NodeCommand) -> CliResult {
    let NodeCommand::Run { stake, floor, pricing, poll, cpu } = command;
    let executor: Arc<dyn Executor> = match (cpu, CudaExecutor::new(0)) {
        (false, Ok(gpu)) => Arc::new(gpu),
        (false, Err(e)) => {
            eprintln!("no GPU ({e}): running on the CPU");
            Arc::new(CpuExecutor::new())
        }
        (true, _) => Arc::new(CpuExecutor::new()),
    };
    let caps = executor.capabilities().clone();
    println!("node {} on {} (class {})", env.keypair.pubkey(), caps.device, class_name(caps.spec.gpu_class));
    let config = NodeConfig { pricing, price_floor: floor, ..NodeConfig::default() };
    let token = env.token().await?;
    let agent = Arc::new(
        NodeAgent::start(
            env.client.clone(),
            env.store.clone(),
            executor,
            env.keypair.insecure_clone(),
            &token,
            stake,
            config,
        )
        .await?,
    );
    every(poll, async || agent.tick().await).await;
    agent.abort();
    Ok(())
}

/// Runs an agent's pass every `poll` seconds, printing what each did, until Ctrl-C.
async fn every<T: std::fmt::Debug + Default + PartialEq>(
    poll: u64,
    mut pass: impl AsyncFnMut() -> Result<T, AgentError>,
) {
    loop {
        match pass().await {
            Ok(t) if t != T::default() => println!("{t:?}"),
            Ok(_) => {}
            Err(e) => eprintln!("pass failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(poll)) => {}
            _ = tokio::signal::ctrl_c() => return,
        }
    }
}

#[derive(clap::Subcommand)]
pub enum ValidatorCommand {
    /// Register (if needed) and run the agent until interrupted.
    Run {
        #[arg(long, default_value_t = 5_000_000)]
        stake: u64,
        #[arg(long, default_value_t = 2)]
        poll: u64,
    },
}

pub async fn validator(env: &Env, command: ValidatorCommand) -> CliResult {
    let ValidatorCommand::Run { stake, poll } = command;
    let token = env.token().await?;
    let config = ValidatorConfig {
        executor: CudaExecutor::new(0).ok().map(|g| Arc::new(g) as Arc<dyn Executor>),
        ..ValidatorConfig::default()
    };
    let agent = ValidatorAgent::start(
        env.client.clone(),
        env.store.clone(),
        env.keypair.insecure_clone(),
        &token,
        stake,
        config,
    )
    .await?;
    println!("validator {}", env.keypair.pubkey());
    every(poll, async || agent.tick().await).await;
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum JobCommand {
    /// Register the wallet as a submitter (once, before its first job).
    Register {
        /// Tokens to stake; the market's minimum when absent.
        #[arg(long)]
        stake: Option<u64>,
    },
    /// Submit a matrix product of two raw little-endian f32 files (A is m×k, B is k×n).
    Submit {
        #[arg(long)]
        m: u32,
        #[arg(long)]
        k: u32,
        #[arg(long)]
        n: u32,
        #[arg(long)]
        a: PathBuf,
        #[arg(long)]
        b: PathBuf,
        /// GPU class, by id or name (cpu, rtx-4090, a100, h100, h200, other).
        #[arg(long, default_value = "cpu", value_parser = executor::class_id)]
        class: u8,
        #[arg(long, default_value_t = 1_000)]
        max_price: u64,
        #[arg(long, default_value_t = 10)]
        gpu_seconds: u32,
        #[arg(long, default_value_t = 3_600)]
        deadline_secs: i64,
        #[arg(long)]
        urgent: bool,
    },
    /// Show a job.
    Status { job: Address },
    /// Cancel an open job (the escrow returns).
    Cancel { job: Address },
    /// Wait for a job to settle and write its verified result (raw little-endian f32) to a file.
    Result {
        job: Address,
        out: PathBuf,
        /// Seconds to wait for the job to end.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

fn f32_file(path: &PathBuf) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % 4 != 0 {
        return Err(format!("{}: {} bytes is not a whole number of f32 values", path.display(), bytes.len()).into());
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
}

pub async fn job(client: Client, command: JobCommand) -> CliResult {
    match command {
        JobCommand::Register { stake } => {
            client.register(stake).await?;
            println!("{} is a submitter", client.address());
        }
        JobCommand::Submit { m, k, n, a, b, class, max_price, gpu_seconds, deadline_secs, urgent } => {
            let options =
                JobOptions { gpu_class: class, max_price, gpu_seconds, deadline_secs, urgent, ..JobOptions::default() };
            let job = client.submit_matmul((m, k, n), &f32_file(&a)?, &f32_file(&b)?, false, options).await?;
            println!("{job}");
        }
        JobCommand::Status { job } => {
            let j = client.status(&job).await?;
            println!(
                "state {:?}  class {}  price {}/s  escrow {}  votes {}/{}  deadline {}",
                j.state, j.class_name, j.price, j.escrow, j.votes_pass, j.votes_fail, j.deadline
            );
        }
        JobCommand::Cancel { job } => {
            client.cancel(&job).await?;
            println!("cancelled {job}");
        }
        JobCommand::Result { job, out, timeout } => match client.result(&job, Duration::from_secs(timeout)).await? {
            JobResult::Tensor { values: v, .. } => std::fs::write(&out, gpufuel_core::task::f32_bytes(&v))?,
            JobResult::Buffers(b) => std::fs::write(&out, b.concat())?,
        },
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum MarketCommand {
    /// Reference prices per GPU class.
    Prices,
}

pub async fn market(env: &Env, command: MarketCommand) -> CliResult {
    let MarketCommand::Prices = command;
    for (class, price) in env.client.prices().await? {
        println!("{:<10} {price}/GPU-s", class_name(class));
    }
    Ok(())
}
