//! `agents`: what a node's and a validator's agents ask of a cluster with 1,000 open jobs in the
//! market, on the embedded RPC server (surfpool): JSON-RPC requests and the account bytes they
//! return (or the cluster pushes), per agent per minute with a pass every 2 s (the CLI's
//! default). Polling agents (every pass scans the program's accounts) against subscribing ones
//! (a [`Mirror`]: one snapshot, pushed changes, a resync a minute). All four agents run at
//! once for a minute of real time.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt, stream};
use gpufuel_chain::{
    Chain, ChainError, GpuFuelClient, Mirror, PROGRAM_ID, RpcChain,
    chain::{AccountChanges, Memcmp, ProgramChanges, SignatureChanges, Simulation, Status},
    mirror::MirrorOptions,
};
use gpufuel_core::{instruction::GpuClassArgs, state::NodeSpec};
use gpufuel_exec::{
    agent::{NodeAgent, NodeConfig, ValidatorAgent, ValidatorConfig},
    executor::{CpuExecutor, Executor},
};
use gpufuel_fixtures::{Market, Surfnet, job_spec};
use gpufuel_store::{ContentStore, LocalStore};
use serde_json::json;
use solana_account::Account;
use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

const OPEN_JOBS: u64 = 1_000;
/// The CLI's default seconds between passes.
const POLL_SECS: u64 = 2;
/// How long each agent is measured.
const MEASURED: Duration = Duration::from_secs(60);

/// What went through a [`Counting`] chain: requests by JSON-RPC method, account bytes returned
/// or pushed.
#[derive(Default)]
struct Counts {
    calls: Mutex<BTreeMap<&'static str, u64>>,
    bytes: AtomicU64,
}

impl Counts {
    fn take(&self) -> (BTreeMap<&'static str, u64>, u64) {
        (std::mem::take(&mut *self.calls.lock().expect("calls")), self.bytes.swap(0, Ordering::Relaxed))
    }
}

/// A chain that counts the calls made through it (each one JSON-RPC request on `RpcChain`; a
/// subscription is one request, and what it pushes is counted as bytes only). Transactions are
/// confirmed by push only when `push` is set (the subscribing agents), as the polling agents
/// of before confirmed them by polling.
struct Counting<C> {
    inner: C,
    counts: Arc<Counts>,
    push: bool,
}

impl<C> Counting<C> {
    fn count(&self, method: &'static str) {
        *self.counts.calls.lock().expect("calls").entry(method).or_default() += 1;
    }
    fn returned(&self, bytes: usize) {
        self.counts.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

#[async_trait]
impl<C: Chain> Chain for Counting<C> {
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
        let account = self.inner.account(address).await?;
        self.returned(account.as_ref().map_or(0, |a| a.data.len()));
        Ok(account)
    }
    async fn program_accounts(
        &self,
        program: &Address,
        filters: &[Memcmp],
    ) -> Result<Vec<(Address, Account)>, ChainError> {
        self.count("getProgramAccounts");
        let accounts = self.inner.program_accounts(program, filters).await?;
        self.returned(accounts.iter().map(|(_, a)| 32 + a.data.len()).sum());
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
    async fn account_changes(&self, address: &Address) -> Option<AccountChanges> {
        self.count("accountSubscribe");
        let changes = self.inner.account_changes(address).await?;
        let counts = self.counts.clone();
        Some(Box::pin(changes.inspect(move |a| {
            counts.bytes.fetch_add(a.data.len() as u64, Ordering::Relaxed);
        })))
    }
    async fn signature_changes(&self, signature: &Signature) -> Option<SignatureChanges> {
        if !self.push {
            return None;
        }
        self.count("signatureSubscribe");
        self.inner.signature_changes(signature).await
    }
    async fn program_changes(&self, program: &Address, filters: &[Memcmp]) -> Option<ProgramChanges> {
        self.count("programSubscribe");
        let changes = self.inner.program_changes(program, filters).await?;
        let counts = self.counts.clone();
        let counted = changes.inspect(move |(_, a)| {
            counts.bytes.fetch_add(32 + a.data.len() as u64, Ordering::Relaxed);
        });
        Some(Box::pin(counted))
    }
}

/// Which agent is measured.
#[derive(Clone, Copy)]
enum Agent {
    Node,
    Validator,
}

/// Runs `agent` with a pass every [`POLL_SECS`] for [`MEASURED`] (after its start, which
/// registers it), over a counting RPC chain, mirrored or not. Returns the requests, the bytes
/// and the passes made.
async fn measure(
    surfnet: &Surfnet,
    m: &Market<'_>,
    store: Arc<dyn ContentStore>,
    agent: Agent,
    subscribe: bool,
) -> Result<(BTreeMap<&'static str, u64>, u64, u64), Box<dyn std::error::Error>> {
    let wallet = m.wallet(100_000_000).await;
    // Registered beforehand, so the minute measured is the agent's steady state from its start,
    // subscriptions and first snapshot included.
    let executor = Arc::new(CpuExecutor::default());
    match agent {
        Agent::Node => {
            let (config, caps) = (NodeConfig::default(), executor.capabilities());
            let spec = NodeSpec { price_floor: config.price_floor, ..caps.spec };
            m.client().register_node(&wallet.keypair, &wallet.token, spec, config.stake).await?;
        }
        Agent::Validator => {
            let stake = ValidatorConfig::default().stake;
            m.client().register_validator(&wallet.keypair, &wallet.token, stake).await?;
        }
    }
    let rpc = RpcChain::new(surfnet.url(), CommitmentConfig::confirmed()).with_websocket(surfnet.websocket_url());
    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let counting = Arc::new(Counting { inner: rpc, counts: counts.clone(), push: subscribe });
    let chain: Arc<dyn Chain> =
        if subscribe { Arc::new(Mirror::new(counting, PROGRAM_ID, MirrorOptions::default())) } else { counting };
    let client = Arc::new(GpuFuelClient::new(chain));
    let key = wallet.keypair.insecure_clone();
    let pass: Box<dyn Fn() -> futures_util::future::BoxFuture<'static, Result<(), String>> + Send + Sync> = match agent
    {
        Agent::Node => {
            let node =
                Arc::new(NodeAgent::start(client, store, executor, key, &wallet.token, NodeConfig::default()).await?);
            Box::new(move || {
                let node = node.clone();
                Box::pin(async move { node.tick().await.map(drop).map_err(|e| e.to_string()) })
            })
        }
        Agent::Validator => {
            let config = ValidatorConfig::default();
            let validator = Arc::new(ValidatorAgent::start(client, store, key, &wallet.token, config).await?);
            Box::new(move || {
                let validator = validator.clone();
                Box::pin(async move { validator.tick().await.map(drop).map_err(|e| e.to_string()) })
            })
        }
    };
    let mut passes = 0;
    while started.elapsed() < MEASURED {
        pass().await?;
        passes += 1;
        let next = Duration::from_secs(POLL_SECS * passes);
        tokio::time::sleep(next.saturating_sub(started.elapsed())).await;
    }
    let (calls, bytes) = counts.take();
    Ok((calls, bytes, passes))
}

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    // The class of the CPU executor's node, so it scans the jobs as it would bid on them.
    let class = CpuExecutor::default().capabilities().spec.gpu_class;
    let dir = std::env::temp_dir().join(format!("gpufuel-bench-agents-{}", std::process::id()));
    let store: Arc<dyn ContentStore> = Arc::new(LocalStore::open(&dir)?);
    let report = runtime.block_on(async {
        let surfnet = Surfnet::start().await;
        let m = Market::new(&surfnet).await;
        m.client()
            .add_gpu_class(&m.authority, GpuClassArgs { class_id: class, ref_price: 1_000, min_price: 10 })
            .await?;
        let submitter = m.submitter(1_000_000_000).await;
        let now = m.now().await;
        let (m, submitter) = (&m, &submitter);
        let created = Instant::now();
        stream::iter(1..=OPEN_JOBS)
            .map(|id| {
                // Deadlines a day out: every job stays open through the measurement.
                let spec =
                    gpufuel_core::instruction::JobSpec { deadline: now + 86_400, ..job_spec(id, class, 2_000, now) };
                let ix =
                    gpufuel_chain::ix::create_job(&PROGRAM_ID, &submitter.keypair.pubkey(), &submitter.token, spec);
                async move { m.send(&[ix], &submitter.keypair, &[]).await }
            })
            .buffer_unordered(32)
            .try_collect::<Vec<_>>()
            .await?;
        eprintln!("{OPEN_JOBS} jobs created in {:.1} s", created.elapsed().as_secs_f64());
        let (node_poll, validator_poll, node_sub, validator_sub) = tokio::join!(
            measure(&surfnet, m, store.clone(), Agent::Node, false),
            measure(&surfnet, m, store.clone(), Agent::Validator, false),
            measure(&surfnet, m, store.clone(), Agent::Node, true),
            measure(&surfnet, m, store.clone(), Agent::Validator, true),
        );
        Ok::<_, Box<dyn std::error::Error>>([node_poll?, validator_poll?, node_sub?, validator_sub?])
    });
    std::fs::remove_dir_all(&dir)?;
    let [node_poll, validator_poll, node_sub, validator_sub] = report?;
    let minutes = MEASURED.as_secs_f64() / 60.0;
    // The careful sender's requests: the same transactions in both ways (bids, heartbeats).
    const SENDING: [&str; 7] = [
        "getLatestBlockhash",
        "simulateTransaction",
        "getRecentPrioritizationFees",
        "sendTransaction",
        "signatureSubscribe",
        "getSignatureStatuses",
        "getBlockHeight",
    ];
    let summary = |(calls, bytes, passes): &(BTreeMap<&'static str, u64>, u64, u64)| {
        let total: u64 = calls.values().sum();
        let reads: u64 = calls.iter().filter(|(k, _)| !SENDING.contains(k)).map(|(_, v)| v).sum();
        let methods: serde_json::Map<_, _> =
            calls.iter().map(|(k, v)| (k.to_string(), json!(*v as f64 / minutes))).collect();
        json!({
            "requests_per_minute": total as f64 / minutes,
            "read_requests_per_minute": reads as f64 / minutes,
            "account_bytes_per_minute": *bytes as f64 / minutes,
            "passes_per_minute": *passes as f64 / minutes,
            "by_method": methods,
        })
    };
    let compare = |polling: &serde_json::Value, subscribing: &serde_json::Value| {
        let ratio = |key: &str| {
            polling[key].as_f64().unwrap_or_default() / subscribing[key].as_f64().unwrap_or_default().max(1.0)
        };
        json!({
            "polling": polling,
            "subscribing": subscribing,
            "fewer_requests": ratio("requests_per_minute"),
            "fewer_read_requests": ratio("read_requests_per_minute"),
        })
    };
    let node = compare(&summary(&node_poll), &summary(&node_sub));
    let validator = compare(&summary(&validator_poll), &summary(&validator_sub));
    println!("agents with {OPEN_JOBS} open jobs on surfpool, a pass every {POLL_SECS} s (per agent per minute):");
    for (who, s) in [("node", &node), ("validator", &validator)] {
        for way in ["polling", "subscribing"] {
            let w = &s[way];
            println!(
                "    {who:<10} {way:<12} {:>7.0} requests  {:>8.2} MB of accounts  {:>3.0} passes  {}",
                w["requests_per_minute"].as_f64().unwrap_or_default(),
                w["account_bytes_per_minute"].as_f64().unwrap_or_default() / 1e6,
                w["passes_per_minute"].as_f64().unwrap_or_default(),
                w["by_method"]
            );
        }
        println!(
            "    {who:<10} subscribing: {:.1}× fewer requests, {:.1}× fewer reads (requests other than sending)",
            s["fewer_requests"].as_f64().unwrap_or_default(),
            s["fewer_read_requests"].as_f64().unwrap_or_default()
        );
    }
    crate::write_json(
        "agents",
        &json!({ "open_jobs": OPEN_JOBS, "poll_secs": POLL_SECS, "seconds": MEASURED.as_secs(), "node": node, "validator": validator }),
    )
}
