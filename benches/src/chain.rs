//! `chain`: complete job lifecycles per second through `GpuFuelClient` on `LocalChain` (trivial
//! compute, a one-seat committee: urgent job, bid, assign, acknowledge, result, draw, commit,
//! reveal, settle: nine simulated-then-sent transactions), and the time per transaction of the
//! client's calls on the embedded surfpool JSON-RPC server (create, bid, cancel: real time does
//! not pass fast enough there for the windows).

use std::time::Instant;

use gpufuel_chain::{
    ChainError, GpuFuelClient, PROGRAM_ID, pda,
    send::{PriorityFee, SendOptions},
};
use gpufuel_core::state::{MarketParams, NodeSpec};
use gpufuel_fixtures::{CLASS, LocalMarket, Market, Surfnet, job_spec, sample_cid};
use serde_json::json;
use solana_signer::Signer;

const LIFECYCLES: u64 = 500;
/// Lifecycles on the RPC server (three transactions each).
const RPC_LIFECYCLES: u64 = 40;

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    let mut params = MarketParams::default();
    let t = &mut params.terms;
    (t.committee_size, t.quorum, t.appeal_committee_size, t.appeal_quorum) = (1, 1, 1, 1);
    let mut m = LocalMarket::new(params, &[(1, 1_000, 10)])?;
    let spec = NodeSpec { gpu_class: 1, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: 100 };
    let node = m.node(spec, 10_000_000, 0)?;
    let validator = m.validator(10_000_000, 0)?;
    m.activate_all()?;
    let submitter = m.submitter(10_000_000, 1_000_000_000)?;
    let options = SendOptions { priority_fee: PriorityFee::None, ..SendOptions::default() };
    let client = GpuFuelClient::new(m.chain.clone()).with_options(options);
    let seconds = runtime.block_on(async {
        let started = Instant::now();
        for id in 1..=LIFECYCLES {
            let mut s = job_spec(id, 1, 2_000, m.chain.now());
            s.urgent = true;
            let job = client.create_job(&submitter.keypair, &submitter.token, s).await?;
            // Time passes with an idle node, so the reference falls: never below the floor.
            let price = client.gpu_class(1).await?.ref_price.max(spec.price_floor);
            client.bid(&node.keypair, &job, price).await?;
            m.chain.advance(params.urgent_bid_window_secs as i64);
            client.assign(&node.keypair, &job).await?;
            client.acknowledge(&node.keypair, &job).await?;
            client.submit_result(&node.keypair, &job, sample_cid(1), [1; 32]).await?;
            m.chain.advance(1);
            client.draw_committee(&validator.keypair, &job).await?;
            let salt = [id as u8; 32];
            client.commit_vote(&validator.keypair, &job, (0, 0), true, &salt).await?;
            client.reveal_vote(&validator.keypair, &job, 0, true, salt).await?;
            m.chain.advance(params.terms.appeal_window_secs as i64);
            client.settle(&validator.keypair, &job).await?;
        }
        Ok::<_, gpufuel_chain::ChainError>(started.elapsed().as_secs_f64())
    })?;
    let per_sec = LIFECYCLES as f64 / seconds;
    let verdict = if per_sec >= 500.0 { "met" } else { "MISSED" };
    println!("{LIFECYCLES} lifecycles on LocalChain in {seconds:.3} s: {per_sec:.0}/s (target >= 500/s: {verdict})");
    let mut times =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?.block_on(rpc())?;
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize] * 1e3;
    let (median, p99) = (pick(0.5), pick(0.99));
    println!(
        "{} transactions through RpcChain on the embedded surfpool server: median {median:.1} ms, p99 {p99:.1} ms \
         (simulate, send, confirm at `confirmed`, polling every 20 ms)",
        times.len()
    );
    super::write_json(
        "chain",
        &json!({ "lifecycles_per_sec": per_sec, "rpc_tx_median_ms": median, "rpc_tx_p99_ms": p99 }),
    )
}

/// Seconds per client call (one transaction each, with the reads the client makes to build it)
/// over `RPC_LIFECYCLES` lifecycles on the embedded RPC server.
async fn rpc() -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let surfnet = Surfnet::start().await;
    let m = Market::new(&surfnet).await;
    let (node, submitter) = (m.node(10).await, m.submitter(1_000_000_000).await);
    let client = m.client();
    let mut times = vec![];
    let mut timed = async |call: std::pin::Pin<Box<dyn Future<Output = Result<(), ChainError>> + '_>>| {
        let t = Instant::now();
        call.await?;
        times.push(t.elapsed().as_secs_f64());
        Ok::<_, ChainError>(())
    };
    for id in 1..=RPC_LIFECYCLES {
        let mut s = job_spec(id, CLASS, 2_000, m.now().await);
        s.urgent = true;
        let job = pda::job(&PROGRAM_ID, &submitter.keypair.pubkey(), id);
        timed(Box::pin(async { client.create_job(&submitter.keypair, &submitter.token, s).await.map(drop) })).await?;
        let price = client.gpu_class(CLASS).await?.ref_price;
        timed(Box::pin(async { client.bid(&node.keypair, &job, price).await.map(drop) })).await?;
        timed(Box::pin(async { client.cancel(&submitter.keypair, &job, &submitter.token).await.map(drop) })).await?;
    }
    Ok(times)
}
