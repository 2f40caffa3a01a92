//! `gpufuel node run`: a node operator's agent.

use std::{path::PathBuf, sync::Arc, time::Duration};

use gpufuel_core::{class::class_name, quote::PricingStrategy};
use gpufuel_exec::{
    agent::{Behaviour, NodeAgent, NodeConfig},
    executor,
};
use solana_signer::Signer;

use gpufuel_chain::ix::Role;

use gpufuel_sdk::data_dir;

use crate::{CliResult, connection::Connection, every, stake::StakeCommand};

#[derive(clap::Subcommand)]
pub enum NodeCommand {
    /// Register (if needed) and run the agent until interrupted.
    Run(RunArgs),
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
    /// read (default 3 days).
    #[arg(long, default_value_t = NodeConfig::default().retention.as_secs())]
    retention: u64,
    /// A cheat (lazy, copying, partial, refusing), to test a network's defences: it loses
    /// its stake to them.
    #[arg(long, hide = true, default_value = "honest")]
    behaviour: Behaviour,
}

pub async fn run(connection: &Connection, command: NodeCommand) -> CliResult {
    match command {
        NodeCommand::Run(args) => serve(connection, args).await,
        NodeCommand::Stake(command) => crate::stake::run(connection, Role::Node, command).await,
    }
}

async fn serve(connection: &Connection, args: RunArgs) -> CliResult {
    let RunArgs { stake, floor, pricing, poll, cpu, journal, retention, behaviour } = args;
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
        ..NodeConfig::default()
    };
    let token = connection.token().await?;
    let agent = NodeAgent::start(
        connection.agent_client(),
        connection.store.clone(),
        executor,
        connection.keypair.insecure_clone(),
        &token,
        config,
    )
    .await?;
    let agent = Arc::new(agent);
    every(connection, poll, async || agent.tick().await).await;
    agent.abort();
    Ok(())
}
