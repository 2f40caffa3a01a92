//! `gpufuel.LocalNetwork`: the SDK's [`RunningNetwork`], a whole market in this process that runs
//! by itself in the background while it is open. Arguments left `None` take
//! [`LocalNetworkConfig`]'s defaults.

use std::sync::Arc;

use gpufuel_exec::agent::Behaviour;
use gpufuel_network::{LocalNetworkConfig, RunningNetwork};
use pyo3::prelude::*;

use crate::{
    client::Client,
    convert::opt,
    error::{coded, invalid},
    executor::callback_executor,
    runtime::block_on,
};

/// A local market: chain (LiteSVM with the real program), content store, CPU node agents (plus
/// the GPU where one is found and `use_gpu`), validators and optional dishonest nodes.
#[pyclass(frozen, module = "gpufuel")]
pub struct LocalNetwork(Arc<RunningNetwork>);

#[pymethods]
impl LocalNetwork {
    /// Starts the network; it steps itself (simulated chain time) until `close()`.
    #[new]
    #[pyo3(signature = (*, nodes=None, validators=None, dishonest=Vec::new(), use_gpu=None, tokens=None))]
    fn new(
        py: Python<'_>,
        nodes: Option<i128>,
        validators: Option<i128>,
        dishonest: Vec<String>,
        use_gpu: Option<bool>,
        tokens: Option<i128>,
    ) -> PyResult<Self> {
        let dishonest = dishonest.iter().map(|d| d.parse::<Behaviour>().map_err(|e| invalid(e.to_string())));
        let d = LocalNetworkConfig::default();
        let config = LocalNetworkConfig {
            nodes: opt::<u8>("nodes", nodes)?.map_or(d.nodes, usize::from),
            validators: opt::<u8>("validators", validators)?.map_or(d.validators, usize::from),
            dishonest: dishonest.collect::<PyResult<_>>()?,
            use_gpu: use_gpu.unwrap_or(d.use_gpu),
            tokens: opt("tokens", tokens)?.unwrap_or(d.tokens),
            ..d
        };
        let network = block_on(py, RunningNetwork::start(config)).map_err(coded)?;
        Ok(Self(Arc::new(network)))
    }

    /// A client for a new funded wallet, registered as a submitter unless `register=False`
    /// (then it must `register()` before it submits, as a fresh wallet on a cluster).
    #[pyo3(signature = (tokens=None, *, register=true))]
    fn client(&self, py: Python<'_>, tokens: Option<i128>, register: bool) -> PyResult<Client> {
        let (tokens, network) = (opt("tokens", tokens)?, self.0.clone());
        let client = block_on(py, async move { network.client(tokens, register).await }).map_err(coded)?;
        Ok(Client(Arc::new(client)))
    }

    /// Adds a node whose matrix products are computed by `executor(work) -> array` (numpy,
    /// PyTorch, …); returns its operator address. The agent adds the watermark and commitments
    /// and validators check the result as for any node.
    #[pyo3(signature = (executor, *, gpu_class=None, vram_mib=None, device="python"))]
    fn add_node(
        &self,
        py: Python<'_>,
        executor: Py<PyAny>,
        gpu_class: Option<&Bound<'_, PyAny>>,
        vram_mib: Option<i128>,
        device: &str,
    ) -> PyResult<String> {
        let executor = Arc::new(callback_executor(py, executor, gpu_class, vram_mib, device)?);
        let network = self.0.clone();
        let operator = block_on(py, async move { network.add_node(executor).await }).map_err(coded)?;
        Ok(operator.to_string())
    }

    /// Tokens held by every account the network created: constant unless tokens were created
    /// or lost.
    fn tokens_held(&self, py: Python<'_>) -> u64 {
        let network = self.0.clone();
        block_on(py, async move { network.tokens_held().await })
    }

    /// Why no GPU node runs, when `use_gpu` was asked and none was found.
    #[getter]
    fn gpu_note(&self, py: Python<'_>) -> Option<String> {
        let network = self.0.clone();
        block_on(py, async move { network.gpu_note().await })
    }

    /// Stops the background stepping (the network can no longer make progress).
    fn close(&self) {
        self.0.close();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(&self, _t: Py<PyAny>, _v: Py<PyAny>, _tb: Py<PyAny>) {
        self.close();
    }
}
