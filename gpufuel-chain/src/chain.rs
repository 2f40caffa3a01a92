//! [`Chain`]: what the GPUFuel client needs from a Solana cluster, implemented by the embedded
//! [`crate::LocalChain`] and by an RPC backend. Everything above it (the careful sender in
//! [`crate::send`], the typed client) is written once against this trait.

use std::time::Duration;

use async_trait::async_trait;
use solana_account::Account;
use solana_address::Address;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use crate::ChainError;

/// The outcome of simulating a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    /// Compute units consumed.
    pub units: u64,
    /// The programs' logs.
    pub logs: Vec<String>,
    /// Why it would fail, if it would.
    pub error: Option<TransactionError>,
}

/// A filter on program account data: `bytes` at `offset` (a `memcmp` filter on RPC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memcmp {
    /// Where the bytes start in the account's data.
    pub offset: usize,
    /// The bytes expected there.
    pub bytes: Vec<u8>,
}

impl Memcmp {
    /// Whether `data` matches.
    pub fn matches(&self, data: &[u8]) -> bool {
        data.get(self.offset..self.offset.saturating_add(self.bytes.len())) == Some(&self.bytes[..])
    }
}

/// Program accounts as the cluster pushes their changes ([`Chain::program_changes`]).
pub type ProgramChanges = futures_util::stream::BoxStream<'static, (Address, Account)>;

/// An account's states as the cluster pushes them ([`Chain::account_changes`]).
pub type AccountChanges = futures_util::stream::BoxStream<'static, Account>;

/// A landed transaction's status: `Ok` or the error it failed with on chain.
pub type Status = Result<(), TransactionError>;

/// A transaction's status as the cluster pushes it ([`Chain::signature_changes`]): one item,
/// when it lands at the chain's commitment.
pub type SignatureChanges = futures_util::stream::BoxStream<'static, Status>;

/// A Solana cluster as the GPUFuel client uses it.
#[async_trait]
pub trait Chain: Send + Sync {
    /// A recent blockhash and the last block height at which transactions using it can land.
    async fn latest_blockhash(&self) -> Result<(Hash, u64), ChainError>;
    /// The current block height.
    async fn block_height(&self) -> Result<u64, ChainError>;
    /// Executes `tx` without committing anything.
    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ChainError>;
    /// Hands a signed transaction to the cluster; returns its signature. Success means it was
    /// accepted for processing, not that it landed: see [`Chain::signature_status`].
    async fn submit(&self, tx: &Transaction) -> Result<Signature, ChainError>;
    /// `None` while the cluster has no record of the signature (in flight, lost or expired).
    async fn signature_status(&self, signature: &Signature) -> Result<Option<Status>, ChainError>;
    /// An account, if it exists.
    async fn account(&self, address: &Address) -> Result<Option<Account>, ChainError>;
    /// The accounts of the program at `program` whose data matches every filter.
    async fn program_accounts(
        &self,
        program: &Address,
        filters: &[Memcmp],
    ) -> Result<Vec<(Address, Account)>, ChainError>;
    /// Token accounts of `mint` owned by `owner` (SPL Token), in the cluster's order.
    async fn token_accounts(&self, owner: &Address, mint: &Address) -> Result<Vec<Address>, ChainError>;
    /// The cluster's unix time (Clock sysvar).
    async fn unix_time(&self) -> Result<i64, ChainError>;
    /// Recent prioritization fees paid by transactions writing these accounts, in micro-lamports
    /// per compute unit.
    async fn recent_priority_fees(&self, writable: &[Address]) -> Result<Vec<u64>, ChainError>;
    /// Lamports an account of `len` bytes needs to be rent exempt.
    async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError>;
    /// The accounts of `program` matching every filter, pushed as they change
    /// (`programSubscribe`; a closed account comes with no lamports), or `None` where this chain
    /// pushes nothing and the caller polls. The stream ends when the connection does.
    async fn program_changes(&self, _program: &Address, _filters: &[Memcmp]) -> Option<ProgramChanges> {
        None
    }
    /// An account's states, pushed as it changes (`accountSubscribe`), or `None` where this
    /// chain pushes nothing. The stream ends when the connection does.
    async fn account_changes(&self, _address: &Address) -> Option<AccountChanges> {
        None
    }
    /// A transaction's status, pushed when it lands (`signatureSubscribe`), or `None` where this
    /// chain pushes nothing and the sender polls. Subscribe before sending: the cluster pushes
    /// only what lands after the subscription.
    async fn signature_changes(&self, _signature: &Signature) -> Option<SignatureChanges> {
        None
    }
    /// Returns once `address` may have changed, or after `wait`: what a polling caller does
    /// between reads. This default sleeps; [`crate::RpcChain`] with a websocket endpoint returns
    /// as soon as the cluster notifies a change.
    async fn account_changed(&self, _address: &Address, wait: Duration) {
        tokio::time::sleep(wait).await;
    }
}

/// Implements [`Chain`] for a pointer to a chain by forwarding every method.
macro_rules! forward_chain {
    ($($ptr:tt)+) => {
        #[async_trait]
        impl<T: Chain + ?Sized> Chain for $($ptr)+ {
            async fn latest_blockhash(&self) -> Result<(Hash, u64), ChainError> {
                (**self).latest_blockhash().await
            }
            async fn block_height(&self) -> Result<u64, ChainError> {
                (**self).block_height().await
            }
            async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ChainError> {
                (**self).simulate(tx).await
            }
            async fn submit(&self, tx: &Transaction) -> Result<Signature, ChainError> {
                (**self).submit(tx).await
            }
            async fn signature_status(&self, signature: &Signature) -> Result<Option<Status>, ChainError> {
                (**self).signature_status(signature).await
            }
            async fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
                (**self).account(address).await
            }
            async fn program_accounts(&self, program: &Address, filters: &[Memcmp]) -> Result<Vec<(Address, Account)>, ChainError> {
                (**self).program_accounts(program, filters).await
            }
            async fn token_accounts(&self, owner: &Address, mint: &Address) -> Result<Vec<Address>, ChainError> {
                (**self).token_accounts(owner, mint).await
            }
            async fn unix_time(&self) -> Result<i64, ChainError> {
                (**self).unix_time().await
            }
            async fn recent_priority_fees(&self, writable: &[Address]) -> Result<Vec<u64>, ChainError> {
                (**self).recent_priority_fees(writable).await
            }
            async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
                (**self).rent_exempt_minimum(len).await
            }
            async fn program_changes(&self, program: &Address, filters: &[Memcmp]) -> Option<ProgramChanges> {
                (**self).program_changes(program, filters).await
            }
            async fn account_changes(&self, address: &Address) -> Option<AccountChanges> {
                (**self).account_changes(address).await
            }
            async fn signature_changes(&self, signature: &Signature) -> Option<SignatureChanges> {
                (**self).signature_changes(signature).await
            }
            async fn account_changed(&self, address: &Address, wait: Duration) {
                (**self).account_changed(address, wait).await
            }
        }
    };
}

// A shared reference to a chain is a chain, so one backend can serve several clients; so is an
// `Arc`, so a client can own a backend chosen at run time (`Arc<dyn Chain>`, as the bindings do).
forward_chain!(&T);
forward_chain!(std::sync::Arc<T>);
