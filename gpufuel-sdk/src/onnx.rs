//! ONNX jobs from the submitter's side: [`OnnxJob`] builds a batched-inference task from a model
//! and its inputs, and [`outputs`] joins a settled job's chunk files back into whole tensors;
//! [`OnnxStepsJob`] builds an iterated step graph, whose result is its [`final_state`].

use gpufuel_core::task::{
    Task, TaskError,
    model::ModelInfo,
    onnx::{self, ModelRef, OnnxStepsTask, OnnxTask, OutputSpec, StateSpec, TensorSpec},
    tensor::Tensor,
};
use gpufuel_store::ContentStore;

use crate::ClientError;

/// Chunks a batch is cut into by default (fewer when it has fewer rows): each validator re-runs
/// 16 of them, so a node faking 10% of the chunks is caught with p > 0.99 by a committee of
/// three while a validator re-runs ~3% of the job (`proof::challenge`).
pub const DEFAULT_CHUNKS: u64 = 512;

/// Batched inference of an ONNX model: the builder of an [`OnnxTask`].
///
/// ```
/// use gpufuel_core::task::tensor::{DType, Tensor};
/// use gpufuel_sdk::onnx::OnnxJob;
///
/// let x = Tensor::new(DType::F32, vec![1000, 1, 8, 8], vec![0; 1000 * 64 * 4]).unwrap();
/// let job = OnnxJob::new(std::fs::read("../gpufuel-fixtures/models/classifier.onnx").unwrap())
///     .batched("x", x)
///     .output("logits")
///     .output("label");
/// assert_eq!(job.rows(), 1000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct OnnxJob {
    model: Vec<u8>,
    external: Vec<(String, Vec<u8>)>,
    inputs: Vec<(String, Tensor, bool)>,
    outputs: Vec<OutputSpec>,
    chunk_rows: Option<u64>,
    allow_non_finite: bool,
}

impl OnnxJob {
    /// A job running `model` (the `.onnx` bytes).
    pub fn new(model: impl Into<Vec<u8>>) -> Self {
        Self { model: model.into(), ..Self::default() }
    }

    /// An external-data file of the model, by the location the model gives it.
    pub fn external(mut self, location: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.external.push((location.into(), bytes.into()));
        self
    }

    /// An input split along axis 0 into chunks (every batched input has the same rows).
    pub fn batched(mut self, name: impl Into<String>, tensor: Tensor) -> Self {
        self.inputs.push((name.into(), tensor, true));
        self
    }

    /// An input fed whole to every chunk (weights, constants).
    pub fn constant(mut self, name: impl Into<String>, tensor: Tensor) -> Self {
        self.inputs.push((name.into(), tensor, false));
        self
    }

    /// An output returned, compared by validators within its dtype's default tolerance. With no
    /// output named, the job returns every output of the graph.
    pub fn output(self, name: impl Into<String>) -> Self {
        self.output_spec(OutputSpec::named(name))
    }

    /// An output returned, with its own tolerance or the scores it indexes.
    pub fn output_spec(mut self, spec: OutputSpec) -> Self {
        self.outputs.push(spec);
        self
    }

    /// Rows per chunk (default: the batch cut into at most [`DEFAULT_CHUNKS`] chunks).
    pub fn chunk_rows(mut self, rows: u64) -> Self {
        self.chunk_rows = Some(rows);
        self
    }

    /// Accept NaN and infinities in float inputs (default no: a non-finite input is refused, as
    /// it is most often a bug upstream of the job).
    pub fn allow_non_finite(mut self, allow: bool) -> Self {
        self.allow_non_finite = allow;
        self
    }

    /// Rows of the batch (1 when no input is batched).
    pub fn rows(&self) -> u64 {
        self.inputs.iter().find(|(_, _, batched)| *batched).and_then(|(_, t, _)| t.shape.first().copied()).unwrap_or(1)
    }

    /// Checks the job against the model file (operator domains, input names, dtypes and shapes,
    /// outputs: [`ModelInfo::check`]) and the limits, stores the model and inputs, and returns the
    /// task. Nothing is stored when the task is refused.
    pub async fn task(self, store: &dyn ContentStore) -> Result<Task, ClientError> {
        let rows = self.rows();
        let chunk_rows = self.chunk_rows.unwrap_or(rows.div_ceil(DEFAULT_CHUNKS).max(1));
        let model = unstored_model(&self.model, &self.external)?;
        let info = ModelInfo::parse(&self.model)?;
        let outputs = if self.outputs.is_empty() {
            info.outputs.iter().map(|o| OutputSpec::named(&o.name)).collect()
        } else {
            self.outputs
        };
        let mut task = OnnxTask {
            model,
            inputs: self.inputs.iter().map(|(n, t, batched)| unstored(n, t, *batched)).collect(),
            chunk_rows,
            outputs,
        };
        Task::Onnx(task.clone()).validate()?;
        info.check(&task)?;
        refuse_non_finite(self.inputs.iter().map(|(_, t, _)| t), self.allow_non_finite)?;
        store_model(store, &mut task.model, self.model, self.external).await?;
        for (spec, (_, t, _)) in task.inputs.iter_mut().zip(self.inputs) {
            spec.data = store.put(t.data).await?;
        }
        Ok(Task::Onnx(task))
    }
}

/// An iterated ONNX step graph: the builder of an [`OnnxStepsTask`]. Each step feeds the graph
/// its state, the step index (when the graph takes one, as an `int64` scalar), its slice of every
/// per-step input and the constants; the graph's next-state outputs become the state.
///
/// ```
/// use gpufuel_core::task::tensor::{DType, Tensor};
/// use gpufuel_sdk::onnx::OnnxStepsJob;
///
/// let z = Tensor::new(DType::F32, vec![4, 16], vec![0; 4 * 16 * 4]).unwrap();
/// let job = OnnxStepsJob::new(vec![/* the .onnx bytes */]).state("z", z, "z_next").step_input("t").steps(100, 10);
/// ```
#[derive(Debug, Clone, Default)]
pub struct OnnxStepsJob {
    model: Vec<u8>,
    external: Vec<(String, Vec<u8>)>,
    state: Vec<(String, Tensor, OutputSpec)>,
    step_input: Option<String>,
    inputs: Vec<(String, Tensor, bool)>,
    steps: u32,
    checkpoint_every: u32,
    allow_non_finite: bool,
}

impl OnnxStepsJob {
    /// A step graph running `model` (the `.onnx` bytes).
    pub fn new(model: impl Into<Vec<u8>>) -> Self {
        Self { model: model.into(), ..Self::default() }
    }

    /// An external-data file of the model, by the location the model gives it.
    pub fn external(mut self, location: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.external.push((location.into(), bytes.into()));
        self
    }

    /// A state tensor: the graph input `name`, its initial value, and the output `next` holding
    /// its value after a step (compared within its dtype's default tolerance).
    pub fn state(self, name: impl Into<String>, initial: Tensor, next: impl Into<String>) -> Self {
        self.state_spec(name, initial, OutputSpec::named(next))
    }

    /// A state tensor whose next value is compared as `next` says.
    pub fn state_spec(mut self, name: impl Into<String>, initial: Tensor, next: OutputSpec) -> Self {
        self.state.push((name.into(), initial, next));
        self
    }

    /// The graph input fed the step index.
    pub fn step_input(mut self, name: impl Into<String>) -> Self {
        self.step_input = Some(name.into());
        self
    }

    /// An input with one slice per step along axis 0.
    pub fn per_step(mut self, name: impl Into<String>, tensor: Tensor) -> Self {
        self.inputs.push((name.into(), tensor, true));
        self
    }

    /// An input fed whole to every step.
    pub fn constant(mut self, name: impl Into<String>, tensor: Tensor) -> Self {
        self.inputs.push((name.into(), tensor, false));
        self
    }

    /// `steps` steps, checkpointed every `checkpoint_every` (each checkpoint a segment that
    /// validators may re-run from the one before it).
    pub fn steps(mut self, steps: u32, checkpoint_every: u32) -> Self {
        (self.steps, self.checkpoint_every) = (steps, checkpoint_every);
        self
    }

    /// Accept NaN and infinities in the initial state and float inputs (default no, as for
    /// [`OnnxJob::allow_non_finite`]).
    pub fn allow_non_finite(mut self, allow: bool) -> Self {
        self.allow_non_finite = allow;
        self
    }

    /// Checks the job against the model file and the limits, stores the model and inputs, and
    /// returns the task. Nothing is stored when the task is refused.
    pub async fn task(self, store: &dyn ContentStore) -> Result<Task, ClientError> {
        let mut task = OnnxStepsTask {
            model: unstored_model(&self.model, &self.external)?,
            state: self
                .state
                .iter()
                .map(|(n, t, next)| StateSpec { input: unstored(n, t, false), next: next.clone() })
                .collect(),
            step_input: self.step_input,
            inputs: self.inputs.iter().map(|(n, t, b)| unstored(n, t, *b)).collect(),
            steps: self.steps,
            checkpoint_every: self.checkpoint_every,
        };
        Task::OnnxSteps(task.clone()).validate()?;
        ModelInfo::parse(&self.model)?.check_steps(&task)?;
        let tensors = self.state.iter().map(|(_, t, _)| t).chain(self.inputs.iter().map(|(_, t, _)| t));
        refuse_non_finite(tensors, self.allow_non_finite)?;
        store_model(store, &mut task.model, self.model, self.external).await?;
        for (spec, (_, t, _)) in task.state.iter_mut().zip(self.state) {
            spec.input.data = store.put(t.data).await?;
        }
        for (spec, (_, t, _)) in task.inputs.iter_mut().zip(self.inputs) {
            spec.data = store.put(t.data).await?;
        }
        Ok(Task::OnnxSteps(task))
    }
}

/// A float tensor holding NaN or an infinity is refused unless `allowed`.
fn refuse_non_finite<'a>(mut tensors: impl Iterator<Item = &'a Tensor>, allowed: bool) -> Result<(), TaskError> {
    if !allowed && tensors.any(|t| t.dtype.is_float() && t.to_f64s().iter().any(|v| !v.is_finite())) {
        return Err(TaskError::Invalid("a float input holds NaN or an infinity (allow_non_finite sends it)"));
    }
    Ok(())
}

/// A tensor's spec before its data is stored (its CID is filled in then).
fn unstored(name: &str, t: &Tensor, batched: bool) -> TensorSpec {
    TensorSpec { name: name.to_string(), dtype: t.dtype, shape: t.shape.clone(), data: Default::default(), batched }
}

/// The model's reference before its files are stored; a model over protobuf's limit is refused.
fn unstored_model(model: &[u8], external: &[(String, Vec<u8>)]) -> Result<ModelRef, ClientError> {
    if model.len() as u64 > onnx::MAX_MODEL_BYTES {
        return Err(TaskError::Invalid("the model exceeds 2 GiB (put its weights in external data)").into());
    }
    Ok(ModelRef {
        model: Default::default(),
        external: external.iter().map(|(l, _)| (l.clone(), Default::default())).collect(),
    })
}

/// Stores the model and its external-data files, filling in their CIDs.
async fn store_model(
    store: &dyn ContentStore,
    r: &mut ModelRef,
    model: Vec<u8>,
    external: Vec<(String, Vec<u8>)>,
) -> Result<(), ClientError> {
    r.model = store.put(model).await?;
    for ((_, cid), (_, bytes)) in r.external.iter_mut().zip(external) {
        *cid = store.put(bytes).await?;
    }
    Ok(())
}

/// A step graph's final state, by state name, from its result's output files.
pub fn final_state(task: &OnnxStepsTask, files: &[Vec<u8>]) -> Result<Vec<(String, Tensor)>, ClientError> {
    if files.len() != task.state.len() {
        return Err(TaskError::Invalid("the result does not have one file per state tensor").into());
    }
    task.state.iter().zip(files).map(|(s, f)| Ok((s.input.name.clone(), Tensor::from_npy(f)?))).collect()
}

/// Joins a batched job's chunk files into one tensor per output, concatenated along axis 0 (a
/// chunk's outputs hold its rows), in the task's output order with their names.
pub fn outputs(task: &OnnxTask, files: &[Vec<u8>]) -> Result<Vec<(String, Tensor)>, ClientError> {
    let per_chunk = task.outputs.len();
    if files.len() as u64 != task.chunks() * per_chunk as u64 {
        return Err(TaskError::Invalid("the result does not have one file per chunk and output").into());
    }
    let mut joined: Vec<Option<Tensor>> = vec![None; per_chunk];
    for (i, bytes) in files.iter().enumerate() {
        let part = Tensor::from_npy(bytes)?;
        let slot = &mut joined[i % per_chunk];
        match slot {
            None => *slot = Some(part),
            Some(whole) => {
                if whole.dtype != part.dtype || whole.shape.get(1..) != part.shape.get(1..) || whole.shape.is_empty() {
                    return Err(TaskError::Invalid("chunk outputs differ in type or trailing shape").into());
                }
                whole.shape[0] += part.shape[0];
                whole.data.extend_from_slice(&part.data);
            }
        }
    }
    Ok(task.outputs.iter().map(|o| o.name.clone()).zip(joined.into_iter().flatten()).collect())
}
