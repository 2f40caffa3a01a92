//! Dishonest node behaviours, for demonstrations and tests of the proofs: what a node that wants
//! to be paid without doing the work would try.

use gpufuel_core::task::{TaskError, mlp, tensor::Tensor, verify::Keys};

use crate::executor::{ExecError, Output, RunContext, Work, cpu_gemm};

/// A behaviour name that is not one of [`Behaviour`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dishonest behaviour '{0}' (lazy, copying, partial, refusing)")]
pub struct UnknownBehaviour(pub String);

/// How a node agent treats the work it wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Runs the work.
    #[default]
    Honest,
    /// Computes nothing: zero outputs and checkpoints, correctly watermarked (for ONNX jobs, zeros
    /// of the outputs' shapes).
    Lazy,
    /// Re-posts another node's result for a job with the same inputs (computes honestly when it
    /// finds none).
    Copying,
    /// Does half the work: half the inner dimension of a product, half the steps of a segment
    /// (of training or of a step graph), every other chunk of an ONNX job (the rest zeros).
    Partial,
    /// Does no work and reports every task as failing for everyone, hoping to keep its cover.
    Refusing,
}

impl std::str::FromStr for Behaviour {
    type Err = UnknownBehaviour;

    /// `honest`, `lazy`, `copying` or `partial`; empty or `none`: honest.
    fn from_str(name: &str) -> Result<Self, UnknownBehaviour> {
        match name {
            "lazy" => Ok(Self::Lazy),
            "copying" => Ok(Self::Copying),
            "partial" => Ok(Self::Partial),
            "refusing" => Ok(Self::Refusing),
            "" | "none" | "honest" => Ok(Self::Honest),
            other => Err(UnknownBehaviour(other.to_string())),
        }
    }
}

impl Behaviour {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Honest => "honest",
            Self::Lazy => "lazy",
            Self::Copying => "copying",
            Self::Partial => "partial",
            Self::Refusing => "refusing",
        }
    }

    /// The cheated output, or `None` when this behaviour runs the executor.
    pub(super) fn cheat(self, work: &Work, ctx: &RunContext) -> Option<Result<Output, ExecError>> {
        let out = match (self, work) {
            (Self::Refusing, _) => {
                let reason = "the model does not load (a refusing node's claim)".into();
                return Some(Err(ExecError::InvalidTask { chunk: 0, reason }));
            }
            (Self::Honest | Self::Copying, _)
            | (_, Work::Kernel { .. } | Work::Onnx { .. } | Work::OnnxSteps { .. }) => {
                return None;
            }
            (Self::Lazy, Work::MatMul { task, .. }) => Ok(vec![0.0; (task.m * task.n) as usize]),
            (Self::Partial, Work::MatMul { task, a, b }) => {
                let (k, half) = (task.k as usize, task.k as usize / 2);
                let a: Vec<f32> = a
                    .chunks(k)
                    .flat_map(|row| row.iter().enumerate().map(|(j, &v)| if j < half { v } else { 0.0 }))
                    .collect();
                Ok(cpu_gemm(&a, b, task.m as usize, k, task.n as usize))
            }
            (_, Work::Iterative { task, data, init }) => (|| {
                ctx.start(init);
                let mut params = init.clone();
                let mut trainer = mlp::Trainer::new(task, mlp::Data::split(task, data)?);
                for s in 0..task.segments {
                    if self == Self::Lazy {
                        params.fill(0.0);
                    } else {
                        trainer.segment(&mut params, s, task.steps_per_segment / 2);
                    }
                    ctx.checkpoint(s + 1, &mut params)?;
                }
                Ok(params)
            })(),
        };
        Some(out.map(Output::Tensor))
    }

    /// The work a cheater runs: a partial node runs half the steps of each segment of a step
    /// graph (the same number of checkpoints, each half-way).
    pub(super) fn prepare(self, work: Work) -> Work {
        match (self, work) {
            (Self::Partial, Work::OnnxSteps { mut task, model, inputs }) => {
                task.checkpoint_every = task.checkpoint_every.div_ceil(2);
                task.steps = task.segments() * task.checkpoint_every;
                Work::OnnxSteps { task, model, inputs }
            }
            (_, work) => work,
        }
    }

    /// File `i` of ONNX work as a cheater posts it, made from the honest one: zeros (correctly
    /// marked) where it skipped the work.
    pub(super) fn tamper(self, t: &mut Tensor, i: usize, files: Files, keys: &Keys) -> Result<(), TaskError> {
        let skipped = match (self, files) {
            // Checkpoint 0 is the task's own initial state: no cheater changes it.
            (Self::Lazy, Files::Checkpoints(states)) => i >= states,
            (Self::Lazy, Files::Chunks(_)) => true,
            (Self::Partial, Files::Chunks(per_chunk)) => (i / per_chunk.max(1)) % 2 == 1,
            _ => false,
        };
        if skipped {
            t.data.fill(0);
            t.mark(&keys.watermark(Some(i as u32)))?;
        }
        Ok(())
    }
}

/// How an ONNX job's output files are laid out, for [`Behaviour::tamper`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Files {
    /// Batched inference: this many files per chunk.
    Chunks(usize),
    /// A step graph: this many state tensors per checkpoint.
    Checkpoints(usize),
}
