//! The submitter's flow in Rust: start a local market (or connect to a cluster with
//! `GPUFUEL_URL`), quote, submit a matrix product, await the verified result and check it
//! against a local product.
//!
//!     cargo run -p gpufuel-example --bin offload
//!
//! `cargo test` runs it too (on the local market), so the example stays working.

use std::time::Duration;

use gpufuel_core::proof::freivalds::Precision;
use gpufuel_exec::executor::cpu_gemm;
use gpufuel_network::{LocalNetworkConfig, RunningNetwork};
use gpufuel_sdk::{Client, ConnectOptions, JobOptions, JobResult};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    offload().await
}

async fn offload() -> Result<(), Box<dyn std::error::Error>> {
    // A local market that steps itself in the background, unless a cluster is named.
    let (client, _network) = match std::env::var("GPUFUEL_URL") {
        Ok(url) => (Client::connect(ConnectOptions { url: Some(url), ..Default::default() }).await?, None),
        Err(_) => {
            let network = RunningNetwork::start(LocalNetworkConfig::default()).await?;
            (network.client(None, true).await?, Some(network))
        }
    };
    // On a cluster, a wallet's first run stakes the market's minimum as a submitter; then a no-op.
    client.register(None).await?;

    let (m, k, n) = (128, 256, 64);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 31) % 17) as f32 / 17.0 - 0.5).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect();
    let options = JobOptions { gpu_seconds: 10, ..JobOptions::default() };
    let (quote, escrow) = client.quote(&options).await?;
    println!("quote {}-{} per GPU-second, escrow {escrow}", quote.price_low, quote.price_high);

    let job = client.submit_matmul((m as u32, k as u32, n as u32), &a, &b, Precision::F32, options).await?;
    let JobResult::Tensor { values, shape } = client.result(&job, Duration::from_secs(600)).await? else {
        return Err("a matrix product returns a tensor".into());
    };
    let expected = cpu_gemm(&a, &b, m, k, n);
    let error = values.iter().zip(&expected).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    let status = client.status(&job).await?;
    println!("job {job}: {:?}, shape {shape:?}, votes {}/{}", status.state, status.votes_pass, status.votes_fail);
    println!("max |network - local| = {error:.2e}; paid {} per GPU-second", status.price);
    if error > 1e-3 {
        return Err(format!("the verified result differs from the local product by {error}").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_example_runs_on_a_local_market() {
        // SAFETY: the only test in this binary; nothing else reads the environment concurrently.
        unsafe { std::env::remove_var("GPUFUEL_URL") };
        super::offload().await.unwrap();
    }
}
