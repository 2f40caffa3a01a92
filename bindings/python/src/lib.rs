//! The `gpufuel` Python package's native module: thin wrappers of the Rust crates' nouns
//! (`LocalNetwork`, `Client`, `NodeAgent`, `ValidatorAgent`) that add only conversion (numpy
//! arrays, Python ints and names) and error mapping (`gpufuel.errors`).

mod agent;
mod client;
mod convert;
mod network;

use std::future::Future;

use pyo3::prelude::*;

/// Runs `fut` to completion on the shared tokio runtime with the GIL released, so Python
/// callbacks (a node's executor) can run meanwhile.
fn block_on<F: Future + Send>(py: Python<'_>, fut: F) -> F::Output
where
    F::Output: Send,
{
    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(fut))
}

#[pymodule]
fn _gpufuel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<network::LocalNetwork>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::Quote>()?;
    m.add_class::<client::JobStatus>()?;
    m.add_class::<client::NodeStatus>()?;
    m.add_class::<agent::NodeAgent>()?;
    m.add_class::<agent::ValidatorAgent>()?;
    m.add_class::<agent::Work>()?;
    m.add("GPU_CLASSES", gpufuel_exec::executor::GPU_CLASSES.iter().map(|(id, n)| (*n, *id)).collect::<Vec<_>>())?;
    Ok(())
}
