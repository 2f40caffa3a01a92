//! `gpufuel program …`: deploy and upgrade the on-chain program through the upgradeable loader,
//! with no Solana CLI ([`gpufuel_chain::deploy`]).

use std::path::{Path, PathBuf};

use gpufuel_chain::{
    Chain,
    config::read_keypair,
    deploy::{self, Buffer},
    send::SendOptions,
};
use indicatif::{ProgressBar, ProgressStyle};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{CliResult, connection::Connection};

#[derive(clap::Subcommand)]
pub enum ProgramCommand {
    /// Deploy a program binary at a new address; the wallet pays and becomes its upgrade
    /// authority. Run it again after an interruption: the buffer's written chunks are kept.
    Deploy {
        /// The program binary (`scripts/build-program.sh` writes target/deploy/gpufuel_program.so).
        so: PathBuf,
        /// The program's address keypair; default `<binary>-keypair.json` beside the binary,
        /// created when missing.
        #[arg(long)]
        program_keypair: Option<PathBuf>,
        /// Room for the program's bytes, so upgrades up to this size need no extension; default
        /// twice the binary.
        #[arg(long)]
        max_len: Option<usize>,
        #[command(flatten)]
        write: Write,
    },
    /// Replace the program at `--program-id` with a new binary; the wallet must be its upgrade
    /// authority.
    Upgrade {
        so: PathBuf,
        #[command(flatten)]
        write: Write,
    },
    /// Hand the upgrade authority of the program at `--program-id` to another wallet, or make
    /// the program final.
    SetAuthority {
        /// The new upgrade authority.
        #[arg(required_unless_present = "final", conflicts_with = "final")]
        new: Option<Address>,
        /// No authority: nobody can upgrade the program again (nor create its market, if none).
        #[arg(long = "final")]
        r#final: bool,
    },
}

/// How the buffer is written.
#[derive(clap::Args)]
pub struct Write {
    /// Write transactions in flight at once.
    #[arg(long, default_value_t = 16)]
    parallel: usize,
}

pub async fn run(connection: &Connection, command: ProgramCommand) -> CliResult {
    let (client, wallet) = (&connection.client, &connection.keypair);
    let chain = client.chain();
    let options = SendOptions::default();
    match command {
        ProgramCommand::Deploy { so, program_keypair, max_len, write } => {
            let binary = read(&so)?;
            let program = program_key(&so, program_keypair)?;
            let id = program.pubkey();
            if chain.account(&id).await?.is_some() {
                return Err(format!("{id} is deployed already: use `gpufuel program upgrade --program-id {id}`").into());
            }
            let max_len = max_len.unwrap_or(2 * binary.len());
            if max_len < binary.len() {
                return Err(format!("--max-len {max_len} is smaller than the binary ({} bytes)", binary.len()).into());
            }
            let buffer = write_buffer(connection, &binary, &write).await?;
            deploy::deploy(chain, wallet, &program, &buffer.address, max_len, &options).await?;
            println!("program {id} deployed (upgrade authority {})", wallet.pubkey());
            println!("use it with --program-id {id}, or GPUFUEL_PROGRAM_ID={id}");
        }
        ProgramCommand::Upgrade { so, write } => {
            let binary = read(&so)?;
            let program = *client.program();
            let buffer = write_buffer(connection, &binary, &write).await?;
            deploy::upgrade(chain, wallet, &program, &buffer.address, binary.len(), &options).await?;
            println!("program {program} upgraded");
        }
        ProgramCommand::SetAuthority { new, .. } => {
            let program = *client.program();
            deploy::set_upgrade_authority(chain, wallet, &program, new.as_ref(), &options).await?;
            match new {
                Some(new) => println!("the upgrade authority of {program} is {new}"),
                None => println!("{program} is final: nobody can upgrade it"),
            }
        }
    }
    Ok(())
}

fn read(so: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(so).map_err(|e| format!("{}: {e}", so.display()))
}

/// The program's keypair: the file named, else `<binary>-keypair.json`, made when missing (as
/// `cargo build-sbf` does).
fn program_key(so: &Path, given: Option<PathBuf>) -> Result<Keypair, Box<dyn std::error::Error>> {
    if let Some(path) = given {
        return Ok(read_keypair(&path)?);
    }
    let stem = so.file_stem().map_or_else(|| "program".into(), |s| s.to_string_lossy());
    let path = so.with_file_name(format!("{stem}-keypair.json"));
    if path.exists() {
        return Ok(read_keypair(&path)?);
    }
    let key = Keypair::new();
    solana_keypair::write_keypair_file(&key, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("new program keypair {} ({})", path.display(), key.pubkey());
    Ok(key)
}

/// Writes the binary into its buffer with a progress bar (on a terminal).
async fn write_buffer(
    connection: &Connection,
    binary: &[u8],
    write: &Write,
) -> Result<Buffer, Box<dyn std::error::Error>> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("writing {bar:40} {pos}/{len} chunks {eta}").map_err(|e| e.to_string())?,
    );
    let chain = connection.client.chain();
    let options = SendOptions::default();
    let buffer = deploy::write_buffer(chain, &connection.keypair, binary, &options, write.parallel, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await?;
    bar.finish_and_clear();
    let resumed =
        if buffer.kept > 0 { format!(" ({} kept from an earlier write)", buffer.kept) } else { String::new() };
    println!("buffer {} written: {} chunks{resumed}", buffer.address, buffer.written);
    Ok(buffer)
}
