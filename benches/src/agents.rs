//! `agents`: what a node's and a validator's agents ask of the chain on each pass with 1,000 open
//! jobs in the market: calls to the cluster (each one JSON-RPC request on `RpcChain`) and the
//! account bytes they return, per agent per minute at the CLI's default 2 s poll. The baseline
//! of issue 15's subscribing agents.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use gpufuel_chain::{
    Chain, ChainError, GpuFuelClient, LocalChain, PROGRAM_ID,
    chain::{Memcmp, Simulation, Status},
};
use gpufuel_core::state::MarketParams;
use gpufuel_exec::{
    agent::{NodeAgent, NodeConfig, ValidatorAgent, ValidatorConfig},
    executor::CpuExecutor,
};
use gpufuel_fixtures::{LocalMarket, job_spec};
use gpufuel_store::LocalStore;
use serde_json::json;
use solana_account::Account;
use solana_address::Address;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction::Transaction;

const OPEN_JOBS: u64 = 1_000;
/// Passes measured after the first (which registers and catches up).
const PASSES: u64 = 5;
/// The CLI's default seconds between passes.
const POLL_SECS: u64 = 2;

/// A chain that counts the calls made through it, by JSON-RPC method, and the account bytes
/// they return.
struct Counting {
    inner: LocalChain,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    bytes: Mutex<u64>,
}

impl Counting {
    fn count(&self, method: &'static str) {
        *self.calls.lock().expect("calls").entry(method).or_default() += 1;
    }
    fn returned(&self, bytes: usize) {
        *self.bytes.lock().expect("bytes") += bytes as u64;
    }
    /// Calls and bytes so far, then zeroed.
    fn take(&self) -> (BTreeMap<&'static str, u64>, u64) {
        (
            std::mem::take(&mut *self.calls.lock().expect("calls")),
            std::mem::take(&mut *self.bytes.lock().expect("bytes")),
        )
    }
}

#[async_trait]
impl Chain for Counting {
    async fn latest_blockhash(&self) -> Result<(Hash, u64), ChainError> {
        self.count("getLatestBlockhash");
        self.inner.latest_blockhash().await
    }
    async fn block_height(&self) -> Result<u64, ChainError> {
        self.count("getBlockHeight");
        self.inner.block_height().await
    }
    async fn simulate(&self, tx: &Transaction) -> Result<Simulation, ChainError> {
        self.count("simulateTransaction");
        self.inner.simulate(tx).await
    }
    async fn submit(&self, tx: &Transaction) -> Result<Signature, ChainError> {
        self.count("sendTransaction");
        self.inner.submit(tx).await
    }
    async fn signature_status(&self, signature: &Signature) -> Result<Option<Status>, ChainError> {
        self.count("getSignatureStatuses");
        self.inner.signature_status(signature).await
    }
    async fn account(&self, address: &Address) -> Result<Option<Account>, ChainError> {
        self.count("getAccountInfo");
        let account = Chain::account(&self.inner, address).await?;
        self.returned(account.as_ref().map_or(0, |a| a.data.len()));
        Ok(account)
    }
    async fn program_accounts(
        &self,
        program: &Address,
        filters: &[Memcmp],
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
        self.count("getProgramAccounts");
        let accounts = self.inner.program_accounts(program, filters).await?;
        self.returned(accounts.iter().map(|(_, d)| 32 + d.len()).sum());
        Ok(accounts)
    }
    async fn token_accounts(&self, owner: &Address, mint: &Address) -> Result<Vec<Address>, ChainError> {
        self.count("getTokenAccountsByOwner");
        self.inner.token_accounts(owner, mint).await
    }
    async fn unix_time(&self) -> Result<i64, ChainError> {
        self.count("getAccountInfo");
        self.inner.unix_time().await
    }
    async fn recent_priority_fees(&self, writable: &[Address]) -> Result<Vec<u64>, ChainError> {
        self.count("getRecentPrioritizationFees");
        self.inner.recent_priority_fees(writable).await
    }
    async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        self.count("getMinimumBalanceForRentExemption");
        self.inner.rent_exempt_minimum(len).await
    }
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // The class of the CPU executor's node, so it bids on the jobs.
    let class = gpufuel_exec::executor::Executor::capabilities(&CpuExecutor::default()).spec.gpu_class;
    let mut m = LocalMarket::new(MarketParams::default(), &[(class, 1_000, 10)])?;
    let submitter = m.submitter(10_000_000, 1_000_000_000)?;
    let now = m.chain.now();
    for id in 1..=OPEN_JOBS {
        // Deadlines a day out: every job stays open through the measurement.
        let spec = gpufuel_core::instruction::JobSpec { deadline: now + 86_400, ..job_spec(id, class, 2_000, now) };
        m.chain.send(
            &[gpufuel_chain::ix::create_job(&PROGRAM_ID, &submitter.address(), &submitter.token, spec)],
            &[&submitter.keypair],
        )?;
    }
    let counting = Arc::new(Counting { inner: m.chain.clone(), calls: Mutex::default(), bytes: Mutex::default() });
    let client = Arc::new(GpuFuelClient::new(counting.clone()));
    let dir = std::env::temp_dir().join(format!("gpufuel-bench-agents-{}", std::process::id()));
    let store = Arc::new(LocalStore::open(&dir)?);
    let (node_wallet, validator_wallet) = (m.chain.wallet(100_000_000)?, m.chain.wallet(100_000_000)?);
    let per_minute = 60.0 / POLL_SECS as f64 / PASSES as f64;
    let report = runtime.block_on(async {
        let node = Arc::new(
            NodeAgent::start(
                client.clone(),
                store.clone(),
                Arc::new(CpuExecutor::default()),
                node_wallet.keypair.insecure_clone(),
                &node_wallet.token,
                NodeConfig::default(),
            )
            .await?,
        );
        node.tick().await?;
        counting.take();
        for _ in 0..PASSES {
            node.tick().await?;
            m.chain.advance(POLL_SECS as i64);
        }
        let node_calls = counting.take();
        node.abort();
        let validator = ValidatorAgent::start(
            client.clone(),
            store.clone(),
            validator_wallet.keypair.insecure_clone(),
            &validator_wallet.token,
            ValidatorConfig::default(),
        )
        .await?;
        validator.tick().await?;
        counting.take();
        for _ in 0..PASSES {
            validator.tick().await?;
            m.chain.advance(POLL_SECS as i64);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok::<_, Box<dyn std::error::Error>>((node_calls, counting.take()))
    });
    std::fs::remove_dir_all(&dir)?;
    let ((node_calls, node_bytes), (validator_calls, validator_bytes)) = report?;
    let summary = |calls: &BTreeMap<&'static str, u64>, bytes: u64| {
        let total: u64 = calls.values().sum();
        let methods: serde_json::Map<_, _> =
            calls.iter().map(|(k, v)| (k.to_string(), json!(*v as f64 * per_minute))).collect();
        json!({
            "requests_per_minute": total as f64 * per_minute,
            "account_bytes_per_minute": bytes as f64 * per_minute,
            "by_method": methods,
        })
    };
    let (node, validator) = (summary(&node_calls, node_bytes), summary(&validator_calls, validator_bytes));
    println!("agents with {OPEN_JOBS} open jobs, a pass every {POLL_SECS} s (per agent per minute, {PASSES} passes):");
    for (who, s) in [("node", &node), ("validator", &validator)] {
        println!(
            "    {who:<10} {:>8.0} requests  {:>10.1} MB of accounts  {}",
            s["requests_per_minute"].as_f64().unwrap_or_default(),
            s["account_bytes_per_minute"].as_f64().unwrap_or_default() / 1e6,
            s["by_method"]
        );
    }
    crate::write_json(
        "agents",
        &json!({ "open_jobs": OPEN_JOBS, "poll_secs": POLL_SECS, "node": node, "validator": validator }),
    )
}
