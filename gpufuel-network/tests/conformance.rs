//! ONNX conformance: a sample of ONNX's own backend node tests (one per operator, written by
//! `gpufuel-fixtures/models/conformance.py` from the `onnx` wheel in the tools venv) goes through
//! the local network as jobs, and each verified result must match the test's expected outputs
//! within the test's tolerance.

mod common;

use std::path::Path;

use common::{network, state};
use gpufuel_core::{proof::challenge::Tolerance, state::JobState, task::tensor::Tensor};
use gpufuel_sdk::{JobOptions, JobResult, OnnxJob, job};

/// Operators the issue names, which the sample must cover.
const REQUIRED: [&str; 9] =
    ["Conv", "MatMul", "Gemm", "Softmax", "LayerNormalization", "Attention", "Reshape", "Gather", "Resize"];

fn npy(path: &Path) -> Tensor {
    Tensor::from_npy(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onnx_backend_node_tests_match_through_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../gpufuel-fixtures/models/conformance.py");
    let python = gpufuel_exec::executor::onnx::onnx_venv().expect("a tools directory").join("bin/python");
    let made = std::process::Command::new(python)
        .arg(script)
        .arg(dir.path())
        .output()
        .expect("the onnx venv's python runs (bash scripts/onnx-env.sh installs it)");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let manifest: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let ops: Vec<&str> = manifest.iter().map(|c| c["op"].as_str().unwrap()).collect();
    assert!(ops.len() >= 100, "{} operators", ops.len());
    for op in REQUIRED {
        assert!(ops.contains(&op), "{op} is not in the sample");
    }

    let net = network(6, vec![]).await;
    let alice = net.submitter(500_000_000).await.unwrap();
    let mut jobs = vec![];
    for case in &manifest {
        let case_dir = dir.path().join(case["name"].as_str().unwrap());
        let names = |key: &str| {
            case[key].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect::<Vec<_>>()
        };
        let mut onnx = OnnxJob::new(std::fs::read(case_dir.join("model.onnx")).unwrap()).allow_non_finite(true);
        for (i, name) in names("inputs").into_iter().enumerate() {
            onnx = onnx.constant(name, npy(&case_dir.join(format!("input_{i}.npy"))));
        }
        for name in names("outputs") {
            onnx = onnx.output(name);
        }
        let task = onnx.task(net.store.as_ref()).await.unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        jobs.push(net.submit(&alice, &task, JobOptions { gpu_seconds: 1, ..JobOptions::default() }).await.unwrap());
    }
    net.run_until_done(&jobs, 5_000).await.unwrap();

    let mut failed = vec![];
    for (case, id) in manifest.iter().zip(&jobs) {
        let name = case["name"].as_str().unwrap();
        if state(&net, id) != JobState::Settled {
            failed.push(format!("{name}: {:?}", state(&net, id)));
            continue;
        }
        let JobResult::Tensors(outputs) = job::result(&net.client, net.store.as_ref(), id).await.unwrap() else {
            panic!()
        };
        let tol = Tolerance { rel: case["rtol"].as_f64().unwrap() as f32, abs: case["atol"].as_f64().unwrap() as f32 };
        for (i, (output, got)) in outputs.iter().enumerate() {
            let want = npy(&dir.path().join(name).join(format!("output_{i}.npy")));
            match got.mismatches(&want, tol) {
                Some(0) => {}
                m => failed.push(format!("{name} {output}: {m:?} mismatches")),
            }
        }
    }
    println!("ONNX conformance: {} cases, {} operators, {} failed", manifest.len(), ops.len(), failed.len());
    assert!(failed.is_empty(), "{failed:#?}");
}
