//! End to end on the local network: the real SBF program in LiteSVM, the embedded store, CPU node
//! agents and validators.

use gpufuel_core::{
    state::{JobState, Node},
    task::{Task, mlp::Mlp},
};
use gpufuel_exec::{
    agent::Behaviour,
    executor::cpu_gemm,
    job::{self, JobOptions, JobResult, Training},
    network::{LocalNetwork, LocalNetworkConfig},
};
use solana_address::Address;

fn matrix(rows: usize, cols: usize, salt: usize) -> Vec<f32> {
    (0..rows * cols).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect()
}

async fn network(nodes: usize, dishonest: Vec<Behaviour>) -> LocalNetwork {
    let config = LocalNetworkConfig { nodes, dishonest, use_gpu: false, ..LocalNetworkConfig::default() };
    LocalNetwork::start(config).await.expect("network starts")
}

async fn matmul(net: &LocalNetwork, salt: usize) -> (Task, Vec<f32>) {
    let (m, k, n) = (24, 40, 16);
    let (a, b) = (matrix(m, k, salt), matrix(k, n, salt + 1));
    let task = job::matmul_task(net.store.as_ref(), (m as u32, k as u32, n as u32), &a, &b, false).await.unwrap();
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

fn state(net: &LocalNetwork, job: &Address) -> JobState {
    JobState::from_u8(net.chain.account::<gpufuel_core::state::Job>(job).unwrap().state).unwrap()
}

fn node_of(net: &LocalNetwork, job: &Address) -> Node {
    let j = net.chain.account::<gpufuel_core::state::Job>(job).unwrap();
    net.chain.account::<Node>(&Address::new_from_array(j.node)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_jobs_of_every_cpu_kind_settle_with_verified_results() {
    let mut net = network(3, vec![]).await;
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
    let JobResult::Tensor(c) = job::result(&net.client, net.store.as_ref(), &jobs[0]).await.unwrap() else { panic!() };
    for (got, want) in c.iter().zip(&expected) {
        assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{got} vs {want}");
    }
    let JobResult::Tensor(params) = job::result(&net.client, net.store.as_ref(), &jobs[1]).await.unwrap() else {
        panic!()
    };
    assert_eq!(params.len(), Mlp { inputs: 6, hidden: 12 }.params());
    assert_eq!(net.tokens_held(), held + 50_000_000, "tokens conserved (plus the submitter's funding)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_and_partial_nodes_are_caught_and_slashed() {
    for behaviour in [Behaviour::Lazy, Behaviour::Partial] {
        let mut net = network(0, vec![behaviour]).await;
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
