//! ONNX jobs: batched inference ([`OnnxTask`]) and iterated step graphs ([`OnnxStepsTask`]).
//!
//! A batched job splits its batched inputs along axis 0 into chunks of `chunk_rows` rows; every
//! other input (weights, constants) goes whole to every chunk. The result holds one file per chunk
//! and output, chunk-major ([`OnnxTask::output_file`]), committed like every result. A validator
//! re-runs sampled chunks on its own engine and compares each output within its [`OutputSpec`]'s
//! tolerance; chunks play the role segments play for iterative work, so detection follows
//! [`challenge::committee_escape_probability`](crate::proof::challenge::committee_escape_probability).
//!
//! A step graph maps `(state, step index, step data) → next state`; the node runs `steps` steps
//! and checkpoints the state every `checkpoint_every` steps; a validator re-runs sampled segments
//! from the committed checkpoint before them.
//!
//! Discrete outputs (argmax, top-k indices) computed from near-tied scores may differ between
//! engines; an output with [`OutputSpec::scores`] is accepted where the node's index scores, by the
//! validator's own recomputed scores, within the tolerance of the validator's choice
//! ([`indices_agree`]).

use borsh::{BorshDeserialize, BorshSerialize};

use super::{TaskError, tensor::DType};
use crate::{cid::Cid, proof::challenge::Tolerance};

/// Largest model file (ONNX's protobuf limit is 2 GiB; larger weights go in external data).
pub const MAX_MODEL_BYTES: u64 = 2 << 30;
/// Most external-data files of one model.
pub const MAX_EXTERNAL_FILES: usize = 64;
/// Most inputs or outputs of one job.
pub const MAX_TENSORS: usize = 64;
/// Most dimensions of one tensor.
pub const MAX_RANK: usize = 8;
/// Most chunks of a batched job.
pub const MAX_CHUNKS: u64 = 1 << 16;
/// Most steps of a step graph.
pub const MAX_STEPS: u32 = 1 << 24;
/// Operator domains a model may use: ONNX's own. Custom domains name code a node would have to
/// trust, so they are refused before anything is submitted.
pub const ALLOWED_DOMAINS: &[&str] = &["", "ai.onnx", "ai.onnx.ml"];

/// A named input tensor and the file holding its values (little-endian, row-major).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TensorSpec {
    /// The graph input's name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions (all ≥ 1; the whole batch for a batched input).
    pub shape: Vec<u64>,
    /// The values.
    pub data: Cid,
    /// Split along axis 0 into chunks (batched inference) or steps (a step graph's data).
    pub batched: bool,
}

impl TensorSpec {
    /// Elements of the whole tensor.
    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }

    /// Bytes of the whole tensor.
    pub fn bytes(&self) -> u64 {
        self.elements() * self.dtype.size()
    }

    /// Bytes of one slice along axis 0.
    pub fn row_bytes(&self) -> u64 {
        self.shape.get(1..).unwrap_or_default().iter().product::<u64>() * self.dtype.size()
    }

    /// The bytes that `rows` of the batch read, and their shape: those rows of a batched input,
    /// all of a constant.
    pub fn rows_of(&self, rows: core::ops::Range<u64>) -> (core::ops::Range<u64>, Vec<u64>) {
        if !self.batched {
            return (0..self.bytes(), self.shape.clone());
        }
        let mut shape = self.shape.clone();
        shape[0] = rows.end - rows.start;
        (rows.start * self.row_bytes()..rows.end * self.row_bytes(), shape)
    }

    fn validate(&self) -> Result<(), TaskError> {
        if self.name.is_empty() {
            return Err(TaskError::Invalid("a tensor needs a name"));
        }
        // Scalars and empty tensors are valid constants; a batched input has rows to split.
        if self.shape.len() > MAX_RANK || (self.batched && self.shape.first().is_none_or(|&rows| rows == 0)) {
            return Err(TaskError::Invalid("a tensor has at most 8 dimensions; a batched one at least one row"));
        }
        let elements = self.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
        if elements.is_none_or(|n| n > super::MAX_ELEMENTS) {
            return Err(TaskError::Invalid("a tensor exceeds 2^30 elements"));
        }
        Ok(())
    }
}

/// An output the job returns, and how a validator compares it.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct OutputSpec {
    /// The graph output's name.
    pub name: String,
    /// The comparison; `None` takes the dtype's [`DType::default_tolerance`].
    pub tolerance: Option<Tolerance>,
    /// For an index output (argmax, top-k over the last axis): the float output of the same graph
    /// holding the scores it indexes, so a near-tie is judged by score, not by index.
    pub scores: Option<String>,
}

impl OutputSpec {
    /// An output compared with its dtype's default tolerance.
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: name.into(), tolerance: None, scores: None }
    }

    /// The tolerance that applies for an output of `dtype`.
    pub fn tolerance_for(&self, dtype: DType) -> Tolerance {
        self.tolerance.unwrap_or(dtype.default_tolerance())
    }
}

/// The model: its file, and its external-data files by the `location` the model names them by.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ModelRef {
    /// The `.onnx` file.
    pub model: Cid,
    /// External-data files: `(location, file)`.
    pub external: Vec<(String, Cid)>,
}

impl ModelRef {
    fn validate(&self) -> Result<(), TaskError> {
        if self.external.len() > MAX_EXTERNAL_FILES {
            return Err(TaskError::Invalid("a model has at most 64 external-data files"));
        }
        // A location is a file name beside the model: no path may leave the job's directory.
        let plain = |l: &str| !l.is_empty() && !l.contains(['/', '\\']) && l != "." && l != "..";
        if !self.external.iter().all(|(l, _)| plain(l)) {
            return Err(TaskError::Invalid("an external-data location must be a plain file name"));
        }
        Ok(())
    }
}

/// Batched inference of an ONNX model.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct OnnxTask {
    /// The model.
    pub model: ModelRef,
    /// Every graph input the job feeds.
    pub inputs: Vec<TensorSpec>,
    /// Rows of the batched inputs per chunk.
    pub chunk_rows: u64,
    /// The outputs returned, in this order in each chunk.
    pub outputs: Vec<OutputSpec>,
}

impl OnnxTask {
    /// Rows of the batch: axis 0 of the batched inputs (which must agree).
    pub fn rows(&self) -> u64 {
        self.inputs.iter().find(|t| t.batched).map_or(1, |t| t.shape[0])
    }

    /// Chunks the batch is split into.
    pub fn chunks(&self) -> u64 {
        self.rows().div_ceil(self.chunk_rows)
    }

    /// Rows `start..end` of chunk `i`.
    pub fn chunk(&self, i: u64) -> core::ops::Range<u64> {
        let start = i * self.chunk_rows;
        start..(start + self.chunk_rows).min(self.rows())
    }

    /// Rows in chunk `i` (the last may be short).
    pub fn chunk_len(&self, i: u64) -> u64 {
        let rows = self.chunk(i);
        rows.end - rows.start
    }

    /// Byte range of `input` that chunk `i` reads: its rows for a batched input, all of it else.
    pub fn input_range(&self, input: &TensorSpec, i: u64) -> core::ops::Range<u64> {
        input.rows_of(self.chunk(i)).0
    }

    /// Index in the result manifest's outputs of chunk `i`'s output `j`.
    pub fn output_file(&self, i: u64, j: usize) -> usize {
        i as usize * self.outputs.len() + j
    }

    /// Checks names, shapes and limits.
    pub fn validate(&self) -> Result<(), TaskError> {
        self.model.validate()?;
        tensors(&self.inputs.iter().collect::<Vec<_>>())?;
        outputs(&self.outputs.iter().collect::<Vec<_>>())?;
        let rows = self.rows();
        if !self.inputs.iter().filter(|t| t.batched).all(|t| t.shape[0] == rows) {
            return Err(TaskError::Invalid("batched inputs must have the same rows (axis 0)"));
        }
        if self.chunk_rows == 0 || self.chunks() > MAX_CHUNKS {
            return Err(TaskError::Invalid("chunk_rows must be at least 1 and give at most 2^16 chunks"));
        }
        Ok(())
    }
}

/// One state tensor of a step graph: its initial value, and the output that is its next value.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct StateSpec {
    /// The graph input and its initial value (not batched).
    pub input: TensorSpec,
    /// The graph output holding the next state, and how it is compared.
    pub next: OutputSpec,
}

/// An iterated step graph: `steps` applications of the model to its own state.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct OnnxStepsTask {
    /// The model.
    pub model: ModelRef,
    /// The state carried from step to step (the checkpoints).
    pub state: Vec<StateSpec>,
    /// The `int64` scalar input fed the step index, if the graph takes one.
    pub step_input: Option<String>,
    /// Other inputs: batched ones give step `t` their slice `t` (axis 0 has `steps` rows),
    /// the others are constants.
    pub inputs: Vec<TensorSpec>,
    /// Steps run.
    pub steps: u32,
    /// Steps between checkpoints.
    pub checkpoint_every: u32,
}

impl OnnxStepsTask {
    /// Checkpointed segments (the last may be shorter).
    pub fn segments(&self) -> u32 {
        self.steps.div_ceil(self.checkpoint_every)
    }

    /// Steps `start..end` of segment `s`.
    pub fn segment(&self, s: u32) -> core::ops::Range<u32> {
        let start = s * self.checkpoint_every;
        start..(start + self.checkpoint_every).min(self.steps)
    }

    /// Index in the result manifest's checkpoints of checkpoint `i`'s state tensor `k`
    /// (checkpoint 0 is the initial state; checkpoint `i` the state after segment `i − 1`).
    pub fn checkpoint_file(&self, i: u32, k: usize) -> usize {
        i as usize * self.state.len() + k
    }

    /// Every input the graph is fed, in the order the node fetches them: the state's initial
    /// values, then the other inputs.
    pub fn fed(&self) -> impl Iterator<Item = &TensorSpec> {
        self.state.iter().map(|s| &s.input).chain(&self.inputs)
    }

    /// Checks names, shapes and limits.
    pub fn validate(&self) -> Result<(), TaskError> {
        self.model.validate()?;
        if self.state.is_empty() {
            return Err(TaskError::Invalid("a step graph needs a state"));
        }
        if self.state.iter().any(|s| s.input.batched) {
            return Err(TaskError::Invalid("a state tensor is not batched"));
        }
        let fed: Vec<&TensorSpec> = self.state.iter().map(|s| &s.input).chain(&self.inputs).collect();
        tensors(&fed)?;
        outputs(&self.state.iter().map(|s| &s.next).collect::<Vec<_>>())?;
        if self.step_input.as_ref().is_some_and(|n| n.is_empty() || fed.iter().any(|t| &t.name == n)) {
            return Err(TaskError::Invalid("the step input needs its own name"));
        }
        if !(1..=MAX_STEPS).contains(&self.steps) || self.checkpoint_every == 0 {
            return Err(TaskError::Invalid("steps must be 1 to 2^24, checkpoint_every at least 1"));
        }
        if self.segments() > super::MAX_SEGMENTS {
            return Err(TaskError::Invalid("at most 2^16 checkpoints"));
        }
        if !self.inputs.iter().filter(|t| t.batched).all(|t| t.shape[0] == u64::from(self.steps)) {
            return Err(TaskError::Invalid("a batched input of a step graph has one slice per step"));
        }
        Ok(())
    }
}

/// Refuses an operator domain outside [`ALLOWED_DOMAINS`].
pub fn check_domain(domain: &str) -> Result<(), TaskError> {
    if ALLOWED_DOMAINS.contains(&domain) {
        Ok(())
    } else {
        Err(TaskError::Unsupported(format!("operator domain {domain:?}")))
    }
}

fn tensors(inputs: &[&TensorSpec]) -> Result<(), TaskError> {
    if inputs.is_empty() || inputs.len() > MAX_TENSORS {
        return Err(TaskError::Invalid("a job feeds 1 to 64 inputs"));
    }
    for (i, t) in inputs.iter().enumerate() {
        t.validate()?;
        if inputs[..i].iter().any(|u| u.name == t.name) {
            return Err(TaskError::Invalid("input names must be distinct"));
        }
    }
    Ok(())
}

fn outputs(outputs: &[&OutputSpec]) -> Result<(), TaskError> {
    if outputs.is_empty() || outputs.len() > MAX_TENSORS {
        return Err(TaskError::Invalid("a job returns 1 to 64 outputs"));
    }
    for (i, o) in outputs.iter().enumerate() {
        if o.name.is_empty() || outputs[..i].iter().any(|p| p.name == o.name) {
            return Err(TaskError::Invalid("output names must be distinct and not empty"));
        }
        if o.tolerance.is_some_and(|t| !(t.rel >= 0.0 && t.abs >= 0.0 && t.rel.is_finite() && t.abs.is_finite())) {
            return Err(TaskError::Invalid("a tolerance is finite and not negative"));
        }
        if o.scores.as_ref().is_some_and(|s| s == &o.name || !outputs.iter().any(|p| &p.name == s)) {
            return Err(TaskError::Invalid("an index output's scores must be another output of the job"));
        }
    }
    Ok(())
}

/// Whether the node's `indices` (`k` per row) agree with the validator's `recomputed` ones, given
/// the validator's recomputed `scores` (`width` per row): equal, or each differing index scores
/// within `tol` of the validator's lowest pick in that row, so a near-tie resolved the other way
/// passes and a wrong pick does not.
pub fn indices_agree(indices: &[i64], recomputed: &[i64], scores: &[f32], width: usize, tol: Tolerance) -> bool {
    let rows = if width == 0 || !scores.len().is_multiple_of(width) { 0 } else { scores.len() / width };
    if rows == 0 || indices.is_empty() || !indices.len().is_multiple_of(rows) || indices.len() != recomputed.len() {
        return false;
    }
    let k = indices.len() / rows;
    indices.chunks(k).zip(recomputed.chunks(k)).zip(scores.chunks(width)).all(|((mine, theirs), row)| {
        let score = |i: i64| usize::try_from(i).ok().and_then(|i| row.get(i).copied());
        let Some(floor) = theirs.iter().map(|&i| score(i)).try_fold(f32::INFINITY, |m, s| s.map(|s| m.min(s))) else {
            return false;
        };
        mine.iter().enumerate().all(|(j, &i)| {
            i == theirs[j]
                || score(i).is_some_and(|s| {
                    // No index twice in a row, and within tolerance of the validator's pick.
                    !mine[..j].contains(&i) && s >= floor - (tol.abs + tol.rel * floor.abs())
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::tests::cid;

    fn tensor(name: &str, shape: &[u64], batched: bool) -> TensorSpec {
        TensorSpec { name: name.into(), dtype: DType::F32, shape: shape.to_vec(), data: cid(1), batched }
    }

    fn classifier(rows: u64, chunk_rows: u64) -> OnnxTask {
        OnnxTask {
            model: ModelRef { model: cid(9), external: vec![] },
            inputs: vec![tensor("x", &[rows, 3, 8, 8], true), tensor("w", &[16, 3, 3, 3], false)],
            chunk_rows,
            outputs: vec![
                OutputSpec::named("logits"),
                OutputSpec { name: "label".into(), tolerance: None, scores: Some("logits".into()) },
            ],
        }
    }

    #[test]
    fn batches_split_into_chunks_and_constants_go_whole() {
        let t = classifier(1000, 64);
        t.validate().unwrap();
        assert_eq!((t.rows(), t.chunks()), (1000, 16));
        assert_eq!(t.chunk(15), 960..1000);
        assert_eq!((t.chunk_len(0), t.chunk_len(15)), (64, 40), "the last chunk is short");
        let row = 3 * 8 * 8 * 4;
        assert_eq!(t.input_range(&t.inputs[0], 1), 64 * row..128 * row);
        assert_eq!(t.input_range(&t.inputs[0], 15), 960 * row..1000 * row);
        assert_eq!(t.input_range(&t.inputs[1], 7), 0..16 * 27 * 4);
        assert_eq!(t.output_file(3, 1), 7);
    }

    #[test]
    fn bad_tasks_are_refused() {
        let bad = |f: fn(&mut OnnxTask)| {
            let mut t = classifier(100, 10);
            f(&mut t);
            assert!(matches!(t.validate(), Err(TaskError::Invalid(_))), "{t:?}");
        };
        bad(|t| t.chunk_rows = 0);
        bad(|t| t.inputs[0].shape = vec![1 << 20, 1 << 11]);
        bad(|t| t.inputs[0].shape = vec![]);
        bad(|t| t.inputs[0].shape[0] = 0);
        bad(|t| t.inputs[1].shape = vec![1; 9]);
        bad(|t| t.inputs[1].name = "x".into());
        bad(|t| t.inputs.push(tensor("y", &[99, 2], true)));
        bad(|t| t.outputs.clear());
        bad(|t| t.outputs[1].scores = Some("label".into()));
        bad(|t| t.outputs[0].tolerance = Some(Tolerance { rel: f32::NAN, abs: 0.0 }));
        bad(|t| t.model.external.push(("../etc/passwd".into(), cid(2))));
        let mut t = classifier(100, 10);
        t.chunk_rows = 1;
        t.inputs[0].shape[0] = 1 << 16;
        t.validate().unwrap();
        // Scalar and empty constants are valid.
        t.inputs[1].shape = vec![];
        t.validate().unwrap();
        t.inputs[1].shape = vec![0, 3];
        t.validate().unwrap();
        assert_eq!(check_domain("ai.onnx.ml"), Ok(()));
        assert!(matches!(check_domain("com.example"), Err(TaskError::Unsupported(_))));
    }

    #[test]
    fn step_graphs_checkpoint_every_k_steps() {
        let t = OnnxStepsTask {
            model: ModelRef { model: cid(9), external: vec![] },
            state: vec![StateSpec { input: tensor("z", &[4, 64], false), next: OutputSpec::named("z_next") }],
            step_input: Some("t".into()),
            inputs: vec![tensor("noise", &[50, 4, 64], true)],
            steps: 50,
            checkpoint_every: 8,
        };
        t.validate().unwrap();
        assert_eq!((t.segments(), t.segment(6)), (7, 48..50));
        let mut short = t.clone();
        short.inputs[0].shape[0] = 49;
        assert!(short.validate().is_err());
        let mut clash = t.clone();
        clash.step_input = Some("z".into());
        assert!(clash.validate().is_err());
    }

    #[test]
    fn near_ties_pass_and_wrong_picks_fail() {
        let tol = DType::F32.default_tolerance();
        // Row 0: a near-tie between 1 and 2; row 1: a clear winner.
        let scores = [0.1, 0.70000, 0.69999, 0.0, 0.3, 0.9];
        assert!(indices_agree(&[1, 2], &[1, 2], &scores, 3, tol));
        assert!(indices_agree(&[2, 2], &[1, 2], &scores, 3, tol));
        assert!(!indices_agree(&[0, 2], &[1, 2], &scores, 3, tol));
        assert!(!indices_agree(&[1, 1], &[1, 2], &scores, 3, tol));
        assert!(!indices_agree(&[1, 7], &[1, 2], &scores, 3, tol));
        assert!(!indices_agree(&[1], &[1, 2], &scores, 3, tol));
        // Top-2 per row: a repeated index never passes.
        assert!(indices_agree(&[2, 1, 2, 1], &[1, 2, 2, 1], &scores, 3, tol));
        assert!(!indices_agree(&[1, 1, 2, 1], &[1, 2, 2, 1], &scores, 3, tol));
    }

    #[test]
    fn tasks_round_trip() {
        let t = classifier(10, 3);
        assert_eq!(OnnxTask::try_from_slice(&borsh::to_vec(&t).unwrap()).unwrap(), t);
    }
}
