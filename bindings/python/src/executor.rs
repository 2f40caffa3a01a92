//! A Python callable as a node's workload, and `Work`: what it is handed.

use std::sync::Arc;

use gpufuel_core::task::MatMulTask;
use gpufuel_exec::executor::{CallbackExecutor, MatMulFn};
use pyo3::prelude::*;

use crate::{
    convert::{self, opt},
    error::invalid,
    runtime,
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

/// An executor whose matrix products the Python callable `executor` computes, offering
/// `gpu_class` and `vram_mib` (`None`: the SDK's defaults).
pub fn callback_executor(
    py: Python<'_>,
    executor: Py<PyAny>,
    gpu_class: Option<&Bound<'_, PyAny>>,
    vram_mib: Option<i128>,
    device: &str,
) -> PyResult<CallbackExecutor> {
    if !executor.bind(py).is_callable() {
        return Err(invalid("executor must be callable: executor(work) -> array"));
    }
    let class = gpu_class.map(convert::gpu_class).transpose()?;
    Ok(CallbackExecutor::new(device, class, opt("vram_mib", vram_mib)?, matmul_fn(executor)))
}

/// A Python callable as the function of a [`CallbackExecutor`]; its exceptions become the run's
/// error message. An `async def` executor's coroutine runs to completion on the agent's worker
/// thread, in an event loop of its own (`asyncio.run`).
fn matmul_fn(executor: Py<PyAny>) -> Arc<MatMulFn> {
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
