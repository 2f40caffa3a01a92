//! `gpufuel market …`: the market's state, and its administration by the program's upgrade
//! authority (create it, add GPU classes, change its parameters) with test-cluster tokens.

use std::path::{Path, PathBuf};

use gpufuel_chain::{
    Chain,
    query::{self, JobFilter},
};
use gpufuel_core::{
    class::{class_id, class_name},
    instruction::GpuClassArgs,
    state::{JobState, MarketParams},
};
use solana_address::Address;
use solana_signer::Signer;

use gpufuel_sdk::ClientError;

use crate::{CliResult, connection::Connection};

#[derive(clap::Subcommand)]
pub enum MarketCommand {
    /// Reference prices per GPU class.
    Prices,
    /// Parameters, classes with their prices, open jobs, nodes and validators.
    Show,
    /// Create the market, once per deployment; the wallet must be the program's upgrade authority.
    Init {
        /// The GPUFuel token's mint.
        #[arg(long, required_unless_present = "create_mint", conflicts_with = "create_mint")]
        mint: Option<Address>,
        /// Create a new mint with the wallet as its mint authority (test clusters; see `mint-to`).
        #[arg(long)]
        create_mint: bool,
        /// Parameters (TOML, the field names of `market params`); fields left out take the
        /// defaults that `market params --defaults` prints.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Validators the market can hold.
        #[arg(long, default_value_t = 1_024)]
        capacity: u32,
    },
    /// Mint tokens of a mint the wallet is the authority of to `owner` (test clusters).
    MintTo {
        /// The wallet to fund; its token account is created when it has none.
        owner: Address,
        /// Base units.
        amount: u64,
    },
    /// Add a GPU class with its reference and minimum prices (base units per GPU-second).
    AddClass {
        /// By id or name (cpu, rtx-4090, a100, h100, h200, other).
        #[arg(value_parser = class_id)]
        class: u8,
        #[arg(long)]
        ref_price: u64,
        #[arg(long)]
        min_price: u64,
    },
    /// The parameters in force and a proposed change; or propose one, or apply one whose
    /// timelock has passed.
    Params {
        /// Propose the changes in this file (TOML): fields left out keep their value.
        #[arg(long, conflicts_with = "apply")]
        propose: Option<PathBuf>,
        /// Apply the proposed change.
        #[arg(long)]
        apply: bool,
        /// Print the defaults `market init` uses instead.
        #[arg(long, conflicts_with_all = ["propose", "apply"])]
        defaults: bool,
    },
}

/// Runs `command`; `connection` is made only for the commands that talk to the cluster (the
/// defaults need neither a cluster nor a wallet).
pub async fn run(connection: impl FnOnce() -> Result<Connection, ClientError>, command: MarketCommand) -> CliResult {
    if let MarketCommand::Params { defaults: true, .. } = command {
        print!("{}", toml::to_string(&MarketParams::default())?);
        return Ok(());
    }
    let connection = connection()?;
    let (client, keypair) = (&connection.client, &connection.keypair);
    match command {
        MarketCommand::Prices => {
            for (class, price) in client.prices().await? {
                println!("{:<10} {price}/GPU-s", class_name(class));
            }
        }
        MarketCommand::Show => show(&connection).await?,
        MarketCommand::Init { mint, params, capacity, .. } => {
            // Everything is checked before anything is sent.
            if client.market().await.is_ok() {
                return Err(format!(
                    "the market of this deployment exists: {}",
                    gpufuel_chain::pda::market(client.program())
                )
                .into());
            }
            match client.upgrade_authority().await? {
                Some(authority) if authority == keypair.pubkey() => {}
                Some(authority) => {
                    return Err(
                        format!("only the program's upgrade authority {authority} may create the market").into()
                    );
                }
                None => return Err("the program is immutable: no one may create its market".into()),
            }
            let params = match params {
                Some(path) => params_file(&path, MarketParams::default())?,
                None => MarketParams::default(),
            };
            let mint = match mint {
                Some(mint) => mint,
                None => client.create_mint(keypair, 6).await?,
            };
            client.init_market(keypair, &mint, params, capacity).await?;
            println!("market {} (mint {mint})", gpufuel_chain::pda::market(client.program()));
        }
        MarketCommand::MintTo { owner, amount } => {
            let mint = Address::new_from_array(client.market().await?.mint);
            let token = match client.chain().token_accounts(&owner, &mint).await?.first() {
                Some(token) => *token,
                None => client.create_token_account(keypair, &owner, &mint).await?,
            };
            client.mint_to(keypair, &mint, &token, amount).await?;
            println!("{token} holds {}", query::token_balance(client.chain(), &token).await?);
        }
        MarketCommand::AddClass { class, ref_price, min_price } => {
            client.add_gpu_class(keypair, GpuClassArgs { class_id: class, ref_price, min_price }).await?;
            println!("{} {ref_price}/GPU-s (at least {min_price})", class_name(class));
        }
        MarketCommand::Params { propose: Some(path), .. } => {
            let params = params_file(&path, client.market().await?.params)?;
            client.propose_params(keypair, params).await?;
            let at = client.market().await?.pending_at;
            println!("proposed; it can be applied in {} s", at - client.chain().unix_time().await?);
        }
        MarketCommand::Params { apply: true, .. } => {
            client.apply_params(keypair).await?;
            println!("applied");
        }
        MarketCommand::Params { .. } => {
            let market = client.market().await?;
            print!("{}", toml::to_string(&market.params)?);
            if market.pending_at != 0 {
                let now = client.chain().unix_time().await?;
                println!("\n# proposed, applicable in {} s:", (market.pending_at - now).max(0));
                print!("{}", toml::to_string(&market.pending_params)?);
            }
        }
    }
    Ok(())
}

/// The parameters in `path` laid over `base`: a syntax error, an unknown field, a value of the
/// wrong type or out of bounds is an error naming it.
fn params_file(path: &Path, base: MarketParams) -> Result<MarketParams, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let given: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut merged = toml::Table::try_from(base)?;
    for (key, value) in given {
        match (merged.get_mut(&key), value) {
            (Some(toml::Value::Table(terms)), toml::Value::Table(given)) => terms.extend(given),
            (_, value) => {
                merged.insert(key, value);
            }
        }
    }
    let params: MarketParams = merged.try_into().map_err(|e| format!("{}: {e}", path.display()))?;
    match params.violation() {
        Some(why) => Err(format!("{}: {why}", path.display()).into()),
        None => Ok(params),
    }
}

async fn show(connection: &Connection) -> CliResult {
    let client = &connection.client;
    let market = client.market().await?;
    println!(
        "market     {} (mint {})",
        gpufuel_chain::pda::market(client.program()),
        Address::new_from_array(market.mint)
    );
    println!("authority  {}", Address::new_from_array(market.authority));
    for c in client.gpu_classes().await? {
        println!(
            "class      {:<10} {}/GPU-s (at least {}), {} nodes",
            class_name(c.class_id),
            c.ref_price,
            c.min_price,
            c.nodes
        );
    }
    let open = client.jobs(&[JobFilter::State(JobState::Open)]).await?.len();
    let running = client.jobs(&[JobFilter::State(JobState::Assigned)]).await?.len();
    let checked = client.jobs(&[JobFilter::State(JobState::Submitted)]).await?.len();
    println!("jobs       {open} open, {running} running, {checked} being checked");
    let (nodes, validators) = (client.nodes(None).await?, client.validators().await?);
    println!("stakers    {} nodes, {} validators", nodes.len(), validators.len());
    let (vault, owed) = gpufuel_chain::query::audit(client.chain().as_ref(), client.program()).await?;
    let verdict = if vault == owed { "conserved" } else { "NOT CONSERVED" };
    println!("vault      {vault} tokens, owes {owed}: {verdict}");
    print!("{}", toml::to_string(&market.params)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("params.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_params_file_lays_its_fields_over_the_base_and_names_what_it_gets_wrong() {
        let base = MarketParams::default();
        let (_d, p) = file("bid_window_secs = 60\n[terms]\ncommittee_size = 5\nquorum = 4\n");
        let params = params_file(&p, base).unwrap();
        assert_eq!((params.bid_window_secs, params.terms.committee_size, params.terms.quorum), (60, 5, 4));
        assert_eq!(params.min_node_stake, base.min_node_stake);
        assert_eq!(params.terms.appeal_committee_size, base.terms.appeal_committee_size);
        let wrong = |text: &str| params_file(&file(text).1, base).unwrap_err().to_string();
        assert!(wrong("bid_window_secs = \"soon\"").contains("bid_window_secs"));
        assert!(wrong("bid_windw_secs = 5").contains("bid_windw_secs"));
        assert!(wrong("[terms]\nquorum = -1").contains("quorum"));
        assert!(wrong("min_node_stake = 0").ends_with("min_node_stake must be positive"));
        assert!(wrong("[terms]\nquorum = 4").ends_with("terms.quorum must be 1 to committee_size"));
        assert!(
            wrong("unstake_cooldown_secs = 7200")
                .ends_with("params_timelock_secs must be at least unstake_cooldown_secs")
        );
        assert!(wrong("bid_window_secs = [").contains("params.toml"));
    }
}
