//! [`RpcChain`]: the [`Chain`] over JSON-RPC (solana-rpc-client's nonblocking `RpcClient`), for
//! devnet, mainnet or any validator.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use futures_util::StreamExt;
use solana_account::Account;
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding};
use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{
    client_error::Error as ClientError,
    config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig, RpcSignatureSubscribeConfig,
        RpcSimulateTransactionConfig,
    },
    filter::{Memcmp as RpcMemcmp, RpcFilterType},
    request::TokenAccountsFilter,
    response::RpcSignatureResult,
};
use solana_signature::Signature;
use solana_transaction::Transaction;
use tokio::sync::{mpsc, oneshot};

use crate::{
    ChainError,
    chain::{AccountChanges, Chain, Memcmp, ProgramChanges, SignatureChanges, Simulation, Status},
};

/// The websocket URL the Solana CLI derives from an RPC URL: `ws`/`wss` for `http`/`https`, and
/// the next port when one is given (8899 → 8900).
pub fn websocket_url(rpc: &str) -> String {
    let (scheme, rest) = match rpc.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", rpc),
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let authority = match authority.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p) => format!("{host}:{}", p.saturating_add(1)),
            Err(_) => authority.to_string(),
        },
        None => authority.to_string(),
    };
    if path.is_empty() { format!("{scheme}://{authority}") } else { format!("{scheme}://{authority}/{path}") }
}

/// An account as JSON-RPC returns it (base64), decoded.
fn account_of(ui: &UiAccount) -> Option<Account> {
    Some(Account {
        lamports: ui.lamports,
        data: ui.data.decode()?,
        owner: ui.owner.parse().ok()?,
        executable: ui.executable,
        rent_epoch: ui.rent_epoch,
    })
}

/// A cluster reached over JSON-RPC, and optionally its websocket endpoint for notifications.
pub struct RpcChain {
    client: RpcClient,
    commitment: CommitmentConfig,
    websocket: Option<String>,
    /// The websocket connection signature subscriptions share (one per transaction sent would
    /// be a handshake each), made on first use and again after it fails.
    signatures: tokio::sync::Mutex<Option<Arc<PubsubClient>>>,
}

impl RpcChain {
    /// Accounts in base64, at this chain's commitment.
    fn account_config(&self) -> RpcAccountInfoConfig {
        RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.commitment),
            ..RpcAccountInfoConfig::default()
        }
    }

    /// A program-account request with `filters`, base64, at this chain's commitment.
    fn scan(&self, filters: &[Memcmp]) -> RpcProgramAccountsConfig {
        RpcProgramAccountsConfig {
            filters: Some(
                filters
                    .iter()
                    .map(|f| RpcFilterType::Memcmp(RpcMemcmp::new_raw_bytes(f.offset, f.bytes.clone())))
                    .collect(),
            ),
            account_config: self.account_config(),
            ..RpcProgramAccountsConfig::default()
        }
    }

    /// A stream of what `forward` sends. A subscription borrows its websocket client, so a task
    /// owns the client and runs `forward`, which subscribes, signals `ready` (or returns without:
    /// `None` here) and sends each change until the connection or the receiver goes.
    async fn pushed<T, S, F>(&self, forward: S) -> Option<futures_util::stream::BoxStream<'static, T>>
    where
        T: Send + 'static,
        S: FnOnce(PubsubClient, oneshot::Sender<()>, mpsc::UnboundedSender<T>) -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let url = self.websocket.clone()?;
        let (ready, subscribed) = oneshot::channel();
        let (changes, received) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            if let Ok(pubsub) = PubsubClient::new(url.as_str()).await {
                forward(pubsub, ready, changes).await;
            }
        });
        subscribed.await.ok()?;
        Some(Box::pin(futures_util::stream::unfold(received, |mut r| async move { r.recv().await.map(|c| (c, r)) })))
    }

    /// A client for `url` that reads and confirms at `commitment`, with a 30 s request timeout.
    pub fn new(url: impl Into<String>, commitment: CommitmentConfig) -> Self {
        let client = RpcClient::new_with_timeout_and_commitment(url.into(), Duration::from_secs(30), commitment);
        Self { client, commitment, websocket: None, signatures: tokio::sync::Mutex::default() }
    }

    /// Asks a test cluster's faucet for `lamports` (`requestAirdrop`) and waits until they land.
    pub async fn request_airdrop(&self, to: &Address, lamports: u64) -> Result<(), ChainError> {
        let signature = self.client.request_airdrop(to, lamports).await.map_err(rpc)?;
        for _ in 0..120 {
            if let Some(status) = self.signature_status(&signature).await? {
                return status.map_err(|e| ChainError::from_transaction(e, &[]));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(ChainError::Timeout { signature: signature.to_string(), secs: 30 })
    }

    /// Waits for account changes through this websocket endpoint (`ws://` or `wss://`) instead
    /// of sleeping between polls.
    pub fn with_websocket(mut self, url: impl Into<String>) -> Self {
        self.websocket = Some(url.into());
        self
    }

    /// The JSON-RPC requests sent over HTTP so far (websocket subscriptions are not counted).
    pub fn requests(&self) -> usize {
        self.client.get_transport_stats().request_count
    }

    /// A client for the Solana CLI config's URL, websocket URL and commitment.
    pub fn from_config(config: &crate::config::CliConfig) -> Self {
        Self::new(config.json_rpc_url.clone(), config.commitment).with_websocket(config.websocket())
    }

    /// The RPC URL.
    pub fn url(&self) -> String {
        self.client.url()
    }
}

fn rpc(e: ClientError) -> ChainError {
    ChainError::Rpc(e.to_string())
}

#[async_trait]
impl Chain for RpcChain {
    async fn latest_blockhash(&self) -> Result<(Hash, u64), ChainError> {
        self.client.get_latest_blockhash_with_commitment(self.commitment).await.map_err(rpc)
    }

    async fn block_height(&self) -> Result<u64, ChainError> {
        self.client.get_block_height_with_commitment(self.commitment).await.map_err(rpc)
    }

    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ChainError> {
        let config = RpcSimulateTransactionConfig {
            sig_verify: true,
            commitment: Some(self.commitment),
            ..RpcSimulateTransactionConfig::default()
        };
        let result = self.client.simulate_transaction_with_config(tx, config).await.map_err(rpc)?.value;
        Ok(Simulation {
            units: result.units_consumed.unwrap_or(0),
            logs: result.logs.unwrap_or_default(),
            error: result.err.map(Into::into),
        })
    }

    async fn submit(&self, tx: &Transaction) -> Result<Signature, ChainError> {
        // The sender simulated already; preflight would only repeat it against a possibly
        // staler bank and turn a landed-but-slow transaction into a confusing error.
        let config = RpcSendTransactionConfig { skip_preflight: true, ..RpcSendTransactionConfig::default() };
        self.client.send_transaction_with_config(tx, config).await.map_err(rpc)
    }

    async fn signature_status(&self, signature: &Signature) -> Result<Option<Status>, ChainError> {
        let statuses = self.client.get_signature_statuses(&[*signature]).await.map_err(rpc)?.value;
        Ok(statuses
            .into_iter()
            .next()
            .flatten()
            .filter(|s| s.err.is_some() || s.satisfies_commitment(self.commitment))
            .map(|s| s.err.map_or(Ok(()), Err)))
    }

    async fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
        Ok(self.client.get_account_with_commitment(address, self.commitment).await.map_err(rpc)?.value)
    }

    async fn program_accounts(
        &self,
        program: &Address,
        filters: &[Memcmp],
    ) -> Result<Vec<(Address, Account)>, ChainError> {
        let accounts =
            self.client.get_program_ui_accounts_with_config(program, self.scan(filters)).await.map_err(rpc)?;
        accounts
            .into_iter()
            .map(|(address, ui)| {
                account_of(&ui).map(|a| (address, a)).ok_or_else(|| ChainError::Account(address.to_string()))
            })
            .collect()
    }

    async fn token_accounts(&self, owner: &Address, mint: &Address) -> Result<Vec<Address>, ChainError> {
        let accounts =
            self.client.get_token_accounts_by_owner(owner, TokenAccountsFilter::Mint(*mint)).await.map_err(rpc)?;
        accounts
            .into_iter()
            .map(|a| a.pubkey.parse().map_err(|_| ChainError::Rpc(format!("bad address {}", a.pubkey))))
            .collect()
    }

    async fn unix_time(&self) -> Result<i64, ChainError> {
        let clock = self.account(&solana_sdk_ids::sysvar::clock::ID).await?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        let bytes = clock.and_then(|c| c.data.get(32..40).map(|b| <[u8; 8]>::try_from(b).expect("8 bytes")));
        bytes.map(i64::from_le_bytes).ok_or_else(|| ChainError::Account("clock sysvar".into()))
    }

    async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        self.client.get_minimum_balance_for_rent_exemption(len).await.map_err(rpc)
    }

    async fn recent_priority_fees(&self, writable: &[Address]) -> Result<Vec<u64>, ChainError> {
        let fees = self.client.get_recent_prioritization_fees(writable).await.map_err(rpc)?;
        Ok(fees.into_iter().map(|f| f.prioritization_fee).collect())
    }

    async fn program_changes(&self, program: &Address, filters: &[Memcmp]) -> Option<ProgramChanges> {
        let (program, config) = (*program, self.scan(filters));
        self.pushed(move |pubsub, ready, changes| async move {
            let Ok((mut stream, unsubscribe)) = pubsub.program_subscribe(&program, Some(config)).await else { return };
            let _ = ready.send(());
            while let Some(change) = stream.next().await {
                let (Ok(address), Some(account)) = (change.value.pubkey.parse(), account_of(&change.value.account))
                else {
                    continue;
                };
                if changes.send((address, account)).is_err() {
                    break;
                }
            }
            drop(stream);
            unsubscribe().await;
        })
        .await
    }

    async fn account_changes(&self, address: &Address) -> Option<AccountChanges> {
        let (address, config) = (*address, self.account_config());
        self.pushed(move |pubsub, ready, changes| async move {
            let Ok((mut stream, unsubscribe)) = pubsub.account_subscribe(&address, Some(config)).await else { return };
            let _ = ready.send(());
            while let Some(change) = stream.next().await {
                let Some(account) = account_of(&change.value) else { continue };
                if changes.send(account).is_err() {
                    break;
                }
            }
            drop(stream);
            unsubscribe().await;
        })
        .await
    }

    async fn signature_changes(&self, signature: &Signature) -> Option<SignatureChanges> {
        let url = self.websocket.as_ref()?;
        let pubsub = {
            let mut shared = self.signatures.lock().await;
            if shared.is_none() {
                *shared = Some(Arc::new(PubsubClient::new(url.as_str()).await.ok()?));
            }
            shared.clone()?
        };
        let config = RpcSignatureSubscribeConfig {
            commitment: Some(self.commitment),
            enable_received_notification: Some(false),
        };
        let (signature, (ready, subscribed)) = (*signature, oneshot::channel());
        let (mut landed, status) = oneshot::channel();
        let task = pubsub.clone();
        tokio::spawn(async move {
            let Ok((mut stream, unsubscribe)) = task.signature_subscribe(&signature, Some(config)).await else {
                return;
            };
            let _ = ready.send(());
            let change = tokio::select! {
                change = stream.next() => change,
                () = landed.closed() => None, // the sender stopped waiting
            };
            match change.map(|c| c.value) {
                // The only notification (received ones were not asked for); the cluster ends
                // the subscription once it has sent it.
                Some(RpcSignatureResult::ProcessedSignature(result)) => {
                    let _ = landed.send(result.err.map_or(Ok(()), |e| Err(e.into())));
                }
                _ => {
                    drop(stream);
                    unsubscribe().await;
                }
            }
        });
        if subscribed.await.is_err() {
            // The shared connection failed: the next subscription makes a new one.
            let mut shared = self.signatures.lock().await;
            if shared.as_ref().is_some_and(|s| Arc::ptr_eq(s, &pubsub)) {
                *shared = None;
            }
            return None;
        }
        Some(Box::pin(futures_util::stream::once(status).filter_map(|s| async move { s.ok() })))
    }

    async fn account_changed(&self, address: &Address, wait: Duration) {
        let Some(url) = &self.websocket else { return tokio::time::sleep(wait).await };
        let started = std::time::Instant::now();
        let notified = async {
            let pubsub = PubsubClient::new(url.as_str()).await.ok()?;
            let config = RpcAccountInfoConfig {
                commitment: Some(self.commitment),
                encoding: Some(UiAccountEncoding::Base64),
                ..RpcAccountInfoConfig::default()
            };
            let (mut changes, unsubscribe) = pubsub.account_subscribe(address, Some(config)).await.ok()?;
            changes.next().await?;
            drop(changes);
            unsubscribe().await;
            Some(())
        };
        // A websocket that cannot connect or subscribe leaves the caller to poll at its pace.
        if let Ok(None) = tokio::time::timeout(wait, notified).await {
            tokio::time::sleep(wait.saturating_sub(started.elapsed())).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::websocket_url;

    #[test]
    fn websocket_urls_follow_the_solana_cli() {
        assert_eq!(websocket_url("http://127.0.0.1:8899"), "ws://127.0.0.1:8900");
        assert_eq!(websocket_url("https://api.devnet.solana.com"), "wss://api.devnet.solana.com");
        assert_eq!(websocket_url("https://rpc.example.com:443/key/abc"), "wss://rpc.example.com:444/key/abc");
    }
}
