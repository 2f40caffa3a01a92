//! `chain`: complete job lifecycles per second through `GpuFuelClient` on `LocalChain` (trivial
//! compute: urgent job, bid, result, one vote, settle: five simulated-then-sent transactions).

use std::time::Instant;

use gpufuel_chain::{
    GpuFuelClient, LocalMarket,
    market::{default_params, job_spec, sample_cid},
    send::{PriorityFee, SendOptions},
};
use gpufuel_core::state::NodeSpec;
use serde_json::json;

const LIFECYCLES: u64 = 500;

pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    let mut params = default_params();
    params.quorum = 1;
    let mut m = LocalMarket::new(params, &[(1, 1_000, 10)])?;
    let spec = NodeSpec { gpu_class: 1, gpu_count: 1, compute_capability: 90, vram_mib: 81_920, price_floor: 100 };
    let node = m.node(spec, 10_000_000, 0)?;
    let validator = m.validator(10_000_000, 0)?;
    let submitter = m.submitter(10_000_000, 1_000_000_000)?;
    let options = SendOptions { priority_fee: PriorityFee::None, ..SendOptions::default() };
    let client = GpuFuelClient::new(m.chain.clone()).with_options(options);
    let seconds = runtime.block_on(async {
        let started = Instant::now();
        for id in 1..=LIFECYCLES {
            let mut s = job_spec(id, 1, 2_000, m.chain.now());
            s.urgent = true;
            let job = client.create_job(&submitter.keypair, &submitter.token, s).await?;
            let price = client.gpu_class(1).await?.ref_price;
            client.bid(&node.keypair, &job, price).await?;
            client.submit_result(&node.keypair, &job, sample_cid(1), [1; 32]).await?;
            client.attest(&validator.keypair, &job, true).await?;
            client.settle(&validator.keypair, &job).await?;
        }
        Ok::<_, gpufuel_chain::ChainError>(started.elapsed().as_secs_f64())
    })?;
    let per_sec = LIFECYCLES as f64 / seconds;
    let verdict = if per_sec >= 500.0 { "met" } else { "MISSED" };
    println!("{LIFECYCLES} lifecycles on LocalChain in {seconds:.3} s: {per_sec:.0}/s (target >= 500/s: {verdict})");
    println!("RPC per-transaction times: not measured by this build (needs the embedded RPC server in release)");
    super::write_json(
        "chain",
        &json!({ "lifecycles_per_sec": per_sec, "rpc_tx_median_ms": null, "rpc_tx_p99_ms": null }),
    )
}
