//! `gpufuel node doctor` and `gpufuel validator doctor`: whether this machine, its wallet and its
//! endpoints are ready for the market, as a table of checks, each failure with its fix. A check
//! that cannot run here (a GPU's, on a machine without one) says why it was skipped.

use std::time::{Duration, Instant};

use gpufuel_chain::{Chain, ix::Role, query};
use gpufuel_core::{
    cid::Cid,
    class::class_name,
    proof::{
        freivalds::{self, Params, Precision, Shape},
        sha256,
    },
    task::MatMulTask,
};
use gpufuel_exec::executor::{
    CudaExecutor, EngineOptions, Executor, OnnxEngine, cpu_gemm, cuda_available, cuda_device_count, onnx::Device,
};
use gpufuel_store::ImportOptions;
use solana_signer::Signer;

use crate::{CliResult, connection::Connection};

/// Lamports a node or validator should hold for fees: every pass may send a transaction
/// (5,000 lamports each, plus priority fees), and registering pays rent.
const MIN_LAMPORTS: u64 = 50_000_000;

/// The benchmark's product: large enough that the time measures the arithmetic, small enough
/// to take a moment on a CPU (1.07 GFLOP).
const BENCH: usize = 512;

enum Outcome {
    Passed(String),
    Failed { found: String, fix: String },
    Skipped(String),
}

#[derive(Default)]
struct Report {
    checks: Vec<(String, Outcome)>,
}

impl Report {
    fn pass(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.checks.push((name.into(), Outcome::Passed(detail.into())));
    }

    fn fail(&mut self, name: impl Into<String>, found: impl Into<String>, fix: impl Into<String>) {
        self.checks.push((name.into(), Outcome::Failed { found: found.into(), fix: fix.into() }));
    }

    fn skip(&mut self, name: impl Into<String>, why: impl Into<String>) {
        self.checks.push((name.into(), Outcome::Skipped(why.into())));
    }

    /// Prints the table, then the fixes; returns how many checks failed.
    fn print(&self) -> usize {
        let width = self.checks.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        for (name, outcome) in &self.checks {
            let (mark, text) = match outcome {
                Outcome::Passed(detail) => ("ok  ", detail.as_str()),
                Outcome::Failed { found, .. } => ("FAIL", found.as_str()),
                Outcome::Skipped(why) => ("skip", why.as_str()),
            };
            println!("{mark}  {name:<width$}  {text}");
        }
        let fixes: Vec<_> = self
            .checks
            .iter()
            .filter_map(|(name, o)| match o {
                Outcome::Failed { fix, .. } => Some((name, fix)),
                _ => None,
            })
            .collect();
        if !fixes.is_empty() {
            println!("\nto fix:");
            for (name, fix) in &fixes {
                println!("  {name}: {fix}");
            }
        }
        fixes.len()
    }
}

/// Runs every check for `role` (a node or a validator) and prints the report; an error when any
/// check failed.
pub async fn run(connection: &Connection, role: Role) -> CliResult {
    let mut report = Report::default();
    devices(&mut report, role);
    onnx_cpu(&mut report);
    cluster(&mut report, connection, role).await;
    store(&mut report, connection).await;
    cpu_benchmark(&mut report);
    match report.print() {
        0 => Ok(()),
        n => Err(format!("{n} of {} checks failed", report.checks.len()).into()),
    }
}

/// The driver, then per GPU: the device, cuBLAS, NVRTC, ONNX Runtime's CUDA provider and a
/// checked GEMM.
fn devices(report: &mut Report, role: Role) {
    if let Err(why) = cuda_available() {
        let so = match role {
            Role::Validator => "kernel jobs are left to validators with a GPU",
            _ => "the node serves the cpu class",
        };
        report.skip("NVIDIA driver", format!("no GPU here: {why}; {so}"));
        for name in ["GPU", "cuBLAS", "NVRTC", "ONNX Runtime CUDA provider", "GEMM on the GPU"] {
            report.skip(name, "no GPU here");
        }
        return;
    }
    let count = cuda_device_count();
    report.pass("NVIDIA driver", format!("{count} GPUs"));
    for ordinal in 0..count {
        let gpu = match CudaExecutor::new(ordinal) {
            Ok(gpu) => gpu,
            Err(e) => {
                report.fail(
                    format!("GPU {ordinal}"),
                    e.to_string(),
                    "check `nvidia-smi`; the device may be in use or lost",
                );
                continue;
            }
        };
        let caps = gpu.capabilities();
        report.pass(format!("GPU {ordinal}"), format!("{}, class {}", caps.device, class_name(caps.spec.gpu_class)));
        let runs = |w| caps.workloads.contains(&w);
        use gpufuel_core::state::Workload::*;
        if runs(MatMul) {
            report.pass(format!("GPU {ordinal} cuBLAS"), "loaded: products run here");
        } else {
            report.fail(
                format!("GPU {ordinal} cuBLAS"),
                "libcublas not found",
                "install the CUDA toolkit's cuBLAS (libcublas.so)",
            );
        }
        if runs(Iterative) {
            report.pass(format!("GPU {ordinal} NVRTC"), "loaded: training and kernels run here");
        } else {
            report.fail(
                format!("GPU {ordinal} NVRTC"),
                "libnvrtc not found",
                "install the CUDA toolkit's NVRTC (libnvrtc.so)",
            );
        }
        match OnnxEngine::new(EngineOptions { device: Device::Cuda(ordinal as i32), ..EngineOptions::default() }) {
            Ok(engine) => match engine.fallback() {
                None => report.pass(format!("GPU {ordinal} ONNX Runtime CUDA provider"), "registered"),
                Some(why) => report.fail(
                    format!("GPU {ordinal} ONNX Runtime CUDA provider"),
                    why,
                    "install onnxruntime-gpu (its CUDA and cuDNN libraries) and point ORT_DYLIB_PATH at it",
                ),
            },
            Err(e) => report.fail(
                format!("GPU {ordinal} ONNX Runtime CUDA provider"),
                e.to_string(),
                "run scripts/onnx-env.sh, or set ORT_DYLIB_PATH",
            ),
        }
        if runs(MatMul) {
            let task = MatMulTask {
                m: BENCH as u32,
                k: BENCH as u32,
                n: BENCH as u32,
                output: Precision::F32,
                a: Cid::default(),
                b: Cid::default(),
            };
            gemm_check(report, &format!("GPU {ordinal} GEMM"), |a, b| {
                gpu.gpu().gemm(&task, a, b).map_err(|e| e.to_string())
            });
        }
    }
}

/// ONNX Runtime on the CPU: every node and validator runs ONNX jobs, or re-runs their chunks.
fn onnx_cpu(report: &mut Report) {
    match OnnxEngine::new(EngineOptions::default()) {
        Ok(_) => report
            .pass("ONNX Runtime", format!("loaded from {}", gpufuel_exec::executor::onnx::library_path().display())),
        Err(e) => report.fail(
            "ONNX Runtime",
            e.to_string(),
            "run scripts/onnx-env.sh (the onnxruntime wheel), or set ORT_DYLIB_PATH to libonnxruntime.so",
        ),
    }
}

/// The RPC endpoint, the wallet's SOL and tokens, and the stake.
async fn cluster(report: &mut Report, connection: &Connection, role: Role) {
    let (client, owner) = (&connection.client, connection.keypair.pubkey());
    let chain = client.chain();
    let started = Instant::now();
    match chain.block_height().await {
        Ok(height) => report
            .pass("RPC endpoint", format!("block height {height}, answered in {} ms", started.elapsed().as_millis())),
        Err(e) => {
            report.fail(
                "RPC endpoint",
                e.to_string(),
                "check --url (or json_rpc_url in the Solana CLI config) and the network",
            );
            for name in ["wallet SOL", "market", "wallet tokens", "stake"] {
                report.skip(name, "the RPC endpoint did not answer");
            }
            return;
        }
    }
    let lamports = chain.account(&owner).await.ok().flatten().map_or(0, |a| a.lamports);
    let sol = |l: u64| l as f64 / 1e9;
    if lamports >= MIN_LAMPORTS {
        report.pass("wallet SOL", format!("{} SOL in {owner}", sol(lamports)));
    } else {
        report.fail(
            "wallet SOL",
            format!("{} SOL in {owner}, less than {} for fees", sol(lamports), sol(MIN_LAMPORTS)),
            "send SOL to the wallet (`gpufuel wallet airdrop 1` on a test cluster)",
        );
    }
    let market = match client.market().await {
        Ok(market) => {
            report.pass("market", format!("{}", gpufuel_chain::pda::market(client.program())));
            market
        }
        Err(e) => {
            report.fail("market", e.to_string(), "check --program-id: this deployment has no market");
            for name in ["wallet tokens", "stake"] {
                report.skip(name, "no market");
            }
            return;
        }
    };
    let tokens = match connection.token().await {
        Ok(token) => query::token_balance(chain.as_ref(), &token).await.unwrap_or(0),
        Err(_) => 0,
    };
    report.pass("wallet tokens", format!("{tokens} GPUFuel"));
    let (stake, minimum) = match role {
        Role::Validator => (client.validator(&owner).await.map(|v| v.header.stake), market.params.min_validator_stake),
        _ => (client.node(&owner).await.map(|n| n.header.stake), market.params.min_node_stake),
    };
    match stake {
        Ok(stake) if stake >= minimum => {
            report.pass("stake", format!("{stake} staked (the market asks at least {minimum})"))
        }
        Ok(stake) => report.fail(
            "stake",
            format!("{stake} staked, below the market's minimum {minimum}"),
            format!("`gpufuel {} top-up {}`", crate::stake::name(role), minimum - stake),
        ),
        Err(_) if tokens >= minimum => report
            .pass("stake", format!("not registered yet; `run` stakes from the wallet's {tokens} (at least {minimum})")),
        Err(_) => report.fail(
            "stake",
            format!("not registered, and the wallet holds {tokens}, below the market's minimum stake {minimum}"),
            "get GPUFuel tokens into the wallet's token account",
        ),
    }
}

/// The store: a file added and read back with the same CID.
async fn store(report: &mut Report, connection: &Connection) {
    let probe = format!("gpufuel doctor {}", connection.keypair.pubkey()).into_bytes();
    let started = Instant::now();
    let round_trip = async {
        let cid = connection.store.add(probe.clone(), &ImportOptions::default()).await?;
        let back = connection.store.cat(&cid).await?;
        connection.store.unpin(&cid).await?;
        Ok::<_, gpufuel_store::StoreError>((cid, back))
    };
    match tokio::time::timeout(Duration::from_secs(30), round_trip).await {
        Ok(Ok((cid, back))) if back == probe => {
            report.pass("store", format!("added and read back {cid} in {} ms", started.elapsed().as_millis()))
        }
        Ok(Ok((cid, _))) => report.fail(
            "store",
            format!("{cid} read back different bytes"),
            "the store's disk or node is corrupting data",
        ),
        Ok(Err(e)) => report.fail(
            "store",
            e.to_string(),
            "check --kubo (is the daemon running?) or --store (is the directory writable?)",
        ),
        Err(_) => report.fail("store", "no answer in 30 s", "check --kubo: the daemon does not answer"),
    }
}

fn cpu_benchmark(report: &mut Report) {
    gemm_check(report, "GEMM on the CPU", |a, b| Ok(cpu_gemm(a, b, BENCH, BENCH, BENCH)));
}

/// Times a `BENCH`³ product and checks it by Freivalds' algorithm: a throughput figure is only
/// worth what the product it measured.
fn gemm_check(report: &mut Report, name: &str, gemm: impl Fn(&[f32], &[f32]) -> Result<Vec<f32>, String>) {
    let seed = sha256(&[b"gpufuel doctor", &std::process::id().to_le_bytes()]);
    let values = |salt: u8| -> Vec<f32> {
        (0..BENCH * BENCH).map(|i| f32::from(sha256(&[&[salt], &(i as u64).to_le_bytes()])[0]) / 128.0 - 1.0).collect()
    };
    let (a, b) = (values(1), values(2));
    let _ = gemm(&a, &b); // warm-up: libraries load, caches fill
    let started = Instant::now();
    let c = match gemm(&a, &b) {
        Ok(c) => c,
        Err(e) => return report.fail(name, e, "see the device checks above"),
    };
    let secs = started.elapsed().as_secs_f64();
    let shape = Shape { m: BENCH, k: BENCH, n: BENCH };
    let gflops = 2.0 * (BENCH as f64).powi(3) / secs / 1e9;
    match freivalds::check(&a, &b, &c, shape, Params::default(), &seed) {
        Ok(check) if check.passed() => {
            report.pass(name, format!("{gflops:.1} GFLOP/s on {BENCH}×{BENCH}×{BENCH}, checked by Freivalds"))
        }
        Ok(check) => report.fail(
            name,
            format!("{gflops:.1} GFLOP/s, but {} rows of the product are wrong", check.failed_rows),
            "the device computes wrong results: validators would slash this node",
        ),
        Err(e) => report.fail(name, e.to_string(), "the product could not be checked"),
    }
}
