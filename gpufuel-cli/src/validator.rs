//! `gpufuel validator run`: a validator's agent.

use std::{net::SocketAddr, sync::Arc};

use gpufuel_exec::{
    agent::{ValidatorAgent, ValidatorConfig},
    executor::{CudaExecutor, Executor},
};
use solana_signer::Signer;

use gpufuel_chain::ix::Role;

use crate::{CliResult, connection::Connection, every, metrics::Metrics, stake::StakeCommand};

#[derive(clap::Subcommand)]
pub enum ValidatorCommand {
    /// Register (if needed) and run the agent until interrupted.
    Run {
        /// Tokens to stake when registering.
        #[arg(long, default_value_t = ValidatorConfig::default().stake)]
        stake: u64,
        /// Seconds between passes.
        #[arg(long, default_value_t = 2)]
        poll: u64,
        /// Serve Prometheus metrics here (for example 127.0.0.1:9185; keep it off public
        /// interfaces).
        #[arg(long)]
        metrics: Option<SocketAddr>,
    },
    /// Check ONNX Runtime, the GPUs (kernels are re-run on one), the RPC endpoint, the wallet,
    /// the stake and the store, and measure GEMM throughput; each failure with its fix.
    Doctor,
    #[command(flatten)]
    Stake(StakeCommand),
}

pub async fn run(connection: &Connection, command: ValidatorCommand) -> CliResult {
    let (stake, poll, metrics) = match command {
        ValidatorCommand::Run { stake, poll, metrics } => (stake, poll, metrics),
        ValidatorCommand::Doctor => return crate::doctor::run(connection, Role::Validator).await,
        ValidatorCommand::Stake(command) => return crate::stake::run(connection, Role::Validator, command).await,
    };
    let token = connection.token().await?;
    // Kernels are re-executed on a GPU where one is found; without one they are left to others.
    let gpu = CudaExecutor::new(0).ok().map(|g| Arc::new(g) as Arc<dyn Executor>);
    let config = ValidatorConfig { stake, executor: gpu, ..ValidatorConfig::default() };
    let client = connection.agent_client();
    let agent = ValidatorAgent::start(
        client.clone(),
        connection.store.clone(),
        connection.keypair.insecure_clone(),
        &token,
        config,
    )
    .await?;
    println!("validator {}", connection.keypair.pubkey());
    let metrics = crate::metrics::start(metrics, Metrics::validator()).await?;
    let operator = connection.keypair.pubkey();
    every(connection, poll, async || {
        let tick = agent.tick().await?;
        if let Some(metrics) = &metrics {
            metrics.validator_pass(&tick);
            if let Ok(validator) = client.validator(&operator).await {
                metrics.validator_account(&validator);
            }
        }
        Ok(tick)
    })
    .await;
    Ok(())
}
