//! `bindings`: what the Python and Node packages add to a call, against the Rust `Client` in the
//! same run: a sync quote (blocking on the runtime from the caller's thread, as the bindings' sync
//! calls do) and an awaited matrix product submission (inputs stored, job created on chain), each
//! on a fresh local network of 3 nodes and 3 validators stepping in the background. The Python
//! and Node sides (`benches/bindings/bench.{py,mjs}`) time the same calls on release builds of
//! the packages (`scripts/bindings-bench-env.sh`).

use std::{process::Command, time::Instant};

use gpufuel_core::proof::freivalds::Precision;
use gpufuel_network::{LocalNetworkConfig, RunningNetwork};
use gpufuel_sdk::JobOptions;
use serde_json::{Value, json};

const QUOTES: usize = 2_000;
const BATCHES: usize = 10;
const SUBMITS: usize = 30;
const SIZE: usize = 64;

/// Median per-call µs of a sync quote and of an awaited submission, through the Rust `Client`.
fn rust_side() -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Runtime::new()?;
    let config = LocalNetworkConfig { use_gpu: false, ..LocalNetworkConfig::default() };
    let net = rt.block_on(RunningNetwork::start(config))?;
    let client = rt.block_on(net.client(Some(1_000_000_000), true))?;
    let options = JobOptions::default();
    let mut means = vec![];
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..QUOTES / BATCHES {
            std::hint::black_box(rt.block_on(client.quote(&options))?);
        }
        means.push(t.elapsed().as_secs_f64() * 1e6 / (QUOTES / BATCHES) as f64);
    }
    let a: Vec<f32> = (0..SIZE * SIZE).map(|i| (i as f32).sin()).collect();
    let b: Vec<f32> = (0..SIZE * SIZE).map(|i| (i as f32).cos()).collect();
    let shape = (SIZE as u32, SIZE as u32, SIZE as u32);
    // Awaited in a task on the runtime's workers, where the bindings' coroutines and Promises run.
    let submits = rt.block_on(rt.spawn(async move {
        let mut submits = vec![];
        for _ in 0..SUBMITS {
            let t = Instant::now();
            client.submit_matmul(shape, &a, &b, Precision::F32, options).await.map_err(|e| e.to_string())?;
            submits.push(t.elapsed().as_secs_f64() * 1e6);
        }
        Ok::<_, String>(submits)
    }))??;
    Ok((crate::median(means), crate::median(submits)))
}

/// Runs one binding's script and reads its JSON line.
fn binding_side(program: &str, script: &str) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let args = [QUOTES, BATCHES, SUBMITS, SIZE].map(|v| v.to_string());
    let out = Command::new(program).arg(script).args(&args).output()?;
    if !out.status.success() {
        return Err(format!("{program} {script}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let line = String::from_utf8(out.stdout)?;
    let v: Value = serde_json::from_str(line.lines().last().unwrap_or_default())?;
    let get = |k: &str| v[k].as_f64().ok_or_else(|| format!("{script}: no {k} in {line}"));
    Ok((get("sync_us")?, get("submit_us")?))
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    eprintln!("building the release bindings (scripts/bindings-bench-env.sh)");
    let env = Command::new("bash").arg("scripts/bindings-bench-env.sh").output()?;
    if !env.status.success() {
        return Err(format!("bindings-bench-env.sh failed:\n{}", String::from_utf8_lossy(&env.stderr)).into());
    }
    let python = String::from_utf8(env.stdout)?.lines().last().unwrap_or("python3").to_string();

    let (rust_sync, rust_submit) = rust_side()?;
    let (py_sync, py_submit) = binding_side(&python, "benches/bindings/bench.py")?;
    let (node_sync, node_submit) = binding_side("node", "benches/bindings/bench.mjs")?;

    println!(
        "{:<8} {:>16} {:>18} {:>16} {:>14}",
        "", "sync quote (µs)", "added per call (µs)", "submit (µs)", "vs Rust"
    );
    let (py_over, node_over) = (py_sync - rust_sync, node_sync - rust_sync);
    let (py_ratio, node_ratio) = (py_submit / rust_submit, node_submit / rust_submit);
    println!("{:<8} {rust_sync:>16.1} {:>18} {rust_submit:>16.0} {:>14}", "Rust", "-", "1.00x");
    for (name, sync, over, submit, ratio) in
        [("Python", py_sync, py_over, py_submit, py_ratio), ("Node", node_sync, node_over, node_submit, node_ratio)]
    {
        println!("{name:<8} {sync:>16.1} {over:>18.1} {submit:>16.0} {ratio:>13.2}x");
    }
    let verdict = |ok: bool| if ok { "MET" } else { "MISSED" };
    println!(
        "targets: ≤ 20 µs added per sync call (Python {}, Node {}); async submission ≤ 2x Rust (Python {}, Node {})",
        verdict(py_over <= 20.0),
        verdict(node_over <= 20.0),
        verdict(py_ratio <= 2.0),
        verdict(node_ratio <= 2.0)
    );
    crate::write_json(
        "bindings",
        &json!({
            "python_sync_overhead_us": py_over,
            "node_sync_overhead_us": node_over,
            "python_async_ratio": py_ratio,
            "node_async_ratio": node_ratio,
            "rust_sync_quote_us": rust_sync,
            "python_sync_quote_us": py_sync,
            "node_sync_quote_us": node_sync,
            "rust_submit_us": rust_submit,
            "python_submit_us": py_submit,
            "node_submit_us": node_submit,
            "quotes": QUOTES,
            "submits": SUBMITS,
            "matrix": SIZE,
        }),
    )
}
