//! `exec`: what the node agent adds to a job (fetching inputs, watermarking, committing and
//! uploading the result, submitting it) against the raw compute, for CPU jobs of about 100 ms on
//! the local network, of both verifiable kinds: a matrix product (data-heavy: O(n²) bytes to
//! hash and move for O(n³) work) and MLP training (compute-heavy); and, where a GPU exists, GEMM
//! through `CudaExecutor` against calling cuBLAS directly on the same data.

use std::time::{Duration, Instant};

use gpufuel_core::{
    proof::freivalds::Precision,
    state::JobState,
    task::{IterativeTask, Task, mlp, mlp::Mlp},
};
use gpufuel_exec::executor::{CudaExecutor, Executor, Output, RunContext, Work, cpu_gemm, cuda_available};
use gpufuel_network::{LocalNetwork, LocalNetworkConfig};
use gpufuel_sdk::{
    JobOptions,
    job::{self, Training},
};
use serde_json::json;

const JOBS: usize = 10;

fn data(len: usize, salt: usize) -> Vec<f32> {
    (0..len).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect()
}

/// The smallest multiple of 64 whose product takes at least `target` on this machine.
fn calibrate(target: Duration) -> usize {
    let mut n = 256;
    loop {
        let (a, b) = (data(n * n, 1), data(n * n, 2));
        let t = Instant::now();
        std::hint::black_box(cpu_gemm(&a, &b, n, n, n));
        if t.elapsed() >= target || n >= 4096 {
            return n;
        }
        n += 64;
    }
}

/// Medians of one kind of job.
struct Measured {
    raw: f64,
    compute: f64,
    fetch: f64,
    prove: f64,
    submit: f64,
    /// (everything the agent spent on the job − the raw compute) / the raw compute.
    ratio: f64,
}

impl Measured {
    fn print(&self, what: &str) {
        println!("  {what}");
        println!("    raw compute (direct call)   {:>8.1} ms", self.raw * 1e3);
        println!("    executor run in the agent   {:>8.1} ms", self.compute * 1e3);
        println!("    fetch task and inputs       {:>8.2} ms", self.fetch * 1e3);
        println!("    watermark, commit, upload   {:>8.2} ms", self.prove * 1e3);
        println!("    submit result (confirmed)   {:>8.2} ms", self.submit * 1e3);
        println!("    agent overhead / raw        {:>8.4}  (target ≤ 0.05)", self.ratio);
    }

    fn json(&self) -> serde_json::Value {
        json!({"raw_ms": self.raw * 1e3, "compute_ms": self.compute * 1e3, "fetch_ms": self.fetch * 1e3,
               "prove_ms": self.prove * 1e3, "submit_ms": self.submit * 1e3, "overhead_ratio": self.ratio})
    }
}

/// Runs `JOBS` jobs made by `make` through the node agent; `raw` times the same work called
/// directly in this process.
async fn measure(
    net: &mut LocalNetwork,
    make: impl AsyncFn(&LocalNetwork, usize) -> Result<(Task, Box<dyn Fn() + Send>), Box<dyn std::error::Error>>,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let alice = net.submitter(1_000_000_000).await?;
    let agent = net.nodes[0].agent.clone().expect("running");
    let mut rows = vec![];
    for i in 0..JOBS {
        let (task, raw) = make(net, i).await?;
        let address = net.submit(&alice, &task, JobOptions { urgent: true, ..JobOptions::default() }).await?;
        net.run_until_done(&[address], 1_000).await?;
        if net.client.job(&address).await?.job_state() != Ok(JobState::Settled) {
            return Err("a benchmark job did not settle".into());
        }
        let t = agent.timings(&address).ok_or("no timings for the job")?;
        let start = Instant::now();
        raw();
        let r = start.elapsed().as_secs_f64();
        let all = (t.overhead() + t.compute).as_secs_f64();
        let s = |d: Duration| d.as_secs_f64();
        rows.push([r, s(t.compute), s(t.fetch), s(t.prove), s(t.submit), (all - r) / r]);
    }
    let col = |i: usize| crate::median(rows.iter().map(|r| r[i]).collect());
    Ok(Measured { raw: col(0), compute: col(1), fetch: col(2), prove: col(3), submit: col(4), ratio: col(5) })
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let n = calibrate(Duration::from_millis(100));
        let config = LocalNetworkConfig { nodes: 1, validators: 2, use_gpu: false, ..LocalNetworkConfig::default() };
        let mut net = LocalNetwork::start(config).await?;
        let matmul = measure(&mut net, async |net: &LocalNetwork, i| {
            let (a, b) = (data(n * n, 10 + i), data(n * n, 100 + i));
            let task =
                job::matmul_task(net.store.as_ref(), (n as u32, n as u32, n as u32), &a, &b, Precision::F32).await?;
            Ok((task, Box::new(move || drop(std::hint::black_box(cpu_gemm(&a, &b, n, n, n)))) as Box<dyn Fn() + Send>))
        })
        .await?;
        let segments = calibrate_training(Duration::from_millis(100));
        let iterative = measure(&mut net, async |net: &LocalNetwork, i| {
            let (training, x, y, init) = training(segments, i);
            let stored = job::iterative_task(net.store.as_ref(), training, &x, &y, &init).await?;
            let Task::Iterative(task) = stored.clone() else { unreachable!("an iterative task") };
            let data = [x, y].concat();
            let raw = move || {
                let mut p = init.clone();
                let mut trainer = mlp::Trainer::new(&task, mlp::Data::split(&task, &data).expect("sized"));
                for s in 0..task.segments {
                    trainer.segment(&mut p, s, task.steps_per_segment);
                }
                std::hint::black_box(p);
            };
            Ok((stored, Box::new(raw) as Box<dyn Fn() + Send>))
        })
        .await?;
        println!(
            "exec: {JOBS} jobs of each kind through the node agent on the local network (~100 ms of compute each)"
        );
        matmul.print(&format!("matrix product {n}×{n}×{n} (f32, {} MB of inputs)", 2 * n * n * 4 / 1_000_000));
        iterative.print(&format!("MLP training, {segments} segments × 8 steps, checkpoint per segment"));

        let cuda = match cuda_available() {
            Ok(()) => Some(cuda_vs_cublas()?),
            Err(reason) => {
                println!("  CUDA GEMM: not measured ({reason})");
                None
            }
        };
        crate::write_json(
            "exec",
            &json!({
                "jobs": JOBS,
                "matmul_n": n,
                "matmul": matmul.json(),
                "iterative_segments": segments,
                "iterative": iterative.json(),
                "agent_overhead_ratio": matmul.ratio.max(iterative.ratio),
                "cuda_gemm_vs_cublas": cuda,
            }),
        )
    })
}

/// MLP training of `segments` segments of 8 steps, and its data.
fn training(segments: u32, salt: usize) -> (Training, Vec<f32>, Vec<f32>, Vec<f32>) {
    let model = Mlp { inputs: 32, hidden: 64 };
    let rows = 1024;
    let x = data(rows * 32, salt);
    let y: Vec<f32> = (0..rows).map(|r| (x[r * 32] - x[r * 32 + 9]).tanh()).collect();
    let init: Vec<f32> = data(model.params(), salt + 7).iter().map(|v| v * 0.1).collect();
    (Training { model, batch: 64, learning_rate: 0.02, segments, steps_per_segment: 8 }, x, y, init)
}

/// Segments of [`training`] that take at least `target` on this machine.
fn calibrate_training(target: Duration) -> u32 {
    let (t, x, y, init) = training(1, 0);
    let task = IterativeTask {
        model: t.model,
        rows: y.len() as u32,
        batch: t.batch,
        learning_rate: t.learning_rate,
        segments: 1,
        steps_per_segment: t.steps_per_segment,
        data: Default::default(),
        init: Default::default(),
    };
    let data = [x, y].concat();
    let mut trainer = mlp::Trainer::new(&task, mlp::Data::split(&task, &data).expect("sized"));
    let mut p = init;
    let t = Instant::now();
    trainer.segment(&mut p, 0, 8);
    let one = t.elapsed().as_secs_f64().max(1e-6);
    (target.as_secs_f64() / one).ceil().clamp(4.0, 5_000.0) as u32
}

/// Throughput of GEMM through the executor relative to cuBLAS called directly with the same
/// host-to-device copies, median of 10 runs each at 4096³.
fn cuda_vs_cublas() -> Result<f64, Box<dyn std::error::Error>> {
    let gpu = CudaExecutor::new(0)?;
    let n = 4096u32;
    let (a, b) = (data((n * n) as usize, 1), data((n * n) as usize, 2));
    let task = gpufuel_core::task::MatMulTask {
        m: n,
        k: n,
        n,
        output: Precision::F32,
        a: Default::default(),
        b: Default::default(),
    };
    let keys = gpufuel_core::task::verify::Keys { job: [0; 32], node: [0; 32], seed: [0; 32] };
    let rt = tokio::runtime::Handle::current();
    let (mut direct, mut executor) = (vec![], vec![]);
    for _ in 0..11 {
        let t = Instant::now();
        std::hint::black_box(gpu.gpu().gemm(&task, &a, &b)?);
        direct.push(t.elapsed().as_secs_f64());
        let work = Work::MatMul { task: task.clone(), a: a.clone(), b: b.clone() };
        let ctx = RunContext::new(keys, None, vec![]);
        let t = Instant::now();
        let out = tokio::task::block_in_place(|| rt.block_on(gpu.run(work, ctx)))?;
        executor.push(t.elapsed().as_secs_f64());
        assert!(matches!(out, Output::Tensor(ref c) if c.len() == (n * n) as usize));
    }
    let (d, e) = (crate::median(direct[1..].to_vec()), crate::median(executor[1..].to_vec()));
    let flops = 2.0 * f64::from(n).powi(3);
    println!(
        "  CUDA GEMM {n}³: direct cuBLAS {:.1} ms ({:.1} TFLOP/s), executor {:.1} ms, ratio {:.3} (target ≥ 0.90)",
        d * 1e3,
        flops / d / 1e12,
        e * 1e3,
        d / e
    );
    Ok(d / e)
}
