//! [`Connection`]: the cluster, the wallet and the store a command works with.

use std::sync::Arc;

use gpufuel_chain::{ChainError, GpuFuelClient, RpcChain};
use gpufuel_sdk::{ClientError, ConnectOptions};
use gpufuel_store::ContentStore;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// What the global flags (or the Solana CLI config) name.
pub struct Connection {
    pub client: Arc<GpuFuelClient<RpcChain>>,
    pub keypair: Keypair,
    pub store: Arc<dyn ContentStore>,
}

impl Connection {
    pub fn new(options: &ConnectOptions) -> Result<Self, ClientError> {
        let program = options.program_id()?;
        let (chain, keypair, store) = options.resolve()?;
        let client = GpuFuelClient::new(chain).with_program(program);
        Ok(Self { client: Arc::new(client), keypair, store })
    }

    /// The wallet's GPUFuel token account.
    pub async fn token(&self) -> Result<Address, ChainError> {
        self.client.token_account(&self.keypair.pubkey()).await
    }
}
