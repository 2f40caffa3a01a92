//! ONNX jobs end to end on the local network: the real SBF program in LiteSVM, the embedded store,
//! CPU node agents and validators running ONNX Runtime's real library.

mod common;

use common::{network, node_of, state};
use gpufuel_core::{
    state::JobState,
    task::{
        Task,
        onnx::OutputSpec,
        tensor::{DType, Tensor},
    },
};
use gpufuel_exec::{
    agent::Behaviour,
    executor::{
        Capabilities, CpuExecutor, ExecError, Executor, Output, RunContext, Work,
        onnx::{EngineOptions, Model, OnnxEngine},
    },
};
use gpufuel_network::LocalNetwork;
use gpufuel_sdk::{ClientError, JobOptions, JobResult, OnnxJob, OnnxStepsJob, job};
use gpufuel_store::ContentStore;

const CLASSIFIER: &[u8] = include_bytes!("../../gpufuel-fixtures/models/classifier.onnx");
/// One step of `z_next = 0.9·tanh(z·w) + 0.1·noise + 0.001·t` (state `z` 4×16).
const STEPPER: &[u8] = include_bytes!("../../gpufuel-fixtures/models/stepper.onnx");
/// `y = x − mean(x over the batch axis)`: a chunk's outputs depend on the rows run with it.
const CENTERED: &[u8] = include_bytes!("../../gpufuel-fixtures/models/centered.onnx");
/// A model ONNX Runtime refuses to load (a MatMul of mismatched inner dimensions).
const BROKEN: &[u8] = include_bytes!("../../gpufuel-fixtures/models/broken.onnx");

/// `rows` 1×8×8 images.
fn images(rows: u64, salt: u64) -> Tensor {
    let values: Vec<f32> =
        (0..rows * 64).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect();
    Tensor::new(DType::F32, vec![rows, 1, 8, 8], values.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap()
}

/// A classification job over 300 images: 300 chunks of one row by default.
async fn classify(net: &LocalNetwork, x: Tensor) -> Task {
    OnnxJob::new(CLASSIFIER)
        .batched("x", x)
        .output("logits")
        .output_spec(OutputSpec { name: "label".into(), tolerance: None, scores: Some("logits".into()) })
        .task(net.store.as_ref())
        .await
        .unwrap()
}

/// Submits `task`, runs the network until it ends, and returns its verified outputs once it has
/// settled with no failed validation.
async fn settled_outputs(
    net: &LocalNetwork,
    alice: &gpufuel_chain::local::Wallet,
    task: &Task,
) -> Vec<(String, Tensor)> {
    let id = net.submit(alice, task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[id], 400).await.unwrap();
    assert_eq!(state(net, &id), JobState::Settled);
    assert_eq!(node_of(net, &id).failed_validations, 0);
    let JobResult::Tensors(outputs) = job::result(&net.client, net.store.as_ref(), &id).await.unwrap() else {
        panic!("an ONNX job's result is its named tensors")
    };
    outputs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_onnx_job_settles_with_the_outputs_onnx_runtime_gives() {
    let net = network(3, vec![]).await;
    let held = net.tokens_held();
    let alice = net.submitter(50_000_000).await.unwrap();
    let x = images(300, 1);
    let task = classify(&net, x.clone()).await;
    let Task::Onnx(t) = &task else { panic!() };
    assert_eq!(t.chunks(), 300);
    let outputs = settled_outputs(&net, &alice, &task).await;
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["logits", "label"]);
    let direct = OnnxEngine::new(EngineOptions::default()).unwrap();
    let model = Model { cid: t.model.model, bytes: CLASSIFIER.into(), external: vec![] };
    let expected = direct.run(&model, &[("x", &x)], &["logits", "label"]).unwrap();
    assert_eq!(outputs[0].1.shape, vec![300, 10]);
    assert_eq!(outputs[0].1.mismatches(&expected[0], DType::F32.default_tolerance()), Some(0));
    assert_eq!(outputs[1].1, expected[1], "labels");
    assert_eq!(net.tokens_held(), held + 50_000_000, "tokens conserved (plus the submitter's funding)");
}

/// The CPU executor, saying its runs leave the cores free, as a GPU's do: its node streams the
/// batched inputs into the run and uploads files alongside it.
struct OffCpu(CpuExecutor, Capabilities);

#[async_trait::async_trait]
impl Executor for OffCpu {
    fn capabilities(&self) -> &Capabilities {
        &self.1
    }

    async fn run(&self, work: Work, ctx: RunContext) -> Result<Output, ExecError> {
        self.0.run(work, ctx).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_runs_leave_the_cores_free_streams_inputs_into_the_run() {
    let mut net = network(0, vec![]).await;
    let cpu = CpuExecutor::new();
    let capabilities = Capabilities { on_cpu: false, ..cpu.capabilities().clone() };
    net.add_node(std::sync::Arc::new(OffCpu(cpu, capabilities)), Behaviour::Honest, None).await.unwrap();
    let alice = net.submitter(50_000_000).await.unwrap();
    let x = images(300, 3);
    let task = classify(&net, x.clone()).await;
    let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    // An input shorter than its spec says: the node reports the task invalid once the stream
    // ends short, and the committee upholds it.
    let Task::Onnx(mut short) = task.clone() else { panic!() };
    short.inputs[0].data = net.store.put(x.data[..x.data.len() - 256].to_vec()).await.unwrap();
    let short = net.submit(&alice, &Task::Onnx(short), JobOptions::default()).await.unwrap();
    net.run_until_done(&[id, short], 800).await.unwrap();
    assert_eq!(state(&net, &id), JobState::Settled);
    let JobResult::Tensors(outputs) = job::result(&net.client, net.store.as_ref(), &id).await.unwrap() else {
        panic!("named tensors")
    };
    let Task::Onnx(t) = &task else { panic!() };
    let model = Model { cid: t.model.model, bytes: CLASSIFIER.into(), external: vec![] };
    let expected = OnnxEngine::new(EngineOptions::default()).unwrap().run(&model, &[("x", &x)], &["logits"]).unwrap();
    assert_eq!(outputs[0].1.mismatches(&expected[0], DType::F32.default_tolerance()), Some(0));
    assert_eq!(state(&net, &short), JobState::Invalid);
    match job::result(&net.client, net.store.as_ref(), &short).await {
        Err(ClientError::TaskFailed(reason)) => assert!(reason.contains("ONNX input"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_and_partial_nodes_on_onnx_jobs_are_slashed() {
    for behaviour in [Behaviour::Lazy, Behaviour::Partial] {
        let net = network(0, vec![behaviour]).await;
        let alice = net.submitter(50_000_000).await.unwrap();
        let task = classify(&net, images(300, 2)).await;
        let before = net.chain.balance(&alice.token);
        let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
        net.run_until_done(&[id], 400).await.unwrap();
        assert_eq!(state(&net, &id), JobState::Slashed, "{}", behaviour.name());
        assert_eq!(node_of(&net, &id).failed_validations, 1);
        assert!(net.chain.balance(&alice.token) > before, "refunded, plus half the node's cover");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copying_node_on_onnx_jobs_is_caught_by_the_watermark() {
    let mut net = network(1, vec![Behaviour::Copying]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let task = classify(&net, images(64, 3)).await;
    let first = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[first], 400).await.unwrap();
    assert_eq!(state(&net, &first), JobState::Settled);
    let honest = net.nodes.iter().position(|n| n.behaviour == Behaviour::Honest).unwrap();
    net.kill_node(honest);
    let second = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[second], 400).await.unwrap();
    assert_eq!(state(&net, &second), JobState::Slashed, "a result copied from another job fails its marks");
    assert_eq!(node_of(&net, &second).failed_validations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_fails_for_everyone_ends_invalid_without_slashing_the_node() {
    let net = network(1, vec![]).await;
    let held = net.tokens_held();
    let alice = net.submitter(50_000_000).await.unwrap();
    let x = Tensor::new(DType::F32, vec![8, 4], vec![0; 8 * 4 * 4]).unwrap();
    let task = OnnxJob::new(BROKEN).batched("x", x).task(net.store.as_ref()).await.unwrap();
    let before = net.chain.balance(&alice.token);
    let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[id], 400).await.unwrap();
    assert_eq!(state(&net, &id), JobState::Invalid);
    let node = node_of(&net, &id);
    assert_eq!(
        (node.failed_validations, node.completed, node.locked),
        (0, 0, 0),
        "neither slashed nor paid; cover released"
    );
    assert_eq!(node.header.stake, gpufuel_exec::agent::NodeConfig::default().stake, "the node's stake is whole");
    let j = net.chain.account::<gpufuel_core::state::Job>(&id).unwrap();
    let value = j.best_bid * u64::from(j.gpu_seconds) + j.premium;
    let validator_fee = value * u64::from(j.terms.validator_fee_bps) / 10_000;
    assert_eq!(net.chain.balance(&alice.token), before - validator_fee, "refunded less the validators' fee");
    match job::result(&net.client, net.store.as_ref(), &id).await {
        Err(ClientError::TaskFailed(reason)) => assert!(reason.contains("Incompatible dimensions"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(net.tokens_held(), held + 50_000_000, "tokens conserved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_claims_a_working_model_fails_is_slashed() {
    let net = network(0, vec![Behaviour::Refusing]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let task = classify(&net, images(40, 4)).await;
    let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[id], 400).await.unwrap();
    assert_eq!(state(&net, &id), JobState::Slashed, "the committee ran the model");
    assert_eq!(node_of(&net, &id).failed_validations, 1);
}

fn f32s(shape: &[u64], values: impl Iterator<Item = f32>) -> Tensor {
    Tensor::new(DType::F32, shape.to_vec(), values.flat_map(|v| v.to_le_bytes()).collect()).unwrap()
}

/// A node groups small chunks into one run only where that gives each chunk's outputs as a run
/// of the chunk alone would: a model that mixes rows settles with every chunk run alone, which
/// is what validators reproduce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_mixes_rows_settles_with_each_chunk_run_alone() {
    let net = network(3, vec![]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let x = f32s(&[64, 8], (0..512u32).map(|i| ((i * 7919 % 2001) as f32 / 1000.0) - 1.0));
    let job = OnnxJob::new(CENTERED).batched("x", x.clone()).chunk_rows(4).output("y");
    let task = job.task(net.store.as_ref()).await.unwrap();
    let Task::Onnx(t) = &task else { panic!() };
    let outputs = settled_outputs(&net, &alice, &task).await;
    let direct = OnnxEngine::new(EngineOptions::default()).unwrap();
    let model = Model { cid: t.model.model, bytes: CENTERED.into(), external: vec![] };
    let values: Vec<f32> = x.to_f64s().into_iter().map(|v| v as f32).collect();
    let alone: Vec<f32> = values
        .chunks(32)
        .flat_map(|chunk| {
            let y = direct.run(&model, &[("x", &f32s(&[4, 8], chunk.iter().copied()))], &["y"]).unwrap();
            y[0].to_f64s().into_iter().map(|v| v as f32)
        })
        .collect();
    let whole = direct.run(&model, &[("x", &x)], &["y"]).unwrap().remove(0);
    assert_eq!(outputs[0].1.mismatches(&f32s(&[64, 8], alone.into_iter()), DType::F32.default_tolerance()), Some(0));
    assert_ne!(outputs[0].1.mismatches(&whole, DType::F32.default_tolerance()), Some(0), "not the batch's mean");
}

/// 60 steps of the stepper, checkpointed every 4: 15 segments.
fn stepper_job(salt: u32) -> (OnnxStepsJob, Tensor, Tensor, Tensor) {
    let unit = |i: u32| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0;
    let z = f32s(&[4, 16], (0..64).map(unit));
    let noise = f32s(&[60, 16], (100..100 + 960).map(unit));
    let w = f32s(&[16, 16], (2000..2256).map(|i| unit(i) * 0.3));
    let job = OnnxStepsJob::new(STEPPER)
        .state("z", z.clone(), "z_next")
        .step_input("t")
        .per_step("noise", noise.clone())
        .constant("w", w.clone())
        .steps(60, 4);
    (job, z, noise, w)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_graph_settles_with_the_state_onnx_runtime_reaches() {
    let net = network(2, vec![]).await;
    let alice = net.submitter(50_000_000).await.unwrap();
    let (steps, z, noise, w) = stepper_job(1);
    let task = steps.task(net.store.as_ref()).await.unwrap();
    let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
    net.run_until_done(&[id], 400).await.unwrap();
    assert_eq!(state(&net, &id), JobState::Settled);
    let JobResult::Tensors(outputs) = job::result(&net.client, net.store.as_ref(), &id).await.unwrap() else {
        panic!()
    };
    assert_eq!(outputs.len(), 1);
    assert_eq!((outputs[0].0.as_str(), outputs[0].1.shape.clone()), ("z", vec![4, 16]));
    // The same 60 steps run here directly (no marks): the marks' one-ulp nudges stay within the
    // default tolerance through this contracting recurrence.
    let direct = OnnxEngine::new(EngineOptions::default()).unwrap();
    let Task::OnnxSteps(t) = &task else { panic!() };
    let model = Model { cid: t.model.model, bytes: STEPPER.into(), external: vec![] };
    let mut state = z;
    for step in 0..60u64 {
        let row = Tensor::new(DType::F32, vec![16], noise.data[step as usize * 64..(step as usize + 1) * 64].to_vec())
            .unwrap();
        let tt = Tensor::new(DType::I64, vec![], (step as i64).to_le_bytes().to_vec()).unwrap();
        state = direct
            .run(&model, &[("z", &state), ("t", &tt), ("noise", &row), ("w", &w)], &["z_next"])
            .unwrap()
            .remove(0);
    }
    assert_eq!(outputs[0].1.mismatches(&state, DType::F32.default_tolerance()), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_and_truncating_nodes_on_step_graphs_are_slashed() {
    for behaviour in [Behaviour::Lazy, Behaviour::Partial] {
        let net = network(0, vec![behaviour]).await;
        let alice = net.submitter(50_000_000).await.unwrap();
        let task = stepper_job(2).0.task(net.store.as_ref()).await.unwrap();
        let id = net.submit(&alice, &task, JobOptions::default()).await.unwrap();
        net.run_until_done(&[id], 400).await.unwrap();
        assert_eq!(state(&net, &id), JobState::Slashed, "{}", behaviour.name());
        assert_eq!(node_of(&net, &id).failed_validations, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_graphs_that_do_not_fit_the_model_are_refused_before_submission() {
    let net = network(0, vec![]).await;
    let refused = |job: OnnxStepsJob, what: &'static str| {
        let store = net.store.clone();
        async move {
            match job.task(store.as_ref()).await {
                Err(ClientError::Task(e)) => assert!(e.to_string().contains(what), "{e}"),
                other => panic!("{other:?}"),
            }
        }
    };
    let (_, z, noise, w) = stepper_job(3);
    let base = || {
        OnnxStepsJob::new(STEPPER)
            .step_input("t")
            .per_step("noise", noise.clone())
            .constant("w", w.clone())
            .steps(60, 4)
    };
    refused(base().state("z", z.clone(), "z_after"), "no output \"z_after\"").await;
    refused(base().state("y", z.clone(), "z_next"), "no input \"y\"").await;
    refused(base(), "a state").await;
    refused(base().state("z", f32s(&[4, 8], (0..32).map(|i| i as f32)), "z_next"), "shape").await;
    refused(base().state("z", z.clone(), "z_next").steps(61, 4), "one slice per step").await;
    let nan_state = f32s(&[4, 16], (0..64).map(|i| if i == 9 { f32::NAN } else { 0.5 }));
    refused(base().state("z", nan_state.clone(), "z_next"), "NaN").await;
    let task = base().state("z", nan_state, "z_next").allow_non_finite(true).task(net.store.as_ref()).await;
    assert!(task.is_ok(), "sent when allowed: {task:?}");
}
