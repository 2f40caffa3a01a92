//! [`Pool`]: every GPU of a machine as one node. The node registers once with a GPU count (the
//! program already lets a node hold as many jobs as it has free GPUs, and one stake, one
//! reputation and one bid per job suit an operator better than a node per card), and each run
//! goes to a free device. A job asking for several GPUs runs on one of them while the program
//! counts all it asked for as busy, so no other job takes them: splitting one job's work across
//! devices is its executor's to do.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{Capabilities, ExecError, Executor, Output, RunContext, Work};

/// Devices of one class, run side by side.
pub struct Pool {
    devices: Vec<Arc<dyn Executor>>,
    capabilities: Capabilities,
    free: Mutex<Vec<bool>>,
    /// Signalled when a device is given back.
    released: tokio::sync::Notify,
}

impl Pool {
    /// A pool of `devices`, which must share a class; it offers what they all run, the least
    /// VRAM and compute capability among them, and their count. `None` when `devices` is empty
    /// or mixes classes.
    pub fn new(devices: Vec<Arc<dyn Executor>>) -> Option<Self> {
        let first = devices.first()?.capabilities().clone();
        if devices.iter().any(|d| d.capabilities().spec.gpu_class != first.spec.gpu_class) {
            return None;
        }
        let all = |w| devices.iter().all(|d| d.capabilities().workloads.contains(w));
        let mut capabilities = first.clone();
        capabilities.workloads = first.workloads.iter().filter(|w| all(w)).copied().collect();
        capabilities.spec.gpu_count =
            devices.iter().map(|d| u32::from(d.capabilities().spec.gpu_count)).sum::<u32>().min(255) as u8;
        capabilities.spec.vram_mib = devices.iter().map(|d| d.capabilities().spec.vram_mib).min().unwrap_or(0);
        capabilities.spec.compute_capability =
            devices.iter().map(|d| d.capabilities().spec.compute_capability).min().unwrap_or(0);
        capabilities.on_cpu = devices.iter().any(|d| d.capabilities().on_cpu);
        capabilities.device = format!("{} × {}", devices.len(), first.device);
        let free = Mutex::new(vec![true; devices.len()]);
        Some(Self { devices, capabilities, free, released: tokio::sync::Notify::new() })
    }

    /// Takes the first free device, waiting for one.
    async fn take(&self) -> usize {
        loop {
            let released = self.released.notified();
            {
                let mut free = self.free.lock().expect("device list");
                if let Some(i) = free.iter().position(|f| *f) {
                    free[i] = false;
                    return i;
                }
            }
            released.await;
        }
    }

    fn give_back(&self, i: usize) {
        self.free.lock().expect("device list")[i] = true;
        self.released.notify_waiters();
    }
}

/// Gives a device back however its run ends (cancelled runs too).
struct Held<'a>(&'a Pool, usize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.give_back(self.1);
    }
}

#[async_trait]
impl Executor for Pool {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn run(&self, work: Work, ctx: RunContext) -> Result<Output, ExecError> {
        let held = Held(self, self.take().await);
        self.devices[held.1].run(work, ctx).await
    }
}
