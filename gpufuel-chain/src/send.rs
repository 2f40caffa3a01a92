//! Sending a transaction the way a careful Solana client does, over any [`Chain`]:
//!
//! 1. simulate first: a transaction that would fail returns its typed error and is never sent;
//! 2. set the compute-unit limit to the simulated use plus a margin, and a priority fee that is
//!    fixed or derived from recent fees on the accounts it writes;
//! 3. submit, then wait for the status: pushed over the websocket where the chain has one
//!    (subscribed before submitting), else polled with backoff;
//! 4. when the blockhash expires with no status, the transaction can no longer land, so it is
//!    signed again with a fresh blockhash and resent. A transport error after submitting, or while
//!    polling, does not trigger a resend either: polling continues (the endpoint may come back)
//!    until the status or the expiry is known. An operation is therefore never applied twice.

use std::time::{Duration, Instant};

use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use futures_util::StreamExt;

use crate::{Chain, ChainError, chain::SignatureChanges};

/// Most compute units a transaction may ask for.
const MAX_UNITS: u64 = 1_400_000;
/// Units the two compute-budget instructions themselves use.
const BUDGET_UNITS: u64 = 300;

/// How to price a transaction's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorityFee {
    /// No priority fee.
    None,
    /// This many micro-lamports per compute unit.
    Fixed(u64),
    /// A percentile (0..=100) of the recent fees paid by transactions writing the same
    /// accounts, capped at `max` micro-lamports per unit.
    Recent {
        /// Which percentile of the recent fees.
        percentile: u8,
        /// The cap, micro-lamports per compute unit.
        max: u64,
    },
}

/// Options of [`send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Margin over the simulated compute units, in basis points.
    pub unit_margin_bps: u64,
    /// How the priority fee is set.
    pub priority_fee: PriorityFee,
    /// Times a transaction is re-signed and resent after its blockhash expired.
    pub max_resends: u32,
    /// First wait between status polls; doubles up to `max_poll`.
    pub poll: Duration,
    /// Longest wait between status polls.
    pub max_poll: Duration,
    /// Give up waiting for a status after this long.
    pub timeout: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            unit_margin_bps: 2_000,
            priority_fee: PriorityFee::Recent { percentile: 75, max: 1_000_000 },
            max_resends: 5,
            poll: Duration::from_millis(50),
            max_poll: Duration::from_secs(2),
            timeout: Duration::from_secs(90),
        }
    }
}

/// A confirmed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// The landed transaction's signature.
    pub signature: Signature,
    /// Compute units the simulation used (the limit set was this plus the margin).
    pub units: u64,
    /// Times it was sent (1 unless a blockhash expired).
    pub attempts: u32,
}

/// Simulations or submissions refused for a stale blockhash before one is accepted (each is
/// refused before execution, so retrying is safe; the bound stops a livelock).
const MAX_REFUSALS: u32 = 64;

/// Simulates, prices, sends and confirms `instructions`, paid by `payer`, signed by `payer` and
/// `signers`.
pub async fn send<C: Chain + ?Sized>(
    chain: &C,
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    options: &SendOptions,
) -> Result<Sent, ChainError> {
    let mut all: Vec<&Keypair> = vec![payer];
    all.extend(signers.iter().copied().filter(|s| s.pubkey() != payer.pubkey()));
    let sign = |units: u64, fee: u64, blockhash| {
        let mut ixs = vec![
            ComputeBudgetInstruction::set_compute_unit_limit(units as u32),
            ComputeBudgetInstruction::set_compute_unit_price(fee),
        ];
        ixs.extend_from_slice(instructions);
        Transaction::new_signed_with_payer(&ixs, Some(&payer.pubkey()), &all, blockhash)
    };

    let mut simulation = None;
    for _ in 0..=MAX_REFUSALS {
        let latest = chain.latest_blockhash().await?;
        let s = chain.simulate(&sign(MAX_UNITS, 0, latest.0)).await?;
        // Another transaction moved the blockhash on between the two calls: simulate again.
        if s.error != Some(TransactionError::BlockhashNotFound) {
            simulation = Some((s, latest));
            break;
        }
        tokio::task::yield_now().await;
    }
    let (simulation, mut latest) =
        simulation.ok_or_else(|| ChainError::from_transaction(TransactionError::BlockhashNotFound, &[]))?;
    if let Some(error) = simulation.error {
        return Err(ChainError::from_transaction(shift(error), &simulation.logs));
    }
    let units = (simulation.units + simulation.units * options.unit_margin_bps / 10_000 + BUDGET_UNITS).min(MAX_UNITS);
    let fee = priority_fee(chain, instructions, options.priority_fee).await?;

    let started = Instant::now();
    let (mut attempt, mut refusals) = (0, 0);
    // The first attempt signs with the blockhash the simulation accepted (one request fewer);
    // each later one, after a refusal or an expiry, with a fresh one.
    let mut fresh = false;
    while attempt <= options.max_resends {
        if fresh {
            latest = chain.latest_blockhash().await?;
        }
        fresh = true;
        let (blockhash, last_valid) = latest;
        let tx = sign(units, fee, blockhash);
        let signature = tx.signatures[0];
        let pushed = chain.signature_changes(&signature).await;
        match chain.submit(&tx).await {
            Ok(_) | Err(ChainError::Rpc(_)) => {}
            // Refused before execution because another transaction moved the blockhash on: not
            // an attempt (nothing can land), so it does not use up the resends.
            Err(ChainError::Transaction { error: TransactionError::BlockhashNotFound, .. })
                if refusals < MAX_REFUSALS =>
            {
                refusals += 1;
                tokio::task::yield_now().await;
                continue;
            }
            Err(e) => return Err(e),
        }
        attempt += 1;
        match confirm(chain, &signature, pushed, last_valid, started, options).await? {
            Some(Ok(())) => return Ok(Sent { signature, units: simulation.units, attempts: attempt }),
            Some(Err(error)) => return Err(ChainError::from_transaction(shift(error), &[])),
            None => continue, // expired without landing: safe to send again
        }
    }
    Err(ChainError::Rpc(format!("blockhash expired {} times in a row", options.max_resends + 1)))
}

/// How long a pushed status is awaited before the sender looks for itself (at the status, and
/// at whether the blockhash expired): a transaction lands within seconds or its blockhash
/// expires after about a minute.
const PUSH_PATIENCE: Duration = Duration::from_secs(10);

/// Waits until the signature has a status (`Some`), or its blockhash expired without one
/// (`None`). A pushed status needs no request; without one (or while it is late) the status is
/// polled with backoff, and the block height read once the polls have backed off fully (a fresh
/// blockhash does not expire in the first seconds).
async fn confirm<C: Chain + ?Sized>(
    chain: &C,
    signature: &Signature,
    mut pushed: Option<SignatureChanges>,
    last_valid: u64,
    started: Instant,
    options: &SendOptions,
) -> Result<Option<Result<(), TransactionError>>, ChainError> {
    let mut wait = options.poll;
    loop {
        if let Some(changes) = &mut pushed {
            match tokio::time::timeout(PUSH_PATIENCE, changes.next()).await {
                Ok(Some(status)) => return Ok(Some(status)),
                Ok(None) => pushed = None, // the connection went: poll from here
                Err(_) => wait = options.max_poll,
            }
        }
        // Transport errors while polling are transient: the endpoint may come back, and the
        // transaction may have landed meanwhile, so keep asking until the timeout.
        match chain.signature_status(signature).await {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) | Err(ChainError::Rpc(_)) => {}
            Err(e) => return Err(e),
        }
        if wait >= options.max_poll && chain.block_height().await.is_ok_and(|height| height > last_valid) {
            // One last look: it may have landed in the block that expired the hash.
            return chain.signature_status(signature).await;
        }
        if started.elapsed() >= options.timeout {
            return Err(ChainError::Timeout { signature: signature.to_string(), secs: options.timeout.as_secs() });
        }
        if pushed.is_none() {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(options.max_poll);
        }
    }
}

async fn priority_fee<C: Chain + ?Sized>(
    chain: &C,
    instructions: &[Instruction],
    fee: PriorityFee,
) -> Result<u64, ChainError> {
    Ok(match fee {
        PriorityFee::None => 0,
        PriorityFee::Fixed(f) => f,
        PriorityFee::Recent { percentile, max } => {
            let writable: Vec<_> =
                instructions.iter().flat_map(|ix| &ix.accounts).filter(|a| a.is_writable).map(|a| a.pubkey).collect();
            let mut fees = chain.recent_priority_fees(&writable).await?;
            fees.sort_unstable();
            let rank = fees.len().saturating_sub(1) * usize::from(percentile.min(100)) / 100;
            fees.get(rank).copied().unwrap_or(0).min(max)
        }
    })
}

/// Instruction indices as the caller numbered them (the two budget instructions come first).
fn shift(error: TransactionError) -> TransactionError {
    match error {
        TransactionError::InstructionError(i, e) => TransactionError::InstructionError(i.saturating_sub(2), e),
        e => e,
    }
}
