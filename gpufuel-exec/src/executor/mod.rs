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

/// A class id by name (`cpu`, `h100`, …, as in [`GPU_CLASSES`]).
pub fn class_id(name: &str) -> Option<u8> {
    GPU_CLASSES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(id, _)| *id)
}

/// A class name by id.
pub fn class_name(id: u8) -> &'static str {
    GPU_CLASSES.iter().find(|(i, _)| *i == id).map_or("unknown", |(_, n)| n)
}
