//! The ONNX engine on ONNX Runtime's real library (installed by `scripts/onnx-env.sh`): chunked
//! runs agree with whole-batch runs, engines built with other thread counts and optimisation
//! levels stay within the default tolerances (what validators rely on), a model ONNX Runtime
//! refuses is a typed error, and the CPU executor offers ONNX work.

use std::sync::Arc;

use gpufuel_core::{
    cid::Cid,
    state::Workload,
    task::{
        onnx::{ModelRef, OnnxTask, OutputSpec, TensorSpec},
        tensor::{DType, Tensor},
        verify::Keys,
    },
};
use gpufuel_exec::executor::{
    CpuExecutor, ExecError, Executor, Feed, Output, RunContext, Work,
    onnx::{Device, EngineOptions, Model, OnnxEngine, Optimization},
};

const CLASSIFIER: &[u8] = include_bytes!("../../gpufuel-fixtures/models/classifier.onnx");
const BROKEN: &[u8] = include_bytes!("../../gpufuel-fixtures/models/broken.onnx");

fn model(bytes: &[u8], id: u8) -> Model {
    let mut cid = [id; 36];
    cid[..4].copy_from_slice(&[1, 0x55, 0x12, 0x20]);
    Model { cid: Cid::new(&cid).unwrap(), bytes: bytes.into(), external: vec![] }
}

/// `rows` images of 1×8×8 with values in [-1, 1].
fn images(rows: u64) -> Tensor {
    let values: Vec<f32> = (0..rows * 64).map(|i| ((i * 7919 % 2001) as f32 / 1000.0) - 1.0).collect();
    Tensor::new(DType::F32, vec![rows, 1, 8, 8], values.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap()
}

fn task(rows: u64, chunk_rows: u64) -> OnnxTask {
    OnnxTask {
        model: ModelRef { model: Cid::default(), external: vec![] },
        inputs: vec![TensorSpec {
            name: "x".into(),
            dtype: DType::F32,
            shape: vec![rows, 1, 8, 8],
            data: Cid::default(),
            batched: true,
        }],
        chunk_rows,
        outputs: vec![
            OutputSpec::named("logits"),
            OutputSpec { name: "label".into(), tolerance: None, scores: Some("logits".into()) },
        ],
    }
}

fn engine(options: EngineOptions) -> OnnxEngine {
    OnnxEngine::new(options).expect("ONNX Runtime loads (bash scripts/onnx-env.sh installs it)")
}

#[test]
fn chunks_agree_with_the_whole_batch_and_labels_are_the_argmax() {
    let e = engine(EngineOptions::default());
    let m = model(CLASSIFIER, 1);
    let x = images(37);
    let whole = e.run(&m, &[("x", &x)], &["logits", "label"]).unwrap();
    assert_eq!((whole[0].dtype, whole[0].shape.clone()), (DType::F32, vec![37, 10]));
    assert_eq!((whole[1].dtype, whole[1].shape.clone()), (DType::I64, vec![37]));
    let logits = whole[0].to_f64s();
    let labels = whole[1].to_f64s();
    for (row, &label) in logits.chunks(10).zip(&labels) {
        let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(best as f64, label);
    }
    let t = task(37, 8);
    let chunks: Vec<Vec<Tensor>> =
        (0..t.chunks()).map(|c| e.run_chunk(&t, &m, &[Feed::whole(x.data.clone())], c).unwrap()).collect();
    assert_eq!(chunks.len(), 5);
    assert_eq!(chunks[4][0].shape, vec![5, 10]);
    let mut joined = chunks[0][0].clone();
    for c in &chunks[1..] {
        joined.shape[0] += c[0].shape[0];
        joined.data.extend_from_slice(&c[0].data);
    }
    assert_eq!(joined.mismatches(&whole[0], DType::F32.default_tolerance()), Some(0));
}

#[test]
fn engines_with_other_threads_and_optimisations_stay_within_the_default_tolerance() {
    let m = model(CLASSIFIER, 2);
    let x = images(256);
    let reference = engine(EngineOptions::default()).run(&m, &[("x", &x)], &["logits", "probs"]).unwrap();
    for (threads, optimization) in [(1, Optimization::Disabled), (2, Optimization::Basic), (1, Optimization::Extended)]
    {
        let other = engine(EngineOptions { device: Device::Cpu, threads, optimization });
        let out = other.run(&m, &[("x", &x)], &["logits", "probs"]).unwrap();
        for (mine, theirs) in out.iter().zip(&reference) {
            assert_eq!(
                mine.mismatches(theirs, DType::F32.default_tolerance()),
                Some(0),
                "{threads} threads, {optimization:?}"
            );
        }
    }
}

#[test]
fn a_model_onnx_runtime_refuses_is_a_model_error_and_inputs_must_fit() {
    let e = engine(EngineOptions::default());
    let x = Tensor::new(DType::F32, vec![2, 4], vec![0; 32]).unwrap();
    assert!(matches!(e.run(&model(BROKEN, 3), &[("x", &x)], &["y"]), Err(ExecError::Model(_))));
    assert!(matches!(e.run(&model(b"not a model", 4), &[("x", &x)], &["y"]), Err(ExecError::Model(_))));
    let m = model(CLASSIFIER, 5);
    assert!(matches!(e.run(&m, &[("x", &x)], &["logits"]), Err(ExecError::Model(_))), "wrong shape");
    assert!(matches!(e.run(&m, &[("x", &images(2))], &["nope"]), Err(ExecError::Model(_))), "unknown output");
    // A batched input shorter than the task says is a size error, not a read past its end.
    assert!(matches!(e.run_chunk(&task(37, 8), &m, &[Feed::whole(vec![0; 16])], 1), Err(ExecError::Task(_))));
}

#[tokio::test]
async fn the_cpu_executor_offers_onnx_and_runs_every_chunk() {
    let cpu = CpuExecutor::new();
    assert!(cpu.capabilities().workloads.contains(&Workload::Onnx));
    let x = images(20);
    let work = Work::Onnx { task: task(20, 6), model: model(CLASSIFIER, 6), inputs: vec![Feed::whole(x.data.clone())] };
    let seen = Arc::new(std::sync::Mutex::new(vec![]));
    let progress = {
        let seen = seen.clone();
        Arc::new(move |f: f32| seen.lock().unwrap().push(f))
    };
    let ctx = RunContext::new(Keys { job: [1; 32], node: [2; 32], seed: [3; 32] }, Some(progress), vec![]);
    let Output::Emitted(count) = cpu.run(work, ctx.clone()).await.unwrap() else { panic!("emitted files") };
    let files = ctx.take_emitted();
    assert_eq!((count, files.len()), (4 * 2, 4 * 2), "chunk-major: 4 chunks × 2 outputs");
    assert_eq!(files[7].shape, vec![2]);
    // The node ran the four small chunks as one group and cut the outputs back: each chunk's
    // files agree with that chunk run alone.
    let e = engine(EngineOptions::default());
    for chunk in 0..4u64 {
        let alone = e.run_chunk(&task(20, 6), &model(CLASSIFIER, 6), &[Feed::whole(x.data.clone())], chunk).unwrap();
        for (j, t) in alone.iter().enumerate() {
            assert_eq!(
                files[chunk as usize * 2 + j].mismatches(t, t.dtype.default_tolerance()),
                Some(0),
                "chunk {chunk}"
            );
        }
    }
    assert_eq!(seen.lock().unwrap().last(), Some(&1.0));
}

#[test]
fn the_cuda_execution_provider_agrees_with_the_cpu_where_a_gpu_exists() {
    if let Err(reason) = gpufuel_exec::executor::cuda_available() {
        println!("skipped: no GPU here ({reason})");
        return;
    }
    let gpu = engine(EngineOptions { device: Device::Cuda(0), ..EngineOptions::default() });
    if let Some(why) = gpu.fallback() {
        println!("skipped: {why} (install onnxruntime-gpu and point ORT_DYLIB_PATH at its library)");
        return;
    }
    let m = model(CLASSIFIER, 7);
    let x = images(512);
    let cpu = engine(EngineOptions::default()).run(&m, &[("x", &x)], &["logits", "probs"]).unwrap();
    let cuda = gpu.run(&m, &[("x", &x)], &["logits", "probs"]).unwrap();
    for (g, c) in cuda.iter().zip(&cpu) {
        assert_eq!(g.mismatches(c, DType::F32.default_tolerance()), Some(0), "CUDA against CPU");
    }
}
