//! `gpufuel node run`: a node operator's agent.

use std::sync::Arc;

use gpufuel_core::{class::class_name, quote::PricingStrategy};
use gpufuel_exec::{
    agent::{NodeAgent, NodeConfig},
    executor,
};
use solana_signer::Signer;

use gpufuel_chain::ix::Role;

use crate::{CliResult, connection::Connection, every, stake::StakeCommand};

#[derive(clap::Subcommand)]
pub enum NodeCommand {
    /// Register (if needed) and run the agent until interrupted.
    Run {
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
    },
    #[command(flatten)]
    Stake(StakeCommand),
}

pub async fn run(connection: &Connection, command: NodeCommand) -> CliResult {
    let (stake, floor, pricing, poll, cpu) = match command {
        NodeCommand::Run { stake, floor, pricing, poll, cpu } => (stake, floor, pricing, poll, cpu),
        NodeCommand::Stake(command) => return crate::stake::run(connection, Role::Node, command).await,
    };
    let (executor, note) = executor::choose(None, cpu);
    if let Some(note) = note {
        eprintln!("{note}");
    }
    let caps = executor.capabilities().clone();
    println!("node {} on {} (class {})", connection.keypair.pubkey(), caps.device, class_name(caps.spec.gpu_class));
    let config = NodeConfig { stake, pricing, price_floor: floor, ..NodeConfig::default() };
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
    every(poll, async || agent.tick().await).await;
    agent.abort();
    Ok(())
}
