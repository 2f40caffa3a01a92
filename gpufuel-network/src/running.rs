//! [`RunningNetwork`]: a [`LocalNetwork`] that steps itself in the background, as a binding user or
//! an example wants: submit, then just await results.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use gpufuel_exec::{agent::Behaviour, executor::Executor};
use gpufuel_sdk::Client;
use solana_address::Address;
use tokio::{sync::RwLock, task::JoinHandle};

use crate::{LocalNetwork, LocalNetworkConfig, NetworkError};

/// Pause between two background steps: short, so jobs move as fast as the machine allows, and
/// long enough to let callers take the network's lock between steps.
const PAUSE: Duration = Duration::from_millis(5);

/// Tokens a new client's wallet gets when the caller names no amount.
pub const CLIENT_TOKENS: u64 = 10_000_000;

/// A local network stepping itself until [`RunningNetwork::close`] or drop.
pub struct RunningNetwork {
    network: Arc<RwLock<LocalNetwork>>,
    stepper: Mutex<Option<JoinHandle<()>>>,
}

impl RunningNetwork {
    /// Starts a [`LocalNetwork`] and its background stepping (on the current tokio runtime).
    pub async fn start(config: LocalNetworkConfig) -> Result<Self, NetworkError> {
        let network = Arc::new(RwLock::new(LocalNetwork::start(config).await?));
        let stepped = network.clone();
        let stepper = tokio::spawn(async move {
            loop {
                if let Err(e) = stepped.read().await.step().await {
                    tracing::warn!("step failed: {e}");
                }
                tokio::time::sleep(PAUSE).await;
            }
        });
        Ok(Self { network, stepper: Mutex::new(Some(stepper)) })
    }

    /// The network, for reads between steps (or changes, with the write lock).
    pub fn network(&self) -> &Arc<RwLock<LocalNetwork>> {
        &self.network
    }

    /// A [`Client`] for a new wallet funded with `tokens` (default [`CLIENT_TOKENS`]),
    /// registered as a submitter when `register` (else it must [`Client::register`] first, as a
    /// fresh wallet on a cluster).
    pub async fn client(&self, tokens: Option<u64>, register: bool) -> Result<Client, NetworkError> {
        let tokens = tokens.unwrap_or(CLIENT_TOKENS);
        let network = self.network.read().await;
        if register { network.client(tokens).await } else { network.wallet_client(tokens) }
    }

    /// Adds an honest node running `executor` and starts its agent; returns its operator.
    pub async fn add_node(&self, executor: Arc<dyn Executor>) -> Result<Address, NetworkError> {
        let mut network = self.network.write().await;
        let i = network.add_node(executor, Behaviour::Honest, None).await?;
        Ok(network.nodes[i].wallet.address())
    }

    /// Tokens held by every account the network created (see [`LocalNetwork::tokens_held`]).
    pub async fn tokens_held(&self) -> u64 {
        self.network.read().await.tokens_held()
    }

    /// Why no GPU node runs, when one was asked for.
    pub async fn gpu_note(&self) -> Option<String> {
        self.network.read().await.gpu_note.clone()
    }

    /// Stops the background stepping: the network makes no more progress.
    pub fn close(&self) {
        if let Some(stepper) = self.stepper.lock().unwrap_or_else(PoisonError::into_inner).take() {
            stepper.abort();
        }
    }
}

impl Drop for RunningNetwork {
    fn drop(&mut self) {
        self.close();
    }
}
