//! Executors run a job's work: [`CpuExecutor`] anywhere, [`CudaExecutor`] on an NVIDIA GPU. The
//! node agent fetches the inputs, hands them over as [`Work`], and gets an [`Output`] back; the
//! watermark and the checkpoint commitments are the agent's business ([`RunContext`]), so a custom
//! executor gets them without doing anything.

mod callback;
mod context;
mod cpu;
mod cuda;

use async_trait::async_trait;
use gpufuel_core::{
    state::{NodeSpec, Workload},
    task::{IterativeTask, KernelTask, MatMulTask, TaskError},
};

pub use callback::{CallbackExecutor, MatMulFn};
pub use context::{Progress, RunContext};
pub use cpu::{CpuExecutor, gemm as cpu_gemm};
pub use cuda::{CudaExecutor, cuda_available};

/// Why a workload could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{0:?} workloads need a GPU; this executor has none")]
    NeedsGpu(Workload),
    #[error("this executor does not run {0:?} workloads")]
    Unsupported(Workload),
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error("CUDA: {0}")]
    Cuda(String),
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
    pub workloads: Vec<Workload>,
}

/// A job's work with its inputs fetched.
#[derive(Debug, Clone)]
pub enum Work {
    MatMul {
        task: MatMulTask,
        a: Vec<f32>,
        b: Vec<f32>,
    },
    Iterative {
        task: IterativeTask,
        data: Vec<f32>,
        init: Vec<f32>,
    },
    /// Input buffers in the task's order (`None`: zero-filled).
    Kernel {
        task: KernelTask,
        inputs: Vec<Option<Vec<u8>>>,
    },
}

impl Work {
    /// The workload kind.
    pub fn workload(&self) -> Workload {
        match self {
            Self::MatMul { .. } => Workload::MatMul,
            Self::Iterative { .. } => Workload::Iterative,
            Self::Kernel { .. } => Workload::Kernel,
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

/// GPU classes of the embedded market and the devices they stand for; ids are the on-chain class
/// ids of [`crate::network::LocalNetwork`] and the CLI's defaults.
pub const GPU_CLASSES: &[(u8, &str)] =
    &[(0, "cpu"), (1, "rtx-4090"), (2, "a100"), (3, "h100"), (4, "h200"), (5, "other")];

/// The class id of a device, from its name.
pub fn class_of_device(name: &str) -> u8 {
    let name = name.to_ascii_lowercase();
    let table = [("4090", 1), ("a100", 2), ("h100", 3), ("h200", 4)];
    table.iter().find(|(k, _)| name.contains(k)).map_or(5, |&(_, id)| id)
}

/// A GPU class that is not in [`GPU_CLASSES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown GPU class {given}; known: {}", known_classes())]
pub struct UnknownClass {
    /// What was given, quoted when it is a name.
    pub given: String,
}

fn known_classes() -> String {
    GPU_CLASSES.iter().map(|(id, n)| format!("{id} ({n})")).collect::<Vec<_>>().join(", ")
}

/// A class id from its id (`"3"`) or name (`"h100"`, any case), as in [`GPU_CLASSES`]: the one
/// parse behind the CLI's `--class` and both bindings' `gpu_class` arguments.
pub fn class_id(given: &str) -> Result<u8, UnknownClass> {
    let by_id = given.parse::<u8>().ok().filter(|id| GPU_CLASSES.iter().any(|(i, _)| i == id));
    let by_name = || GPU_CLASSES.iter().find(|(_, n)| n.eq_ignore_ascii_case(given)).map(|(id, _)| *id);
    let quoted = || if given.parse::<i64>().is_ok() { given.to_string() } else { format!("'{given}'") };
    by_id.or_else(by_name).ok_or_else(|| UnknownClass { given: quoted() })
}

/// A class name by id.
pub fn class_name(id: u8) -> &'static str {
    GPU_CLASSES.iter().find(|(i, _)| *i == id).map_or("unknown", |(_, n)| n)
}
