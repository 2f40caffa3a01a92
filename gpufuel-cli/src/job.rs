//! `gpufuel job …`: a submitter's commands, through the SDK's [`Client`].

use std::{path::PathBuf, time::Duration};

use gpufuel_core::{class, proof::freivalds::Precision};
use gpufuel_sdk::{Client, DEFAULT_WAIT, JobOptions, JobResult};
use solana_address::Address;

use crate::CliResult;

#[derive(clap::Subcommand)]
pub enum JobCommand {
    /// Register the wallet as a submitter (once, before its first job).
    Register {
        /// Tokens to stake; the market's minimum when absent.
        #[arg(long)]
        stake: Option<u64>,
    },
    /// Submit a matrix product of two raw little-endian f32 files (A is m×k, B is k×n).
    Submit {
        #[arg(long)]
        m: u32,
        #[arg(long)]
        k: u32,
        #[arg(long)]
        n: u32,
        #[arg(long)]
        a: PathBuf,
        #[arg(long)]
        b: PathBuf,
        /// GPU class, by id or name (cpu, rtx-4090, a100, h100, h200, other).
        #[arg(long, default_value_t = JobOptions::default().gpu_class, value_parser = class::class_id)]
        class: u8,
        /// Highest price accepted, base units per GPU-second.
        #[arg(long, default_value_t = JobOptions::default().max_price)]
        max_price: u64,
        /// GPU-seconds billed.
        #[arg(long, default_value_t = JobOptions::default().gpu_seconds)]
        gpu_seconds: u32,
        /// Seconds from now to the deadline.
        #[arg(long, default_value_t = JobOptions::default().deadline_secs)]
        deadline_secs: i64,
        /// Pay the urgent premium.
        #[arg(long)]
        urgent: bool,
    },
    /// Show a job.
    Status { job: Address },
    /// Cancel an open job (the escrow returns).
    Cancel { job: Address },
    /// Wait for a job to settle and write its verified result (raw little-endian f32) to a file.
    Result {
        job: Address,
        out: PathBuf,
        /// Seconds to wait for the job to end.
        #[arg(long, default_value_t = DEFAULT_WAIT.as_secs())]
        timeout: u64,
    },
}

fn f32_file(path: &PathBuf) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % 4 != 0 {
        return Err(format!("{}: {} bytes is not a whole number of f32 values", path.display(), bytes.len()).into());
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
}

pub async fn run(client: Client, command: JobCommand) -> CliResult {
    match command {
        JobCommand::Register { stake } => {
            client.register(stake).await?;
            println!("{} is a submitter", client.address());
        }
        JobCommand::Submit { m, k, n, a, b, class, max_price, gpu_seconds, deadline_secs, urgent } => {
            let options =
                JobOptions { gpu_class: class, max_price, gpu_seconds, deadline_secs, urgent, ..JobOptions::default() };
            let job = client.submit_matmul((m, k, n), &f32_file(&a)?, &f32_file(&b)?, Precision::F32, options).await?;
            println!("{job}");
        }
        JobCommand::Status { job } => {
            let j = client.status(&job).await?;
            println!(
                "state {:?}  class {}  price {}/s  escrow {}  votes {}/{}  deadline {}",
                j.state, j.class_name, j.price, j.escrow, j.votes_pass, j.votes_fail, j.deadline
            );
        }
        JobCommand::Cancel { job } => {
            client.cancel(&job).await?;
            println!("cancelled {job}");
        }
        JobCommand::Result { job, out, timeout } => match client.result(&job, Duration::from_secs(timeout)).await? {
            JobResult::Tensor { values: v, .. } => std::fs::write(&out, gpufuel_core::task::f32_bytes(&v))?,
            JobResult::Buffers(b) => std::fs::write(&out, b.concat())?,
        },
    }
    Ok(())
}
