//! `gpufuel`: the command line of the GPUFuel market. `gpufuel local` runs a whole market in one
//! process; the other commands talk to a cluster, with the URL, keypair and commitment taken from
//! the Solana CLI configuration unless given.

mod connection;
mod doctor;
mod job;
mod local;
mod market;
mod metrics;
mod node;
mod program;
mod stake;
mod validator;
mod wallet;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use gpufuel_chain::ix::Role;
use gpufuel_exec::agent::{AgentError, NodeTick, ValidatorTick};
use gpufuel_sdk::{Client, ConnectOptions};

use crate::connection::Connection;

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
    /// A pinning service (IPFS Pinning Service API base URL) to keep jobs' inputs and verified
    /// results, and the results a node serves until their jobs end; its token comes from
    /// $GPUFUEL_PIN_TOKEN.
    #[arg(long, global = true)]
    pin_endpoint: Option<String>,
    /// The program's address; default $GPUFUEL_PROGRAM_ID, else `program_id` in
    /// ~/.config/gpufuel/config.yml, else the well-known address.
    #[arg(long, global = true)]
    program_id: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole market in this process (chain, store, nodes, validators) and a mix of jobs.
    Local(local::Args),
    /// Run a node agent (stake, bid, execute, prove, collect), and manage its stake.
    Node {
        #[command(subcommand)]
        command: node::NodeCommand,
    },
    /// Run a validator agent (bond, vote where drawn, appeal, settle), and manage its stake.
    Validator {
        #[command(subcommand)]
        command: validator::ValidatorCommand,
    },
    /// A submitter's stake (`job register` creates it).
    Submitter {
        #[command(subcommand)]
        command: stake::StakeCommand,
    },
    /// Submit, follow and cancel jobs.
    Job {
        #[command(subcommand)]
        command: job::JobCommand,
    },
    /// Market information.
    Market {
        #[command(subcommand)]
        command: market::MarketCommand,
    },
    /// Deploy or upgrade the on-chain program.
    Program {
        #[command(subcommand)]
        command: program::ProgramCommand,
    },
    /// Make a keypair, see balances, get test SOL.
    Wallet {
        #[command(subcommand)]
        command: wallet::WalletCommand,
    },
}

fn main() -> ExitCode {
    // Rust starts programs with SIGPIPE ignored, so `println!` to a closed pipe (`gpufuel … |
    // grep -q`) panics; with the default action the process ends quietly, as other tools do.
    // SAFETY: called first, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // LiteSVM logs a refused stale blockhash as an error; the sender retries those by design.
    // What each agent pass did is logged at info.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "warn,gpufuel::pass=info,litesvm=off".into());
    // A terminal gets readable lines; a file, a pipe or a service manager gets JSON, one event a
    // line, for log collectors.
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        logs.init();
    } else {
        logs.json().init();
    }
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
            program_id: cli.program_id,
            pin_endpoint: cli.pin_endpoint,
            pin_token: std::env::var("GPUFUEL_PIN_TOKEN").ok(),
        };
        let connection = || Connection::new(&options);
        match cli.command {
            Command::Local(args) => local::run(args).await,
            Command::Node { command } => node::run(&connection()?, command).await,
            Command::Validator { command } => validator::run(&connection()?, command).await,
            Command::Submitter { command } => stake::run(&connection()?, Role::Submitter, command).await,
            Command::Job { command } => job::run(Client::connect(options.clone()).await?, command).await,
            Command::Market { command } => market::run(connection, command).await,
            Command::Program { command } => program::run(&connection()?, command).await,
            Command::Wallet { command } => wallet::run(connection, command).await,
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

/// What an agent's pass did, logged when it did anything.
trait Pass: Default + PartialEq {
    fn log(&self);
}

impl Pass for NodeTick {
    fn log(&self) {
        tracing::info!(
            target: "gpufuel::pass",
            bids = self.bids,
            assigned = self.assigned,
            started = self.started,
            submitted = self.submitted,
            settled = self.settled,
            appealed = self.appealed,
            run_errors = self.errors.len(),
            "node pass"
        );
    }
}

impl Pass for ValidatorTick {
    fn log(&self) {
        for (job, verdict) in &self.votes {
            tracing::info!(target: "gpufuel::pass", %job, ?verdict, "vote committed");
        }
        tracing::info!(
            target: "gpufuel::pass",
            votes = self.votes.len(),
            revealed = self.revealed,
            drawn = self.drawn,
            appealed = self.appealed,
            settled = self.settled,
            expired = self.expired,
            "validator pass"
        );
    }
}

/// Runs an agent's pass every `poll` seconds, printing what each did, until Ctrl-C or SIGTERM;
/// then prints the RPC requests the agent sent.
async fn every<T: Pass>(
    connection: &connection::Connection,
    poll: u64,
    mut pass: impl AsyncFnMut() -> Result<T, AgentError>,
) {
    let started = std::time::Instant::now();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async move {
        match &mut terminate {
            Some(signal) => drop(signal.recv().await),
            None => std::future::pending().await,
        }
    };
    tokio::pin!(terminated);
    loop {
        match pass().await {
            Ok(t) if t != T::default() => t.log(),
            Ok(_) => {}
            Err(e) => tracing::warn!(target: "gpufuel::pass", "pass failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(poll)) => {}
            _ = tokio::signal::ctrl_c() => break,
            () = &mut terminated => break,
        }
    }
    let (requests, secs) = (connection.client.chain().requests(), started.elapsed().as_secs_f64());
    println!("rpc        {requests} HTTP requests in {secs:.0} s ({:.1} per minute)", requests as f64 * 60.0 / secs);
}
