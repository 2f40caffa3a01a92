//! The agent's side of a run: progress, cancellation, and checkpoints that are watermarked before
//! the executor continues from them.

use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use gpufuel_core::task::{MARK_TOLERANCE, f32_bytes, verify::Keys};

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
    /// Where checkpoints are also written, so a restarted agent resumes from the last one.
    journal: Option<PathBuf>,
}

impl RunContext {
    /// A context marking with the job's `keys`. With a `journal` directory, checkpoints are
    /// written there as they are made, and those of an earlier, interrupted run are loaded to
    /// resume from.
    pub fn new(keys: Keys, progress: Option<Progress>, journal: Option<PathBuf>) -> std::io::Result<Self> {
        let mut resume = vec![];
        if let Some(dir) = &journal {
            std::fs::create_dir_all(dir)?;
            while let Ok(bytes) = std::fs::read(checkpoint_file(dir, resume.len() as u32)) {
                resume
                    .push(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect());
            }
        }
        let checkpoints = Mutex::new(resume);
        let inner = Inner { keys, cancelled: AtomicBool::new(false), progress, checkpoints, journal };
        Ok(Self { inner: Arc::new(inner) })
    }

    fn journal(&self, index: u32, values: &[f32]) -> Result<(), ExecError> {
        let Some(dir) = &self.inner.journal else { return Ok(()) };
        let path = checkpoint_file(dir, index);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, f32_bytes(values))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| ExecError::Failed(format!("journal {}: {e}", path.display())))
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
    pub fn start(&self, init: &[f32]) -> Result<(), ExecError> {
        let mut cps = self.inner.checkpoints.lock().expect("checkpoint lock");
        if cps.first().is_some_and(|c| c != init) {
            cps.clear(); // a journal of other work
        }
        if cps.is_empty() {
            self.journal(0, init)?;
            cps.push(init.to_vec());
        }
        Ok(())
    }

    /// Marks `values` in place as checkpoint `index` (≥ 1) and records it. The executor must
    /// continue from the marked values, so the marks are part of what the next segment computes.
    pub fn checkpoint(&self, index: u32, values: &mut [f32]) -> Result<(), ExecError> {
        self.inner.keys.watermark(Some(index)).embed(values, MARK_TOLERANCE).map_err(|e| ExecError::Task(e.into()))?;
        self.journal(index, values)?;
        let mut cps = self.inner.checkpoints.lock().expect("checkpoint lock");
        cps.truncate(index as usize);
        cps.push(values.to_vec());
        Ok(())
    }

    /// The latest checkpoint recorded and its index, to resume from.
    pub fn latest(&self) -> Option<(u32, Vec<f32>)> {
        let cps = self.inner.checkpoints.lock().expect("checkpoint lock");
        cps.last().map(|c| (cps.len() as u32 - 1, c.clone()))
    }

    /// Every checkpoint recorded, from the initial state.
    pub fn checkpoints(&self) -> Vec<Vec<f32>> {
        self.inner.checkpoints.lock().expect("checkpoint lock").clone()
    }
}

fn checkpoint_file(dir: &std::path::Path, index: u32) -> PathBuf {
    dir.join(format!("checkpoint-{index:06}"))
}
