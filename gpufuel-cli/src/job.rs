//! `gpufuel job …`: a submitter's commands, through the SDK's [`Client`].

use std::{path::PathBuf, time::Duration};

use gpufuel_core::{class, proof::freivalds::Precision, task::tensor::Tensor};
use gpufuel_sdk::{Client, DEFAULT_WAIT, JobOptions, JobResult, OnnxJob};
use solana_address::Address;

use crate::CliResult;

/// What a job asks of the market (the SDK's [`JobOptions`] defaults).
#[derive(clap::Args)]
pub struct Market {
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
}

impl Market {
    fn options(&self) -> JobOptions {
        let Self { class, max_price, gpu_seconds, deadline_secs, urgent } = *self;
        JobOptions { gpu_class: class, max_price, gpu_seconds, deadline_secs, urgent, ..JobOptions::default() }
    }
}

/// `NAME=PATH`.
fn named_path(arg: &str) -> Result<(String, PathBuf), String> {
    let (name, path) = arg.split_once('=').ok_or_else(|| format!("expected NAME=FILE.npy, got {arg:?}"))?;
    Ok((name.to_string(), path.into()))
}

/// A `.npy` file as a tensor.
fn npy_file(path: &std::path::Path) -> Result<Tensor, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Tensor::from_npy(&bytes)
        .map_err(|e| format!("{}: {e} (C-order arrays of f32, f16, f64, i8, i32, i64, u8 or bool)", path.display()))?)
}

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
        #[command(flatten)]
        market: Market,
    },
    /// Submit batched inference of an ONNX model on `.npy` inputs; validators re-run sampled
    /// chunks. `gpufuel job result` then writes one `.npy` file per output.
    SubmitOnnx {
        /// The `.onnx` file.
        model: PathBuf,
        /// An input split along axis 0 into chunks: NAME=FILE.npy (repeat for each).
        #[arg(long = "input", value_parser = named_path)]
        inputs: Vec<(String, PathBuf)>,
        /// An input fed whole to every chunk: NAME=FILE.npy.
        #[arg(long = "constant", value_parser = named_path)]
        constants: Vec<(String, PathBuf)>,
        /// An output returned (repeat; default every output of the model).
        #[arg(long = "output")]
        outputs: Vec<String>,
        /// Rows per chunk (default: the batch in at most 512 chunks).
        #[arg(long)]
        chunk_rows: Option<u64>,
        #[command(flatten)]
        market: Market,
    },
    /// Show a job.
    Status { job: Address },
    /// Cancel an open job (the escrow returns).
    Cancel { job: Address },
    /// Wait for a job to settle and write its verified result: raw little-endian f32 to a file, or
    /// an ONNX job's outputs as `<output>.npy` files in a directory.
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
        JobCommand::Submit { m, k, n, a, b, market } => {
            let (a, b) = (f32_file(&a)?, f32_file(&b)?);
            let job = client.submit_matmul((m, k, n), &a, &b, Precision::F32, market.options()).await?;
            println!("{job}");
        }
        JobCommand::SubmitOnnx { model, inputs, constants, outputs, chunk_rows, market } => {
            let bytes = std::fs::read(&model).map_err(|e| format!("{}: {e}", model.display()))?;
            let mut job = OnnxJob::new(bytes);
            for (name, path) in inputs {
                job = job.batched(name, npy_file(&path)?);
            }
            for (name, path) in constants {
                job = job.constant(name, npy_file(&path)?);
            }
            for name in outputs {
                job = job.output(name);
            }
            if let Some(rows) = chunk_rows {
                job = job.chunk_rows(rows);
            }
            println!("{}", client.submit_onnx(job, market.options()).await?);
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
            // An ONNX job's outputs: a directory with one `.npy` file per output.
            JobResult::Tensors(ts) => {
                std::fs::create_dir_all(&out)?;
                for (name, t) in ts {
                    // Output names come from the job's task: never let one leave the directory.
                    let file: String = name
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() || "-_".contains(c) { c } else { '_' })
                        .collect();
                    std::fs::write(out.join(format!("{file}.npy")), t.to_npy())?;
                }
            }
        },
    }
    Ok(())
}
