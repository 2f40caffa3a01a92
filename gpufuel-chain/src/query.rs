//! Typed account queries of the deployment at `program` over any [`Chain`]: program-account scans with `memcmp` filters on the
//! kind byte and fixed field offsets (the layouts are `repr(C)`, so offsets are stable), and
//! waiting for a job to change.

use std::{mem::offset_of, time::Duration};

use borsh::BorshDeserialize;
use gpufuel_core::state::{AccountData, AccountKind, GpuClass, Job, JobState, Node, Submitter, Validator};
use solana_address::Address;
use solana_program_pack::Pack;
use spl_token_interface::state::Account as TokenAccount;
use tokio::time::Instant;

use crate::{Chain, ChainError, chain::Memcmp};

/// A condition on jobs, evaluated by the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFilter {
    /// Jobs in this state.
    State(JobState),
    /// The submitter's wallet.
    Submitter(Address),
    /// The node account (best bidder, then assignee).
    Node(Address),
}

impl JobFilter {
    fn memcmp(&self) -> Memcmp {
        match self {
            Self::State(s) => Memcmp { offset: offset_of!(Job, state), bytes: vec![*s as u8] },
            Self::Submitter(a) => Memcmp { offset: offset_of!(Job, submitter), bytes: a.to_bytes().to_vec() },
            Self::Node(a) => Memcmp { offset: offset_of!(Job, node), bytes: a.to_bytes().to_vec() },
        }
    }
}

fn kind(k: AccountKind) -> Memcmp {
    Memcmp { offset: 0, bytes: vec![k as u8] }
}

async fn scan<T: AccountData + BorshDeserialize, C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
    mut filters: Vec<Memcmp>,
) -> Result<Vec<(Address, T)>, ChainError> {
    filters.insert(0, kind(T::KIND));
    let accounts = chain.program_accounts(program, &filters).await?;
    accounts
        .into_iter()
        .map(|(address, account)| {
            T::try_from_slice(&account.data).map(|t| (address, t)).map_err(|_| ChainError::Account(address.to_string()))
        })
        .collect()
}

/// Jobs matching every filter.
pub async fn jobs<C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
    filters: &[JobFilter],
) -> Result<Vec<(Address, Job)>, ChainError> {
    scan(chain, program, filters.iter().map(JobFilter::memcmp).collect()).await
}

/// Nodes, of one GPU class or all.
pub async fn nodes<C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
    gpu_class: Option<u8>,
) -> Result<Vec<(Address, Node)>, ChainError> {
    let filters = gpu_class.map(|c| Memcmp { offset: offset_of!(Node, gpu_class), bytes: vec![c] });
    scan(chain, program, filters.into_iter().collect()).await
}

/// Validators, all or the one with a market index (jobs record voters by index).
pub async fn validators<C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
    index: Option<u32>,
) -> Result<Vec<(Address, Validator)>, ChainError> {
    let filters = index.map(|i| Memcmp { offset: offset_of!(Validator, index), bytes: i.to_le_bytes().to_vec() });
    scan(chain, program, filters.into_iter().collect()).await
}

/// Every GPU class with its reference price and supply/demand counters.
pub async fn gpu_classes<C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
) -> Result<Vec<(Address, GpuClass)>, ChainError> {
    scan(chain, program, vec![]).await
}

/// One account of type `T`: owned by `program`, of `T`'s kind, decoding exactly.
pub async fn account<T: AccountData + BorshDeserialize, C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
    address: &Address,
) -> Result<T, ChainError> {
    let account = chain.account(address).await?.filter(|a| a.owner == *program);
    account
        .filter(|a| a.data.first() == Some(&(T::KIND as u8)))
        .and_then(|a| T::try_from_slice(&a.data).ok())
        .ok_or_else(|| ChainError::Account(address.to_string()))
}

/// What the vault holds on an account's behalf: a staker's stake (and a validator's unclaimed
/// rewards), a class's fee pool, an unfinished job's escrow and appeal bond; nothing for other
/// accounts, or for bytes that do not decode.
pub fn owed(data: &[u8]) -> u64 {
    fn read<T: BorshDeserialize>(data: &[u8]) -> Option<T> {
        T::try_from_slice(data).ok()
    }
    let owed = match data.first().copied() {
        Some(k) if k == AccountKind::Node as u8 => read::<Node>(data).map(|n| n.header.stake),
        Some(k) if k == AccountKind::Validator as u8 => {
            read::<Validator>(data).map(|v| v.header.stake.saturating_add(v.rewards))
        }
        Some(k) if k == AccountKind::Submitter as u8 => read::<Submitter>(data).map(|s| s.header.stake),
        Some(k) if k == AccountKind::GpuClass as u8 => read::<GpuClass>(data).map(|c| c.fees),
        Some(k) if k == AccountKind::Job as u8 => read::<Job>(data).map(|j| {
            if j.job_state().is_ok_and(JobState::is_terminal) { 0 } else { j.escrow.saturating_add(j.appeal_bond) }
        }),
        _ => None,
    };
    owed.unwrap_or(0)
}

/// The vault's balance and what it owes, summed over the deployment's accounts: equal while
/// tokens are conserved (every settlement, slash and refund moves exactly what it books).
pub async fn audit<C: Chain + ?Sized>(chain: &C, program: &Address) -> Result<(u64, u64), ChainError> {
    let vault = token_balance(chain, &crate::pda::vault(program)).await?;
    let accounts = chain.program_accounts(program, &[]).await?;
    Ok((vault, accounts.iter().map(|(_, a)| owed(&a.data)).fold(0u64, u64::saturating_add)))
}

/// The amount a token account holds.
pub async fn token_balance<C: Chain + ?Sized>(chain: &C, token: &Address) -> Result<u64, ChainError> {
    let account = chain.account(token).await?;
    let state = account.and_then(|a| TokenAccount::unpack(&a.data).ok());
    state.map(|t| t.amount).ok_or_else(|| ChainError::Account(format!("token account {token}")))
}

/// One job.
pub async fn job<C: Chain + ?Sized>(chain: &C, program: &Address, address: &Address) -> Result<Job, ChainError> {
    account(chain, program, address).await
}

/// Polls a job until `done` holds; returns it then. Between reads it waits for the account to
/// change ([`Chain::account_changed`]: a websocket notification on RPC where configured), at
/// most a backoff growing from 50 ms to 2 s.
pub async fn wait_for_job<C: Chain + ?Sized>(
    chain: &C,
    program: &Address,
    address: &Address,
    done: impl Fn(&Job) -> bool,
    timeout: Duration,
) -> Result<Job, ChainError> {
    let deadline = Instant::now() + timeout;
    let mut wait = Duration::from_millis(50);
    loop {
        let j = job(chain, program, address).await?;
        if done(&j) {
            return Ok(j);
        }
        if Instant::now() + wait > deadline {
            return Err(ChainError::Timeout { signature: format!("job {address}"), secs: timeout.as_secs() });
        }
        chain.account_changed(address, wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}
