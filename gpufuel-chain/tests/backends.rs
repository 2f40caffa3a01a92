//! One suite, two backends: every test runs against `LocalChain` and against a real JSON-RPC
//! server (surfpool, embedded, offline, on 127.0.0.1) reached through `RpcChain`. Setup itself
//! goes through the `Chain` trait and the careful sender: mint, token accounts, market, class,
//! node, validator and submitter are all created by transactions.

use std::time::Duration;

use gpufuel_chain::{
    ChainError, PROGRAM_ID,
    ix::{self, Role},
    pda,
    query::{self, JobFilter},
    send::send,
};
use gpufuel_core::{GpuFuelError, state::JobState};
use gpufuel_fixtures::{CLASS, Cluster, Local, Market, STAKE, Surfnet, job_spec, options};
use solana_signer::Signer;

/// Drives a submitted job through its one-seat committee (the cluster market's): draw (retried
/// until the slot it reads exists), commit, reveal pass, the appeal window, settle.
async fn committee_passes(m: &Market<'_>, validator: &gpufuel_fixtures::Wallet, job: &solana_address::Address) {
    let c = m.client();
    m.cluster.advance(1).await;
    let mut drawn = c.draw_committee(&validator.keypair, job).await;
    for _ in 0..50 {
        if drawn.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        drawn = c.draw_committee(&validator.keypair, job).await;
    }
    drawn.unwrap();
    let j = c.job(job).await.unwrap();
    assert_eq!(j.seats0, 1, "the activated validator is drawn");
    let salt = [7; 32];
    c.commit_vote(&validator.keypair, job, (0, 0), true, &salt).await.unwrap();
    c.reveal_vote(&validator.keypair, job, 0, true, salt).await.unwrap();
    let early = c.settle(&validator.keypair, job).await.unwrap_err();
    assert_eq!(early.program_error(), Some(GpuFuelError::NotFinal), "appealable first: {early}");
    m.cluster.advance(i64::from(j.terms.appeal_window_secs) + 1).await;
    c.settle(&validator.keypair, job).await.unwrap();
}

/// Urgent job (a short auction), bid, assignment, result, a one-seat committee, settle: every
/// balance lands where the settlement rules say.
async fn urgent_lifecycle_settles_and_pays(cluster: &dyn Cluster) {
    let m = Market::new(cluster).await;
    let (node, validator, submitter) = (m.node(100).await, m.validator().await, m.submitter(1_000_000).await);
    let c = m.client();
    let mut spec = job_spec(1, CLASS, 2_000, m.now().await);
    spec.urgent = true;
    let s = submitter.keypair.pubkey();
    m.send(&[ix::create_job(&PROGRAM_ID, &s, &submitter.token, spec)], &submitter.keypair, &[]).await.unwrap();
    let job = pda::job(&PROGRAM_ID, &s, 1);
    let escrowed = query::job(cluster.chain(), &PROGRAM_ID, &job).await.unwrap().escrow;
    let n = node.keypair.pubkey();
    let reference = query::gpu_classes(cluster.chain(), &PROGRAM_ID).await.unwrap()[0].1.ref_price;
    c.bid(&node.keypair, &job, reference).await.unwrap();
    assert_eq!(query::job(cluster.chain(), &PROGRAM_ID, &job).await.unwrap().state, JobState::Open as u8, "an auction");
    cluster.advance(6).await;
    c.assign(&validator.keypair, &job).await.unwrap();
    c.acknowledge(&node.keypair, &job).await.unwrap();
    let cid = gpufuel_fixtures::sample_cid(3);
    m.send(&[ix::submit_result(&PROGRAM_ID, &n, &job, cid, [5; 32], false)], &node.keypair, &[]).await.unwrap();
    let before = (m.balance(&node.token).await, m.balance(&submitter.token).await);
    committee_passes(&m, &validator, &job).await;
    let j = query::job(cluster.chain(), &PROGRAM_ID, &job).await.unwrap();
    assert_eq!(j.state, JobState::Settled as u8);
    let node_gain = m.balance(&node.token).await - before.0;
    let refund = m.balance(&submitter.token).await - before.1;
    let fees = c.gpu_class(CLASS).await.unwrap().fees;
    let rewards = c.validator(&validator.keypair.pubkey()).await.unwrap().rewards;
    assert_eq!(node_gain + refund + fees + rewards, escrowed, "the escrow is split exactly");
    assert!(node_gain > 0 && refund > 0 && fees > 0 && rewards > 0);
    assert_eq!(
        m.balance(&pda::vault(&PROGRAM_ID)).await,
        3 * STAKE + fees + rewards,
        "stakes, fee pool and rewards remain"
    );
}

/// A refused instruction comes back typed, nothing is submitted, no fee is paid.
async fn refusals_are_typed_and_nothing_is_sent(cluster: &dyn Cluster) {
    let m = Market::new(cluster).await;
    let (node, submitter) = (m.node(100).await, m.submitter(1_000_000).await);
    let s = submitter.keypair.pubkey();
    m.send(
        &[ix::create_job(&PROGRAM_ID, &s, &submitter.token, job_spec(1, CLASS, 2_000, m.now().await))],
        &submitter.keypair,
        &[],
    )
    .await
    .unwrap();
    let lamports = cluster.chain().account(&node.keypair.pubkey()).await.unwrap().unwrap().lamports;
    let low = ix::bid(&PROGRAM_ID, &node.keypair.pubkey(), &pda::job(&PROGRAM_ID, &s, 1), CLASS, 50, None);
    let err = m.send(&[low], &node.keypair, &[]).await.unwrap_err();
    assert_eq!(err.program_error(), Some(GpuFuelError::BidBelowFloor), "{err}");
    assert_eq!(cluster.chain().account(&node.keypair.pubkey()).await.unwrap().unwrap().lamports, lamports);
    // Insufficient funds: an escrow above the submitter's tokens.
    let before = m.balance(&submitter.token).await;
    let vault = m.balance(&pda::vault(&PROGRAM_ID)).await;
    let big = job_spec(2, CLASS, before, m.now().await);
    let err =
        m.send(&[ix::create_job(&PROGRAM_ID, &s, &submitter.token, big)], &submitter.keypair, &[]).await.unwrap_err();
    assert!(matches!(err, ChainError::Transaction { .. }), "{err}");
    assert_eq!((m.balance(&submitter.token).await, m.balance(&pda::vault(&PROGRAM_ID)).await), (before, vault));
    assert!(cluster.chain().account(&pda::job(&PROGRAM_ID, &s, 2)).await.unwrap().is_none());
}

/// Queries filtered server-side (memcmp on RPC) return the same answers on both backends.
async fn queries_filter_by_state_submitter_and_class(cluster: &dyn Cluster) {
    let m = Market::new(cluster).await;
    let (node, submitter) = (m.node(100).await, m.submitter(10_000_000).await);
    let s = submitter.keypair.pubkey();
    for id in 1..=3 {
        let spec = job_spec(id, CLASS, 2_000, m.now().await);
        m.send(&[ix::create_job(&PROGRAM_ID, &s, &submitter.token, spec)], &submitter.keypair, &[]).await.unwrap();
    }
    m.send(
        &[ix::cancel(&PROGRAM_ID, &s, &pda::job(&PROGRAM_ID, &s, 2), CLASS, &submitter.token, None)],
        &submitter.keypair,
        &[],
    )
    .await
    .unwrap();
    let chain = cluster.chain();
    let open =
        query::jobs(chain, &PROGRAM_ID, &[JobFilter::State(JobState::Open), JobFilter::Submitter(s)]).await.unwrap();
    let mut ids: Vec<u64> = open.iter().map(|(_, j)| j.job_id).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 3]);
    assert_eq!(query::jobs(chain, &PROGRAM_ID, &[JobFilter::State(JobState::Cancelled)]).await.unwrap().len(), 1);
    let nodes = query::nodes(chain, &PROGRAM_ID, Some(CLASS)).await.unwrap();
    assert_eq!(nodes.iter().map(|(a, _)| *a).collect::<Vec<_>>(), vec![pda::node(&PROGRAM_ID, &node.keypair.pubkey())]);
    assert!(query::nodes(chain, &PROGRAM_ID, Some(CLASS + 1)).await.unwrap().is_empty());
    let classes = query::gpu_classes(chain, &PROGRAM_ID).await.unwrap();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0].1.open_jobs, 0, "jobs nobody bid on are no demand");
}

/// The typed client for every role: it derives the accounts of draws and settlement (candidates,
/// seats) and of cancel from chain state, and reads prices and reputation.
async fn client_serves_every_role(cluster: &dyn Cluster) {
    let m = Market::new(cluster).await;
    let (node, validator, submitter) = (m.node(100).await, m.validator().await, m.submitter(1_000_000).await);
    let client = m.client();
    let prices = client.prices().await.unwrap();
    assert_eq!(prices.len(), 1);
    let mut spec = job_spec(1, CLASS, 2_000, m.now().await);
    spec.urgent = true;
    let job = client.create_job(&submitter.keypair, &submitter.token, spec).await.unwrap();
    let reference = client.gpu_class(CLASS).await.unwrap().ref_price;
    client.bid(&node.keypair, &job, reference).await.unwrap();
    cluster.advance(6).await;
    client.assign(&submitter.keypair, &job).await.unwrap();
    client.acknowledge(&node.keypair, &job).await.unwrap();
    client.submit_result(&node.keypair, &job, gpufuel_fixtures::sample_cid(4), [1; 32]).await.unwrap();
    let vault = m.balance(&pda::vault(&PROGRAM_ID)).await;
    committee_passes(&m, &validator, &job).await;
    assert_eq!(client.job(&job).await.unwrap().state, JobState::Settled as u8);
    assert!(m.balance(&pda::vault(&PROGRAM_ID)).await < vault);
    let rewards = client.validator(&validator.keypair.pubkey()).await.unwrap().rewards;
    client.claim_rewards(&validator.keypair, &validator.token).await.unwrap();
    assert!(rewards > 0 && m.balance(&validator.token).await == rewards, "the seat was found and paid");
    assert_eq!(client.reputation(&node.keypair.pubkey()).await.unwrap().completed, 1);
    client.close_job(&submitter.keypair, &job).await.unwrap();
    assert!(cluster.chain().account(&job).await.unwrap().is_none(), "closed");
    // Cancel, top up, and leave: typed refusals where the rules say so.
    let second = client
        .create_job(&submitter.keypair, &submitter.token, job_spec(2, CLASS, 2_000, m.now().await))
        .await
        .unwrap();
    let err = client.request_unstake(&submitter.keypair, Role::Submitter).await.unwrap_err();
    assert_eq!(err.program_error(), Some(GpuFuelError::StakerActive), "{err}");
    client.cancel(&submitter.keypair, &second, &submitter.token).await.unwrap();
    client.top_up(&validator.keypair, Role::Validator, &validator.token, 1).await.unwrap();
    client.heartbeat(&node.keypair).await.unwrap();
    client.request_unstake(&node.keypair, Role::Node).await.unwrap();
    assert_eq!(client.node(&node.keypair.pubkey()).await.unwrap().header.status, 2, "exiting");
}

/// Assignment only after the bidding window; after the deadline anyone expires the job, the
/// submitter gets the escrow and the node's penalty, the node's record shows the miss.
async fn assignment_after_the_window_and_expiry_after_the_deadline(cluster: &dyn Cluster) {
    let m = Market::new(cluster).await;
    let (node, validator, submitter) = (m.node(100).await, m.validator().await, m.submitter(1_000_000).await);
    let c = m.client();
    let job =
        c.create_job(&submitter.keypair, &submitter.token, job_spec(1, CLASS, 2_000, m.now().await)).await.unwrap();
    c.bid(&node.keypair, &job, 700).await.unwrap();
    let early = c.assign(&validator.keypair, &job).await.unwrap_err();
    assert_eq!(early.program_error(), Some(GpuFuelError::BiddingOpen), "{early}");
    cluster.advance(31).await;
    c.assign(&validator.keypair, &job).await.unwrap();
    assert_eq!(c.job(&job).await.unwrap().state, JobState::Assigned as u8);
    let before = m.balance(&submitter.token).await;
    let escrow = c.job(&job).await.unwrap().escrow;
    cluster.advance(3_600).await;
    c.expire(&validator.keypair, &job).await.unwrap();
    let penalty = 700 * 100; // the job's value (miss_penalty_bps = 10,000)
    assert_eq!(m.balance(&submitter.token).await, before + escrow + penalty);
    assert_eq!(c.reputation(&node.keypair.pubkey()).await.unwrap().missed_deadlines, 1);
    assert_eq!(c.node(&node.keypair.pubkey()).await.unwrap().header.stake, STAKE - penalty);
}

/// Withdrawal is refused during the unstake cooldown and returns the whole stake after it.
async fn unstaking_waits_for_the_cooldown(cluster: &dyn Cluster) {
    let m = Market::new(cluster).await;
    let validator = m.validator().await;
    let c = m.client();
    c.request_unstake(&validator.keypair, Role::Validator).await.unwrap();
    let early = c.withdraw(&validator.keypair, Role::Validator, &validator.token).await.unwrap_err();
    assert_eq!(early.program_error(), Some(GpuFuelError::CooldownActive), "{early}");
    cluster.advance(3_600).await;
    let before = m.balance(&validator.token).await;
    c.withdraw(&validator.keypair, Role::Validator, &validator.token).await.unwrap();
    assert_eq!(m.balance(&validator.token).await, before + STAKE);
}

macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(&super::Local(gpufuel_chain::LocalChain::new().unwrap())).await;
                }
            )*
        }
        mod rpc {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let surfnet = super::Surfnet::start().await;
                    super::$test(&surfnet).await;
                }
            )*
        }
    };
}

on_both_backends!(
    urgent_lifecycle_settles_and_pays,
    refusals_are_typed_and_nothing_is_sent,
    queries_filter_by_state_submitter_and_class,
    client_serves_every_role,
    assignment_after_the_window_and_expiry_after_the_deadline,
    unstaking_waits_for_the_cooldown,
);

/// The RPC endpoint goes down in the middle of a send: the transaction reaches the server, the
/// response is lost, the endpoint is unreachable for 1.5 s, then comes back. The sender keeps
/// polling, finds the transaction landed and does not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_outage_mid_send_is_confirmed_not_resent() {
    let surfnet = Surfnet::start().await;
    let m = Market::new(&surfnet).await;
    let (submitter, create, before) = m.job_to_create().await;
    let s = submitter.keypair.pubkey();
    surfnet.proxy.cut_after_send(Duration::from_millis(1_500));
    let started = std::time::Instant::now();
    let sent = send(surfnet.chain(), &[create], &submitter.keypair, &[], &options())
        .await
        .expect("confirmed after the outage");
    assert!(!surfnet.proxy.cut_pending(), "the response of sendTransaction was dropped");
    assert!(started.elapsed() >= Duration::from_millis(1_400), "the send waited out the outage");
    assert_eq!(sent.attempts, 1, "never resent");
    let escrow = query::job(surfnet.chain(), &PROGRAM_ID, &pda::job(&PROGRAM_ID, &s, 1)).await.unwrap().escrow;
    assert_eq!(before - m.balance(&submitter.token).await, escrow, "applied exactly once");
}

/// The endpoint is down before anything is sent: a typed transport error, nothing moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_down_before_sending_is_a_typed_error() {
    let surfnet = Surfnet::start().await;
    let m = Market::new(&surfnet).await;
    let (submitter, create, before) = m.job_to_create().await;
    let s = submitter.keypair.pubkey();
    surfnet.proxy.set_up(false);
    let err = m.send(&[create], &submitter.keypair, &[]).await.unwrap_err();
    surfnet.restore().await;
    assert!(matches!(err, ChainError::Rpc(_)), "{err}");
    assert_eq!(m.balance(&submitter.token).await, before);
    assert!(query::job(surfnet.chain(), &PROGRAM_ID, &pda::job(&PROGRAM_ID, &s, 1)).await.is_err(), "no job created");
}

/// With a websocket endpoint, a client waiting on a job is woken by the cluster's notification
/// of the change rather than by its polling limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_websocket_wakes_a_waiting_client() {
    let surfnet = Surfnet::start().await;
    let m = Market::new(&surfnet).await;
    let (node, submitter) = (m.node(10).await, m.submitter(1_000_000).await);
    let mut spec = job_spec(1, CLASS, 2_000, m.now().await);
    spec.urgent = true;
    let c = m.client();
    let job = c.create_job(&submitter.keypair, &submitter.token, spec).await.unwrap();
    let watcher = gpufuel_chain::RpcChain::new(surfnet.url(), solana_commitment_config::CommitmentConfig::confirmed())
        .with_websocket(surfnet.websocket_url());
    let started = std::time::Instant::now();
    let limit = Duration::from_secs(60);
    tokio::join!(gpufuel_chain::Chain::account_changed(&watcher, &job, limit), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let price = c.gpu_class(CLASS).await.unwrap().ref_price;
        c.bid(&node.keypair, &job, price).await.unwrap();
    });
    assert!(started.elapsed() < Duration::from_secs(30), "woken by the notification, not the limit");
    let bid_on = |j: &gpufuel_core::state::Job| j.best_bid > 0;
    let j = query::wait_for_job(&watcher, &PROGRAM_ID, &job, bid_on, Duration::from_secs(10)).await.unwrap();
    assert!(bid_on(&j));
}

/// Polls `cond` every 50 ms for up to `secs`; whether it came true.
async fn within(secs: u64, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A mirror of the program's accounts follows them by the cluster's pushes (a resync a minute
/// away cannot be what shows a new job), drops closed accounts at its next snapshot, and with
/// no websocket reads the cluster on every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_follows_pushed_changes_and_falls_back_to_polling() {
    use gpufuel_chain::{Chain, Mirror, RpcChain, mirror::MirrorOptions};
    use solana_commitment_config::CommitmentConfig;
    use std::sync::Arc;
    let surfnet = Surfnet::start().await;
    let m = Market::new(&surfnet).await;
    let rpc = || RpcChain::new(surfnet.url(), CommitmentConfig::confirmed()).with_websocket(surfnet.websocket_url());
    let (minute, second) = (Duration::from_secs(60), Duration::from_secs(1));
    let pushed = Mirror::new(Arc::new(rpc()), PROGRAM_ID, MirrorOptions { resync: minute });
    let resynced = Mirror::new(Arc::new(rpc()), PROGRAM_ID, MirrorOptions { resync: second });
    let polling = Mirror::new(
        Arc::new(RpcChain::new(surfnet.url(), CommitmentConfig::confirmed())),
        PROGRAM_ID,
        MirrorOptions { resync: second },
    );
    assert!(within(20, async || pushed.is_live() && resynced.is_live()).await, "subscribed and snapshotted");
    let clock = (pushed.unix_time().await.unwrap(), surfnet.chain().unix_time().await.unwrap());
    assert!((clock.0 - clock.1).abs() <= 2, "{clock:?}");

    let submitter = m.submitter(10_000_000).await;
    let c = m.client();
    let job =
        c.create_job(&submitter.keypair, &submitter.token, job_spec(1, CLASS, 2_000, m.now().await)).await.unwrap();
    let open = [JobFilter::State(JobState::Open)];
    let has = async |chain: &dyn Chain, state: JobState| {
        query::job(chain, &PROGRAM_ID, &job).await.is_ok_and(|j| j.state == state as u8)
            && query::jobs(chain, &PROGRAM_ID, &open).await.unwrap().iter().any(|(a, _)| *a == job)
                == (state == JobState::Open)
    };
    assert!(within(10, async || has(&pushed, JobState::Open).await).await, "the new job was pushed");
    c.cancel(&submitter.keypair, &job, &submitter.token).await.unwrap();
    assert!(within(10, async || has(&pushed, JobState::Cancelled).await).await, "its cancellation was pushed");
    assert!(has(&polling, JobState::Cancelled).await && !polling.is_live(), "without a websocket it reads the cluster");

    c.close_job(&submitter.keypair, &job).await.unwrap();
    assert!(surfnet.chain().account(&job).await.unwrap().is_none());
    assert!(within(10, async || resynced.account(&job).await.unwrap().is_none()).await, "a snapshot drops it");
    let scanned = resynced.program_accounts(&PROGRAM_ID, &[]).await.unwrap();
    assert_eq!(scanned.len(), surfnet.chain().program_accounts(&PROGRAM_ID, &[]).await.unwrap().len());
}

/// With a websocket endpoint, a sent transaction's status is pushed: the send asks for no
/// status (3 requests: blockhash, simulation, the transaction; the fixtures fix the priority
/// fee), where a polling sender asks at least once more. A transaction that fails on chain is pushed with its error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_sends_are_confirmed_by_push_without_status_polls() {
    use futures_util::StreamExt;
    use gpufuel_chain::{Chain, RpcChain};
    use solana_transaction_error::TransactionError;
    let surfnet = Surfnet::start().await;
    let m = Market::new(&surfnet).await;
    let commitment = solana_commitment_config::CommitmentConfig::confirmed();
    let pushed = RpcChain::new(surfnet.url(), commitment).with_websocket(surfnet.websocket_url());
    let polled = RpcChain::new(surfnet.url(), commitment);
    for (chain, least, most) in [(&pushed, 3, 3), (&polled, 4, usize::MAX)] {
        let (submitter, create, before) = m.job_to_create().await;
        let requests = chain.requests();
        send(chain, &[create], &submitter.keypair, &[], &options()).await.unwrap();
        let used = chain.requests() - requests;
        assert!((least..=most).contains(&used), "{used} requests");
        assert!(m.balance(&submitter.token).await < before, "escrowed");
    }

    // The same job again fails on chain (its account exists): sent without simulation, its
    // failure is pushed.
    let (submitter, create, _) = m.job_to_create().await;
    send(&pushed, std::slice::from_ref(&create), &submitter.keypair, &[], &options()).await.unwrap();
    let budget = solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(200_000);
    let blockhash = pushed.latest_blockhash().await.unwrap().0;
    let payer = Some(&submitter.keypair.pubkey());
    let again = solana_transaction::Transaction::new_signed_with_payer(
        &[budget, create],
        payer,
        &[&submitter.keypair],
        blockhash,
    );
    let mut status = pushed.signature_changes(&again.signatures[0]).await.expect("subscribed");
    pushed.submit(&again).await.unwrap();
    let landed = tokio::time::timeout(Duration::from_secs(30), status.next()).await.expect("pushed in time");
    assert!(matches!(landed, Some(Err(TransactionError::InstructionError(1, _)))), "{landed:?}");
}
