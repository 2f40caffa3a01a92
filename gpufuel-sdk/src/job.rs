//! The submitter's side of a job: put a task's inputs in the store, create the job, and read the
//! verified result once it settles.

use gpufuel_chain::{Chain, GpuFuelClient};
use gpufuel_core::{
    cid::Cid,
    instruction::JobSpec,
    proof::freivalds::Precision,
    state::{Job, JobState},
    task::{
        InvalidReport, IterativeTask, MatMulTask, ResultManifest, Task, TaskError, bf16s, f32_bytes, f32s, mlp::Mlp,
    },
};
use gpufuel_store::ContentStore;
use solana_address::Address;
use solana_keypair::Keypair;

use crate::ClientError;

/// What a job asks of the market, besides its task. The defaults are the SDK's, for every binding
/// and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobOptions {
    /// GPU class (default 0, `cpu`).
    pub gpu_class: u8,
    /// GPUs the job runs on at once (default 1).
    pub gpu_count: u8,
    /// Minimum memory per GPU in MiB (default 0).
    pub min_vram_mib: u32,
    /// Minimum compute capability, major * 10 + minor (default 0, any).
    pub min_compute_capability: u8,
    /// GPU-seconds billed (default 10).
    pub gpu_seconds: u32,
    /// Highest price accepted, base units per GPU-second (default 1,000).
    pub max_price: u64,
    /// Seconds from now to the deadline (default 3,600).
    pub deadline_secs: i64,
    /// Pay the urgent premium for a short bidding window (default no).
    pub urgent: bool,
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            gpu_class: 0,
            gpu_count: 1,
            min_vram_mib: 0,
            min_compute_capability: 0,
            gpu_seconds: 10,
            max_price: 1_000,
            deadline_secs: 3_600,
            urgent: false,
        }
    }
}

/// Stores `A` (`m×k`) and `B` (`k×n`) and returns the product task, with its output in `output`.
pub async fn matmul_task(
    store: &dyn ContentStore,
    (m, k, n): (u32, u32, u32),
    a: &[f32],
    b: &[f32],
    output: Precision,
) -> Result<Task, ClientError> {
    let probe = MatMulTask { m, k, n, output, a: Default::default(), b: Default::default() };
    Task::MatMul(probe.clone()).validate()?;
    let (na, nb, _) = probe.sizes();
    f32s("A", &f32_bytes(a), na)?;
    f32s("B", &f32_bytes(b), nb)?;
    let (a, b) = (store.put(f32_bytes(a)).await?, store.put(f32_bytes(b)).await?);
    Ok(Task::MatMul(MatMulTask { a, b, ..probe }))
}

/// Training settings of an iterative task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Training {
    /// The model trained.
    pub model: Mlp,
    /// Rows per step.
    pub batch: u32,
    /// SGD step size.
    pub learning_rate: f32,
    /// Checkpoints (each a segment validators may re-execute).
    pub segments: u32,
    /// Steps between checkpoints.
    pub steps_per_segment: u32,
}

impl Training {
    /// Training of `model` with the SDK's defaults (the bindings' too): batches of 32 rows,
    /// learning rate 0.05, 8 checkpointed segments of 4 steps.
    pub fn new(model: Mlp) -> Self {
        Self { model, batch: 32, learning_rate: 0.05, segments: 8, steps_per_segment: 4 }
    }
}

/// Stores the training data (`x`: `rows×inputs`, `y`: `rows`) and initial parameters and returns
/// the iterative task.
pub async fn iterative_task(
    store: &dyn ContentStore,
    training: Training,
    x: &[f32],
    y: &[f32],
    init: &[f32],
) -> Result<Task, ClientError> {
    let t = IterativeTask {
        model: training.model,
        rows: y.len() as u32,
        batch: training.batch,
        learning_rate: training.learning_rate,
        segments: training.segments,
        steps_per_segment: training.steps_per_segment,
        data: Default::default(),
        init: Default::default(),
    };
    Task::Iterative(t.clone()).validate()?;
    f32s("x", &f32_bytes(x), u64::from(t.rows) * u64::from(t.model.inputs))?;
    f32s("initial parameters", &f32_bytes(init), t.model.params() as u64)?;
    let data = store.put(f32_bytes(&[x, y].concat())).await?;
    let init = store.put(f32_bytes(init)).await?;
    Ok(Task::Iterative(IterativeTask { data, init, ..t }))
}

/// Stores the task and creates the job, escrowing from `token`; returns the job's address and the
/// stored task's CID. Nothing is escrowed when the store or the task fails first.
pub async fn submit<C: Chain>(
    client: &GpuFuelClient<C>,
    store: &dyn ContentStore,
    submitter: &Keypair,
    token: &Address,
    job_id: u64,
    task: &Task,
    options: JobOptions,
) -> Result<(Address, Cid), ClientError> {
    task.validate()?;
    let input_cid = store.put(task.encode()).await?;
    let now = client.chain().unix_time().await?;
    let spec = JobSpec {
        job_id,
        workload: task.workload(),
        gpu_class: options.gpu_class,
        gpu_count: options.gpu_count,
        min_compute_capability: options.min_compute_capability,
        min_vram_mib: options.min_vram_mib,
        gpu_seconds: options.gpu_seconds,
        max_price: options.max_price,
        deadline: now.saturating_add(options.deadline_secs),
        urgent: options.urgent,
        input_cid,
    };
    Ok((client.create_job(submitter, token, spec).await?, input_cid))
}

/// A settled job's result.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResult {
    /// A product (`f32`, or `bf16` widened; shape `[m, n]`) or the trained parameters (shape
    /// `[count]`), row-major.
    Tensor {
        /// The values, row-major.
        values: Vec<f32>,
        /// The dimensions.
        shape: Vec<usize>,
    },
    /// A kernel's output buffers.
    Buffers(Vec<Vec<u8>>),
    /// An ONNX job's outputs, whole (chunks joined along axis 0), in the task's order; a step
    /// graph's final state, by state name.
    Tensors(Vec<(String, gpufuel_core::task::tensor::Tensor)>),
}

/// The verified result of a settled job.
pub async fn result<C: Chain>(
    client: &GpuFuelClient<C>,
    store: &dyn ContentStore,
    job: &Address,
) -> Result<JobResult, ClientError> {
    Ok(result_and_files(client, store, job).await?.0)
}

/// The verified result of a settled job, and the files that hold it: the manifest, the outputs,
/// then the checkpoints.
pub(crate) async fn result_and_files<C: Chain>(
    client: &GpuFuelClient<C>,
    store: &dyn ContentStore,
    job: &Address,
) -> Result<(JobResult, Vec<Cid>), ClientError> {
    let j: Job = client.job(job).await?;
    let state = crate::status::state(job, &j)?;
    if state == JobState::Invalid {
        let report = InvalidReport::decode(&store.get(&j.result_cid).await?)
            .ok_or(TaskError::Encoding("invalid-task report"))?;
        return Err(ClientError::TaskFailed(report.reason));
    }
    if state != JobState::Settled {
        return Err(ClientError::NotSettled(state));
    }
    let manifest = ResultManifest::decode(&store.get(&j.result_cid).await?)?;
    let result = read_result(store, &j, &manifest).await?;
    Ok((result, [&[j.result_cid][..], &manifest.outputs, &manifest.checkpoints].concat()))
}

/// Reads and decodes the outputs a job's result manifest names.
async fn read_result(store: &dyn ContentStore, j: &Job, manifest: &ResultManifest) -> Result<JobResult, ClientError> {
    let task = Task::decode_for(&store.get(&j.input_cid).await?, j)?;
    let mut outputs = Vec::with_capacity(manifest.outputs.len());
    for cid in &manifest.outputs {
        outputs.push(store.get(cid).await?);
    }
    let Some(first) = outputs.first() else { return Err(TaskError::Invalid("no output").into()) };
    Ok(match task {
        Task::MatMul(t) => {
            let values = match t.output {
                Precision::Bf16 => bf16s("C", first, t.sizes().2)?.iter().map(|v| v.to_f32()).collect(),
                Precision::F32 => f32s("C", first, t.sizes().2)?,
            };
            JobResult::Tensor { values, shape: vec![t.m as usize, t.n as usize] }
        }
        Task::Iterative(t) => {
            let values = f32s("parameters", first, t.model.params() as u64)?;
            JobResult::Tensor { shape: vec![values.len()], values }
        }
        Task::Kernel(_) => JobResult::Buffers(outputs),
        Task::Onnx(t) => JobResult::Tensors(crate::onnx::outputs(&t, &outputs)?),
        Task::OnnxSteps(t) => JobResult::Tensors(crate::onnx::final_state(&t, &outputs)?),
    })
}
