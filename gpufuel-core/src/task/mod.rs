//! What a job computes and how its result is laid out: the protocol between submitters, nodes and
//! validators above the chain.
//!
//! A job's input CID names a [`Task`] (borsh, behind [`TASK_MAGIC`]); the task names its data by
//! CID. A node's result CID names a [`ResultManifest`] listing the output and checkpoint files, and
//! the commitment posted on chain is [`ResultManifest::commitment`]. Numeric data is little-endian
//! `f32`, row-major. [`verify`] holds the checks a validator runs on each kind; [`onnx`] the ONNX
//! jobs' shapes, limits and comparisons, [`model`] what an ONNX model file declares, [`tensor`] the
//! `.npy` tensors ONNX jobs return; [`mlp`] the deterministic training step of [`IterativeTask`].

pub mod mlp;
pub mod model;
pub mod onnx;
pub mod tensor;
pub mod verify;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::{
    cid::Cid,
    proof::{Hash, ProofError, freivalds::Precision, merkle::MerkleTree},
    state::{Job, Workload},
};

/// Prefix of an encoded task (and of a result manifest, with `R` instead of `T`), so a file that
/// is not one is refused before decoding.
pub const TASK_MAGIC: &[u8; 8] = b"GPUFT\x00\x01T";
const RESULT_MAGIC: &[u8; 8] = b"GPUFT\x00\x01R";
const INVALID_MAGIC: &[u8; 8] = b"GPUFT\x00\x01I";
/// Longest reason an invalid-task report carries.
pub const MAX_REASON: usize = 1024;
/// Largest dimension of a task's matrices or model.
pub const MAX_DIM: u32 = 1 << 20;
/// Most elements of one tensor (4 GiB of `f32`).
pub const MAX_ELEMENTS: u64 = 1 << 30;
/// Most segments (checkpoints) of an iterative task.
pub const MAX_SEGMENTS: u32 = 1 << 16;
/// Relative change a watermark may make: one `f32` ulp (2^-23) fits; a `bf16` ulp needs its own.
pub const MARK_TOLERANCE: f64 = 1e-6;
/// Relative change a watermark may make to a `bf16` output (one ulp is 2^-8).
pub const MARK_TOLERANCE_BF16: f64 = 1.0 / 128.0;

/// Why a task, manifest or tensor is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The bytes are not an encoded task or manifest.
    #[error("not a GPUFuel {0} (bad magic or encoding)")]
    Encoding(&'static str),
    /// The task breaks a rule or a limit.
    #[error("invalid task: {0}")]
    Invalid(&'static str),
    /// A file does not have the size the task gives it.
    #[error("{what}: {got} bytes is not {expected} bytes")]
    Size {
        /// Which file.
        what: &'static str,
        /// Bytes the task needs.
        expected: u64,
        /// Bytes it has.
        got: u64,
    },
    /// The job does not fit the model's signature (an input name, dtype or shape, an output).
    #[error("the job does not fit the model: {0}")]
    Signature(String),
    /// The task needs something this protocol does not run (a custom operator domain, say).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The data fails a proof primitive's own checks.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// A matrix product `C = A·B`, verified by Freivalds' algorithm.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MatMulTask {
    /// Rows of `A` and `C`.
    pub m: u32,
    /// Columns of `A`, rows of `B`.
    pub k: u32,
    /// Columns of `B` and `C`.
    pub n: u32,
    /// Output format: `f32`, or `bf16` rounded from an `f32` accumulation.
    pub output: Precision,
    /// `A`, `m×k` `f32`.
    pub a: Cid,
    /// `B`, `k×n` `f32`.
    pub b: Cid,
}

/// Mini-batch SGD of a one-hidden-layer MLP ([`mlp`]), checkpointed after every segment and
/// verified by re-executing sampled segments.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub struct IterativeTask {
    /// The model trained.
    pub model: mlp::Mlp,
    /// Training rows in `data`.
    pub rows: u32,
    /// Rows per step.
    pub batch: u32,
    /// SGD step size.
    pub learning_rate: f32,
    /// Checkpointed segments.
    pub segments: u32,
    /// Steps between checkpoints.
    pub steps_per_segment: u32,
    /// `x` (`rows×inputs`) then `y` (`rows`), `f32`.
    pub data: Cid,
    /// Initial parameters ([`mlp::Mlp::params`] values).
    pub init: Cid,
}

/// Source of a user kernel.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum KernelSource {
    /// PTX assembly, loaded as is.
    Ptx(String),
    /// CUDA C, compiled by NVRTC on the node.
    CudaC(String),
}

/// A device buffer of a kernel: uploaded from `input` (or zeroed), and returned when `output`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct KernelBuffer {
    /// Size in bytes.
    pub bytes: u64,
    /// The file uploaded into it before the launch (zeroed when `None`).
    pub input: Option<Cid>,
    /// Whether it is downloaded after the launch and returned.
    pub output: bool,
}

/// A user CUDA kernel: parameters are the buffers' device pointers in order, then `scalars`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct KernelTask {
    /// The kernel's code.
    pub source: KernelSource,
    /// The entry point's name.
    pub entry: String,
    /// Grid dimensions, in blocks.
    pub grid: [u32; 3],
    /// Block dimensions, in threads.
    pub block: [u32; 3],
    /// Dynamic shared memory per block.
    pub shared_mem_bytes: u32,
    /// Device buffers, passed as pointers in this order.
    pub buffers: Vec<KernelBuffer>,
    /// Scalar parameters after the buffers.
    pub scalars: Vec<u32>,
}

/// What a job computes.
#[derive(Debug, Clone, PartialEq, BorshSerialize, BorshDeserialize)]
pub enum Task {
    /// A matrix product.
    MatMul(MatMulTask),
    /// Training steps of the MLP.
    Iterative(IterativeTask),
    /// A user CUDA kernel.
    Kernel(KernelTask),
    /// Batched inference of an ONNX model.
    Onnx(onnx::OnnxTask),
    /// An iterated ONNX step graph.
    OnnxSteps(onnx::OnnxStepsTask),
}

impl Task {
    /// The workload kind the job must be created with.
    pub fn workload(&self) -> Workload {
        match self {
            Self::MatMul(_) => Workload::MatMul,
            Self::Iterative(_) => Workload::Iterative,
            Self::Kernel(_) => Workload::Kernel,
            Self::Onnx(_) => Workload::Onnx,
            Self::OnnxSteps(_) => Workload::OnnxSteps,
        }
    }

    /// The files the task names (its inputs, model and initial values), in task order.
    pub fn files(&self) -> Vec<Cid> {
        let model =
            |m: &onnx::ModelRef| [&[m.model][..], &m.external.iter().map(|(_, c)| *c).collect::<Vec<_>>()].concat();
        match self {
            Self::MatMul(t) => vec![t.a, t.b],
            Self::Iterative(t) => vec![t.data, t.init],
            Self::Kernel(t) => t.buffers.iter().filter_map(|b| b.input).collect(),
            Self::Onnx(t) => [model(&t.model), t.inputs.iter().map(|i| i.data).collect()].concat(),
            Self::OnnxSteps(t) => {
                let state = t.state.iter().map(|s| s.input.data);
                [model(&t.model), state.chain(t.inputs.iter().map(|i| i.data)).collect()].concat()
            }
        }
    }

    /// Checks sizes and limits.
    pub fn validate(&self) -> Result<(), TaskError> {
        match self {
            Self::MatMul(t) => {
                dims(&[t.m, t.k, t.n])?;
                elements(&[(t.m, t.k), (t.k, t.n), (t.m, t.n)])
            }
            Self::Iterative(t) => {
                t.model.validate()?;
                dims(&[t.rows, t.batch, t.segments, t.steps_per_segment])?;
                elements(&[(t.rows, t.model.inputs + 1)])?;
                if t.segments > MAX_SEGMENTS {
                    return Err(TaskError::Invalid("too many segments"));
                }
                if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
                    return Err(TaskError::Invalid("learning rate must be positive and finite"));
                }
                Ok(())
            }
            Self::Kernel(t) => {
                if t.entry.is_empty() || t.buffers.is_empty() || !t.buffers.iter().any(|b| b.output) {
                    return Err(TaskError::Invalid("a kernel needs an entry point and an output buffer"));
                }
                if t.grid.iter().chain(&t.block).any(|&d| d == 0) || t.block.iter().product::<u32>() > 1024 {
                    return Err(TaskError::Invalid("launch shape: dimensions ≥ 1, at most 1024 threads a block"));
                }
                if t.buffers.iter().any(|b| b.bytes == 0 || b.bytes > 4 * MAX_ELEMENTS) {
                    return Err(TaskError::Invalid("buffer size"));
                }
                Ok(())
            }
            Self::Onnx(t) => t.validate(),
            Self::OnnxSteps(t) => t.validate(),
        }
    }

    /// The encoded task (what the job's input CID names).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = TASK_MAGIC.to_vec();
        self.serialize(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// Decodes and validates a task.
    pub fn decode(bytes: &[u8]) -> Result<Self, TaskError> {
        let task: Self = decode(bytes, TASK_MAGIC, "task")?;
        task.validate()?;
        Ok(task)
    }

    /// Decodes the task a job's input CID names, which must be of the job's workload kind.
    pub fn decode_for(bytes: &[u8], job: &Job) -> Result<Self, TaskError> {
        let task = Self::decode(bytes)?;
        if task.workload() as u8 != job.workload {
            return Err(TaskError::Invalid("the task's kind differs from the job's workload"));
        }
        Ok(task)
    }
}

/// The files of a result: outputs, then checkpoints (iterative work: the initial state, then one
/// per segment).
#[derive(Debug, Clone, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct ResultManifest {
    /// The output files.
    pub outputs: Vec<Cid>,
    /// The checkpoint files.
    pub checkpoints: Vec<Cid>,
}

impl ResultManifest {
    /// The encoded manifest (what the result CID names).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = RESULT_MAGIC.to_vec();
        self.serialize(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// Decodes a manifest.
    pub fn decode(bytes: &[u8]) -> Result<Self, TaskError> {
        decode(bytes, RESULT_MAGIC, "result manifest")
    }

    /// The commitment posted on chain: a Merkle root over a leaf with the two counts, then every
    /// output and checkpoint CID, so one file can be opened with a proof of `O(log n)` hashes.
    /// The files' contents are committed by their CIDs (hashes of their blocks), so the
    /// commitment costs no second pass over the data.
    pub fn commitment(&self) -> Hash {
        let counts = [(self.outputs.len() as u64).to_le_bytes(), (self.checkpoints.len() as u64).to_le_bytes()];
        let head = counts.concat();
        let leaves =
            core::iter::once(head.as_slice()).chain(self.outputs.iter().chain(&self.checkpoints).map(|c| c.as_bytes()));
        MerkleTree::from_leaves(leaves).expect("at least the counts leaf").root()
    }
}

/// A node's report that a job's task fails for everyone (a model that does not load or run, a
/// malformed task), which it posts instead of a result. Validators check it by running the same
/// part of the task: if it fails for them too the report is upheld and the job ends `Invalid`;
/// if it runs the node is slashed.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct InvalidReport {
    /// The chunk (or segment) that fails; 0 when the task fails before any runs.
    pub chunk: u64,
    /// What the engine said, for the submitter (at most [`MAX_REASON`] bytes).
    pub reason: String,
}

impl InvalidReport {
    /// A report, its reason cut to [`MAX_REASON`] bytes on a character boundary.
    pub fn new(chunk: u64, reason: &str) -> Self {
        let end = (0..=reason.len().min(MAX_REASON)).rev().find(|&i| reason.is_char_boundary(i)).unwrap_or(0);
        Self { chunk, reason: reason[..end].to_string() }
    }

    /// The encoded report (what the job's result CID names).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = INVALID_MAGIC.to_vec();
        self.serialize(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// Decodes a report; `None` when the bytes are not one (a result manifest, say).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let report: Self = decode(bytes, INVALID_MAGIC, "invalid-task report").ok()?;
        (report.reason.len() <= MAX_REASON).then_some(report)
    }

    /// The commitment posted with it: the SHA-256 of its encoding.
    pub fn commitment(&self) -> Hash {
        crate::proof::sha256(&[&self.encode()])
    }
}

fn decode<T: BorshDeserialize>(bytes: &[u8], magic: &[u8; 8], what: &'static str) -> Result<T, TaskError> {
    let body = bytes.strip_prefix(magic.as_slice()).ok_or(TaskError::Encoding(what))?;
    let value = T::try_from_slice(body).map_err(|_| TaskError::Encoding(what))?;
    Ok(value)
}

fn dims(d: &[u32]) -> Result<(), TaskError> {
    if d.iter().all(|&x| (1..=MAX_DIM).contains(&x)) {
        Ok(())
    } else {
        Err(TaskError::Invalid("every dimension must be between 1 and 2^20"))
    }
}

fn elements(shapes: &[(u32, u32)]) -> Result<(), TaskError> {
    if shapes.iter().all(|&(r, c)| u64::from(r) * u64::from(c) <= MAX_ELEMENTS) {
        Ok(())
    } else {
        Err(TaskError::Invalid("a tensor exceeds 2^30 elements"))
    }
}

/// `f32` values from little-endian bytes, expecting `expected` of them.
pub fn f32s(what: &'static str, bytes: &[u8], expected: u64) -> Result<Vec<f32>, TaskError> {
    if bytes.len() as u64 != expected * 4 {
        return Err(TaskError::Size { what, expected: expected * 4, got: bytes.len() as u64 });
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
}

/// Little-endian bytes of `f32` values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `bf16` values from little-endian bytes, expecting `expected` of them.
pub fn bf16s(what: &'static str, bytes: &[u8], expected: u64) -> Result<Vec<half::bf16>, TaskError> {
    if bytes.len() as u64 != expected * 2 {
        return Err(TaskError::Size { what, expected: expected * 2, got: bytes.len() as u64 });
    }
    Ok(bytes.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]])).collect())
}

/// Little-endian bytes of `bf16` values.
pub fn bf16_bytes(values: &[half::bf16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl MatMulTask {
    /// Elements of `A`, `B` and `C`.
    pub fn sizes(&self) -> (u64, u64, u64) {
        let (m, k, n) = (u64::from(self.m), u64::from(self.k), u64::from(self.n));
        (m * k, k * n, m * n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CID filled with `fill` (a raw-leaf CIDv1 shape).
    pub(super) fn cid(fill: u8) -> Cid {
        let mut b = [fill; 36];
        b[..4].copy_from_slice(&[1, 0x55, 0x12, 0x20]);
        Cid::new(&b).unwrap()
    }

    #[test]
    fn tasks_round_trip_and_bad_bytes_are_refused() {
        let t = Task::MatMul(MatMulTask { m: 2, k: 3, n: 4, output: Precision::F32, a: cid(1), b: cid(2) });
        assert_eq!(Task::decode(&t.encode()).unwrap(), t);
        assert_eq!(Task::decode(b"not a task"), Err(TaskError::Encoding("task")));
        let mut truncated = t.encode();
        truncated.pop();
        assert!(Task::decode(&truncated).is_err());
        let zero = Task::MatMul(MatMulTask { m: 0, k: 3, n: 4, output: Precision::F32, a: cid(1), b: cid(2) });
        assert!(matches!(Task::decode(&zero.encode()), Err(TaskError::Invalid(_))));
    }

    #[test]
    fn commitment_binds_every_file_and_the_split() {
        let m = ResultManifest { outputs: vec![cid(1)], checkpoints: vec![cid(2), cid(3)] };
        let moved = ResultManifest { outputs: vec![cid(1), cid(2)], checkpoints: vec![cid(3)] };
        let changed = ResultManifest { outputs: vec![cid(1)], checkpoints: vec![cid(2), cid(4)] };
        assert_ne!(m.commitment(), moved.commitment());
        assert_ne!(m.commitment(), changed.commitment());
        assert_eq!(ResultManifest::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn invalid_reports_round_trip_and_are_not_manifests() {
        let r = InvalidReport::new(3, &"é".repeat(MAX_REASON));
        assert_eq!(r.reason.len(), MAX_REASON);
        assert_eq!(InvalidReport::decode(&r.encode()), Some(r.clone()));
        assert_ne!(r.commitment(), InvalidReport::new(4, &r.reason).commitment());
        let m = ResultManifest { outputs: vec![cid(1)], checkpoints: vec![] };
        assert_eq!(InvalidReport::decode(&m.encode()), None);
        assert!(ResultManifest::decode(&r.encode()).is_err());
    }

    #[test]
    fn tensors_must_have_their_size() {
        assert_eq!(f32s("a", &[0; 8], 2).unwrap(), vec![0.0, 0.0]);
        assert_eq!(f32s("a", &[0; 7], 2), Err(TaskError::Size { what: "a", expected: 8, got: 7 }));
    }
}
