//! `gpufuel node run`: a node operator's agent.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use gpufuel_core::{class::class_name, quote::PricingStrategy};
use gpufuel_exec::{
    agent::{Alerts, Behaviour, NodeAgent, NodeConfig},
    executor,
};
use solana_signer::Signer;

use gpufuel_chain::ix::Role;

use gpufuel_sdk::data_dir;

use crate::{CliResult, connection::Connection, every, metrics::Metrics, stake::StakeCommand};

#[derive(clap::Subcommand)]
pub enum NodeCommand {
    /// Register (if needed) and run the agent until interrupted.
    Run(RunArgs),
    /// Check the GPUs, their libraries, ONNX Runtime, the RPC endpoint, the wallet, the stake and
    /// the store, and measure GEMM throughput (checked by Freivalds); each failure with its fix.
    Doctor,
    #[command(flatten)]
    Stake(StakeCommand),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Tokens to stake when registering.
    #[arg(long, default_value_t = NodeConfig::default().stake)]
    stake: u64,
    /// Lowest price accepted, base units per GPU-second.
    #[arg(long, default_value_t = NodeConfig::default().price_floor)]
    floor: u64,
    /// floor, reference, or basis points relative to the reference price.
    #[arg(long, default_value_t = NodeConfig::default().pricing)]
    pricing: PricingStrategy,
    /// Seconds between passes.
    #[arg(long, default_value_t = 2)]
    poll: u64,
    /// Use the CPU even where a GPU is found.
    #[arg(long)]
    cpu: bool,
    /// Where the node journals its checkpoints and the results it keeps (default
    /// ~/.local/share/gpufuel/node/<wallet>).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Seconds a result stays pinned in the store after its job ends, for the submitter to
    /// read (259200: 3 days).
    #[arg(long, default_value_t = NodeConfig::default().retention.as_secs())]
    retention: u64,
    /// A cheat (lazy, copying, partial, refusing), to test a network's defences: it loses
    /// its stake to them.
    #[arg(long, hide = true, default_value = "honest")]
    behaviour: Behaviour,
    /// Serve Prometheus metrics here (for example 127.0.0.1:9184; keep it off public
    /// interfaces).
    #[arg(long)]
    metrics: Option<SocketAddr>,
    /// POST alerts (JSON with a `text` line) here when the node is slashed, misses a deadline
    /// or its wallet falls below 0.05 SOL.
    #[arg(long)]
    alert_webhook: Option<String>,
}

pub async fn run(connection: &Connection, command: NodeCommand) -> CliResult {
    match command {
        NodeCommand::Run(args) => serve(connection, args).await,
        NodeCommand::Doctor => crate::doctor::run(connection, Role::Node).await,
        NodeCommand::Stake(command) => crate::stake::run(connection, Role::Node, command).await,
    }
}

async fn serve(connection: &Connection, args: RunArgs) -> CliResult {
    let RunArgs { stake, floor, pricing, poll, cpu, journal, retention, behaviour, metrics, alert_webhook } = args;
    let (executor, note) = executor::choose(None, cpu);
    if let Some(note) = note {
        eprintln!("{note}");
    }
    let caps = executor.capabilities().clone();
    println!("node {} on {} (class {})", connection.keypair.pubkey(), caps.device, class_name(caps.spec.gpu_class));
    let journal = journal.unwrap_or_else(|| data_dir().join("node").join(connection.keypair.pubkey().to_string()));
    let config = NodeConfig {
        stake,
        pricing,
        price_floor: floor,
        behaviour,
        journal: Some(journal),
        retention: Duration::from_secs(retention),
        pinning: connection.pinning.clone(),
        alerts: alert_webhook.map(Alerts::new),
        ..NodeConfig::default()
    };
    let token = connection.token().await?;
    let client = connection.agent_client();
    let agent = NodeAgent::start(
        client.clone(),
        connection.store.clone(),
        executor,
        connection.keypair.insecure_clone(),
        &token,
        config,
    )
    .await?;
    let agent = Arc::new(agent);
    let metrics = crate::metrics::start(metrics, Metrics::node()).await?;
    let operator = connection.keypair.pubkey();
    every(connection, poll, async || {
        let tick = agent.tick().await?;
        if let Some(metrics) = &metrics {
            metrics.node_pass(&tick);
            if let Ok(node) = client.node(&operator).await {
                metrics.node_account(&node);
            }
        }
        Ok(tick)
    })
    .await;
    agent.abort();
    Ok(())
}
