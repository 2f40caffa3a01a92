//! `LocalNetwork`: a whole market in this process that runs by itself until `close()`.

use std::sync::{Arc, Mutex};

use gpufuel_exec::{
    agent::Behaviour,
    network::{self as rs, Driver, LocalNetworkConfig},
};
use napi::{Env, bindgen_prelude::PromiseRaw};
use napi_derive::napi;
use tokio::sync::RwLock;

use crate::{
    client::{Client, tokens},
    convert::{Result, client_error, invalid, promise, uint},
    executor::{ExecutorOptions, JsExecutor, callback_executor},
};

fn network_error(e: rs::NetworkError) -> crate::convert::Error {
    client_error(e.into())
}

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
    /// Tokens each participant starts with.
    pub tokens: Option<f64>,
}

/// A local market: chain (LiteSVM with the real program), content store, node agents,
/// validators, optional dishonest nodes.
#[napi]
pub struct LocalNetwork {
    net: Arc<RwLock<rs::LocalNetwork>>,
    driver: Mutex<Option<Driver>>,
}

#[napi]
impl LocalNetwork {
    /// Starts the network; it steps itself (simulated chain time) until `close()`.
    #[napi(ts_return_type = "Promise<LocalNetwork>")]
    pub fn start(env: &Env, options: Option<NetworkOptions>) -> napi::Result<PromiseRaw<'_, LocalNetwork>> {
        promise(env, Self::start_inner(options.unwrap_or_default()))
    }

    async fn start_inner(o: NetworkOptions) -> Result<LocalNetwork> {
        let dishonest = o.dishonest.unwrap_or_default();
        let config = LocalNetworkConfig {
            nodes: uint::<u8>("nodes", o.nodes.unwrap_or(3.0))?.into(),
            validators: uint::<u8>("validators", o.validators.unwrap_or(3.0))?.into(),
            dishonest: dishonest.iter().map(|d| Behaviour::from_name(d).map_err(invalid)).collect::<Result<_>>()?,
            use_gpu: o.use_gpu.unwrap_or(false),
            tokens: tokens(o.tokens, 100_000_000)?,
            ..LocalNetworkConfig::default()
        };
        let net = Arc::new(RwLock::new(rs::LocalNetwork::start(config).await.map_err(network_error)?));
        let driver = rs::LocalNetwork::drive(net.clone(), std::time::Duration::from_millis(5));
        Ok(LocalNetwork { net, driver: Mutex::new(Some(driver)) })
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
        let net = self.net.clone();
        promise(env, async move {
            let tokens = crate::client::tokens(tokens, 10_000_000)?;
            let net = net.read().await;
            let client = if register.unwrap_or(true) { net.client(tokens).await } else { net.wallet_client(tokens) };
            Ok(Client(Arc::new(client.map_err(network_error)?)))
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
        let (net, executor) = (self.net.clone(), callback_executor(executor, &options.unwrap_or_default()));
        promise(env, async move {
            let executor = Arc::new(executor?);
            let mut net = net.write().await;
            let i = net.add_node(executor, Behaviour::Honest, 100_000_000, None).await.map_err(network_error)?;
            Ok(net.nodes[i].wallet.address().to_string())
        })
    }

    /// Tokens held by every account the network created: constant unless tokens were created or
    /// lost.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn tokens_held<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, f64>> {
        let net = self.net.clone();
        promise(env, async move { Ok(net.read().await.tokens_held() as f64) })
    }

    /// Stops the background stepping.
    #[napi]
    pub fn close(&self) {
        self.driver.lock().expect("driver lock").take();
    }
}
