//! `gpufuel.NodeAgent` and `gpufuel.ValidatorAgent` on any market a `Client` reaches, with its
//! wallet. Arguments left `None` take the Rust defaults ([`NodeConfig`], [`ValidatorConfig`]).

use std::{collections::BTreeMap, sync::Arc};

use gpufuel_chain::Chain;
use gpufuel_core::quote::PricingStrategy;
use gpufuel_exec::{
    agent::{self as rs, NodeConfig, ValidatorConfig},
    executor::{self, Executor},
};
use pyo3::prelude::*;

use crate::{
    client::Client,
    convert::opt,
    error::{coded, invalid},
    executor::callback_executor,
    runtime::block_on,
};

type Dyn = Arc<dyn Chain>;

/// A node operator's agent on the client's market, with the client's wallet: registers and
/// stakes (once), then each `tick()` heartbeats, bids, runs the work it won on `executor`
/// (a callable, or the GPU where found, else the CPU), proves, submits and settles.
#[pyclass(frozen, module = "gpufuel")]
pub struct NodeAgent(Arc<rs::NodeAgent<Dyn>>);

#[pymethods]
impl NodeAgent {
    #[new]
    #[pyo3(signature = (client, *, executor=None, stake=None, floor=None, pricing=None, gpu_class=None, vram_mib=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: &Client,
        executor: Option<Py<PyAny>>,
        stake: Option<i128>,
        floor: Option<i128>,
        pricing: Option<&str>,
        gpu_class: Option<&Bound<'_, PyAny>>,
        vram_mib: Option<i128>,
    ) -> PyResult<Self> {
        let given = executor.map(|f| callback_executor(py, f, gpu_class, vram_mib, "python")).transpose()?;
        let (executor, _) = executor::choose(given.map(|e| Arc::new(e) as Arc<dyn Executor>), false);
        let d = NodeConfig::default();
        let pricing = pricing.map(|p| p.parse::<PricingStrategy>().map_err(|e| invalid(format!("pricing '{p}': {e}"))));
        let config = NodeConfig {
            stake: opt("stake", stake)?.unwrap_or(d.stake),
            price_floor: opt("floor", floor)?.unwrap_or(d.price_floor),
            pricing: pricing.transpose()?.unwrap_or(d.pricing),
            ..d
        };
        let c = client.0.clone();
        let agent = block_on(py, async move {
            let keypair = c.keypair().insecure_clone();
            rs::NodeAgent::start(c.gpufuel().clone(), c.store().clone(), executor, keypair, &c.token(), config).await
        });
        Ok(Self(Arc::new(agent.map_err(coded)?)))
    }

    /// One pass; returns what it did (bids, assigned, started, submitted, settled, errors).
    fn tick(&self, py: Python<'_>) -> PyResult<BTreeMap<&'static str, usize>> {
        let agent = self.0.clone();
        let t = block_on(py, async move { agent.tick().await }).map_err(coded)?;
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
/// activates once bonded, votes (commit, then reveal) on the committees it is drawn into,
/// appeals decisions it finds wrong, draws committees, settles and expires.
#[pyclass(frozen, module = "gpufuel")]
pub struct ValidatorAgent(Arc<rs::ValidatorAgent<Dyn>>);

#[pymethods]
impl ValidatorAgent {
    #[new]
    #[pyo3(signature = (client, *, stake=None))]
    fn new(py: Python<'_>, client: &Client, stake: Option<i128>) -> PyResult<Self> {
        let d = ValidatorConfig::default();
        let config = ValidatorConfig { stake: opt("stake", stake)?.unwrap_or(d.stake), ..d };
        let c = client.0.clone();
        let agent = block_on(py, async move {
            let keypair = c.keypair().insecure_clone();
            rs::ValidatorAgent::start(c.gpufuel().clone(), c.store().clone(), keypair, &c.token(), config).await
        });
        Ok(Self(Arc::new(agent.map_err(coded)?)))
    }

    /// One pass; returns (votes cast, settled, expired).
    fn tick(&self, py: Python<'_>) -> PyResult<(usize, usize, usize)> {
        let agent = self.0.clone();
        let t = block_on(py, async move { agent.tick().await }).map_err(coded)?;
        Ok((t.votes.len(), t.settled, t.expired))
    }
}
