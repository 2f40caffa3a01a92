//! `operators`: what a node operator's machine gives. `multi_gpu_scaling`: the throughput of a
//! pool of two devices against one device, on the same products in the same process (jobs run
//! side by side, as a node with two GPUs runs them). Two GPUs where there are, else two CPU
//! executors, which share this machine's cores, so the CPU figure shows the pool's cost rather
//! than a gain. The hardware challenges' figures wait for the challenges (issue 17, part 3).

use std::{sync::Arc, time::Instant};

use gpufuel_core::{proof::freivalds::Precision, task::MatMulTask, task::verify::Keys};
use gpufuel_exec::executor::{CpuExecutor, CudaExecutor, Executor, Output, Pool, RunContext, Work, cuda_device_count};
use serde_json::json;

/// Products run through each executor, side by side.
const JOBS: usize = 16;

fn data(len: usize, salt: usize) -> Vec<f32> {
    (0..len).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect()
}

/// Products per second through `executor`, `JOBS` of `n`³ submitted at once.
async fn throughput(executor: Arc<dyn Executor>, n: u32) -> Result<f64, Box<dyn std::error::Error>> {
    let task = MatMulTask { m: n, k: n, n, output: Precision::F32, a: Default::default(), b: Default::default() };
    let (a, b) = (data((n * n) as usize, 1), data((n * n) as usize, 2));
    let keys = Keys { job: [0; 32], node: [0; 32], seed: [0; 32] };
    let started = Instant::now();
    let runs = (0..JOBS).map(|_| {
        let (executor, work) = (executor.clone(), Work::MatMul { task: task.clone(), a: a.clone(), b: b.clone() });
        tokio::spawn(async move { executor.run(work, RunContext::new(keys, None, vec![])).await })
    });
    for run in futures_util::future::join_all(runs).await {
        let out = run??;
        assert!(matches!(out, Output::Tensor(ref c) if c.len() == (n * n) as usize));
    }
    Ok(JOBS as f64 / started.elapsed().as_secs_f64())
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let gpus = cuda_device_count();
    // GPU `i` where there are two, else a CPU executor.
    let device = |i: usize| -> Result<Arc<dyn Executor>, String> {
        Ok(match gpus >= 2 {
            true => Arc::new(CudaExecutor::new(i).map_err(|e| e.to_string())?),
            false => Arc::new(CpuExecutor::new()),
        })
    };
    let n = if gpus >= 2 { 4096 } else { 512 };
    // A pool of one runs a job at a time, as a node of one device does (the program gives it
    // one job at a time).
    let one: Arc<dyn Executor> = Arc::new(Pool::new(vec![device(0)?]).ok_or("a pool")?);
    let two: Arc<dyn Executor> = Arc::new(Pool::new(vec![device(0)?, device(1)?]).ok_or("two GPUs of one class")?);
    let what = if gpus >= 2 { "GPUs" } else { "CPU executors (sharing the cores)" };
    let (single, pooled) = runtime.block_on(async {
        throughput(one.clone(), n).await?; // warm-up
        Ok::<_, Box<dyn std::error::Error>>((throughput(one, n).await?, throughput(two, n).await?))
    })?;
    let scaling = pooled / single;
    println!("{JOBS} products of {n}³ at once: one device {single:.1}/s, a pool of two {what} {pooled:.1}/s");
    println!("multi_gpu_scaling {scaling:.2} (target ≥ 1.8 on GPUs)");
    crate::write_json(
        "operators",
        &json!({
            "multi_gpu_scaling": scaling,
            "devices": what,
            "gpus_here": gpus,
            "products": JOBS,
            "n": n,
            "one_device_per_second": single,
            "two_devices_per_second": pooled,
        }),
    )
}
