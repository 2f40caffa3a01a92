//! [`Connection`]: the cluster, the wallet and the store a command works with.

use std::sync::Arc;

use gpufuel_chain::{ChainError, GpuFuelClient, Mirror, RpcChain, mirror::MirrorOptions};
use gpufuel_sdk::{ClientError, ConnectOptions};
use gpufuel_store::{ContentStore, PinningService};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// What the global flags (or the Solana CLI config) name.
pub struct Connection {
    pub client: Arc<GpuFuelClient<Arc<RpcChain>>>,
    pub keypair: Keypair,
    pub store: Arc<dyn ContentStore>,
    pub pinning: Option<PinningService>,
}

impl Connection {
    pub fn new(options: &ConnectOptions) -> Result<Self, ClientError> {
        let program = options.program_id()?;
        let pinning = options.pinning()?;
        let (chain, keypair, store) = options.resolve()?;
        let client = GpuFuelClient::new(Arc::new(chain)).with_program(program);
        Ok(Self { client: Arc::new(client), keypair, store, pinning })
    }

    /// A client for an agent: the program's accounts come from a [`Mirror`] kept by
    /// subscription (polling when the cluster's websocket is unavailable).
    pub fn agent_client(&self) -> Arc<GpuFuelClient<Mirror<RpcChain>>> {
        let program = *self.client.program();
        let mirror = Mirror::new(self.client.chain().clone(), program, MirrorOptions::default());
        Arc::new(GpuFuelClient::new(mirror).with_program(program))
    }

    /// The wallet's GPUFuel token account.
    pub async fn token(&self) -> Result<Address, ChainError> {
        self.client.token_account(&self.keypair.pubkey()).await
    }
}
