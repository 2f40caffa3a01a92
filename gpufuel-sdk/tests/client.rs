//! The submitter's `Client` on a local network that steps itself: quote, submit, wait, read the
//! verified result, cancel, and typed refusals that submit nothing.

use std::time::Duration;

use gpufuel_core::{ErrorCode, proof::freivalds::Precision, state::JobState};
use gpufuel_exec::executor::cpu_gemm;
use gpufuel_network::{LocalNetwork, LocalNetworkConfig, RunningNetwork};
use gpufuel_sdk::{ClientError, JobOptions, JobResult};

async fn driven() -> RunningNetwork {
    let config = LocalNetworkConfig { nodes: 2, validators: 2, use_gpu: false, ..LocalNetworkConfig::default() };
    RunningNetwork::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_submit_and_read_the_verified_product() {
    let net = driven().await;
    let client = net.client(Some(10_000_000), true).await.unwrap();
    let before = client.balance().await.unwrap();
    let options = JobOptions { gpu_seconds: 4, ..JobOptions::default() };
    let (quote, escrow) = client.quote(&options).await.unwrap();
    assert_eq!(quote.eligible_nodes, 2);
    assert!(quote.price_low <= quote.price_high && escrow == quote.price_high * 4);

    let (m, k, n) = (8, 12, 5);
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5).collect();
    let options = JobOptions { max_price: quote.price_high, ..options };
    let job = client.submit_matmul((m as u32, k as u32, n as u32), &a, &b, Precision::F32, options).await.unwrap();
    assert_eq!(client.jobs(true).await.unwrap()[0].address, job);
    let JobResult::Tensor { values: c, shape } = client.result(&job, Duration::from_secs(60)).await.unwrap() else {
        panic!("tensor")
    };
    // Equal to the local product up to the watermark (a few ulps).
    let expected = cpu_gemm(&a, &b, m, k, n);
    assert_eq!((c.len(), shape), (expected.len(), vec![m, n]));
    assert!(c.iter().zip(&expected).all(|(x, y)| (x - y).abs() <= 1e-5 * y.abs().max(1.0)));
    let status = client.status(&job).await.unwrap();
    assert_eq!((status.state, status.votes_fail), (JobState::Settled, 0));
    assert!(status.votes_pass >= 1 && status.price <= quote.price_high);
    assert_eq!(client.balance().await.unwrap(), before - status.price * 4);
    assert_eq!(client.nodes().await.unwrap().iter().map(|n| n.completed).sum::<u32>(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_typed_and_submit_nothing() {
    let config = LocalNetworkConfig { nodes: 1, validators: 1, use_gpu: false, ..LocalNetworkConfig::default() };
    let net = LocalNetwork::start(config).await.unwrap();
    let client = net.client(10_000_000).await.unwrap();
    let before = client.balance().await.unwrap();
    let a = vec![1.0; 6];
    let cases = [
        (JobOptions { gpu_class: 42, ..JobOptions::default() }, (2, 3, 2), "INVALID_ARGUMENT"),
        (JobOptions { max_price: 0, ..JobOptions::default() }, (2, 3, 2), "INVALID_ARGUMENT"),
        (JobOptions::default(), (2, 4, 2), "INVALID_TASK"),
        (JobOptions { max_price: u64::MAX / 2, ..JobOptions::default() }, (2, 3, 2), "PROGRAM_ERROR"),
    ];
    for (options, shape, code) in cases {
        let err = client.submit_matmul(shape, &a, &a, Precision::F32, options).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    }
    assert!(matches!(
        client.quote(&JobOptions { gpu_class: 3, ..JobOptions::default() }).await,
        Err(e @ ClientError::Chain(_)) if e.code() == "NO_QUOTE"
    ));
    assert_eq!(client.balance().await.unwrap(), before);
    assert!(client.jobs(true).await.unwrap().is_empty());

    // An open job cancels with its escrow back; its result is then refused as not settled.
    let job = client.submit_matmul((2, 3, 2), &a, &a, Precision::F32, JobOptions::default()).await.unwrap();
    client.cancel(&job).await.unwrap();
    assert_eq!(client.balance().await.unwrap(), before);
    let err = client.result(&job, Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(err, ClientError::NotSettled(JobState::Cancelled)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_wallet_registers_before_it_submits() {
    let config = LocalNetworkConfig { nodes: 1, validators: 1, use_gpu: false, ..LocalNetworkConfig::default() };
    let net = LocalNetwork::start(config).await.unwrap();
    let client = net.wallet_client(5_000_000).unwrap();
    assert!(!client.is_registered().await.unwrap());
    let a = vec![1.0; 4];
    let err = client.submit_matmul((2, 2, 2), &a, &a, Precision::F32, JobOptions::default()).await.unwrap_err();
    assert!(matches!(err, ClientError::NotRegistered(w) if w == client.address()), "{err}");
    assert_eq!((err.code(), client.balance().await.unwrap()), ("NOT_REGISTERED", 5_000_000));

    // The default stake is the market's minimum; registering again moves nothing.
    let minimum = client.gpufuel().market().await.unwrap().params.min_submitter_stake;
    client.register(None).await.unwrap();
    client.register(Some(1)).await.unwrap();
    assert!(client.is_registered().await.unwrap());
    assert_eq!(client.balance().await.unwrap(), 5_000_000 - minimum);
    client.submit_matmul((2, 2, 2), &a, &a, Precision::F32, JobOptions::default()).await.unwrap();
    assert_eq!(client.jobs(true).await.unwrap().len(), 1);
}

/// With a pinning service, a submission asks it to keep the task file and every file the task
/// names, and reading the verified result asks it to keep the result manifest and the outputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinning_service_is_asked_to_keep_inputs_and_verified_results() {
    use gpufuel_fixtures::kubo::{Endpoint, PIN_TOKEN};
    use gpufuel_store::{
        PinningService,
        pinning::PinState::{Failed, Pinned, Pinning, Queued},
    };
    let Some(front) = Endpoint::front() else { return };
    let service = PinningService::new(&front.api, PIN_TOKEN).unwrap();
    let net = driven().await;
    let client = net.client(Some(10_000_000), true).await.unwrap().with_pinning(service.clone());
    let (a, b) = (vec![1.0_f32; 6], vec![2.0_f32; 6]);
    let job = client.submit_matmul((2, 3, 2), &a, &b, Precision::F32, JobOptions::default()).await.unwrap();
    let named = async |what: &str| {
        let all = service.pins(None, None, &[Queued, Pinning, Pinned, Failed]).await.unwrap();
        let mut cids: Vec<_> = all
            .into_iter()
            .filter(|p| p.pin.name.as_deref() == Some(&format!("gpufuel {job} {what}")))
            .map(|p| p.pin.cid)
            .collect();
        cids.sort();
        cids
    };
    let j = client.gpufuel().job(&job).await.unwrap();
    let task = gpufuel_core::task::Task::decode_for(&client.store().get(&j.input_cid).await.unwrap(), &j).unwrap();
    let cid = |c: &gpufuel_core::cid::Cid| gpufuel_store::from_chain(c).unwrap().to_string();
    let mut inputs: Vec<_> = [&[j.input_cid][..], &task.files()].concat().iter().map(cid).collect();
    inputs.sort();
    assert_eq!((named("input").await, inputs.len()), (inputs, 3), "the task file, A and B");
    assert!(named("result").await.is_empty(), "nothing verified yet");

    client.result(&job, Duration::from_secs(60)).await.unwrap();
    let j = client.gpufuel().job(&job).await.unwrap();
    let manifest =
        gpufuel_core::task::ResultManifest::decode(&client.store().get(&j.result_cid).await.unwrap()).unwrap();
    let mut results: Vec<_> = [&[j.result_cid][..], &manifest.outputs].concat().iter().map(cid).collect();
    results.sort();
    assert_eq!(named("result").await, results, "the manifest and the product");
}
