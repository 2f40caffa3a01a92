//! `gpufuel validator run`: a validator's agent.

use std::sync::Arc;

use gpufuel_exec::{
    agent::{ValidatorAgent, ValidatorConfig},
    executor::{CudaExecutor, Executor},
};
use solana_signer::Signer;

use gpufuel_chain::ix::Role;

use crate::{CliResult, connection::Connection, every, stake::StakeCommand};

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
    },
    #[command(flatten)]
    Stake(StakeCommand),
}

pub async fn run(connection: &Connection, command: ValidatorCommand) -> CliResult {
    let (stake, poll) = match command {
        ValidatorCommand::Run { stake, poll } => (stake, poll),
        ValidatorCommand::Stake(command) => return crate::stake::run(connection, Role::Validator, command).await,
    };
    let token = connection.token().await?;
    // Kernels are re-executed on a GPU where one is found; without one they are left to others.
    let gpu = CudaExecutor::new(0).ok().map(|g| Arc::new(g) as Arc<dyn Executor>);
    let config = ValidatorConfig { stake, executor: gpu, ..ValidatorConfig::default() };
    let agent = ValidatorAgent::start(
        connection.agent_client(),
        connection.store.clone(),
        connection.keypair.insecure_clone(),
        &token,
        config,
    )
    .await?;
    println!("validator {}", connection.keypair.pubkey());
    every(connection, poll, async || agent.tick().await).await;
    Ok(())
}
