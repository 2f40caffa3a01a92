//! `gpufuel.NodeAgent` and `gpufuel.ValidatorAgent` on any market a `Client` reaches, and `Work`:
//! what a Python executor is handed.

use std::sync::Arc;

use gpufuel_chain::Chain;
use gpufuel_core::{quote::PricingStrategy, task::MatMulTask};
use gpufuel_exec::{
    agent::{self as rs, NodeConfig, ValidatorConfig},
    executor::{CallbackExecutor, CpuExecutor, CudaExecutor, Executor, MatMulFn},
};
use pyo3::prelude::*;

use crate::{
    client::Client,
    convert::{self, invalid, uint},
    runtime::{self, block_on},
};

/// A matrix product to compute: `a` (m×k) · `b` (k×n), float32 arrays.
#[pyclass(frozen, module = "gpufuel")]
pub struct Work {
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    m: u32,
    #[pyo3(get)]
    k: u32,
    #[pyo3(get)]
    n: u32,
    #[pyo3(get)]
    a: Py<PyAny>,
    #[pyo3(get)]
    b: Py<PyAny>,
}

/// A node's executor whose matrix products the Python callable `executor` computes, offering
/// `gpu_class` (default `cpu`) and `vram_mib`.
pub fn callback_executor(
    executor: Py<PyAny>,
    gpu_class: Option<&Bound<'_, PyAny>>,
    vram_mib: i128,
    device: &str,
) -> PyResult<CallbackExecutor> {
    let class = gpu_class.map_or(Ok(0), convert::gpu_class)?;
    Ok(CallbackExecutor::new(device, class, uint("vram_mib", vram_mib)?, matmul_fn(executor)))
}

/// A Python callable as the function of a [`gpufuel_exec::executor::CallbackExecutor`]; its
/// exceptions become the run's error message. An `async def` executor's coroutine runs to
/// completion on the agent's worker thread, in an event loop of its own (`asyncio.run`).
pub fn matmul_fn(executor: Py<PyAny>) -> Arc<MatMulFn> {
    Arc::new(move |task: &MatMulTask, a: Vec<f32>, b: Vec<f32>| {
        // The message is made inside Python too: formatting a Python exception enters Python.
        runtime::attach(|py| call(py, &executor, task, a, b).map_err(|e| e.to_string()))
            .unwrap_or_else(|| Err(runtime::EXITING.to_string()))
    })
}

fn call(py: Python<'_>, executor: &Py<PyAny>, task: &MatMulTask, a: Vec<f32>, b: Vec<f32>) -> PyResult<Vec<f32>> {
    let (m, k, n) = (task.m, task.k, task.n);
    let a = convert::ndarray(py, a, vec![m as usize, k as usize])?.unbind();
    let b = convert::ndarray(py, b, vec![k as usize, n as usize])?.unbind();
    let work = Work { kind: "matmul", m, k, n, a, b };
    let mut c = executor.bind(py).call1((work,))?;
    let asyncio = py.import("asyncio")?;
    if asyncio.call_method1("iscoroutine", (&c,))?.is_truthy()? {
        c = asyncio.call_method1("run", (c,))?;
    }
    let (values, shape) = convert::array("the executor's result", &c)?;
    if shape.iter().product::<usize>() != (m * n) as usize {
        return Err(invalid(format!("the executor returned shape {shape:?}, expected ({m}, {n})")));
    }
    Ok(values)
}

type Dyn = Arc<dyn Chain>;

/// A node operator's agent on the client's market, with the client's wallet: registers and
/// stakes (once), then each `tick()` heartbeats, bids, runs the work it won on `executor`
/// (a callable, or the GPU where found, else the CPU), proves, submits and settles.
#[pyclass(frozen, module = "gpufuel")]
pub struct NodeAgent(Arc<rs::NodeAgent<Dyn>>);

#[pymethods]
impl NodeAgent {
    #[new]
    #[pyo3(signature = (client, *, executor=None, stake=10_000_000, floor=10, pricing="reference", gpu_class=None, vram_mib=16_384))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: &Client,
        executor: Option<Py<PyAny>>,
        stake: i128,
        floor: i128,
        pricing: &str,
        gpu_class: Option<&Bound<'_, PyAny>>,
        vram_mib: i128,
    ) -> PyResult<Self> {
        let executor: Arc<dyn Executor> = match executor {
            Some(f) => Arc::new(callback_executor(f, gpu_class, vram_mib, "python")?),
            None => match CudaExecutor::new(0) {
                Ok(gpu) => Arc::new(gpu),
                Err(_) => Arc::new(CpuExecutor::new()),
            },
        };
        let config = NodeConfig {
            pricing: pricing.parse::<PricingStrategy>().map_err(|e| invalid(format!("pricing '{pricing}': {e}")))?,
            price_floor: uint("floor", floor)?,
            ..NodeConfig::default()
        };
        let (stake, c) = (uint("stake", stake)?, client.0.clone());
        let agent = block_on(py, async move {
            let keypair = c.keypair().insecure_clone();
            rs::NodeAgent::start(c.gpufuel().clone(), c.store().clone(), executor, keypair, &c.token(), stake, config)
                .await
        });
        Ok(Self(Arc::new(agent.map_err(|e| convert::client_error(e.into()))?)))
    }

    /// One pass; returns what it did (bids, assigned, started, submitted, settled, errors).
    fn tick(&self, py: Python<'_>) -> PyResult<std::collections::BTreeMap<&'static str, usize>> {
        let agent = self.0.clone();
        let t = block_on(py, async move { agent.tick().await }).map_err(|e| convert::client_error(e.into()))?;
        Ok([
            ("bids", t.bids),
            ("assigned", t.assigned),
            ("started", t.started),
            ("submitted", t.submitted),
            ("settled", t.settled),
            ("errors", t.errors.len()),
        ]
        .into())
    }

    /// Jobs running now.
    fn running(&self) -> usize {
        self.0.running()
    }
}

/// A validator's agent on the client's market: registers and stakes (once), then each `tick()`
/// checks submitted results, attests, settles and expires.
#[pyclass(frozen, module = "gpufuel")]
pub struct ValidatorAgent(Arc<rs::ValidatorAgent<Dyn>>);

#[pymethods]
impl ValidatorAgent {
    #[new]
    #[pyo3(signature = (client, *, stake=5_000_000))]
    fn new(py: Python<'_>, client: &Client, stake: i128) -> PyResult<Self> {
        let (stake, c) = (uint("stake", stake)?, client.0.clone());
        let agent = block_on(py, async move {
            let keypair = c.keypair().insecure_clone();
            let config = ValidatorConfig::default();
            rs::ValidatorAgent::start(c.gpufuel().clone(), c.store().clone(), keypair, &c.token(), stake, config).await
        });
        Ok(Self(Arc::new(agent.map_err(|e| convert::client_error(e.into()))?)))
    }

    /// One pass; returns (votes cast, settled, expired).
    fn tick(&self, py: Python<'_>) -> PyResult<(usize, usize, usize)> {
        let agent = self.0.clone();
        let t = block_on(py, async move { agent.tick().await }).map_err(|e| convert::client_error(e.into()))?;
        Ok((t.votes.len(), t.settled, t.expired))
    }
}
