//! End to end on the local network: the real SBF program in LiteSVM, the embedded store, CPU node
//! agents and validators.

mod common;

use common::{network, node_of, state};
use gpufuel_chain::PROGRAM_ID;
use gpufuel_core::proof::freivalds::Precision;
use gpufuel_core::{
    state::{JobState, Node},
    task::{Task, mlp::Mlp},
};
use gpufuel_exec::{agent::Behaviour, executor::cpu_gemm};
use gpufuel_network::LocalNetwork;
use gpufuel_sdk::{
    ClientError, JobOptions, JobResult,
    job::{self, Training},
};
use gpufuel_store::ContentStore;

fn matrix(rows: usize, cols: usize, salt: usize) -> Vec<f32> {
    (0..rows * cols).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect()
}

async fn matmul(net: &LocalNetwork, salt: usize) -> (Task, Vec<f32>) {
    let (m, k, n) = (24, 40, 16);
    let (a, b) = (matrix(m, k, salt), matrix(k, n, salt + 1));
    let task =
        job::matmul_task(net.store.as_ref(), (m as u32, k as u32, n as u32), &a, &b, Precision::F32).await.unwrap();
    (task, cpu_gemm(&a, &b, m, k, n))
}

async fn iterative(net: &LocalNetwork) -> Task {
    let model = Mlp { inputs: 6, hidden: 12 };
    let rows = 96;
    let x = matrix(rows, 6, 3);
    let y: Vec<f32> = (0..rows).map(|r| x[r * 6] * 0.5 - x[r * 6 + 3]).collect();
    let init: Vec<f32> = matrix(1, model.params(), 9).iter().map(|v| v * 0.3).collect();
    let training = Training { model, batch: 16, learning_rate: 0.05, segments: 24, steps_per_segment: 3 };
    job::iterative_task(net.store.as_ref(), training, &x, &y, &init).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_jobs_of_every_cpu_kind_settle_with_verified_results() {
    let net = network(3, vec![]).await;
    let held = net.tokens_held();
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, expected) = matmul(&net, 1).await;
    let train = iterative(&net).await;
    let urgent = JobOptions { urgent: true, ..JobOptions::default() };
    let jobs = [
        net.submit(&alice, &product, JobOptions::default()).await.unwrap(),
        net.submit(&alice, &train, urgent).await.unwrap(),
    ];
    net.run_until_done(&jobs, 400).await.unwrap();
    for j in &jobs {
        assert_eq!(state(&net, j), JobState::Settled, "job {j}");
        assert_eq!(node_of(&net, j).failed_validations, 0);
    }
    let JobResult::Tensor { values: c, shape } = job::result(&net.client, net.store.as_ref(), &jobs[0]).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((shape, c.len()), (vec![24, 16], expected.len()));
    for (got, want) in c.iter().zip(&expected) {
        assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{got} vs {want}");
    }
    let JobResult::Tensor { values: params, .. } =
        job::result(&net.client, net.store.as_ref(), &jobs[1]).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(params.len(), Mlp { inputs: 6, hidden: 12 }.params());
    assert_eq!(net.tokens_held(), held + 50_000_000, "tokens conserved (plus the submitter's funding)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_and_partial_nodes_are_caught_and_slashed() {
    for behaviour in [Behaviour::Lazy, Behaviour::Partial] {
        let net = network(0, vec![behaviour]).await;
        let alice = net.submitter(50_000_000).await.unwrap();
        let (product, _) = matmul(&net, 2).await;
        let train = iterative(&net).await;
        let jobs = [
            net.submit(&alice, &product, JobOptions::default()).await.unwrap(),
            net.submit(&alice, &train, JobOptions::default()).await.unwrap(),
        ];
        net.run_until_done(&jobs, 400).await.unwrap();
        for j in &jobs {
            assert_eq!(state(&net, j), JobState::Slashed, "{} on {j}", behaviour.name());
        }
        assert_eq!(node_of(&net, &jobs[0]).failed_validations, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copying_node_is_caught_by_the_watermark() {
    let mut net = network(1, vec![Behaviour::Copying]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, _) = matmul(&net, 3).await;
    let first = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    net.run_until_done(&[first], 400).await.unwrap();
    assert_eq!(state(&net, &first), JobState::Settled);
    // Only the copier is left to take the same work again.
    let honest = net.nodes.iter().position(|n| n.behaviour == Behaviour::Honest).unwrap();
    let settled_by_honest = node_of(&net, &first).header.owner == net.nodes[honest].wallet.address().to_bytes();
    net.kill_node(honest);
    let second = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    net.run_until_done(&[second], 400).await.unwrap();
    assert_eq!(state(&net, &second), JobState::Slashed, "copied result rejected");
    let copier = node_of(&net, &second);
    assert_eq!(copier.failed_validations, 1);
    if settled_by_honest {
        let j1 = net.chain.account::<gpufuel_core::state::Job>(&first).unwrap();
        let j2 = net.chain.account::<gpufuel_core::state::Job>(&second).unwrap();
        assert_eq!(j1.result_cid, j2.result_cid, "the copier re-posted the honest result verbatim");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_after_winning_misses_the_deadline_and_pays_the_penalty() {
    let mut net = network(1, vec![]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, _) = matmul(&net, 4).await;
    let options = JobOptions { urgent: true, deadline_secs: 300, ..JobOptions::default() };
    let before = net.chain.balance(&alice.token);
    let job = net.submit(&alice, &product, options).await.unwrap();
    // Killed once it leads the auction (one tick later it would have assigned and run the job).
    while net.chain.account::<gpufuel_core::state::Job>(&job).unwrap().best_bid == 0 {
        net.step().await.unwrap();
    }
    assert_eq!(state(&net, &job), JobState::Open);
    let stake = node_of(&net, &job).header.stake;
    net.kill_node(0);
    net.run_until_done(&[job], 400).await.unwrap();
    assert_eq!(state(&net, &job), JobState::Expired);
    let node = node_of(&net, &job);
    assert_eq!(node.missed_deadlines, 1);
    let penalty = stake - node.header.stake;
    assert!(penalty > 0);
    assert_eq!(net.chain.balance(&alice.token), before + penalty, "escrow refunded in full, plus the penalty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_silent_validators_nothing_passes_the_job_ends_unresolved_and_refunded() {
    let mut net = network(1, vec![]).await;
    net.validators_silent = true;
    let alice = net.submitter(50_000_000).await.unwrap();
    let before = net.chain.balance(&alice.token);
    let (product, _) = matmul(&net, 5).await;
    let stake = net
        .chain
        .account::<Node>(&gpufuel_chain::pda::node(&PROGRAM_ID, &net.nodes[0].wallet.address()))
        .unwrap()
        .header
        .stake;
    let job = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    net.run_until_done(&[job], 400).await.unwrap();
    let j = net.chain.account::<gpufuel_core::state::Job>(&job).unwrap();
    // The node agent drew both committees and settled; no seat voted.
    assert_eq!(state(&net, &job), JobState::Unresolved);
    assert_eq!((j.tally(0), j.tally(1), j.round), ((0, 0), (0, 0), 1));
    assert_eq!(net.chain.balance(&alice.token), before, "the whole escrow back");
    let node = node_of(&net, &job);
    assert_eq!((node.completed, node.header.stake), (0, stake), "neither paid nor slashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_down_at_submission_locks_no_escrow() {
    let net = network(1, vec![]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, _) = matmul(&net, 6).await;
    let down = gpufuel_store::KuboStore::new("http://127.0.0.1:9", std::time::Duration::from_secs(1)).unwrap();
    let before = net.chain.balance(&alice.token);
    let err = job::submit(&net.client, &down, &alice.keypair, &alice.token, 77, &product, JobOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Store(gpufuel_store::StoreError::Unavailable(_))), "{err}");
    assert_eq!(net.chain.balance(&alice.token), before);
    assert!(net.chain.data(&gpufuel_chain::pda::job(&PROGRAM_ID, &alice.address(), 77)).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_output_in_the_store_is_rejected() {
    let mut net = network(1, vec![]).await;
    net.validators_silent = true;
    let alice = net.submitter(50_000_000).await.unwrap();
    // A 128×128 product: its 64 KiB output is a file of the embedded store, which this test
    // corrupts on disk (the store's own tests corrupt the small blocks it keeps as rows).
    let (a, b) = (matrix(128, 8, 7), matrix(8, 128, 8));
    let product = job::matmul_task(net.store.as_ref(), (128, 8, 128), &a, &b, Precision::F32).await.unwrap();
    let job = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    while state(&net, &job) != JobState::Submitted {
        net.step().await.unwrap();
    }
    let j = net.chain.account::<gpufuel_core::state::Job>(&job).unwrap();
    let manifest_cid = gpufuel_store::from_chain(&j.result_cid).unwrap();
    let manifest = gpufuel_core::task::ResultManifest::decode(&net.store.cat(&manifest_cid).await.unwrap()).unwrap();
    let output = gpufuel_store::from_chain(&manifest.outputs[0]).unwrap();
    let path = net.store.block_path(&output);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    net.validators_silent = false;
    net.run_until_done(&[job], 400).await.unwrap();
    assert_eq!(state(&net, &job), JobState::Slashed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_resumes_iterative_work_from_its_journal() {
    let mut net = network(1, vec![]).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<f32>::new()));
    let alice = net.submitter(50_000_000).await.unwrap();
    let model = Mlp { inputs: 64, hidden: 128 };
    let rows = 256;
    let x = matrix(rows, 64, 11);
    let y: Vec<f32> = (0..rows).map(|r| x[r * 64] - x[r * 64 + 5]).collect();
    let init: Vec<f32> = matrix(1, model.params(), 12).iter().map(|v| v * 0.1).collect();
    let training = Training { model, batch: 64, learning_rate: 0.01, segments: 200, steps_per_segment: 24 };
    let task = job::iterative_task(net.store.as_ref(), training, &x, &y, &init).await.unwrap();
    let options = JobOptions { urgent: true, ..JobOptions::default() };
    let job = net.submit(&alice, &task, options).await.unwrap();
    while state(&net, &job) == JobState::Open {
        net.step().await.unwrap();
    }
    net.step().await.unwrap(); // the agent starts the run (a step waits at most a quarter second for it)
    let journal = net.nodes[0].journal(&job);
    let count = || std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count());
    let t = std::time::Instant::now();
    while count() < 20 {
        assert!(t.elapsed().as_secs() < 120, "no checkpoints journaled");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    net.kill_node(0);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await; // the run stops at its next step
    let journaled = count();
    assert!(journaled < 201, "killed before the end");
    {
        let seen = seen.clone();
        net.nodes[0].set_progress(std::sync::Arc::new(move |_, f| seen.lock().unwrap().push(f)));
    }
    net.start_node(0).await.unwrap();
    net.run_until_done(&[job], 2_000).await.unwrap();
    assert_eq!(state(&net, &job), JobState::Settled, "the resumed run verifies");
    let first = seen.lock().unwrap()[0];
    assert!(
        first >= (journaled - 1) as f32 / 200.0,
        "resumed from checkpoint {} (first progress {first})",
        journaled - 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_of_non_finite_inputs_ends_invalid_and_the_node_keeps_its_stake() {
    let net = network(1, vec![]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let (m, k, n) = (8, 8, 8);
    let mut a = matrix(m, k, 11);
    a[5] = f32::NAN;
    let b = matrix(k, n, 12);
    let task =
        job::matmul_task(net.store.as_ref(), (m as u32, k as u32, n as u32), &a, &b, Precision::F32).await.unwrap();
    let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[id], 400).await.unwrap();
    assert_eq!(state(&net, &id), JobState::Invalid, "a NaN product cannot carry the marks: the node reports it");
    let node = node_of(&net, &id);
    assert_eq!((node.failed_validations, node.locked), (0, 0));
    match job::result(&net.client, net.store.as_ref(), &id).await {
        Err(ClientError::TaskFailed(reason)) => assert!(reason.contains("non-finite"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// With a pinning service, a node pins the result it submits (the manifest and the product)
/// while the committee checks it, and removes those pins once the job is settled, even after a
/// restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_pins_what_it_serves_until_the_job_settles() {
    use gpufuel_fixtures::kubo::{Endpoint, PIN_TOKEN};
    use gpufuel_store::{PinningService, pinning::PinState::*};
    let Some(front) = Endpoint::front() else { return };
    let service = PinningService::new(&front.api, PIN_TOKEN).unwrap();
    let config = gpufuel_network::LocalNetworkConfig {
        nodes: 1,
        use_gpu: false,
        pinning: Some(service.clone()),
        ..gpufuel_network::LocalNetworkConfig::default()
    };
    let mut net = LocalNetwork::start(config).await.unwrap();
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, _) = matmul(&net, 5).await;
    let job = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    let name = format!("gpufuel {} served", net.nodes[0].agent.as_ref().unwrap().node());
    let served = async || {
        let all = service.pins(None, Some(&name), &[Queued, Pinning, Pinned, Failed]).await.unwrap();
        let mut cids: Vec<_> =
            all.into_iter().filter(|p| p.pin.meta.get("job") == Some(&job.to_string())).map(|p| p.pin.cid).collect();
        cids.sort();
        cids
    };
    for _ in 0..400 {
        if state(&net, &job) == JobState::Submitted {
            break;
        }
        net.step().await.unwrap();
    }
    assert_eq!(state(&net, &job), JobState::Submitted);
    let j = net.chain.account::<gpufuel_core::state::Job>(&job).unwrap();
    let manifest = gpufuel_core::task::ResultManifest::decode(&net.store.get(&j.result_cid).await.unwrap()).unwrap();
    let cid = |c: &gpufuel_core::cid::Cid| gpufuel_store::from_chain(c).unwrap().to_string();
    let mut files: Vec<_> = [&[j.result_cid][..], &manifest.outputs].concat().iter().map(cid).collect();
    files.sort();
    assert_eq!(served().await, files, "the manifest and the product, pinned while checked");
    // A restarted agent finds its pins by name and still removes them.
    net.kill_node(0);
    net.start_node(0).await.unwrap();
    net.run_until_done(&[job], 400).await.unwrap();
    net.step().await.unwrap(); // the node's next pass sees the job ended
    assert_eq!(state(&net, &job), JobState::Settled);
    assert!(served().await.is_empty(), "unpinned once settled");
}

/// A node keeps the files of its result pinned in its store for the retention period after the
/// job ends, counted across a restart (its ledger is on disk), then unpins them so the store may
/// collect them. The submitter's input stays pinned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_its_results_pinned_for_the_retention_after_the_job_ends() {
    let config = gpufuel_network::LocalNetworkConfig {
        nodes: 1,
        use_gpu: false,
        retention: std::time::Duration::from_secs(60),
        ..gpufuel_network::LocalNetworkConfig::default()
    };
    let mut net = LocalNetwork::start(config).await.unwrap();
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, _) = matmul(&net, 9).await;
    let job = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    net.run_until_done(&[job], 400).await.unwrap();
    assert_eq!(state(&net, &job), JobState::Settled);
    let j = net.chain.account::<gpufuel_core::state::Job>(&job).unwrap();
    let manifest = gpufuel_core::task::ResultManifest::decode(&net.store.get(&j.result_cid).await.unwrap()).unwrap();
    let cid = |c: &gpufuel_core::cid::Cid| gpufuel_store::from_chain(c).unwrap();
    let result: Vec<_> = [&[j.result_cid][..], &manifest.outputs].concat().iter().map(cid).collect();
    let store = net.store.clone();
    let pinned = async |files: &[gpufuel_store::Cid]| {
        let pins = store.pinned().await.unwrap();
        files.iter().filter(|f| pins.contains(f)).count()
    };
    assert_eq!(pinned(&result).await, result.len(), "the result is pinned");

    net.step().await.unwrap(); // the node sees the job ended
    net.kill_node(0);
    net.start_node(0).await.unwrap();
    for _ in 0..11 {
        net.step().await.unwrap();
    }
    assert_eq!(pinned(&result).await, result.len(), "55 s after the end: kept");
    for _ in 0..2 {
        net.step().await.unwrap();
    }
    assert_eq!(pinned(&result).await, 0, "60 s after the end: unpinned");
    assert_eq!(pinned(&[cid(&j.input_cid)]).await, 1, "the submitter's input stays");
}

/// Every GPU of a machine as one node: a node of two "GPUs" (a pool of two function executors)
/// registers a GPU count of 2 and runs two jobs at once, where a node of one device runs them one
/// after the other; every job settles with its product verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_two_devices_runs_two_jobs_at_once() {
    use gpufuel_exec::executor::{CallbackExecutor, Executor, MatMulFn, Pool};
    use std::sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    };
    for devices in [1, 2] {
        // Each run waits up to 2 s for a second one to start beside it, and records how many ran at once.
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(0)));
        let (r, m) = (running.clone(), most.clone());
        let product: Arc<MatMulFn> = Arc::new(move |task, a, b| {
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            let started = std::time::Instant::now();
            while r.load(Ordering::SeqCst) < 2 && started.elapsed() < std::time::Duration::from_secs(2) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let mut most = m.lock().unwrap();
            *most = (*most).max(now).max(r.load(Ordering::SeqCst));
            drop(most);
            let (m, k, n) = (task.m as usize, task.k as usize, task.n as usize);
            let c = cpu_gemm(&a, &b, m, k, n);
            r.fetch_sub(1, Ordering::SeqCst);
            Ok(c)
        });
        let device = || Arc::new(CallbackExecutor::new("device", None, None, product.clone())) as Arc<dyn Executor>;
        let executor: Arc<dyn Executor> = match devices {
            1 => device(),
            _ => Arc::new(Pool::new(vec![device(), device()]).unwrap()),
        };
        assert_eq!(executor.capabilities().spec.gpu_count, devices);
        let mut net = network(0, vec![]).await;
        net.add_node(executor, Behaviour::Honest, None).await.unwrap();
        let alice = net.submitter(50_000_000).await.unwrap();
        let mut jobs = vec![];
        for salt in [3, 4] {
            let (task, _) = matmul(&net, salt).await;
            jobs.push(net.submit(&alice, &task, JobOptions::default()).await.unwrap());
        }
        net.run_until_done(&jobs, 400).await.unwrap();
        assert!(jobs.iter().all(|j| state(&net, j) == JobState::Settled), "{devices} devices");
        assert_eq!(*most.lock().unwrap(), devices as usize, "jobs run at once on {devices} devices");
    }
}

/// A node's alerts: a lazy node slashed by the committee POSTs a `slashed` alert to its
/// operator's webhook, with the record that shows it; a wallet below the SOL threshold posts a
/// `low_sol` alert once, not on every pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slashed_node_alerts_its_operators_webhook() {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/alerts", listener.local_addr().unwrap());
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let inbox = received.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let body = loop {
                let n = stream.read(&mut buf).await.unwrap_or(0);
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len || n == 0 {
                        break body.to_string();
                    }
                }
            };
            inbox.lock().unwrap().push(serde_json::from_str(&body).unwrap());
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
        }
    });
    let alerts = gpufuel_exec::agent::Alerts { webhook, min_lamports: u64::MAX };
    let config = gpufuel_network::LocalNetworkConfig {
        nodes: 0,
        dishonest: vec![Behaviour::Lazy],
        use_gpu: false,
        alerts: Some(alerts),
        ..gpufuel_network::LocalNetworkConfig::default()
    };
    let net = LocalNetwork::start(config).await.unwrap();
    let alice = net.submitter(50_000_000).await.unwrap();
    let (product, _) = matmul(&net, 11).await;
    let job = net.submit(&alice, &product, JobOptions::default()).await.unwrap();
    net.run_until_done(&[job], 400).await.unwrap();
    assert_eq!(state(&net, &job), JobState::Slashed);
    net.step().await.unwrap(); // the node's next pass sees its record
    let node = net.nodes[0].agent.as_ref().unwrap().node();
    let record = net.chain.account::<gpufuel_core::state::Node>(&node).unwrap();
    let received = received.lock().unwrap().clone();
    let of = |event: &str| received.iter().filter(|a| a["event"] == event).cloned().collect::<Vec<_>>();
    let slashed = of("slashed");
    assert_eq!(slashed.len(), 1, "{received:?}");
    assert_eq!(slashed[0]["node"], node.to_string());
    assert_eq!(slashed[0]["failed_validations"], 1);
    assert_eq!(slashed[0]["stake"], record.header.stake);
    let text = format!(": 1 more failed validations, 1 in all; stake now {}", record.header.stake);
    assert!(slashed[0]["text"].as_str().unwrap().ends_with(&text), "{received:?}");
    assert_eq!(of("low_sol").len(), 1, "once, not on every pass: {received:?}");
}
