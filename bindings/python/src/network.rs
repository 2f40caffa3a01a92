//! `gpufuel.LocalNetwork`: a whole market in this process (embedded chain and store, node agents,
//! validators) that runs by itself in the background while it is open.

use std::sync::{Arc, Mutex};

use gpufuel_exec::{
    agent::Behaviour,
    network::{self as rs, Driver, LocalNetworkConfig},
};
use pyo3::prelude::*;
use tokio::sync::RwLock;

use crate::{
    agent::callback_executor,
    client::Client,
    convert::{invalid, uint},
    runtime::block_on,
};

fn network_error(e: rs::NetworkError) -> PyErr {
    crate::convert::client_error(e.into())
}

/// A local market: chain (LiteSVM with the real program), content store, CPU node agents (plus
/// the GPU where one is found and `use_gpu`), validators and optional dishonest nodes.
#[pyclass(frozen, module = "gpufuel")]
pub struct LocalNetwork {
    net: Arc<RwLock<rs::LocalNetwork>>,
    driver: Mutex<Option<Driver>>,
}

#[pymethods]
impl LocalNetwork {
    /// Starts the network; it steps itself (simulated chain time) until `close()`.
    #[new]
    #[pyo3(signature = (*, nodes=3, validators=3, dishonest=Vec::new(), use_gpu=false, tokens=100_000_000))]
    fn new(
        py: Python<'_>,
        nodes: i128,
        validators: i128,
        dishonest: Vec<String>,
        use_gpu: bool,
        tokens: i128,
    ) -> PyResult<Self> {
        let dishonest = dishonest.iter().map(|d| Behaviour::from_name(d).map_err(invalid)).collect::<PyResult<_>>()?;
        let config = LocalNetworkConfig {
            nodes: uint::<u8>("nodes", nodes)?.into(),
            validators: uint::<u8>("validators", validators)?.into(),
            dishonest,
            use_gpu,
            tokens: uint("tokens", tokens)?,
            ..LocalNetworkConfig::default()
        };
        block_on(py, async move {
            let net = Arc::new(RwLock::new(rs::LocalNetwork::start(config).await.map_err(network_error)?));
            let driver = rs::LocalNetwork::drive(net.clone(), std::time::Duration::from_millis(5));
            Ok(Self { net, driver: Mutex::new(Some(driver)) })
        })
    }

    /// A client for a new funded wallet, registered as a submitter unless `register=False`
    /// (then it must `register()` before it submits, as a fresh wallet on a cluster).
    #[pyo3(signature = (tokens=10_000_000, *, register=true))]
    fn client(&self, py: Python<'_>, tokens: i128, register: bool) -> PyResult<Client> {
        let (tokens, net) = (uint("tokens", tokens)?, self.net.clone());
        let client = block_on(py, async move {
            let net = net.read().await;
            if register { net.client(tokens).await } else { net.wallet_client(tokens) }
        });
        Ok(Client(Arc::new(client.map_err(network_error)?)))
    }

    /// Adds a node whose matrix products are computed by `executor(work) -> array` (numpy,
    /// PyTorch, …); returns its operator address. The agent adds the watermark and commitments
    /// and validators check the result as for any node.
    #[pyo3(signature = (executor, *, gpu_class=None, vram_mib=16_384, device="python"))]
    fn add_node(
        &self,
        py: Python<'_>,
        executor: Py<PyAny>,
        gpu_class: Option<&Bound<'_, PyAny>>,
        vram_mib: i128,
        device: &str,
    ) -> PyResult<String> {
        if !executor.bind(py).is_callable() {
            return Err(invalid("executor must be callable: executor(work) -> array"));
        }
        let executor = Arc::new(callback_executor(executor, gpu_class, vram_mib, device)?);
        let net = self.net.clone();
        block_on(py, async move {
            let mut net = net.write().await;
            let i = net.add_node(executor, Behaviour::Honest, 100_000_000, None).await.map_err(network_error)?;
            Ok(net.nodes[i].wallet.address().to_string())
        })
    }

    /// Tokens held by every account the network created: constant unless tokens were created
    /// or lost.
    fn tokens_held(&self, py: Python<'_>) -> u64 {
        let net = self.net.clone();
        block_on(py, async move { net.read().await.tokens_held() })
    }

    /// Why no GPU node runs, when `use_gpu` was asked and none was found.
    #[getter]
    fn gpu_note(&self, py: Python<'_>) -> Option<String> {
        let net = self.net.clone();
        block_on(py, async move { net.read().await.gpu_note.clone() })
    }

    /// Stops the background stepping (the network can no longer make progress).
    fn close(&self) {
        self.driver.lock().expect("driver lock").take();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(&self, _t: Py<PyAny>, _v: Py<PyAny>, _tb: Py<PyAny>) {
        self.close();
    }
}
