//! Executors run a job's work: [`CpuExecutor`] anywhere, [`CudaExecutor`] on an NVIDIA GPU, both
//! running ONNX models through the [`OnnxEngine`] where ONNX Runtime loads. The
//! node agent fetches the inputs, hands them over as [`Work`], and gets an [`Output`] back; the
//! watermark and the checkpoint commitments are the agent's business ([`RunContext`]), so a custom
//! executor gets them without doing anything.

mod callback;
mod context;
mod cpu;
mod cuda;
mod feed;
pub mod onnx;
mod pool;

use std::sync::Arc;

use async_trait::async_trait;
use gpufuel_core::{
    state::{NodeSpec, Workload},
    task::{
        IterativeTask, KernelTask, MatMulTask, TaskError,
        onnx::{OnnxStepsTask, OnnxTask},
    },
};

pub use callback::{CallbackExecutor, MatMulFn};
pub use context::{Progress, RunContext};
pub use cpu::{CpuExecutor, gemm as cpu_gemm};
pub use cuda::{CudaExecutor, cuda_available, cuda_device_count};
pub use feed::{Feed, FeedWriter};
pub use onnx::{EngineOptions, OnnxEngine};
pub use pool::Pool;

/// Why a workload could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The work needs a GPU and this executor has none.
    #[error("{0:?} workloads need a GPU; this executor has none")]
    NeedsGpu(Workload),
    /// This executor does not run that kind of work.
    #[error("this executor does not run {0:?} workloads")]
    Unsupported(Workload),
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The task or its inputs are malformed.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The GPU, its driver or a CUDA library failed.
    #[error("CUDA: {0}")]
    Cuda(String),
    /// ONNX Runtime could not be loaded (the library is missing or too old).
    #[error("ONNX Runtime: {0}")]
    Engine(String),
    /// ONNX Runtime refused the model or failed to run it.
    #[error("the ONNX model failed: {0}")]
    Model(String),
    /// The job's task fails in `chunk` for a reason that is the task's own (a model that does not
    /// load or run): the node reports it instead of a result.
    #[error("the task fails in chunk {chunk}: {reason}")]
    InvalidTask {
        /// The chunk that fails.
        chunk: u64,
        /// What the engine said.
        reason: String,
    },
    /// The executor failed otherwise (a caller's function raised, a worker panicked).
    #[error("the executor failed: {0}")]
    Failed(String),
}

/// What an executor offers the market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// A readable device name, for logs and reports.
    pub device: String,
    /// The node spec it registers with (price floor left to the operator).
    pub spec: NodeSpec,
    /// The kinds of work it runs.
    pub workloads: Vec<Workload>,
    /// Whether its runs compute on this machine's CPU cores (then the agent keeps its own work
    /// off them while a run goes on).
    pub on_cpu: bool,
}

/// A job's work with its inputs fetched.
#[derive(Debug, Clone)]
pub enum Work {
    /// A matrix product.
    MatMul {
        /// Its shape and output format.
        task: MatMulTask,
        /// `A`, `m×k` row-major.
        a: Vec<f32>,
        /// `B`, `k×n` row-major.
        b: Vec<f32>,
    },
    /// Training steps of the MLP.
    Iterative {
        /// The training settings.
        task: IterativeTask,
        /// `x` then `y`.
        data: Vec<f32>,
        /// The initial parameters.
        init: Vec<f32>,
    },
    /// A user kernel.
    Kernel {
        /// The kernel and its launch.
        task: KernelTask,
        /// Input buffers in the task's order (`None`: zero-filled).
        inputs: Vec<Option<Vec<u8>>>,
    },
    /// Batched inference of an ONNX model.
    Onnx {
        /// The model, inputs, chunks and outputs.
        task: OnnxTask,
        /// The model's files.
        model: onnx::Model,
        /// Every input's bytes, in the task's order (batched ones arriving while the run goes on).
        inputs: Vec<Feed>,
    },
    /// An iterated ONNX step graph.
    OnnxSteps {
        /// The model, state, inputs and steps.
        task: OnnxStepsTask,
        /// The model's files.
        model: onnx::Model,
        /// The bytes of `task.fed()`: the state's initial values, then the other inputs.
        inputs: Vec<Vec<u8>>,
    },
}

impl Work {
    /// The workload kind.
    pub fn workload(&self) -> Workload {
        match self {
            Self::MatMul { .. } => Workload::MatMul,
            Self::Iterative { .. } => Workload::Iterative,
            Self::Kernel { .. } => Workload::Kernel,
            Self::Onnx { .. } => Workload::Onnx,
            Self::OnnxSteps { .. } => Workload::OnnxSteps,
        }
    }
}

/// What a run produced. Iterative work's checkpoints went through [`RunContext::checkpoint`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A matrix product or final parameters, `f32` (rounded to the task's format by the agent).
    Tensor(Vec<f32>),
    /// A kernel's output buffers, in the task's order.
    Buffers(Vec<Vec<u8>>),
    /// This many files went out through [`RunContext::emit`] as they were made: an ONNX job's
    /// outputs, chunk-major (`OnnxTask::output_file`), or a step graph's checkpoints,
    /// checkpoint-major (`OnnxStepsTask::checkpoint_file`), marked from checkpoint 1.
    Emitted(usize),
}

/// Runs work.
#[async_trait]
pub trait Executor: Send + Sync {
    /// What this executor runs.
    fn capabilities(&self) -> &Capabilities;

    /// Runs `work`, reporting progress and checkpoints through `ctx` and stopping with
    /// [`ExecError::Cancelled`] once it is cancelled.
    async fn run(&self, work: Work, ctx: RunContext) -> Result<Output, ExecError>;
}

/// The class a CPU (or a function not claiming a GPU class) offers: 0, `cpu`.
pub const CPU_CLASS: u8 = 0;

/// Memory a CPU or function executor offers unless told otherwise: 16 GiB.
pub const DEFAULT_VRAM_MIB: u32 = 16_384;

/// The executor a node runs: `given` (a caller's function) when there is one, else every GPU of
/// the first GPU's class (a [`Pool`] where there are several) unless `cpu_only`, else the CPU;
/// with why no GPU, or not every GPU, is used.
pub fn choose(given: Option<Arc<dyn Executor>>, cpu_only: bool) -> (Arc<dyn Executor>, Option<String>) {
    match (given, cpu_only) {
        (Some(executor), _) => (executor, None),
        (None, true) => (Arc::new(CpuExecutor::new()), None),
        (None, false) => match CudaExecutor::new(0) {
            Ok(first) => {
                let class = first.capabilities().spec.gpu_class;
                let (mut gpus, mut notes): (Vec<Arc<dyn Executor>>, Vec<String>) = (vec![Arc::new(first)], vec![]);
                for i in 1..cuda_device_count() {
                    match CudaExecutor::new(i) {
                        Ok(gpu) if gpu.capabilities().spec.gpu_class == class => gpus.push(Arc::new(gpu)),
                        Ok(gpu) => {
                            notes.push(format!("GPU {i} ({}) is of another class: not used", gpu.capabilities().device))
                        }
                        Err(e) => notes.push(format!("GPU {i} is not used: {e}")),
                    }
                }
                let note = (!notes.is_empty()).then(|| notes.join("; "));
                match gpus.len() {
                    1 => (gpus.remove(0), note),
                    _ => (Arc::new(Pool::new(gpus).expect("GPUs of one class")), note),
                }
            }
            Err(e) => (Arc::new(CpuExecutor::new()), Some(format!("no GPU ({e}): running on the CPU"))),
        },
    }
}
