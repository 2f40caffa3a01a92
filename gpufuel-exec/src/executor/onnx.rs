//! The ONNX engine: ONNX Runtime through `ort`, its library loaded at run time.
//!
//! Nothing is downloaded or linked at build time. The library is looked for, once per process, at
//! [`ORT_DYLIB_PATH`] when set, else where `scripts/onnx-env.sh` installs the PyPI wheel
//! `onnxruntime==1.31.1` (`$GPUFUEL_TOOLS/onnx-venv`, default `~/.cache/gpufuel-tools`), else as
//! `libonnxruntime.so` on the loader's path. Where it cannot be loaded, [`OnnxEngine::new`] says
//! why: a node then offers no ONNX work and a validator abstains on it.
//!
//! Sessions are built once per model CID and reused for every chunk. A GPU engine registers the
//! CUDA execution provider (from the `onnxruntime-gpu` wheel) and falls back to the CPU, saying so,
//! where the provider or the device is missing.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, OnceLock},
};

use gpufuel_core::{
    cid::Cid,
    task::{
        onnx::{OnnxStepsTask, OnnxTask, TensorSpec},
        tensor::{DType, Tensor},
        verify::{self, Failure, Keys},
    },
};
use ort::{
    environment::Environment,
    memory::Allocator,
    session::{Session, builder::GraphOptimizationLevel},
    value::{DynTensor, DynTensorValueType, TensorElementType},
};

use super::{ExecError, Feed};

/// The environment variable naming the ONNX Runtime library (ort's own).
pub const ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";
/// The ONNX Runtime release the engine is built against (`ort`'s `api-31`).
pub const ORT_VERSION: &str = "1.31.1";

/// Where a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// ONNX Runtime's CPU provider.
    #[default]
    Cpu,
    /// The CUDA execution provider on this device ordinal.
    Cuda(i32),
}

/// Graph optimisations applied when a session is built (ONNX Runtime's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Optimization {
    /// None: the graph as written.
    Disabled,
    /// Constant folding and redundant-node removal.
    Basic,
    /// Also operator fusions.
    Extended,
    /// Also layout changes (ONNX Runtime's default).
    #[default]
    All,
}

/// How the engine builds sessions. Validators may differ from nodes in all of these: the
/// tolerances absorb the differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineOptions {
    /// Where sessions run (default: the CPU).
    pub device: Device,
    /// Threads of one session's operators (default 0: ONNX Runtime's choice, one per core).
    pub threads: usize,
    /// Graph optimisations (default: all).
    pub optimization: Optimization,
}

/// A model and its external-data files, as the job names them.
#[derive(Debug, Clone)]
pub struct Model {
    /// The model file's CID (sessions are cached by it).
    pub cid: Cid,
    /// The `.onnx` bytes.
    pub bytes: Arc<[u8]>,
    /// External-data files by the location the model gives them.
    pub external: Vec<(String, Arc<[u8]>)>,
}

/// Runs ONNX models.
pub struct OnnxEngine {
    options: EngineOptions,
    /// Why the engine runs on the CPU although a GPU was asked for.
    fallback: Option<String>,
    sessions: Mutex<HashMap<Cid, Arc<Mutex<Session>>>>,
}

impl std::fmt::Debug for OnnxEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEngine").field("options", &self.options).field("fallback", &self.fallback).finish()
    }
}

/// The virtual environment `scripts/onnx-env.sh` installs ONNX Runtime and `onnx` into:
/// `$GPUFUEL_TOOLS/onnx-venv` (default `~/.cache/gpufuel-tools/onnx-venv`).
pub fn onnx_venv() -> Option<PathBuf> {
    let tools = std::env::var_os("GPUFUEL_TOOLS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/gpufuel-tools")));
    tools.map(|t| t.join("onnx-venv"))
}

/// The library's path: [`ORT_DYLIB_PATH`], else the tools directory's wheel, else the loader's.
pub fn library_path() -> PathBuf {
    if let Some(p) = std::env::var_os(ORT_DYLIB_PATH).filter(|p| !p.is_empty()) {
        return p.into();
    }
    let wheel = onnx_venv().and_then(|venv| {
        std::fs::read_dir(venv.join("lib")).ok()?.flatten().find_map(|python| {
            let so = python.path().join(format!("site-packages/onnxruntime/capi/libonnxruntime.so.{ORT_VERSION}"));
            so.is_file().then_some(so)
        })
    });
    wheel.unwrap_or_else(|| "libonnxruntime.so".into())
}

/// The process's ONNX Runtime environment, the library loaded on first use.
fn environment() -> Result<&'static Environment, ExecError> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = library_path();
        let builder =
            ort::init_from(&path).map_err(|e| format!("{e} (set {ORT_DYLIB_PATH}, or run scripts/onnx-env.sh)"))?;
        builder.with_name("gpufuel").build().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ExecError::Engine(e.clone()))
}

fn model_error(e: impl std::fmt::Display) -> ExecError {
    ExecError::Model(e.to_string())
}

impl OnnxEngine {
    /// An engine with `options`, loading ONNX Runtime if this process has not yet. A CUDA device
    /// whose provider cannot be registered falls back to the CPU ([`OnnxEngine::fallback`]).
    pub fn new(options: EngineOptions) -> Result<Self, ExecError> {
        let env = environment()?;
        let mut engine = Self { options, fallback: None, sessions: Mutex::new(HashMap::new()) };
        if let Device::Cuda(id) = options.device {
            let cuda = ort::ep::CUDA::default().with_device_id(id).build().error_on_failure();
            let probe = Session::builder(env).and_then(|b| b.with_execution_providers([cuda]).map_err(Into::into));
            if let Err(e) = probe {
                engine.fallback =
                    Some(format!("the CUDA execution provider is unavailable ({e}): ONNX runs on the CPU"));
                engine.options.device = Device::Cpu;
            }
        }
        Ok(engine)
    }

    /// Why a GPU was asked for and the CPU is used.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The session of `model`, built on first use. A model that ONNX Runtime refuses is
    /// [`ExecError::Model`].
    fn session(&self, model: &Model) -> Result<Arc<Mutex<Session>>, ExecError> {
        if let Some(s) = self.sessions.lock().expect("sessions lock").get(&model.cid) {
            return Ok(s.clone());
        }
        let level = match self.options.optimization {
            Optimization::Disabled => GraphOptimizationLevel::Disable,
            Optimization::Basic => GraphOptimizationLevel::Level1,
            Optimization::Extended => GraphOptimizationLevel::Level2,
            Optimization::All => GraphOptimizationLevel::All,
        };
        let mut builder = Session::builder(environment()?).map_err(model_error)?;
        builder = builder.with_optimization_level(level).map_err(model_error)?;
        // Idle operator threads sleep instead of spinning: a node and validators often share a
        // machine (and the local network one process), and spinning pools steal each other's cores.
        builder = builder.with_intra_op_spinning(false).map_err(model_error)?;
        if self.options.threads > 0 {
            builder = builder.with_intra_threads(self.options.threads).map_err(model_error)?;
        }
        if let Device::Cuda(id) = self.options.device {
            let cuda = ort::ep::CUDA::default().with_device_id(id).build().error_on_failure();
            builder = builder.with_execution_providers([cuda]).map_err(model_error)?;
        }
        for (location, bytes) in &model.external {
            builder = builder.with_external_initializer_file_in_memory(location, bytes.clone()).map_err(model_error)?;
        }
        let session = Arc::new(Mutex::new(builder.commit_from_memory(&model.bytes).map_err(model_error)?));
        self.sessions.lock().expect("sessions lock").insert(model.cid, session.clone());
        Ok(session)
    }

    /// Runs `model` on named `inputs` and returns the `outputs` asked for, in that order.
    pub fn run(&self, model: &Model, inputs: &[(&str, &Tensor)], outputs: &[&str]) -> Result<Vec<Tensor>, ExecError> {
        let values = inputs
            .iter()
            .map(|(name, t)| Ok((name.to_string(), to_ort(t.dtype, &t.shape, &t.data)?)))
            .collect::<Result<Vec<_>, ExecError>>()?;
        self.run_values(model, values, outputs)
    }

    fn run_values(
        &self,
        model: &Model,
        values: Vec<(String, DynTensor)>,
        outputs: &[&str],
    ) -> Result<Vec<Tensor>, ExecError> {
        let session = self.session(model)?;
        let mut session = session.lock().expect("session lock");
        let mut results = session.run(values).map_err(model_error)?;
        outputs
            .iter()
            .map(|name| {
                let value =
                    results.remove(name).ok_or_else(|| model_error(format!("the model has no output {name:?}")))?;
                let tensor = value
                    .downcast::<DynTensorValueType>()
                    .map_err(|_| model_error(format!("output {name:?} is not a tensor")))?;
                from_ort_tensor(name, &tensor)
            })
            .collect()
    }

    /// Runs chunk `chunk` of a batched task: its rows of every batched input, every constant
    /// whole, each read from its feed (in the task's order) once it has arrived.
    pub fn run_chunk(
        &self,
        task: &OnnxTask,
        model: &Model,
        inputs: &[Feed],
        chunk: u64,
    ) -> Result<Vec<Tensor>, ExecError> {
        self.run_rows(task, model, inputs, task.chunk(chunk))
    }

    /// Runs the model on `rows` of every batched input (consecutive chunks at once).
    fn run_rows(
        &self,
        task: &OnnxTask,
        model: &Model,
        inputs: &[Feed],
        rows: std::ops::Range<u64>,
    ) -> Result<Vec<Tensor>, ExecError> {
        let values = task
            .inputs
            .iter()
            .zip(inputs)
            .map(|(spec, feed)| {
                let (bytes, shape) = spec.rows_of(rows.clone());
                feed.read(bytes, |bytes| Ok((spec.name.clone(), to_ort(spec.dtype, &shape, bytes)?)))?
            })
            .collect::<Result<Vec<_>, ExecError>>()?;
        self.run_values(model, values, &task.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>())
    }

    /// Runs a batched task on `rows` rows fed just their bytes of each batched input (what a
    /// validator fetches by range, [`OnnxTask::input_range`]: one chunk's rows, or several
    /// chunks' laid end to end) and every constant whole, in the task's input order.
    pub fn run_fed(&self, task: &OnnxTask, model: &Model, fed: &[&[u8]], rows: u64) -> Result<Vec<Tensor>, ExecError> {
        let values = task
            .inputs
            .iter()
            .zip(fed)
            .map(|(spec, bytes)| {
                let (_, shape) = spec.rows_of(0..rows);
                Ok((spec.name.clone(), to_ort(spec.dtype, &shape, bytes)?))
            })
            .collect::<Result<Vec<_>, ExecError>>()?;
        self.run_values(model, values, &task.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>())
    }
}

/// Rows a node runs the model on at once: small chunks are run in groups (one ONNX Runtime call
/// per group, its outputs split back into chunks), so the fixed cost of a call is paid once per
/// group rather than once per chunk.
const GROUP_ROWS: u64 = 64;

/// Runs every chunk of `task` in order (blocking), emitting each chunk's outputs through `ctx`
/// as they are made, and stopping once `ctx` is cancelled. Chunk 0 runs alone; when its outputs
/// hold its rows on axis 0, small chunks then run in groups of about [`GROUP_ROWS`] rows (a
/// fixed-size output that happened to match a group's rows would otherwise be cut wrongly).
/// The first group takes chunk 0 again, and must give its outputs as they came alone, within the
/// outputs' tolerances: a model that mixes rows (a statistic over the batch) would otherwise
/// give grouped results that no validator's run of one chunk reproduces. Otherwise, and to name
/// the chunk that fails, one chunk at a time.
pub fn run_task(
    engine: &OnnxEngine,
    task: &OnnxTask,
    model: &Model,
    inputs: &[Feed],
    ctx: &super::RunContext,
) -> Result<super::Output, ExecError> {
    // A model that fails here fails for everyone: the node reports it.
    let alone = |chunk: u64| {
        engine.run_chunk(task, model, inputs, chunk).map_err(|e| match e {
            ExecError::Model(reason) => ExecError::InvalidTask { chunk, reason },
            e => e,
        })
    };
    let together = |members: std::ops::Range<u64>| {
        let rows = task.chunk(members.start).start..task.chunk(members.end - 1).end;
        let counts: Vec<u64> = members.map(|c| task.chunk_len(c)).collect();
        engine.run_rows(task, model, inputs, rows).ok().and_then(|outputs| split_rows(&outputs, &counts))
    };
    let chunks = task.chunks();
    let first = alone(0)?;
    let batch_major = first.iter().all(|t| t.shape.first() == Some(&task.chunk(0).end));
    let mut per_group =
        if batch_major && GROUP_ROWS > task.chunk_rows { (GROUP_ROWS / task.chunk_rows).max(1) } else { 1 };
    for t in &first {
        ctx.emit(t.clone());
    }
    ctx.progress(1.0 / chunks as f32);
    let (mut next, mut shown) = (1, false);
    while next < chunks {
        ctx.check()?;
        let members = next..(next + per_group).min(chunks);
        let from = if shown { members.start } else { 0 };
        let grouped = (members.end - members.start > 1).then(|| together(from..members.end)).flatten();
        let per_chunk = match grouped {
            Some(parts) if shown => parts,
            Some(mut parts) if agree(task, &parts[0], &first) => {
                shown = true;
                parts.remove(0);
                parts
            }
            _ => {
                per_group = 1;
                members.clone().map(alone).collect::<Result<Vec<_>, _>>()?
            }
        };
        for t in per_chunk.into_iter().flatten() {
            ctx.emit(t);
        }
        ctx.progress(members.end as f32 / chunks as f32);
        next = members.end;
    }
    Ok(super::Output::Emitted(chunks as usize * task.outputs.len()))
}

/// Whether two runs of one chunk agree within each output's tolerance.
fn agree(task: &OnnxTask, a: &[Tensor], b: &[Tensor]) -> bool {
    task.outputs
        .iter()
        .zip(a.iter().zip(b))
        .all(|(spec, (a, b))| a.mismatches(b, spec.tolerance_for(b.dtype)) == Some(0))
}

/// The outputs of a run over several chunks' rows laid end to end, cut back into each chunk's
/// outputs along axis 0 (`rows`: each chunk's row count, in order), or `None` when an output
/// does not hold all the rows on axis 0 (a reduction over the batch, say).
fn split_rows(outputs: &[Tensor], rows: &[u64]) -> Option<Vec<Vec<Tensor>>> {
    let total: u64 = rows.iter().sum();
    if total == 0 || outputs.iter().any(|t| t.shape.first() != Some(&total)) {
        return None;
    }
    let mut start = 0;
    let per_chunk = rows
        .iter()
        .map(|&n| {
            let part = outputs
                .iter()
                .map(|t| {
                    let row = t.data.len() as u64 / total;
                    let mut shape = t.shape.clone();
                    shape[0] = n;
                    Tensor {
                        dtype: t.dtype,
                        shape,
                        data: t.data[(start * row) as usize..((start + n) * row) as usize].to_vec(),
                    }
                })
                .collect();
            start += n;
            part
        })
        .collect();
    Some(per_chunk)
}

/// A chunk a validator re-runs: its rows of each batched input (in the task's order) and the
/// node's files for it (one per output).
#[derive(Debug, Clone)]
pub struct Pick {
    /// The chunk.
    pub chunk: u32,
    /// Its rows' bytes of each batched input.
    pub rows: Vec<Vec<u8>>,
    /// The node's `.npy` files of its outputs.
    pub files: Vec<Vec<u8>>,
}

/// A validator's re-run of the challenged chunks of a batched task (blocking): the first pick
/// alone, then every pick in one run of their rows laid end to end, trusted once the first pick
/// comes out of it as it did alone (a model that mixes rows gives other outputs in company, and
/// a node must give each chunk's own). A pick that disagrees with the joint run is run alone
/// before it fails. A node cannot profit from the joint run: matching it needs the secret picks.
/// `constants` holds each input in the task's order, whole for a constant and `None` for a
/// batched one (its rows are in the picks).
pub fn recheck(
    engine: &OnnxEngine,
    task: &OnnxTask,
    model: &Model,
    constants: &[Option<Vec<u8>>],
    picks: &[Pick],
    keys: &Keys,
) -> Result<Result<(), Failure>, ExecError> {
    let rows_of = |chunk: u32| task.chunk_len(u64::from(chunk));
    let check =
        |pick: &Pick, recomputed: &[Tensor]| verify::check_onnx_chunk(task, pick.chunk, &pick.files, recomputed, keys);
    // A pick run alone and checked: its outputs, or why the result fails.
    let alone = |pick: &Pick| {
        Ok(match engine.run_fed(task, model, &fed(constants, &pick.rows), rows_of(pick.chunk)) {
            Ok(outputs) => check(pick, &outputs).map(|()| outputs),
            // Inputs shorter than the task says: no result of it can be valid.
            Err(ExecError::Task(e)) => Err(Failure::Malformed(e)),
            Err(e) => return Err(e),
        })
    };
    let Some(head) = picks.first() else { return Ok(Ok(())) };
    let first = match alone(head)? {
        Ok(first) => first,
        Err(f) => return Ok(Err(f)),
    };
    let counts: Vec<u64> = picks.iter().map(|p| rows_of(p.chunk)).collect();
    let joined: Vec<Vec<u8>> = (0..task.inputs.iter().filter(|s| s.batched).count())
        .map(|i| picks.iter().flat_map(|p| p.rows[i].iter().copied()).collect())
        .collect();
    let together = (picks.len() > 1)
        .then(|| engine.run_fed(task, model, &fed(constants, &joined), counts.iter().sum()).ok())
        .flatten()
        .and_then(|outputs| split_rows(&outputs, &counts))
        .filter(|parts| agree(task, &parts[0], &first));
    for (i, pick) in picks.iter().enumerate().skip(1) {
        if together.as_ref().is_some_and(|parts| check(pick, &parts[i]).is_ok()) {
            continue;
        }
        if let Err(f) = alone(pick)? {
            return Ok(Err(f));
        }
    }
    Ok(Ok(()))
}

/// Each input's bytes in the task's order: the constants whole, the batched inputs' `rows`.
fn fed<'a>(constants: &'a [Option<Vec<u8>>], rows: &'a [Vec<u8>]) -> Vec<&'a [u8]> {
    let mut rows = rows.iter();
    constants.iter().map(|c| c.as_deref().unwrap_or_else(|| rows.next().map_or(&[][..], Vec::as_slice))).collect()
}

impl OnnxEngine {
    /// Runs segment `segment` of a step graph from `state` and returns the state after it
    /// (unmarked). `inputs` hold the bytes of [`OnnxStepsTask::fed`] in order.
    pub fn run_segment(
        &self,
        task: &OnnxStepsTask,
        model: &Model,
        inputs: &[Vec<u8>],
        mut state: Vec<Tensor>,
        segment: u32,
    ) -> Result<Vec<Tensor>, ExecError> {
        let others = &inputs[task.state.len()..];
        let next: Vec<&str> = task.state.iter().map(|s| s.next.name.as_str()).collect();
        for step in task.segment(segment) {
            let mut values = Vec::with_capacity(task.state.len() + task.inputs.len() + 1);
            for (spec, t) in task.state.iter().zip(&state) {
                values.push((spec.input.name.clone(), to_ort(t.dtype, &t.shape, &t.data)?));
            }
            if let Some(name) = &task.step_input {
                values.push((name.clone(), to_ort(DType::I64, &[], &i64::from(step).to_le_bytes())?));
            }
            for (spec, bytes) in task.inputs.iter().zip(others) {
                values.push((spec.name.clone(), step_value(spec, bytes, step)?));
            }
            state = self.run_values(model, values, &next)?;
            for (spec, t) in task.state.iter().zip(&state) {
                if t.dtype != spec.input.dtype || t.shape != spec.input.shape {
                    return Err(model_error(format!(
                        "{:?} gives {:?} {:?}, the state {:?} is {:?} {:?}",
                        spec.next.name, t.dtype, t.shape, spec.input.name, spec.input.dtype, spec.input.shape
                    )));
                }
            }
        }
        Ok(state)
    }
}

/// The initial state of a step graph, from the bytes of [`OnnxStepsTask::fed`].
pub fn initial_state(task: &OnnxStepsTask, inputs: &[Vec<u8>]) -> Result<Vec<Tensor>, ExecError> {
    task.state
        .iter()
        .zip(inputs)
        .map(|(s, bytes)| Ok(Tensor::new(s.input.dtype, s.input.shape.clone(), bytes.clone())?))
        .collect()
}

/// Runs every segment of a step graph (blocking), continuing from each checkpoint as marked, so
/// the marks are part of what the next segment computes. Emits every checkpoint's state tensors
/// through `ctx` as they are made, checkpoint-major, the initial state first and unmarked.
pub fn run_steps(
    engine: &OnnxEngine,
    task: &OnnxStepsTask,
    model: &Model,
    inputs: &[Vec<u8>],
    ctx: &super::RunContext,
) -> Result<super::Output, ExecError> {
    let mut state = initial_state(task, inputs)?;
    let segments = task.segments();
    for t in &state {
        ctx.emit(t.clone());
    }
    for segment in 0..segments {
        ctx.check()?;
        // A model that does not load or run fails on the first segment, for everyone.
        state = engine.run_segment(task, model, inputs, state, segment).map_err(|e| match e {
            ExecError::Model(reason) if segment == 0 => ExecError::InvalidTask { chunk: 0, reason },
            e => e,
        })?;
        for (k, t) in state.iter_mut().enumerate() {
            t.mark(&ctx.keys().watermark(Some(task.checkpoint_file(segment + 1, k) as u32)))?;
        }
        for t in &state {
            ctx.emit(t.clone());
        }
        ctx.progress((segment + 1) as f32 / segments as f32);
    }
    Ok(super::Output::Emitted((segments as usize + 1) * task.state.len()))
}

/// Step `step`'s slice of a per-step input (axis 0 = steps), or a constant whole.
fn step_value(spec: &TensorSpec, bytes: &[u8], step: u32) -> Result<DynTensor, ExecError> {
    if !spec.batched {
        return to_ort(spec.dtype, &spec.shape, bytes);
    }
    let row = spec.row_bytes() as usize;
    let start = step as usize * row;
    let data = bytes.get(start..start + row).ok_or(gpufuel_core::task::TaskError::Size {
        what: "ONNX step input",
        expected: spec.bytes(),
        got: bytes.len() as u64,
    })?;
    to_ort(spec.dtype, &spec.shape[1..], data)
}

fn to_ort_type(dtype: DType) -> TensorElementType {
    match dtype {
        DType::F32 => TensorElementType::Float32,
        DType::U8 => TensorElementType::Uint8,
        DType::I8 => TensorElementType::Int8,
        DType::I32 => TensorElementType::Int32,
        DType::I64 => TensorElementType::Int64,
        DType::Bool => TensorElementType::Bool,
        DType::F16 => TensorElementType::Float16,
        DType::F64 => TensorElementType::Float64,
        DType::BF16 => TensorElementType::Bfloat16,
    }
}

fn from_ort(t: TensorElementType) -> Option<DType> {
    DType::ALL.into_iter().find(|&d| to_ort_type(d) == t)
}

/// A CPU tensor of ONNX Runtime holding a copy of `bytes`, `shape` elements of `dtype`.
fn to_ort(dtype: DType, shape: &[u64], bytes: &[u8]) -> Result<DynTensor, ExecError> {
    let expected = shape.iter().product::<u64>() * dtype.size();
    if bytes.len() as u64 != expected {
        return Err(
            gpufuel_core::task::TaskError::Size { what: "ONNX input", expected, got: bytes.len() as u64 }.into()
        );
    }
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut value = DynTensor::new(&Allocator::default(), to_ort_type(dtype), dims).map_err(model_error)?;
    if !bytes.is_empty() {
        // SAFETY: the tensor was just allocated on the CPU for `shape` elements of `dtype`, which
        // is `bytes.len()` bytes (checked above); the regions cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), value.data_ptr_mut().cast::<u8>(), bytes.len()) };
    }
    Ok(value)
}

/// Copies an output out of ONNX Runtime.
fn from_ort_tensor(name: &str, value: &DynTensor) -> Result<Tensor, ExecError> {
    let dtype = from_ort(*value.data_type()).ok_or_else(|| {
        model_error(format!("output {name:?} has type {:?}, which jobs cannot return", value.data_type()))
    })?;
    let shape: Vec<u64> = value.shape().iter().map(|&d| d.max(0) as u64).collect();
    let len = shape.iter().product::<u64>() * dtype.size();
    let data = if len == 0 {
        vec![]
    } else {
        // SAFETY: ONNX Runtime returns outputs in CPU memory by default (no IO binding is used),
        // holding `shape` elements of `dtype`, contiguous and alive while `value` is.
        unsafe { std::slice::from_raw_parts(value.data_ptr().cast::<u8>(), len as usize) }.to_vec()
    };
    Ok(Tensor::new(dtype, shape, data)?)
}
