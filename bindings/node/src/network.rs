//! `LocalNetwork`: the SDK's [`RunningNetwork`], a whole market in this process that runs by
//! itself until `close()`. Options left `undefined` take [`LocalNetworkConfig`]'s defaults.

use std::sync::Arc;

use gpufuel_exec::agent::Behaviour;
use gpufuel_network::{LocalNetworkConfig, RunningNetwork};
use napi::{Env, bindgen_prelude::PromiseRaw};
use napi_derive::napi;

use crate::{
    client::Client,
    convert::opt,
    error::{Result, coded, invalid, promise},
    executor::{ExecutorOptions, JsExecutor, callback_executor},
};

/// What `LocalNetwork.start` starts.
#[napi(object)]
#[derive(Default)]
pub struct NetworkOptions {
    /// Honest CPU node agents (default 3).
    pub nodes: Option<f64>,
    /// Validators (default 3).
    pub validators: Option<f64>,
    /// One extra node per entry: `lazy`, `copying` or `partial`.
    pub dishonest: Option<Vec<String>>,
    /// Also run a node on the GPU when one is found (default false).
    pub use_gpu: Option<bool>,
    /// Tokens each participant starts with (default 100,000,000).
    pub tokens: Option<f64>,
}

/// A local market: chain (LiteSVM with the real program), content store, node agents,
/// validators, optional dishonest nodes.
#[napi]
pub struct LocalNetwork(Arc<RunningNetwork>);

#[napi]
impl LocalNetwork {
    /// Starts the network; it steps itself (simulated chain time) until `close()`.
    #[napi(ts_return_type = "Promise<LocalNetwork>")]
    pub fn start(env: &Env, options: Option<NetworkOptions>) -> napi::Result<PromiseRaw<'_, LocalNetwork>> {
        promise(env, Self::start_inner(options.unwrap_or_default()))
    }

    async fn start_inner(o: NetworkOptions) -> Result<LocalNetwork> {
        let dishonest = o.dishonest.unwrap_or_default();
        let dishonest = dishonest.iter().map(|b| b.parse::<Behaviour>().map_err(|e| invalid(e.to_string())));
        let d = LocalNetworkConfig::default();
        let config = LocalNetworkConfig {
            nodes: opt::<u8>("nodes", o.nodes)?.map_or(d.nodes, usize::from),
            validators: opt::<u8>("validators", o.validators)?.map_or(d.validators, usize::from),
            dishonest: dishonest.collect::<Result<_>>()?,
            use_gpu: o.use_gpu.unwrap_or(d.use_gpu),
            tokens: opt("tokens", o.tokens)?.unwrap_or(d.tokens),
            ..d
        };
        Ok(LocalNetwork(Arc::new(RunningNetwork::start(config).await.map_err(coded)?)))
    }

    /// A client for a new funded wallet (default 10,000,000 tokens), registered as a submitter
    /// unless `register` is false (then it must `register()` before it submits, as a fresh wallet
    /// on a cluster).
    #[napi(ts_return_type = "Promise<Client>")]
    pub fn client<'env>(
        &self,
        env: &'env Env,
        tokens: Option<f64>,
        register: Option<bool>,
    ) -> napi::Result<PromiseRaw<'env, Client>> {
        let network = self.0.clone();
        promise(env, async move {
            let client = network.client(opt("tokens", tokens)?, register.unwrap_or(true)).await.map_err(coded)?;
            Ok(Client(Arc::new(client)))
        })
    }

    /// Adds an honest node whose matrix products `executor` computes; resolves to its operator
    /// address. The agent adds the watermark and commitments and validators check the result as
    /// for any node.
    #[napi(
        ts_args_type = "executor: (work: Work) => Float32Array | Promise<Float32Array>, options?: ExecutorOptions",
        ts_return_type = "Promise<string>"
    )]
    pub fn add_node<'env>(
        &self,
        env: &'env Env,
        executor: JsExecutor,
        options: Option<ExecutorOptions>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let (network, executor) = (self.0.clone(), callback_executor(executor, &options.unwrap_or_default()));
        promise(env, async move {
            let operator = network.add_node(Arc::new(executor?)).await.map_err(coded)?;
            Ok(operator.to_string())
        })
    }

    /// Tokens held by every account the network created: constant unless tokens were created or
    /// lost.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn tokens_held<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, f64>> {
        let network = self.0.clone();
        promise(env, async move { Ok(network.tokens_held().await as f64) })
    }

    /// Stops the background stepping.
    #[napi]
    pub fn close(&self) {
        self.0.close();
    }
}
