//! The `gpufuel` Python package's native module: thin wrappers of the Rust crates' nouns
//! (`LocalNetwork`, `Client`, `NodeAgent`, `ValidatorAgent`, `Work`) that add only conversion
//! (numpy arrays, Python ints and names) and error mapping (`gpufuel.errors`). The same nouns,
//! one file each, as the Node package.

mod agent;
mod client;
mod convert;
mod error;
mod executor;
mod network;
mod runtime;

use pyo3::prelude::*;

#[pymodule]
fn _gpufuel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Before the interpreter finalizes, no tokio thread may be left inside it (`runtime`).
    m.py().import("atexit")?.call_method1("register", (wrap_pyfunction!(runtime::shutdown, m)?,))?;
    m.add_class::<network::LocalNetwork>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<client::Quote>()?;
    m.add_class::<client::JobStatus>()?;
    m.add_class::<client::NodeStatus>()?;
    m.add_class::<agent::NodeAgent>()?;
    m.add_class::<agent::ValidatorAgent>()?;
    m.add_class::<executor::Work>()?;
    m.add("GPU_CLASSES", gpufuel_core::class::GPU_CLASSES.iter().map(|(id, n)| (*n, *id)).collect::<Vec<_>>())?;
    Ok(())
}
