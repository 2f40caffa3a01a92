//! The CPU executor: matrix products through matrixmultiply (multi-threaded, a well-kept pure-Rust
//! GEMM: no BLAS to install), the iterative workload through the core's reference trainer, and
//! ONNX models through ONNX Runtime's CPU provider where its library loads.

use std::sync::Arc;

use async_trait::async_trait;
use gpufuel_core::{
    state::{NodeSpec, Workload},
    task::{IterativeTask, mlp},
};

use super::{
    CPU_CLASS, Capabilities, DEFAULT_VRAM_MIB, ExecError, Executor, Output, RunContext, Work,
    onnx::{self, EngineOptions, OnnxEngine},
};

/// Runs `MatMul`, `Iterative` and (with ONNX Runtime) `Onnx` work on the CPU; `Kernel` work
/// needs a GPU.
#[derive(Debug, Clone)]
pub struct CpuExecutor {
    capabilities: Capabilities,
    onnx: Option<Arc<OnnxEngine>>,
}

impl Default for CpuExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuExecutor {
    /// An executor offering this machine's cores as class 0 (`cpu`) with [`DEFAULT_VRAM_MIB`],
    /// and ONNX jobs when ONNX Runtime loads here (with its default options).
    pub fn new() -> Self {
        Self::with_onnx(EngineOptions::default())
    }

    /// The same, its ONNX sessions built with `options` (threads, optimisation level).
    pub fn with_onnx(options: EngineOptions) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let capabilities = Capabilities {
            device: format!("CPU ({cores} threads)"),
            spec: NodeSpec {
                gpu_class: CPU_CLASS,
                gpu_count: 1,
                compute_capability: 0,
                vram_mib: DEFAULT_VRAM_MIB,
                price_floor: 0,
            },
            workloads: vec![Workload::MatMul, Workload::Iterative],
            on_cpu: true,
        };
        let mut executor = Self { capabilities, onnx: None };
        match OnnxEngine::new(options) {
            Ok(engine) => {
                executor.capabilities.workloads.extend([Workload::Onnx, Workload::OnnxSteps]);
                executor.onnx = Some(Arc::new(engine));
            }
            Err(e) => tracing::info!("no ONNX jobs on this node: {e}"),
        }
        executor
    }
}

/// `C = A·B`, row-major `f32`.
pub fn gemm(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    // SAFETY: the slices hold m×k, k×n and m×n elements (checked by the callers against the
    // task), laid out row-major with the strides given.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    c
}

/// Runs an iterative task from the context's latest checkpoint (the initial state on a first
/// run), checkpointing every segment.
pub fn train(task: &IterativeTask, data: &[f32], init: &[f32], ctx: &RunContext) -> Result<Vec<f32>, ExecError> {
    let data = mlp::Data::split(task, data)?;
    check_init(task, init)?;
    ctx.start(init);
    let (done, mut params) = ctx.latest().expect("started");
    let mut trainer = mlp::Trainer::new(task, data);
    for s in done..task.segments {
        ctx.check()?;
        trainer.segment(&mut params, s, task.steps_per_segment);
        ctx.checkpoint(s + 1, &mut params)?;
        ctx.progress((s + 1) as f32 / task.segments as f32);
    }
    Ok(params)
}

/// The initial parameters must fit the model.
pub(super) fn check_init(task: &IterativeTask, init: &[f32]) -> Result<(), ExecError> {
    if init.len() == task.model.params() {
        return Ok(());
    }
    let (expected, got) = (task.model.params() as u64 * 4, init.len() as u64 * 4);
    Err(gpufuel_core::task::TaskError::Size { what: "initial parameters", expected, got }.into())
}

/// Checks the inputs' sizes against the task.
pub(super) fn check_matmul(task: &gpufuel_core::task::MatMulTask, a: &[f32], b: &[f32]) -> Result<(), ExecError> {
    let (na, nb, _) = task.sizes();
    for (what, v, n) in [("A", a, na), ("B", b, nb)] {
        if v.len() as u64 != n {
            return Err(gpufuel_core::task::TaskError::Size { what, expected: n * 4, got: v.len() as u64 * 4 }.into());
        }
    }
    Ok(())
}

#[async_trait]
impl Executor for CpuExecutor {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn run(&self, work: Work, ctx: RunContext) -> Result<Output, ExecError> {
        let onnx = self.onnx.clone();
        let blocking = move || match work {
            Work::MatMul { task, a, b } => {
                check_matmul(&task, &a, &b)?;
                ctx.check()?;
                let c = gemm(&a, &b, task.m as usize, task.k as usize, task.n as usize);
                ctx.progress(1.0);
                Ok(Output::Tensor(c))
            }
            Work::Iterative { task, data, init } => train(&task, &data, &init, &ctx).map(Output::Tensor),
            Work::Kernel { .. } => Err(ExecError::NeedsGpu(Workload::Kernel)),
            Work::Onnx { task, model, inputs } => match &onnx {
                Some(engine) => onnx::run_task(engine, &task, &model, &inputs, &ctx),
                None => Err(ExecError::Unsupported(Workload::Onnx)),
            },
            Work::OnnxSteps { task, model, inputs } => match &onnx {
                Some(engine) => onnx::run_steps(engine, &task, &model, &inputs, &ctx),
                None => Err(ExecError::Unsupported(Workload::OnnxSteps)),
            },
        };
        tokio::task::spawn_blocking(blocking).await.map_err(|e| ExecError::Failed(e.to_string()))?
    }
}
