//! [`Mirror`]: a [`Chain`] that keeps a copy of one program's accounts, so that an agent's
//! passes read them without a request each: one snapshot (`getProgramAccounts`), then the
//! changes the cluster pushes (`programSubscribe`), a fresh snapshot every
//! [`MirrorOptions::resync`], and plain requests to the cluster whenever the subscription is
//! down (a chain that pushes nothing, a websocket refused or dropped). The cluster's time comes
//! from the Clock sysvar it pushes each slot, or from a reading every [`CLOCK_READ`] where it
//! pushes none.
//!
//! The subscription starts before the snapshot, and changes apply in the order they arrive, so
//! every account changed after the snapshot ends at its last pushed state. Accounts that leave
//! the program (closed) are not pushed by every cluster: the next snapshot drops them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use futures_util::StreamExt;
use solana_account::Account;
use solana_address::Address;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction::Transaction;

use crate::{
    Chain, ChainError,
    chain::{AccountChanges, Memcmp, ProgramChanges, SignatureChanges, Simulation, Status},
};

/// How a [`Mirror`] keeps up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorOptions {
    /// Between full snapshots while subscribed, and between attempts to subscribe while not
    /// (default 60 s).
    pub resync: Duration,
}

impl Default for MirrorOptions {
    fn default() -> Self {
        Self { resync: Duration::from_secs(60) }
    }
}

/// How long a clock reading serves, extrapolated, when the cluster pushes none (not every
/// cluster notifies sysvar changes; the cluster's clock follows wall time between readings).
const CLOCK_READ: Duration = Duration::from_secs(10);

/// What the mirror holds while its subscriptions are live.
#[derive(Default)]
struct Held {
    live: bool,
    accounts: HashMap<Address, Account>,
    /// The cluster's unix time when last read or pushed, and when that was here.
    clock: Option<(i64, Instant)>,
}

/// A [`Chain`] serving one program's accounts and the cluster's clock from a copy kept by
/// subscription; see the module documentation. Everything else goes to the chain it wraps.
pub struct Mirror<C> {
    inner: Arc<C>,
    program: Address,
    held: Arc<Mutex<Held>>,
    task: tokio::task::JoinHandle<()>,
}

impl<C> Drop for Mirror<C> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<C: Chain + 'static> Mirror<C> {
    /// Mirrors the accounts of `program` on `inner`; keeping up runs in a task of the current
    /// Tokio runtime.
    pub fn new(inner: Arc<C>, program: Address, options: MirrorOptions) -> Self {
        let held = Arc::new(Mutex::new(Held::default()));
        let task = tokio::spawn(keep_up(inner.clone(), program, held.clone(), options.resync));
        Self { inner, program, held, task }
    }

    /// Whether reads are served from the copy now (the subscriptions are live).
    pub fn is_live(&self) -> bool {
        self.held().live
    }
}

impl<C> Mirror<C> {
    fn held(&self) -> MutexGuard<'_, Held> {
        lock(&self.held)
    }
}

fn lock(held: &Mutex<Held>) -> MutexGuard<'_, Held> {
    held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Subscribes to the program's accounts and the clock, snapshots, and applies what is pushed;
/// snapshots again every `resync`; retries as often when a subscription fails or ends. Without
/// the clock's subscription (a cluster may refuse one on a sysvar) the clock is read instead.
async fn keep_up<C: Chain>(inner: Arc<C>, program: Address, held: Arc<Mutex<Held>>, resync: Duration) {
    loop {
        let changes = inner.program_changes(&program, &[]).await;
        if let Some(mut changes) = changes {
            let mut clock = match inner.account_changes(&solana_sdk_ids::sysvar::clock::ID).await {
                Some(clock) => clock,
                None => futures_util::stream::pending().boxed(),
            };
            while snapshot(&*inner, &program, &held).await.is_ok() {
                let until = tokio::time::Instant::now() + resync;
                if !follow((&mut changes, &mut clock), &held, until).await {
                    break;
                }
            }
            lock(&held).live = false;
        }
        tokio::time::sleep(resync).await;
    }
}

/// Replaces the copy with the program's accounts now.
async fn snapshot<C: Chain + ?Sized>(inner: &C, program: &Address, held: &Mutex<Held>) -> Result<(), ChainError> {
    let accounts = inner.program_accounts(program, &[]).await?;
    let mut held = lock(held);
    held.accounts = accounts.into_iter().collect();
    held.live = true;
    Ok(())
}

/// Applies pushed changes until `until`; `false` when a stream ended.
async fn follow(
    (changes, clock): (&mut ProgramChanges, &mut AccountChanges),
    held: &Mutex<Held>,
    until: tokio::time::Instant,
) -> bool {
    loop {
        tokio::select! {
            change = changes.next() => {
                let Some((address, account)) = change else { return false };
                let mut held = lock(held);
                if account.lamports == 0 {
                    held.accounts.remove(&address);
                } else {
                    held.accounts.insert(address, account);
                }
            }
            tick = clock.next() => {
                let Some(account) = tick else { return false };
                // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
                if let Some(bytes) = account.data.get(32..40).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                    lock(held).clock = Some((i64::from_le_bytes(bytes), Instant::now()));
                }
            }
            () = tokio::time::sleep_until(until) => return true,
        }
    }
}

#[async_trait]
impl<C: Chain> Chain for Mirror<C> {
    async fn latest_blockhash(&self) -> Result<(Hash, u64), ChainError> {
        self.inner.latest_blockhash().await
    }
    async fn block_height(&self) -> Result<u64, ChainError> {
        self.inner.block_height().await
    }
    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ChainError> {
        self.inner.simulate(tx).await
    }
    async fn submit(&self, tx: &Transaction) -> Result<Signature, ChainError> {
        self.inner.submit(tx).await
    }
    async fn signature_status(&self, signature: &Signature) -> Result<Option<Status>, ChainError> {
        self.inner.signature_status(signature).await
    }
    /// The copy's account when it holds one; else the cluster's (an account the copy has not
    /// heard of yet, or another program's).
    async fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
        let held = {
            let held = self.held();
            held.live.then(|| held.accounts.get(address).cloned()).flatten()
        };
        match held {
            Some(account) => Ok(Some(account)),
            None => self.inner.account(address).await,
        }
    }
    async fn program_accounts(
        &self,
        program: &Address,
        filters: &[Memcmp],
    ) -> Result<Vec<(Address, Account)>, ChainError> {
        {
            let held = self.held();
            if held.live && *program == self.program {
                let matching = held.accounts.iter().filter(|(_, a)| filters.iter().all(|f| f.matches(&a.data)));
                return Ok(matching.map(|(address, a)| (*address, a.clone())).collect());
            }
        }
        self.inner.program_accounts(program, filters).await
    }
    async fn token_accounts(&self, owner: &Address, mint: &Address) -> Result<Vec<Address>, ChainError> {
        self.inner.token_accounts(owner, mint).await
    }
    /// The last pushed or read clock plus the time elapsed here since, read again from the
    /// cluster after [`CLOCK_READ`] without a push.
    async fn unix_time(&self) -> Result<i64, ChainError> {
        let clock = {
            let held = self.held();
            held.clock.filter(|(_, at)| held.live && at.elapsed() < CLOCK_READ)
        };
        if let Some((then, at)) = clock {
            return Ok(then + at.elapsed().as_secs() as i64);
        }
        let now = self.inner.unix_time().await?;
        self.held().clock = Some((now, Instant::now()));
        Ok(now)
    }
    async fn recent_priority_fees(&self, writable: &[Address]) -> Result<Vec<u64>, ChainError> {
        self.inner.recent_priority_fees(writable).await
    }
    async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        self.inner.rent_exempt_minimum(len).await
    }
    async fn program_changes(&self, program: &Address, filters: &[Memcmp]) -> Option<ProgramChanges> {
        self.inner.program_changes(program, filters).await
    }
    async fn account_changes(&self, address: &Address) -> Option<AccountChanges> {
        self.inner.account_changes(address).await
    }
    async fn signature_changes(&self, signature: &Signature) -> Option<SignatureChanges> {
        self.inner.signature_changes(signature).await
    }
    async fn account_changed(&self, address: &Address, wait: Duration) {
        self.inner.account_changed(address, wait).await
    }
}
