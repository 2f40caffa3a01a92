//! Executors: the CPU executor everywhere; the CUDA executor where a GPU exists (skipped with the
//! reason printed elsewhere), checked against the CPU and the validators' tolerance.

use gpufuel_core::{
    cid::Cid,
    proof::{challenge::Tolerance, freivalds::Precision},
    state::Workload,
    task::{
        IterativeTask, KernelBuffer, KernelSource, KernelTask, MatMulTask, TaskError,
        mlp::Mlp,
        verify::{Keys, check_segment},
    },
};
use gpufuel_exec::executor::{
    CpuExecutor, CudaExecutor, ExecError, Executor, Output, RunContext, Work, cpu_gemm, cuda_available,
};

fn values(n: usize, salt: usize) -> Vec<f32> {
    (0..n).map(|i| (((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0) - 1.0).collect()
}

fn keys() -> Keys {
    Keys { job: [1; 32], node: [2; 32], seed: [3; 32] }
}

fn ctx() -> RunContext {
    RunContext::new(keys(), None, vec![])
}

fn matmul(m: u32, k: u32, n: u32) -> (MatMulTask, Vec<f32>, Vec<f32>) {
    let t = MatMulTask { m, k, n, output: Precision::F32, a: Cid::default(), b: Cid::default() };
    (t, values((m * k) as usize, 1), values((k * n) as usize, 2))
}

fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut c = vec![0.0f64; m * n];
    for i in 0..m {
        for p in 0..k {
            for j in 0..n {
                c[i * n + j] += f64::from(a[i * k + p]) * f64::from(b[p * n + j]);
            }
        }
    }
    c.into_iter().map(|v| v as f32).collect()
}

fn training() -> (IterativeTask, Vec<f32>, Vec<f32>) {
    let model = Mlp { inputs: 8, hidden: 16 };
    let rows = 128;
    let x = values(rows * 8, 3);
    let y: Vec<f32> = (0..rows).map(|r| x[r * 8] - 0.5 * x[r * 8 + 1]).collect();
    let t = IterativeTask {
        model,
        rows: rows as u32,
        batch: 32,
        learning_rate: 0.05,
        segments: 12,
        steps_per_segment: 3,
        data: Cid::default(),
        init: Cid::default(),
    };
    (t, [x, y].concat(), values(model.params(), 4).iter().map(|v| v * 0.2).collect())
}

/// Runs an iterative task and checks what the validators check: every checkpoint carries its
/// watermark and every segment reproduces on the CPU within the tolerance.
async fn run_and_verify_training(executor: &dyn Executor) {
    let (task, data, init) = training();
    let c = ctx();
    let out =
        executor.run(Work::Iterative { task: task.clone(), data: data.clone(), init: init.clone() }, c.clone()).await;
    let Output::Tensor(last) = out.unwrap() else { panic!("a tensor") };
    let cps = c.checkpoints();
    assert_eq!(cps.len(), 13);
    assert_eq!(cps[0], init);
    assert_eq!(cps[12], last);
    for s in 0..12u32 {
        assert!(keys().watermark(Some(s + 1)).verify(&cps[s as usize + 1]).unwrap().passed());
        check_segment(&task, &data, s, &cps[s as usize], &cps[s as usize + 1], Tolerance::default()).unwrap();
    }
}

#[tokio::test]
async fn cpu_matmul_is_the_product() {
    let (task, a, b) = matmul(33, 70, 17);
    let out = CpuExecutor::new().run(Work::MatMul { task, a: a.clone(), b: b.clone() }, ctx()).await.unwrap();
    let Output::Tensor(c) = out else { panic!() };
    for (x, y) in c.iter().zip(naive(&a, &b, 33, 70, 17)) {
        assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0));
    }
}

#[tokio::test]
async fn cpu_training_checkpoints_are_marked_and_reproducible() {
    run_and_verify_training(&CpuExecutor::new()).await;
}

#[tokio::test]
async fn cpu_refuses_bad_work_with_typed_errors() {
    let cpu = CpuExecutor::new();
    let (task, a, _) = matmul(4, 4, 4);
    let err = cpu.run(Work::MatMul { task, a, b: vec![0.0; 3] }, ctx()).await.unwrap_err();
    assert!(matches!(err, ExecError::Task(TaskError::Size { what: "B", .. })), "{err}");
    let kernel = KernelTask {
        source: KernelSource::CudaC("extern \"C\" __global__ void k() {}".into()),
        entry: "k".into(),
        grid: [1; 3],
        block: [1; 3],
        shared_mem_bytes: 0,
        buffers: vec![KernelBuffer { bytes: 4, input: None, output: true }],
        scalars: vec![],
    };
    let err = cpu.run(Work::Kernel { task: kernel, inputs: vec![None] }, ctx()).await.unwrap_err();
    assert!(matches!(err, ExecError::NeedsGpu(Workload::Kernel)), "{err}");
    let (task, data, init) = training();
    let err = cpu.run(Work::Iterative { task: task.clone(), data: data.clone(), init: vec![0.0; 2] }, ctx()).await;
    assert!(matches!(err, Err(ExecError::Task(TaskError::Size { .. }))));
    let cancelled = ctx();
    cancelled.cancel();
    let err = cpu.run(Work::Iterative { task, data, init }, cancelled).await.unwrap_err();
    assert!(matches!(err, ExecError::Cancelled));
}

/// The GPU, or `None` with the reason printed.
fn gpu() -> Option<CudaExecutor> {
    match cuda_available() {
        Ok(()) => Some(CudaExecutor::new(0).expect("a GPU that the driver reports opens")),
        Err(reason) => {
            eprintln!("SKIPPED (no GPU): {reason}");
            // Where there is no GPU the executor errs rather than panicking.
            assert!(matches!(CudaExecutor::new(0), Err(ExecError::Cuda(_))));
            None
        }
    }
}

#[tokio::test]
async fn cuda_spec_comes_from_the_device() {
    let Some(gpu) = gpu() else { return };
    let caps = gpu.capabilities();
    println!("{}: {:?}", caps.device, caps.spec);
    assert!(caps.spec.vram_mib >= 1024 && caps.spec.compute_capability >= 50);
    assert!(caps.workloads.contains(&Workload::MatMul));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuda_matmul_matches_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let (task, a, b) = matmul(257, 129, 65);
    let Output::Tensor(c) = gpu.run(Work::MatMul { task, a: a.clone(), b: b.clone() }, ctx()).await.unwrap() else {
        panic!()
    };
    for (x, y) in c.iter().zip(cpu_gemm(&a, &b, 257, 129, 65)) {
        assert!((x - y).abs() <= 1e-4 * y.abs().max(1.0), "{x} vs {y}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuda_training_passes_the_validators_cpu_checks() {
    let Some(gpu) = gpu() else { return };
    run_and_verify_training(&gpu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuda_runs_user_kernels_from_cuda_c() {
    let Some(gpu) = gpu() else { return };
    let n = 1000u32;
    let x: Vec<u8> = (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let task = KernelTask {
        source: KernelSource::CudaC(
            "extern \"C\" __global__ void twice(const float* x, float* y, unsigned n) {\n\
             unsigned i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) y[i] = 2.0f * x[i]; }"
                .into(),
        ),
        entry: "twice".into(),
        grid: [n.div_ceil(256), 1, 1],
        block: [256, 1, 1],
        shared_mem_bytes: 0,
        buffers: vec![
            KernelBuffer { bytes: u64::from(n) * 4, input: Some(Cid::default()), output: false },
            KernelBuffer { bytes: u64::from(n) * 4, input: None, output: true },
        ],
        scalars: vec![n],
    };
    let Output::Buffers(out) = gpu.run(Work::Kernel { task, inputs: vec![Some(x), None] }, ctx()).await.unwrap() else {
        panic!()
    };
    let y: Vec<f32> = out[0].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    assert!(y.iter().enumerate().all(|(i, v)| *v == 2.0 * i as f32));
}
