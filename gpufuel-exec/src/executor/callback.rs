//! An executor whose matrix products are computed by a caller's function: how a Python (numpy,
//! PyTorch) or Rust function becomes the workload of a node. Sizes are checked on both sides of
//! the call and the agent adds the watermark and commitments as for any executor.

use std::sync::Arc;

use async_trait::async_trait;
use gpufuel_core::{
    state::{NodeSpec, Workload},
    task::{MatMulTask, TaskError},
};

use super::{
    CPU_CLASS, Capabilities, DEFAULT_VRAM_MIB, ExecError, Executor, Output, RunContext, Work, cpu::check_matmul,
};

/// `C = A·B` for a task and its row-major inputs; an `Err` is the function's own message.
pub type MatMulFn = dyn Fn(&MatMulTask, Vec<f32>, Vec<f32>) -> Result<Vec<f32>, String> + Send + Sync;

/// Runs `MatMul` work through a function (on a blocking thread: it may hold a lock such as
/// Python's GIL for as long as it computes).
pub struct CallbackExecutor {
    capabilities: Capabilities,
    matmul: Arc<MatMulFn>,
}

impl CallbackExecutor {
    /// An executor named `device` offering one GPU of class `gpu_class` (default 0, `cpu`) with
    /// `vram_mib` of memory (default [`DEFAULT_VRAM_MIB`]); no compute capability, as it runs no
    /// kernels; the price floor is the operator's.
    pub fn new(device: impl Into<String>, gpu_class: Option<u8>, vram_mib: Option<u32>, matmul: Arc<MatMulFn>) -> Self {
        let (gpu_class, vram_mib) = (gpu_class.unwrap_or(CPU_CLASS), vram_mib.unwrap_or(DEFAULT_VRAM_MIB));
        let spec = NodeSpec { gpu_class, gpu_count: 1, compute_capability: 0, vram_mib, price_floor: 0 };
        // The callback's device is its own (often a GPU through torch); a product's run emits no files.
        let capabilities =
            Capabilities { device: device.into(), spec, workloads: vec![Workload::MatMul], on_cpu: false };
        Self { capabilities, matmul }
    }
}

#[async_trait]
impl Executor for CallbackExecutor {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn run(&self, work: Work, ctx: RunContext) -> Result<Output, ExecError> {
        let Work::MatMul { task, a, b } = work else { return Err(ExecError::Unsupported(work.workload())) };
        check_matmul(&task, &a, &b)?;
        ctx.check()?;
        let f = self.matmul.clone();
        let c = tokio::task::spawn_blocking(move || f(&task, a, b).map(|c| (task, c)))
            .await
            .map_err(|e| ExecError::Failed(e.to_string()))?
            .map_err(ExecError::Failed)?;
        let (task, c) = c;
        let expected = task.sizes().2;
        if c.len() as u64 != expected {
            let got = c.len() as u64 * 4;
            return Err(TaskError::Size { what: "C from the executor", expected: expected * 4, got }.into());
        }
        ctx.progress(1.0);
        Ok(Output::Tensor(c))
    }
}
