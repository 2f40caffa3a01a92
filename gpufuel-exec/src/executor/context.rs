//! The agent's side of a run: progress, cancellation, checkpoints that are watermarked before
//! the executor continues from them, and result files streamed out as they are made.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use gpufuel_core::task::{MARK_TOLERANCE, tensor::Tensor, verify::Keys};

use super::ExecError;

/// Called with the fraction done, `0.0..=1.0`.
pub type Progress = Arc<dyn Fn(f32) + Send + Sync>;

/// Handed to [`super::Executor::run`]; cheap to clone into a worker thread.
#[derive(Clone)]
pub struct RunContext {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    cancelled: AtomicBool,
    progress: Option<Progress>,
    /// Checkpoints so far, each as stored (marked); index 0 is the initial state.
    checkpoints: Mutex<Vec<Vec<f32>>>,
    /// Files emitted and not yet taken by the agent (ONNX outputs and step-graph checkpoints).
    emitted: Mutex<Vec<Tensor>>,
    /// Wakes whoever streams checkpoints and files out while the run goes on.
    added: tokio::sync::Notify,
}

impl RunContext {
    /// A context marking with the job's `keys`; `resume` holds the checkpoints of an earlier,
    /// interrupted run (from the initial state on), to continue from the last.
    pub fn new(keys: Keys, progress: Option<Progress>, resume: Vec<Vec<f32>>) -> Self {
        let inner = Inner {
            keys,
            cancelled: AtomicBool::new(false),
            progress,
            checkpoints: Mutex::new(resume),
            emitted: Mutex::new(vec![]),
            added: tokio::sync::Notify::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The job's watermark keys.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    /// `Err(Cancelled)` once cancelled: executors call it between steps.
    pub fn check(&self) -> Result<(), ExecError> {
        if self.inner.cancelled.load(Ordering::Relaxed) { Err(ExecError::Cancelled) } else { Ok(()) }
    }

    /// Reports the fraction done.
    pub fn progress(&self, done: f32) {
        if let Some(p) = &self.inner.progress {
            p(done.clamp(0.0, 1.0));
        }
    }

    /// Records the initial state (checkpoint 0, unmarked: validators compare it with the task's).
    pub fn start(&self, init: &[f32]) {
        let mut cps = self.inner.checkpoints.lock().expect("checkpoint lock");
        if cps.first().is_some_and(|c| c != init) {
            cps.clear(); // resumed checkpoints of other work
        }
        if cps.is_empty() {
            cps.push(init.to_vec());
        }
        self.inner.added.notify_one();
    }

    /// Marks `values` in place as checkpoint `index` (≥ 1) and records it. The executor must
    /// continue from the marked values, so the marks are part of what the next segment computes.
    pub fn checkpoint(&self, index: u32, values: &mut [f32]) -> Result<(), ExecError> {
        self.inner.keys.watermark(Some(index)).embed(values, MARK_TOLERANCE).map_err(|e| ExecError::Task(e.into()))?;
        let mut cps = self.inner.checkpoints.lock().expect("checkpoint lock");
        cps.truncate(index as usize);
        cps.push(values.to_vec());
        self.inner.added.notify_one();
        Ok(())
    }

    /// The latest checkpoint recorded and its index, to resume from.
    pub fn latest(&self) -> Option<(u32, Vec<f32>)> {
        let cps = self.inner.checkpoints.lock().expect("checkpoint lock");
        cps.last().map(|c| (cps.len() as u32 - 1, c.clone()))
    }

    /// Checkpoint `index`, once recorded.
    pub fn checkpoint_at(&self, index: usize) -> Option<Vec<f32>> {
        self.inner.checkpoints.lock().expect("checkpoint lock").get(index).cloned()
    }

    /// Resolves when a checkpoint is recorded (at once if one was recorded since the last call).
    pub async fn added(&self) {
        self.inner.added.notified().await;
    }

    /// Hands the agent the next file of the result (in order), which it uploads while the run
    /// goes on.
    pub fn emit(&self, file: Tensor) {
        self.inner.emitted.lock().expect("emitted lock").push(file);
        self.inner.added.notify_one();
    }

    /// The files emitted since the last call, in order.
    pub fn take_emitted(&self) -> Vec<Tensor> {
        std::mem::take(&mut *self.inner.emitted.lock().expect("emitted lock"))
    }

    /// Every checkpoint recorded, from the initial state.
    pub fn checkpoints(&self) -> Vec<Vec<f32>> {
        self.inner.checkpoints.lock().expect("checkpoint lock").clone()
    }
}
