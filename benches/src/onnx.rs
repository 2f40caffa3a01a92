//! `onnx`: ONNX jobs against ONNX Runtime called directly in the same process.
//!
//! - A ResNet-style CNN (`gpufuel-fixtures/models/make.py resnet`, written by the tools venv's
//!   python) on a batch sized to take at least a second when ONNX Runtime runs it directly; the
//!   same batch as a job through the node agent on the local network (fetch, chunk runs, marks,
//!   `.npy` files, upload, submit), and a validator's check of the result.
//! - A step graph (`make.py stepper_wide`) through the agent against the same steps run directly.
//! - Detection and false rejections over 1,000 simulated jobs of the small classifier, with the
//!   real marks, comparisons and challenge draws at the default committee (3) and sampling (16):
//!   honest results checked by validators whose engines use other thread counts and optimisation
//!   levels, and lazy, 10%-partial and copied results.

use std::time::{Duration, Instant};

use gpufuel_core::{
    cid::Cid,
    proof::challenge::{DEFAULT_SAMPLES, select_segments},
    state::JobState,
    task::{
        ResultManifest, Task,
        onnx::{ModelRef, OnnxTask, OutputSpec, TensorSpec},
        tensor::{DType, Tensor},
        verify::Keys,
    },
};
use gpufuel_exec::executor::{
    RunContext,
    onnx::{Device, EngineOptions, Model, OnnxEngine, Optimization, Pick, recheck, run_task},
};
use gpufuel_network::{LocalNetwork, LocalNetworkConfig};
use gpufuel_sdk::{JobOptions, OnnxJob};
use gpufuel_store::{ContentStore, ImportOptions, LocalStore};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use serde_json::json;

const CLASSIFIER: &[u8] = include_bytes!("../../gpufuel-fixtures/models/classifier.onnx");
/// Rounds of each measurement (medians reported).
const ROUNDS: usize = 5;
/// Simulated jobs per behaviour.
const SIMULATED: usize = 1_000;
/// Committee members checking each simulated job.
const MEMBERS: usize = 3;

/// A model `make.py` writes on demand (`resnet`, `stepper_wide`), by the tools venv's python.
fn generated(name: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("gpufuel-bench-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../gpufuel-fixtures/models/make.py");
    let python = gpufuel_exec::executor::onnx::onnx_venv().ok_or("no tools directory (set GPUFUEL_TOOLS or HOME)")?;
    let made = std::process::Command::new(python.join("bin/python")).arg(script).arg(&dir).arg(name).output()?;
    if !made.status.success() {
        return Err(format!(
            "make.py {name} failed (bash scripts/onnx-env.sh installs onnx): {}",
            String::from_utf8_lossy(&made.stderr)
        )
        .into());
    }
    let bytes = std::fs::read(dir.join(format!("{name}.onnx")))?;
    std::fs::remove_dir_all(&dir)?;
    Ok(bytes)
}

fn images(rows: u64, side: u64, channels: u64, rng: &mut SmallRng) -> Tensor {
    let data: Vec<u8> =
        (0..rows * channels * side * side).flat_map(|_| rng.random_range(-1.0f32..1.0).to_le_bytes()).collect();
    Tensor::new(DType::F32, vec![rows, channels, side, side], data).expect("sized")
}

fn model(bytes: &[u8], fill: u8) -> Model {
    let mut cid = [fill; 36];
    cid[..4].copy_from_slice(&[1, 0x55, 0x12, 0x20]);
    Model { cid: Cid::new(&cid).expect("a raw-leaf CID"), bytes: bytes.into(), external: vec![] }
}

/// The job through the agent against the direct run.
struct Agent {
    rows: u64,
    chunks: u64,
    direct: f64,
    compute: f64,
    fetch: f64,
    prove: f64,
    submit: f64,
    validator: f64,
    /// Writing the result's files to a fresh store of their own.
    store_writes: f64,
    /// Median over the rounds of (through the agent − direct) / direct.
    overhead: f64,
    /// The same, less the time the result's files take to write to a fresh store.
    overhead_beyond_writes: f64,
    /// Median over the rounds of the validator's check / the node's compute.
    validator_cost: f64,
}

async fn through_the_agent(resnet: &[u8]) -> Result<Agent, Box<dyn std::error::Error>> {
    let engine = OnnxEngine::new(EngineOptions::default())?;
    let m = model(resnet, 1);
    let mut rng = SmallRng::seed_from_u64(1);
    // The smallest batch (a multiple of 64) that ONNX Runtime takes at least a second on.
    let mut rows = 64;
    let (x, direct) = loop {
        let x = images(rows, 64, 3, &mut rng);
        engine.run(&m, &[("x", &x)], &["logits"])?; // warm the session
        let t = Instant::now();
        engine.run(&m, &[("x", &x)], &["logits"])?;
        let direct = t.elapsed().as_secs_f64();
        if direct >= 1.0 || rows >= 4096 {
            break (x, direct);
        }
        rows = (rows * 2).min(4096);
    };
    let config = LocalNetworkConfig { nodes: 1, validators: 3, use_gpu: false, ..LocalNetworkConfig::default() };
    let net = LocalNetwork::start(config).await?;
    let alice = net.submitter(1_000_000_000).await?;
    let task = OnnxJob::new(resnet.to_vec()).batched("x", x.clone()).output("logits").task(net.store.as_ref()).await?;
    let Task::Onnx(t) = &task else { unreachable!("an ONNX task") };
    let chunks = t.chunks();
    // Rounds of (direct call, the same job through the agent, a validator's check): this
    // machine's timing drifts, so each ratio compares neighbours and the medians are reported.
    let mut rounds = vec![];
    for round in 0..ROUNDS {
        let start = Instant::now();
        engine.run(&m, &[("x", &x)], &["logits"])?;
        let direct = if round == 0 { direct } else { start.elapsed().as_secs_f64() };
        let address = net.submit(&alice, &task, JobOptions { urgent: true, ..JobOptions::default() }).await?;
        net.run_until_done(&[address], 1_000).await?;
        let job = net.client.job(&address).await?;
        if job.job_state() != Ok(JobState::Settled) {
            return Err("the benchmark job did not settle".into());
        }
        let timings = net.nodes[0].agent.as_ref().and_then(|a| a.timings(&address)).ok_or("no timings for the job")?;
        let start = Instant::now();
        let verdict = net.validators[0].verify(&address, &job).await?;
        let validator = start.elapsed().as_secs_f64();
        if verdict != gpufuel_exec::agent::Verdict::Pass {
            return Err(format!("the validator's check of the honest job: {verdict:?}").into());
        }
        let writes = store_writes(&net, &job).await?;
        let s = |d: Duration| d.as_secs_f64();
        rounds.push([
            direct,
            s(timings.compute),
            s(timings.fetch),
            s(timings.prove),
            s(timings.submit),
            validator,
            writes,
        ]);
    }
    let col = |i: usize| crate::median(rounds.iter().map(|r| r[i]).collect());
    let ratio = |f: &dyn Fn(&[f64; 7]) -> f64| crate::median(rounds.iter().map(f).collect());
    Ok(Agent {
        rows,
        chunks,
        direct: col(0),
        compute: col(1),
        fetch: col(2),
        prove: col(3),
        submit: col(4),
        validator: col(5),
        store_writes: col(6),
        overhead: ratio(&|r| (r[1] + r[2] + r[3] + r[4] - r[0]) / r[0]),
        overhead_beyond_writes: ratio(&|r| (r[1] + r[2] + r[3] + r[4] - r[6] - r[0]) / r[0]),
        validator_cost: ratio(&|r| r[5] / r[1]),
    })
}

/// Seconds to write the job's result files into a fresh embedded store of their own, in one
/// `add_all`, as the agent does after a CPU run: the file system's share of the agent's time (one
/// file per chunk and output, each created on disk).
async fn store_writes(net: &LocalNetwork, job: &gpufuel_core::state::Job) -> Result<f64, Box<dyn std::error::Error>> {
    let manifest = ResultManifest::decode(&net.store.get(&job.result_cid).await?)?;
    let mut files = Vec::with_capacity(manifest.outputs.len());
    for cid in &manifest.outputs {
        files.push(net.store.get(cid).await?);
    }
    let dir = std::env::temp_dir().join(format!("gpufuel-bench-writes-{}", std::process::id()));
    let own = LocalStore::open(&dir)?;
    let start = Instant::now();
    own.add_all(files, &ImportOptions::default()).await?;
    let seconds = start.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&dir)?;
    Ok(seconds)
}

/// A step graph (`stepper_wide`: a 256×512 state, a 512×512 matrix per step) through the agent
/// against the same steps run directly: `(steps, segments, direct s, through the agent s,
/// overhead ratio)`, medians over the rounds.
async fn steps_through_the_agent(model_bytes: &[u8]) -> Result<(u32, u32, f64, f64, f64), Box<dyn std::error::Error>> {
    let (steps, every) = (1_200u32, 40u32);
    let mut rng = SmallRng::seed_from_u64(3);
    let mut f32s = |shape: Vec<u64>, scale: f32| {
        let n: u64 = shape.iter().product();
        let data = (0..n).flat_map(|_| (rng.random_range(-1.0f32..1.0) * scale).to_le_bytes()).collect();
        Tensor::new(DType::F32, shape, data).expect("sized")
    };
    let (z, noise, w) = (f32s(vec![256, 512], 1.0), f32s(vec![u64::from(steps), 512], 1.0), f32s(vec![512, 512], 0.05));
    let job = gpufuel_sdk::OnnxStepsJob::new(model_bytes.to_vec())
        .state("z", z.clone(), "z_next")
        .step_input("t")
        .per_step("noise", noise.clone())
        .constant("w", w.clone())
        .steps(steps, every);
    let config = LocalNetworkConfig { nodes: 1, validators: 3, use_gpu: false, ..LocalNetworkConfig::default() };
    let net = LocalNetwork::start(config).await?;
    let alice = net.submitter(1_000_000_000).await?;
    let task = job.task(net.store.as_ref()).await?;
    let Task::OnnxSteps(t) = &task else { unreachable!("a step graph") };
    // Rounds of (the same steps run directly: warm session, no marks, no store; the job through
    // the agent); the median ratio is reported.
    let engine = OnnxEngine::new(EngineOptions::default())?;
    let m = model(model_bytes, 3);
    let inputs = vec![z.data.clone(), noise.data, w.data];
    engine.run_segment(t, &m, &inputs, vec![z.clone()], 0)?;
    let mut rounds = vec![];
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut state = vec![z.clone()];
        for s in 0..t.segments() {
            state = engine.run_segment(t, &m, &inputs, state, s)?;
        }
        let direct = start.elapsed().as_secs_f64();
        let address = net.submit(&alice, &task, JobOptions { urgent: true, ..JobOptions::default() }).await?;
        net.run_until_done(&[address], 1_000).await?;
        if net.client.job(&address).await?.job_state() != Ok(JobState::Settled) {
            return Err("the benchmark's step graph did not settle".into());
        }
        let timings = net.nodes[0].agent.as_ref().and_then(|a| a.timings(&address)).ok_or("no timings for the job")?;
        rounds.push((direct, (timings.overhead() + timings.compute).as_secs_f64()));
    }
    let median = |f: &dyn Fn(&(f64, f64)) -> f64| crate::median(rounds.iter().map(f).collect());
    Ok((steps, t.segments(), median(&|r| r.0), median(&|r| r.1), median(&|r| (r.1 - r.0) / r.0)))
}

/// Outcomes of the simulated jobs of one behaviour.
#[derive(Default)]
struct Tally {
    detected: usize,
    jobs: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.detected as f64 / self.jobs as f64
    }
}

/// Simulated jobs: honest, lazy, partial (10% of chunks faked) and copied results of the
/// classifier, each checked by `MEMBERS` validators sampling `DEFAULT_SAMPLES` chunks under their
/// own seeds, re-running them on engines with other thread counts and optimisation levels.
fn simulate() -> Result<[Tally; 4], Box<dyn std::error::Error>> {
    let node = OnnxEngine::new(EngineOptions::default())?;
    let members = [
        OnnxEngine::new(EngineOptions { device: Device::Cpu, threads: 1, optimization: Optimization::Disabled })?,
        OnnxEngine::new(EngineOptions { device: Device::Cpu, threads: 2, optimization: Optimization::Basic })?,
        OnnxEngine::new(EngineOptions { device: Device::Cpu, threads: 1, optimization: Optimization::Extended })?,
    ];
    let m = model(CLASSIFIER, 2);
    let mut rng = SmallRng::seed_from_u64(7);
    let mut tallies: [Tally; 4] = Default::default();
    let rows = 64;
    for j in 0..SIMULATED {
        let x = images(rows, 8, 1, &mut rng);
        let task = OnnxTask {
            model: ModelRef { model: m.cid, external: vec![] },
            inputs: vec![TensorSpec {
                name: "x".into(),
                dtype: DType::F32,
                shape: x.shape.clone(),
                data: Cid::default(),
                batched: true,
            }],
            chunk_rows: 1,
            outputs: vec![
                OutputSpec::named("logits"),
                OutputSpec { name: "label".into(), tolerance: None, scores: Some("logits".into()) },
            ],
        };
        let inputs = [gpufuel_exec::executor::Feed::whole(x.data.clone())];
        let keys = Keys { job: rng.random(), node: rng.random(), seed: rng.random() };
        let thief = Keys { node: rng.random(), ..keys };
        // The honest node's files as its agent makes them (chunks run in groups), marked; the
        // copier's, marked under another node's key.
        let ctx = RunContext::new(keys, None, vec![]);
        run_task(&node, &task, &m, &inputs, &ctx)?;
        let mut honest = vec![];
        let mut copied = vec![];
        for (file, t) in ctx.take_emitted().into_iter().enumerate() {
            let (mut mine, mut theirs) = (t.clone(), t);
            mine.mark(&keys.watermark(Some(file as u32)))?;
            theirs.mark(&thief.watermark(Some(file as u32)))?;
            honest.push(mine.to_npy());
            copied.push(theirs.to_npy());
        }
        let zeros = |files: &[Vec<u8>]| -> Result<Vec<Vec<u8>>, Box<dyn std::error::Error>> {
            files
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let mut t = Tensor::from_npy(f)?;
                    t.data.fill(0);
                    t.mark(&keys.watermark(Some(i as u32)))?;
                    Ok(t.to_npy())
                })
                .collect()
        };
        let lazy = zeros(&honest)?;
        // 10% of the chunks faked (zeros, correctly marked), the rest honest.
        let faked: std::collections::BTreeSet<u64> =
            select_segments(&rng.random(), rows as u32, rows as u32 / 10)?.into_iter().map(u64::from).collect();
        let partial: Vec<Vec<u8>> = honest
            .iter()
            .zip(&lazy)
            .enumerate()
            .map(|(i, (h, z))| if faked.contains(&(i as u64 / 2)) { z.clone() } else { h.clone() })
            .collect();
        let variants = [&honest, &lazy, &partial, &copied];
        let mut caught = [false; 4];
        // Each member's check, as its agent makes it (`recheck`), of each variant.
        for engine in &members {
            let picked = select_segments(&rng.random(), task.chunks() as u32, DEFAULT_SAMPLES)?;
            for (v, files) in variants.iter().enumerate() {
                let picks: Vec<Pick> = picked
                    .iter()
                    .map(|&chunk| {
                        let i = task.output_file(u64::from(chunk), 0);
                        let r = task.input_range(&task.inputs[0], u64::from(chunk));
                        let rows = vec![x.data[r.start as usize..r.end as usize].to_vec()];
                        Pick { chunk, rows, files: files[i..i + 2].to_vec() }
                    })
                    .collect();
                if recheck(engine, &task, &m, &[None], &picks, &keys)?.is_err() {
                    caught[v] = true;
                }
            }
        }
        for (tally, c) in tallies.iter_mut().zip(caught) {
            tally.jobs += 1;
            tally.detected += usize::from(c);
        }
        if j % 250 == 249 {
            eprintln!("  simulated {} jobs", j + 1);
        }
    }
    Ok(tallies)
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let resnet = generated("resnet")?;
    let agent = rt.block_on(through_the_agent(&resnet))?;
    let (steps, segments, steps_direct, steps_through, steps_overhead) =
        rt.block_on(steps_through_the_agent(&generated("stepper_wide")?))?;
    let [honest, lazy, partial, copying] = simulate()?;
    let (overhead, validator_cost) = (agent.overhead, agent.validator_cost);
    println!(
        "onnx (medians of {ROUNDS} rounds): a ResNet-style CNN, {} images of 3×64×64 in {} chunks, ONNX Runtime {} on the CPU",
        agent.rows,
        agent.chunks,
        gpufuel_exec::executor::onnx::ORT_VERSION
    );
    println!("    direct ONNX Runtime call (whole batch)  {:>9.1} ms", agent.direct * 1e3);
    println!("    chunk runs in the node agent            {:>9.1} ms", agent.compute * 1e3);
    println!("    fetch model and inputs                  {:>9.1} ms", agent.fetch * 1e3);
    println!("    marks, .npy files, upload, manifest     {:>9.1} ms", agent.prove * 1e3);
    println!("    submit (confirmed)                      {:>9.1} ms", agent.submit * 1e3);
    println!("    agent_overhead_ratio                    {overhead:>9.4}  (target ≤ 0.10)");
    println!("    the result's {} files into a fresh store {:>8.1} ms", agent.chunks, agent.store_writes * 1e3);
    println!("    overhead beyond those writes            {:>9.4}", agent.overhead_beyond_writes);
    println!("    a validator's check                     {:>9.1} ms", agent.validator * 1e3);
    println!("    validator_cost_ratio                    {validator_cost:>9.4}  (target ≤ 0.05)");
    println!(
        "  {SIMULATED} simulated classifier jobs each (64 chunks, {MEMBERS} members × {DEFAULT_SAMPLES} samples, validators at 1–2 threads and other optimisation levels):"
    );
    println!(
        "    detection lazy {:.4}  partial_10pct {:.4}  copying {:.4}  (targets ≥ 0.999, ≥ 0.99, ≥ 0.999)",
        lazy.rate(),
        partial.rate(),
        copying.rate()
    );
    println!("    false_rejections {} of {}  (target 0)", honest.detected, honest.jobs);
    println!(
        "  a step graph (256×512 state, 512×512 matrix per step), {steps} steps in {segments} checkpointed segments:"
    );
    println!("    direct ONNX Runtime calls                {:>9.1} ms", steps_direct * 1e3);
    println!("    through the node agent                   {:>9.1} ms", steps_through * 1e3);
    println!("    steps_overhead_ratio                     {steps_overhead:>9.4}  (target ≤ 0.10)");
    crate::write_json(
        "onnx",
        &json!({
            "model": "resnet-style CNN (make.py resnet)",
            "rows": agent.rows,
            "chunks": agent.chunks,
            "direct_ms": agent.direct * 1e3,
            "compute_ms": agent.compute * 1e3,
            "fetch_ms": agent.fetch * 1e3,
            "prove_ms": agent.prove * 1e3,
            "submit_ms": agent.submit * 1e3,
            "validator_ms": agent.validator * 1e3,
            "agent_overhead_ratio": overhead,
            "store_writes_ms": agent.store_writes * 1e3,
            "overhead_beyond_store_writes": agent.overhead_beyond_writes,
            "validator_cost_ratio": validator_cost,
            "detection": {"lazy": lazy.rate(), "partial_10pct": partial.rate(), "copying": copying.rate()},
            "simulated_jobs": SIMULATED,
            "false_rejections": honest.detected,
            "steps": steps,
            "steps_direct_ms": steps_direct * 1e3,
            "steps_through_agent_ms": steps_through * 1e3,
            "steps_overhead_ratio": steps_overhead,
        }),
    )
}
