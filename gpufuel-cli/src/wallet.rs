//! `gpufuel wallet …`: make a keypair file, see a wallet's balances, and get SOL on a test
//! cluster, with no Solana CLI.

use std::path::PathBuf;

use gpufuel_chain::{Chain, query};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use gpufuel_sdk::ClientError;

use crate::{CliResult, connection::Connection};

const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

#[derive(clap::Subcommand)]
pub enum WalletCommand {
    /// Write a new keypair file (Solana CLI JSON) and print its address; refused if the file
    /// exists.
    New {
        /// Where to write it.
        path: PathBuf,
    },
    #[command(flatten)]
    Cluster(ClusterCommand),
}

/// The wallet commands that talk to the cluster.
#[derive(clap::Subcommand)]
pub enum ClusterCommand {
    /// The wallet's address, SOL and GPUFuel balances.
    Show,
    /// Ask a test cluster's faucet for SOL (requestAirdrop).
    Airdrop {
        /// SOL to ask for.
        sol: f64,
    },
}

/// Writes a new keypair file: no cluster, no existing wallet needed.
fn create(path: &PathBuf) -> CliResult {
    if path.exists() {
        return Err(format!("{} exists: not overwriting a keypair", path.display()).into());
    }
    let key = Keypair::new();
    solana_keypair::write_keypair_file(&key, path).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{}", key.pubkey());
    Ok(())
}

/// Runs `command`; `connection` is made only for the commands that talk to the cluster.
pub async fn run(connection: impl FnOnce() -> Result<Connection, ClientError>, command: WalletCommand) -> CliResult {
    match command {
        WalletCommand::New { path } => create(&path),
        WalletCommand::Cluster(command) => cluster(&connection()?, command).await,
    }
}

async fn cluster(connection: &Connection, command: ClusterCommand) -> CliResult {
    let (client, owner) = (&connection.client, connection.keypair.pubkey());
    let chain = client.chain();
    match command {
        ClusterCommand::Show => {
            let lamports = chain.account(&owner).await?.map_or(0, |a| a.lamports);
            println!("address    {owner}");
            println!("SOL        {}", lamports as f64 / LAMPORTS_PER_SOL as f64);
            match client.market().await {
                Ok(market) => {
                    let mint = Address::new_from_array(market.mint);
                    for token in chain.token_accounts(&owner, &mint).await? {
                        println!("GPUFuel    {} in {token}", query::token_balance(chain, &token).await?);
                    }
                }
                Err(_) => println!("GPUFuel    no market at {}", client.program()),
            }
        }
        ClusterCommand::Airdrop { sol } => {
            if !(sol > 0.0 && sol.is_finite()) {
                return Err(format!("{sol} SOL: ask for a positive amount").into());
            }
            chain.request_airdrop(&owner, (sol * LAMPORTS_PER_SOL as f64) as u64).await?;
            let lamports = chain.account(&owner).await?.map_or(0, |a| a.lamports);
            println!("{owner} holds {} SOL", lamports as f64 / LAMPORTS_PER_SOL as f64);
        }
    }
    Ok(())
}
