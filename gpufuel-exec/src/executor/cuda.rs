//! The CUDA executor (cudarc, libraries loaded at run time): `MatMul` through cuBLAS, the
//! iterative workload as an NVRTC-compiled kernel, and user kernels (PTX, or CUDA C compiled by
//! NVRTC). Every library is checked for before first use: cudarc panics rather than erring when
//! libcuda is missing, so a machine without a GPU gets an error to fall back on, never a crash.

use std::sync::Arc;

use async_trait::async_trait;
use cudarc::{
    cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t},
    driver::{CudaContext, CudaSlice, CudaStream, LaunchConfig, PushKernelArg},
    nvrtc::{Ptx, compile_ptx},
};
use gpufuel_core::{
    state::{NodeSpec, Workload},
    task::{IterativeTask, KernelSource, KernelTask, MatMulTask, mlp},
};

use super::{
    Capabilities, ExecError, Executor, Output, RunContext, Work, cpu,
    onnx::{self, Device, EngineOptions, OnnxEngine},
};

/// Why no GPU can be used here, or `Ok` when libcuda loads and reports a device.
pub fn cuda_available() -> Result<(), String> {
    // SAFETY: only probes whether the shared library can be loaded.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err("libcuda was not found (no NVIDIA driver)".into());
    }
    match CudaContext::device_count() {
        Ok(n) if n > 0 => Ok(()),
        Ok(_) => Err("the NVIDIA driver reports no device".into()),
        Err(e) => Err(format!("the NVIDIA driver failed to start: {e}")),
    }
}

/// How many GPUs the driver reports; 0 without a driver.
pub fn cuda_device_count() -> usize {
    if cuda_available().is_err() {
        return 0;
    }
    CudaContext::device_count().map_or(0, |n| n.max(0) as usize)
}

fn cuda(e: impl std::fmt::Display) -> ExecError {
    ExecError::Cuda(e.to_string())
}

/// One GPU.
pub struct CudaExecutor {
    capabilities: Capabilities,
    gpu: Arc<Gpu>,
    onnx: Option<Arc<OnnxEngine>>,
}

/// The device and the libraries found for it; shared with the worker threads that block on it.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    /// Whether cuBLAS and NVRTC could be loaded.
    cublas: bool,
    nvrtc: bool,
}

impl CudaExecutor {
    /// The GPU with this ordinal; its spec (class, VRAM, compute capability) comes from the
    /// device. Errs, without panicking, where there is no usable GPU.
    pub fn new(ordinal: usize) -> Result<Self, ExecError> {
        cuda_available().map_err(ExecError::Cuda)?;
        let ctx = CudaContext::new(ordinal).map_err(cuda)?;
        let name = ctx.name().map_err(cuda)?;
        let (major, minor) = ctx.compute_capability().map_err(cuda)?;
        let vram_mib = (ctx.total_mem().map_err(cuda)? >> 20) as u32;
        // SAFETY: probes only.
        let (cublas, nvrtc) =
            unsafe { (cudarc::cublas::sys::is_culib_present(), cudarc::nvrtc::sys::is_culib_present()) };
        let mut workloads = vec![];
        if cublas {
            workloads.push(Workload::MatMul);
        }
        if nvrtc {
            workloads.extend([Workload::Iterative, Workload::Kernel]);
        }
        // ONNX on this device through the CUDA execution provider (onnxruntime-gpu's library),
        // else on the CPU provider, saying so.
        let options = EngineOptions { device: Device::Cuda(ordinal as i32), ..EngineOptions::default() };
        let onnx = match OnnxEngine::new(options) {
            Ok(engine) => {
                if let Some(why) = engine.fallback() {
                    tracing::warn!("{why}");
                }
                workloads.extend([Workload::Onnx, Workload::OnnxSteps]);
                Some(Arc::new(engine))
            }
            Err(e) => {
                tracing::info!("no ONNX jobs on this node: {e}");
                None
            }
        };
        let spec = NodeSpec {
            gpu_class: gpufuel_core::class::class_of_device(&name),
            gpu_count: 1,
            compute_capability: (major * 10 + minor).clamp(0, 255) as u8,
            vram_mib,
            price_floor: 0,
        };
        let capabilities = Capabilities {
            device: format!("{name} (sm_{major}{minor}, {vram_mib} MiB)"),
            spec,
            workloads,
            on_cpu: false,
        };
        Ok(Self { capabilities, gpu: Arc::new(Gpu { ctx, cublas, nvrtc }), onnx })
    }

    /// The device, for direct use (benchmarks compare its GEMM with the executor's).
    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }
}

impl Gpu {
    fn stream(&self) -> Arc<CudaStream> {
        self.ctx.default_stream()
    }

    /// `C = A·B` on the GPU (row-major, computed as the column-major `Cᵀ = Bᵀ·Aᵀ`).
    pub fn gemm(&self, task: &MatMulTask, a: &[f32], b: &[f32]) -> Result<Vec<f32>, ExecError> {
        if !self.cublas {
            return Err(ExecError::Cuda("cuBLAS was not found".into()));
        }
        cpu::check_matmul(task, a, b)?;
        let stream = self.stream();
        let blas = CudaBlas::new(stream.clone()).map_err(cuda)?;
        let (m, k, n) = (task.m as i32, task.k as i32, task.n as i32);
        let da = stream.clone_htod(a).map_err(cuda)?;
        let db = stream.clone_htod(b).map_err(cuda)?;
        let mut dc: CudaSlice<f32> = stream.alloc_zeros((m * n) as usize).map_err(cuda)?;
        let cfg = GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: n,
            n: m,
            k,
            alpha: 1.0f32,
            lda: n,
            ldb: k,
            beta: 0.0f32,
            ldc: n,
        };
        // SAFETY: the buffers hold k×n, m×k and m×n elements, matching the leading dimensions.
        unsafe { blas.gemm(cfg, &db, &da, &mut dc) }.map_err(cuda)?;
        stream.clone_dtoh(&dc).map_err(cuda)
    }

    pub fn train(
        &self,
        task: &IterativeTask,
        data: &[f32],
        init: &[f32],
        ctx: &RunContext,
    ) -> Result<Vec<f32>, ExecError> {
        if !self.nvrtc {
            return Err(ExecError::Cuda("NVRTC was not found".into()));
        }
        let split = mlp::Data::split(task, data)?;
        cpu::check_init(task, init)?;
        ctx.start(init);
        let (done, params) = ctx.latest().expect("started");
        let ptx = compile_ptx(MLP_STEP).map_err(cuda)?;
        let step = self.ctx.load_module(ptx).map_err(cuda)?.load_function("mlp_step").map_err(cuda)?;
        let stream = self.stream();
        let (x, y) = (stream.clone_htod(split.x).map_err(cuda)?, stream.clone_htod(split.y).map_err(cuda)?);
        let mut p = stream.clone_htod(&params).map_err(cuda)?;
        let mut grad: CudaSlice<f32> = stream.alloc_zeros(params.len()).map_err(cuda)?;
        let (d, h, rows, batch) =
            (task.model.inputs as i32, task.model.hidden as i32, task.rows as i32, task.batch as i32);
        let rate = task.learning_rate / task.batch as f32;
        let launch = LaunchConfig { grid_dim: (1, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        let mut host = params;
        for s in done..task.segments {
            ctx.check()?;
            let first = u64::from(s) * u64::from(task.steps_per_segment);
            for t in first..first + u64::from(task.steps_per_segment) {
                let t = t as i64;
                let mut args = stream.launch_builder(&step);
                args.arg(&mut p)
                    .arg(&mut grad)
                    .arg(&x)
                    .arg(&y)
                    .arg(&d)
                    .arg(&h)
                    .arg(&rows)
                    .arg(&batch)
                    .arg(&rate)
                    .arg(&t);
                // SAFETY: the argument list matches `mlp_step`'s signature and the buffers' sizes
                // were checked against the task.
                unsafe { args.launch(launch) }.map_err(cuda)?;
            }
            host = stream.clone_dtoh(&p).map_err(cuda)?;
            ctx.checkpoint(s + 1, &mut host)?;
            stream.memcpy_htod(&host, &mut p).map_err(cuda)?;
            ctx.progress((s + 1) as f32 / task.segments as f32);
        }
        Ok(host)
    }

    pub fn kernel(&self, task: &KernelTask, inputs: &[Option<Vec<u8>>]) -> Result<Vec<Vec<u8>>, ExecError> {
        if !self.nvrtc {
            return Err(ExecError::Cuda("NVRTC was not found".into()));
        }
        let ptx = match &task.source {
            KernelSource::Ptx(text) => Ptx::from_src(text.clone()),
            KernelSource::CudaC(src) => compile_ptx(src).map_err(cuda)?,
        };
        let function = self.ctx.load_module(ptx).map_err(cuda)?.load_function(&task.entry).map_err(cuda)?;
        let stream = self.stream();
        let mut buffers = Vec::with_capacity(task.buffers.len());
        for (spec, input) in task.buffers.iter().zip(inputs) {
            let buffer = match input {
                Some(bytes) if bytes.len() as u64 == spec.bytes => stream.clone_htod(bytes.as_slice()).map_err(cuda)?,
                Some(bytes) => {
                    return Err(gpufuel_core::task::TaskError::Size {
                        what: "kernel buffer",
                        expected: spec.bytes,
                        got: bytes.len() as u64,
                    }
                    .into());
                }
                None => stream.alloc_zeros::<u8>(spec.bytes as usize).map_err(cuda)?,
            };
            buffers.push(buffer);
        }
        let mut args = stream.launch_builder(&function);
        for b in &mut buffers {
            args.arg(b);
        }
        for s in &task.scalars {
            args.arg(s);
        }
        let [gx, gy, gz] = task.grid;
        let [bx, by, bz] = task.block;
        let cfg =
            LaunchConfig { grid_dim: (gx, gy, gz), block_dim: (bx, by, bz), shared_mem_bytes: task.shared_mem_bytes };
        // SAFETY: the user declared the kernel's parameters as these buffers then these u32
        // scalars; a kernel that writes out of bounds faults on the device, reported as an error.
        unsafe { args.launch(cfg) }.map_err(cuda)?;
        task.buffers
            .iter()
            .zip(&buffers)
            .filter(|(spec, _)| spec.output)
            .map(|(_, b)| stream.clone_dtoh(b).map_err(cuda))
            .collect()
    }
}

#[async_trait]
impl Executor for CudaExecutor {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn run(&self, work: Work, ctx: RunContext) -> Result<Output, ExecError> {
        // Kernels and copies block the thread: keep them off the async workers.
        let (gpu, engine) = (self.gpu.clone(), self.onnx.clone());
        let blocking = move || match work {
            Work::MatMul { task, a, b } => {
                ctx.check()?;
                let c = gpu.gemm(&task, &a, &b)?;
                ctx.progress(1.0);
                Ok(Output::Tensor(c))
            }
            Work::Iterative { task, data, init } => gpu.train(&task, &data, &init, &ctx).map(Output::Tensor),
            Work::Kernel { task, inputs } => gpu.kernel(&task, &inputs).map(Output::Buffers),
            Work::Onnx { task, model, inputs } => match &engine {
                Some(engine) => onnx::run_task(engine, &task, &model, &inputs, &ctx),
                None => Err(ExecError::Unsupported(Workload::Onnx)),
            },
            Work::OnnxSteps { task, model, inputs } => match &engine {
                Some(engine) => onnx::run_steps(engine, &task, &model, &inputs, &ctx),
                None => Err(ExecError::Unsupported(Workload::OnnxSteps)),
            },
        };
        tokio::task::spawn_blocking(blocking).await.map_err(|e| ExecError::Failed(e.to_string()))?
    }
}

/// One SGD step of [`mlp`] in one block: each thread takes batch rows and adds its gradients
/// atomically (so the summation order varies, within the validators' tolerance), then the block
/// updates the parameters.
const MLP_STEP: &str = r#"
extern "C" __global__ void mlp_step(float* p, float* grad, const float* x, const float* y,
                                    int d, int h, int rows, int batch, float rate, long long t) {
    const int n = h * d + 2 * h + 1;
    for (int i = threadIdx.x; i < n; i += blockDim.x) grad[i] = 0.0f;
    __syncthreads();
    const float* w1 = p;
    const float* b1 = p + h * d;
    const float* w2 = b1 + h;
    const float b2 = w2[h];
    for (int i = threadIdx.x; i < batch; i += blockDim.x) {
        const long long r = (t * batch + i) % rows;
        const float* xr = x + r * d;
        float out = b2;
        for (int j = 0; j < h; ++j) {
            float z = b1[j];
            for (int k = 0; k < d; ++k) z += w1[j * d + k] * xr[k];
            out += w2[j] * tanhf(z);
        }
        const float err = out - y[r];
        atomicAdd(&grad[n - 1], err);
        for (int j = 0; j < h; ++j) {
            float z = b1[j];
            for (int k = 0; k < d; ++k) z += w1[j * d + k] * xr[k];
            const float hj = tanhf(z);
            atomicAdd(&grad[h * d + h + j], err * hj);
            const float dz = err * w2[j] * (1.0f - hj * hj);
            atomicAdd(&grad[h * d + j], dz);
            for (int k = 0; k < d; ++k) atomicAdd(&grad[j * d + k], dz * xr[k]);
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) p[i] -= rate * grad[i];
}
"#;
