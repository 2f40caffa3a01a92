//! `NodeAgent` and `ValidatorAgent` on the market a `Client` reaches, with the client's wallet.

use std::sync::Arc;

use gpufuel_chain::Chain;
use gpufuel_core::quote::PricingStrategy;
use gpufuel_exec::{
    agent::{self as rs, NodeConfig, ValidatorConfig},
    executor::{self, Executor},
};
use napi::{Either, Env, bindgen_prelude::PromiseRaw};
use napi_derive::napi;

use crate::{
    client::Client,
    convert::opt,
    error::{Result, coded, invalid, promise},
    executor::{ExecutorOptions, JsExecutor, callback_executor},
};

type Dyn = Arc<dyn Chain>;

/// How a node agent runs.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NodeOptions {
    /// Computes the node's matrix products instead of the GPU or CPU:
    /// `(work) => Float32Array | Promise<Float32Array>`.
    #[napi(ts_type = "(work: Work) => Float32Array | Promise<Float32Array>")]
    pub executor: Option<JsExecutor>,
    /// With `executor`: the class id or name it offers (default `cpu`).
    pub gpu_class: Option<Either<u32, String>>,
    /// With `executor`: the memory it offers, MiB (default 16384).
    pub vram_mib: Option<f64>,
    /// Tokens to stake when registering (default 10,000,000).
    pub stake: Option<f64>,
    /// Lowest price accepted, base units per GPU-second (default 10).
    pub floor: Option<f64>,
    /// `floor`, `reference` (default), or basis points relative to the reference (`"-500"`).
    pub pricing: Option<String>,
    /// Use the CPU even where a GPU is found.
    pub cpu: Option<bool>,
}

/// What one pass of a node agent did.
#[napi(object)]
pub struct NodeTick {
    pub bids: u32,
    pub assigned: u32,
    pub started: u32,
    pub submitted: u32,
    pub settled: u32,
    pub errors: Vec<String>,
}

/// A GPU owner's agent: registers and stakes once, then each `tick()` heartbeats, bids, runs
/// won work on its `executor` function, else on CUDA (the CPU where no GPU is found), proves,
/// submits and settles.
#[napi]
pub struct NodeAgent(Arc<rs::NodeAgent<Dyn>>);

#[napi]
impl NodeAgent {
    #[napi(ts_return_type = "Promise<NodeAgent>")]
    pub fn start<'env>(
        env: &'env Env,
        client: &Client,
        options: Option<NodeOptions>,
    ) -> napi::Result<PromiseRaw<'env, NodeAgent>> {
        promise(env, Self::start_inner(client.0.clone(), options.unwrap_or_default()))
    }

    async fn start_inner(c: Arc<gpufuel_sdk::Client>, o: NodeOptions) -> Result<NodeAgent> {
        let d = NodeConfig::default();
        let pricing = o
            .pricing
            .as_deref()
            .map(|p| p.parse::<PricingStrategy>().map_err(|e| invalid(format!("pricing '{p}': {e}"))));
        let config = NodeConfig {
            stake: opt("stake", o.stake)?.unwrap_or(d.stake),
            price_floor: opt("floor", o.floor)?.unwrap_or(d.price_floor),
            pricing: pricing.transpose()?.unwrap_or(d.pricing),
            ..d
        };
        let device = ExecutorOptions { gpu_class: o.gpu_class, vram_mib: o.vram_mib, device: None };
        let given = o.executor.map(|f| callback_executor(f, &device)).transpose()?;
        let (executor, _) = executor::choose(given.map(|e| Arc::new(e) as Arc<dyn Executor>), o.cpu.unwrap_or(false));
        let keypair = c.keypair().insecure_clone();
        let agent = rs::NodeAgent::start(c.gpufuel().clone(), c.store().clone(), executor, keypair, &c.token(), config)
            .await
            .map_err(coded)?;
        Ok(NodeAgent(Arc::new(agent)))
    }

    /// One pass.
    #[napi(ts_return_type = "Promise<NodeTick>")]
    pub fn tick<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, NodeTick>> {
        let agent = self.0.clone();
        promise(env, async move {
            let t = agent.tick().await.map_err(coded)?;
            let n = |v: usize| v as u32;
            Ok(NodeTick {
                bids: n(t.bids),
                assigned: n(t.assigned),
                started: n(t.started),
                submitted: n(t.submitted),
                settled: n(t.settled),
                errors: t.errors,
            })
        })
    }
}

/// What one pass of a validator did.
#[napi(object)]
pub struct ValidatorTick {
    pub votes: u32,
    pub settled: u32,
    pub expired: u32,
}

/// A validator's agent: registers and stakes once, then each `tick()` activates once bonded, votes (commit, then reveal) on the committees it is drawn into,
/// appeals decisions it finds wrong, draws committees, settles and expires.
#[napi]
pub struct ValidatorAgent(Arc<rs::ValidatorAgent<Dyn>>);

#[napi]
impl ValidatorAgent {
    #[napi(ts_return_type = "Promise<ValidatorAgent>")]
    pub fn start<'env>(
        env: &'env Env,
        client: &Client,
        stake: Option<f64>,
    ) -> napi::Result<PromiseRaw<'env, ValidatorAgent>> {
        promise(env, Self::start_inner(client.0.clone(), stake))
    }

    async fn start_inner(c: Arc<gpufuel_sdk::Client>, stake: Option<f64>) -> Result<ValidatorAgent> {
        let d = ValidatorConfig::default();
        let config = ValidatorConfig { stake: opt("stake", stake)?.unwrap_or(d.stake), ..d };
        let keypair = c.keypair().insecure_clone();
        let agent = rs::ValidatorAgent::start(c.gpufuel().clone(), c.store().clone(), keypair, &c.token(), config)
            .await
            .map_err(coded)?;
        Ok(ValidatorAgent(Arc::new(agent)))
    }

    /// One pass.
    #[napi(ts_return_type = "Promise<ValidatorTick>")]
    pub fn tick<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ValidatorTick>> {
        let agent = self.0.clone();
        promise(env, async move {
            let t = agent.tick().await.map_err(coded)?;
            Ok(ValidatorTick { votes: t.votes.len() as u32, settled: t.settled as u32, expired: t.expired as u32 })
        })
    }
}
