//! `gpufuel`: the command line of the GPUFuel market. `gpufuel local` runs a whole market in one
//! process; the other commands talk to a cluster, with the URL, keypair and commitment taken from
//! the Solana CLI configuration unless given.

mod local;
mod remote;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use gpufuel_exec::client::{Client, ConnectOptions};

#[derive(Parser)]
#[command(name = "gpufuel", version, about = "GPUFuel: a decentralized GPU compute market on Solana")]
struct Cli {
    /// RPC URL or moniker (mainnet-beta, devnet, testnet, localhost); default from the Solana CLI config.
    #[arg(long, short = 'u', global = true)]
    url: Option<String>,
    /// Keypair file (Solana CLI JSON); default from the Solana CLI config.
    #[arg(long, short = 'k', global = true)]
    keypair: Option<PathBuf>,
    /// Commitment: processed, confirmed or finalized.
    #[arg(long, global = true)]
    commitment: Option<String>,
    /// Solana CLI config file.
    #[arg(long, short = 'C', global = true)]
    config: Option<PathBuf>,
    /// Kubo RPC API (for example http://127.0.0.1:5001); the embedded store when absent.
    #[arg(long, global = true)]
    kubo: Option<String>,
    /// Directory of the embedded store.
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole market in this process (chain, store, nodes, validators) and a mix of jobs.
    Local(local::Args),
    /// Run a node agent: stake, bid, execute, prove, collect.
    Node {
        #[command(subcommand)]
        command: remote::NodeCommand,
    },
    /// Run a validator agent: check results, attest, settle.
    Validator {
        #[command(subcommand)]
        command: remote::ValidatorCommand,
    },
    /// Submit, follow and cancel jobs.
    Job {
        #[command(subcommand)]
        command: remote::JobCommand,
    },
    /// Market information.
    Market {
        #[command(subcommand)]
        command: remote::MarketCommand,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let options = ConnectOptions {
            url: cli.url,
            keypair: cli.keypair,
            commitment: cli.commitment,
            config: cli.config,
            kubo: cli.kubo,
            store: cli.store,
        };
        let env = || remote::Env::new(&options);
        match cli.command {
            Command::Local(args) => local::run(args).await,
            Command::Node { command } => remote::node(&env()?, command).await,
            Command::Validator { command } => remote::validator(&env()?, command).await,
            Command::Job { command } => remote::job(Client::connect(options.clone()).await?, command).await,
            Command::Market { command } => remote::market(&env()?, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Errors of the CLI, shown as one line.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;
