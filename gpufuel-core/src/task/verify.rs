//! The checks a validator runs on a result, per workload kind. The validator agent fetches the
//! files (by CID, so their contents are already bound to the commitment) and calls these.

use super::{
    IterativeTask, MatMulTask, ResultManifest, TaskError, bf16s, f32s, mlp,
    onnx::{self, OnnxStepsTask, OnnxTask},
    tensor::{DType, Tensor},
};
use crate::proof::{
    Hash,
    challenge::{self, Tolerance},
    freivalds::{self, Shape},
    watermark::Watermark,
};

/// Why a result is rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The manifest does not match the on-chain commitment.
    #[error("the manifest does not match the on-chain commitment")]
    Commitment,
    /// The manifest does not list the files this task produces.
    #[error("the manifest does not have the files this task produces: {0}")]
    Layout(&'static str),
    /// A file does not decode or has the wrong size.
    #[error("a file is malformed: {0}")]
    Malformed(#[from] TaskError),
    /// A file does not carry this job's watermark (copied, replayed or made for another job).
    #[error("file {file} does not carry this job's watermark")]
    Watermark {
        /// The checkpoint index (0 for a product's output).
        file: u32,
    },
    /// The product is wrong beyond rounding.
    #[error("the product fails Freivalds' check in {failed_rows} rows")]
    Product {
        /// Rows whose check failed.
        failed_rows: usize,
    },
    /// Checkpoint 0 is not the task's initial state.
    #[error("checkpoint 0 is not the task's initial state")]
    Initial,
    /// A re-executed segment does not reproduce the committed checkpoint.
    #[error("segment {segment} does not reproduce: {mismatches} values out of tolerance")]
    Segment {
        /// The segment re-executed.
        segment: u32,
        /// Values out of tolerance.
        mismatches: usize,
    },
    /// The node reported that the task fails for everyone, and it runs.
    #[error("the node reported that the task fails, but it runs: {0}")]
    TaskRuns(&'static str),
    /// A re-run chunk of an ONNX job does not reproduce the committed output.
    #[error("chunk {chunk}, output {output:?}: {mismatches} values out of tolerance")]
    Chunk {
        /// The chunk re-run.
        chunk: u32,
        /// The output's name.
        output: String,
        /// Values out of tolerance (`usize::MAX` when type or shape differ).
        mismatches: usize,
    },
}

/// The values a job's watermark derives from: its account, the assigned node's account, and the
/// seed fixed at assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// The job account.
    pub job: [u8; 32],
    /// The assigned node account.
    pub node: [u8; 32],
    /// The seed fixed at assignment.
    pub seed: [u8; 32],
}

impl Keys {
    /// The watermark of the job's output (`None`) or of its checkpoint `i` (each carries its own
    /// marks, so checkpoints cannot be swapped).
    pub fn watermark(&self, checkpoint: Option<u32>) -> Watermark {
        let whole = Watermark::new(&self.job, &self.node, &self.seed);
        match checkpoint {
            Some(i) => whole.part(i),
            None => whole,
        }
    }
}

/// The manifest must be the one committed on chain.
pub fn check_commitment(manifest: &ResultManifest, commitment: &Hash) -> Result<(), Failure> {
    if manifest.commitment() == *commitment { Ok(()) } else { Err(Failure::Commitment) }
}

/// Checks a matrix product: the watermark on `C`, then Freivalds' algorithm with `rounds` rounds
/// under the challenge `seed`.
pub fn check_matmul(
    task: &MatMulTask,
    a: &[f32],
    b: &[f32],
    c: &[u8],
    keys: &Keys,
    rounds: u32,
    seed: &Hash,
) -> Result<(), Failure> {
    let (_, _, c_len) = task.sizes();
    let shape = Shape { m: task.m as usize, k: task.k as usize, n: task.n as usize };
    let params = freivalds::Params { rounds, precision: task.output };
    let wm = keys.watermark(None);
    let report = if task.output == freivalds::Precision::Bf16 {
        let c = bf16s("C", c, c_len)?;
        marked(wm.verify(&c).map_err(TaskError::from)?.passed(), 0)?;
        let c: Vec<f32> = c.iter().map(|v| v.to_f32()).collect();
        freivalds::check(a, b, &c, shape, params, seed).map_err(TaskError::from)?
    } else {
        let c = f32s("C", c, c_len)?;
        marked(wm.verify(&c).map_err(TaskError::from)?.passed(), 0)?;
        freivalds::check(a, b, &c, shape, params, seed).map_err(TaskError::from)?
    };
    if report.passed() { Ok(()) } else { Err(Failure::Product { failed_rows: report.failed_rows }) }
}

fn marked(passed: bool, file: u32) -> Result<(), Failure> {
    if passed { Ok(()) } else { Err(Failure::Watermark { file }) }
}

/// The layout an iterative result must have: one output, `segments + 1` checkpoints.
pub fn check_iterative_layout(task: &IterativeTask, manifest: &ResultManifest) -> Result<(), Failure> {
    if manifest.checkpoints.len() != task.segments as usize + 1 {
        return Err(Failure::Layout("one checkpoint per segment plus the initial state"));
    }
    if manifest.outputs.len() != 1 || manifest.outputs.first() != manifest.checkpoints.last() {
        return Err(Failure::Layout("the output is the last checkpoint"));
    }
    Ok(())
}

/// Decodes checkpoint `index` and checks it: checkpoint 0 must be the initial state, the others
/// must carry the watermark part of their index.
pub fn open_checkpoint(
    task: &IterativeTask,
    index: u32,
    bytes: &[u8],
    init: &[f32],
    keys: &Keys,
) -> Result<Vec<f32>, Failure> {
    let values = f32s("checkpoint", bytes, task.model.params() as u64)?;
    if index == 0 {
        return if values == init { Ok(values) } else { Err(Failure::Initial) };
    }
    let check = keys.watermark(Some(index)).verify(&values).map_err(TaskError::from)?;
    marked(check.passed(), index)?;
    Ok(values)
}

/// Re-executes `segment` from the checkpoint before it and compares with the one after it.
pub fn check_segment(
    task: &IterativeTask,
    data: &[f32],
    segment: u32,
    before: &[f32],
    after: &[f32],
    tolerance: Tolerance,
) -> Result<(), Failure> {
    let mut params = before.to_vec();
    let mut trainer = mlp::Trainer::new(task, mlp::Data::split(task, data)?);
    trainer.segment(&mut params, segment, task.steps_per_segment);
    let cmp = challenge::compare(&params, after, tolerance).map_err(TaskError::from)?;
    if cmp.passed() { Ok(()) } else { Err(Failure::Segment { segment, mismatches: cmp.mismatches }) }
}

/// The segments a validator re-executes, from a challenge seed fixed after the commitment.
pub fn challenged_segments(task: &IterativeTask, seed: &Hash) -> Result<Vec<u32>, Failure> {
    let samples = challenge::DEFAULT_SAMPLES.min(task.segments);
    Ok(challenge::select_segments(seed, task.segments, samples).map_err(TaskError::from)?)
}

/// The layout of a batched ONNX result: one file per chunk and output, no checkpoints.
pub fn check_onnx_layout(task: &OnnxTask, manifest: &ResultManifest) -> Result<(), Failure> {
    let files = task.chunks() as usize * task.outputs.len();
    if manifest.outputs.len() != files || !manifest.checkpoints.is_empty() {
        return Err(Failure::Layout("one file per chunk and output"));
    }
    Ok(())
}

/// The chunks a validator re-runs, from a challenge seed fixed after the commitment.
pub fn challenged_chunks(task: &OnnxTask, seed: &Hash) -> Result<Vec<u32>, Failure> {
    let chunks = task.chunks() as u32; // at most MAX_CHUNKS, checked by validate
    let samples = challenge::DEFAULT_SAMPLES.min(chunks);
    Ok(challenge::select_segments(seed, chunks, samples).map_err(TaskError::from)?)
}

/// Checks chunk `chunk` of a batched ONNX result: each of the node's files (`.npy`, in the task's
/// output order) must carry the watermark part of its file index where it is a finite float
/// tensor, and agree with the validator's `recomputed` output within the output's tolerance. An
/// index output with `scores` passes a near-tie resolved the other way ([`onnx::indices_agree`]).
pub fn check_onnx_chunk(
    task: &OnnxTask,
    chunk: u32,
    files: &[Vec<u8>],
    recomputed: &[Tensor],
    keys: &Keys,
) -> Result<(), Failure> {
    if files.len() != task.outputs.len() || recomputed.len() != task.outputs.len() {
        return Err(Failure::Layout("one file per output"));
    }
    let committed = files.iter().map(|f| Tensor::from_npy(f)).collect::<Result<Vec<_>, _>>()?;
    for (j, ((spec, node), mine)) in task.outputs.iter().zip(&committed).zip(recomputed).enumerate() {
        let file = task.output_file(u64::from(chunk), j) as u32;
        marked(node.marked(&keys.watermark(Some(file)))?, file)?;
        let scores = spec.scores.as_ref().and_then(|s| task.outputs.iter().position(|o| &o.name == s));
        // A near-tie is judged by the scores' own tolerance.
        let mismatches = match scores.map(|k| (&recomputed[k], task.outputs[k].tolerance_for(recomputed[k].dtype))) {
            Some((scores, tol)) if node.dtype == DType::I64 && mine.dtype == DType::I64 && node.shape == mine.shape => {
                let ints = |t: &Tensor| t.to_f64s().into_iter().map(|v| v as i64).collect::<Vec<_>>();
                let values: Vec<f32> = scores.to_f64s().into_iter().map(|v| v as f32).collect();
                let width = scores.shape.last().copied().unwrap_or(1) as usize;
                let agree = onnx::indices_agree(&ints(node), &ints(mine), &values, width, tol);
                Some(usize::from(!agree))
            }
            _ => node.mismatches(mine, spec.tolerance_for(mine.dtype)),
        };
        match mismatches {
            Some(0) => {}
            m => return Err(Failure::Chunk { chunk, output: spec.name.clone(), mismatches: m.unwrap_or(usize::MAX) }),
        }
    }
    Ok(())
}

/// The layout of a step graph's result: `segments + 1` checkpoints of every state tensor
/// (checkpoint-major, [`OnnxStepsTask::checkpoint_file`]), the outputs being the last one.
pub fn check_steps_layout(task: &OnnxStepsTask, manifest: &ResultManifest) -> Result<(), Failure> {
    let states = task.state.len();
    if manifest.checkpoints.len() != (task.segments() as usize + 1) * states {
        return Err(Failure::Layout("one checkpoint of every state tensor per segment, plus the initial state"));
    }
    if manifest.outputs[..] != manifest.checkpoints[manifest.checkpoints.len() - states..] {
        return Err(Failure::Layout("the outputs are the last checkpoint"));
    }
    Ok(())
}

/// The segments of a step graph a validator re-runs, from a challenge seed fixed after the
/// commitment.
pub fn challenged_steps(task: &OnnxStepsTask, seed: &Hash) -> Result<Vec<u32>, Failure> {
    let samples = challenge::DEFAULT_SAMPLES.min(task.segments());
    Ok(challenge::select_segments(seed, task.segments(), samples).map_err(TaskError::from)?)
}

/// Decodes checkpoint `i` of a step graph (its state tensors' `.npy` files): checkpoint 0 must be
/// the task's initial state exactly; every later one must carry the watermark part of its files.
pub fn open_state(
    task: &OnnxStepsTask,
    i: u32,
    files: &[Vec<u8>],
    init: &[Tensor],
    keys: &Keys,
) -> Result<Vec<Tensor>, Failure> {
    let state = files.iter().map(|f| Tensor::from_npy(f)).collect::<Result<Vec<_>, _>>()?;
    if i == 0 {
        return if state == init { Ok(state) } else { Err(Failure::Initial) };
    }
    for (k, t) in state.iter().enumerate() {
        let file = task.checkpoint_file(i, k) as u32;
        marked(t.marked(&keys.watermark(Some(file)))?, file)?;
    }
    Ok(state)
}

/// Compares the validator's state after re-running segment `segment` with the node's checkpoint,
/// each tensor within its next-state output's tolerance.
pub fn check_steps_segment(
    task: &OnnxStepsTask,
    segment: u32,
    recomputed: &[Tensor],
    after: &[Tensor],
) -> Result<(), Failure> {
    let mut mismatches = 0;
    for ((spec, mine), node) in task.state.iter().zip(recomputed).zip(after) {
        mismatches += node.mismatches(mine, spec.next.tolerance_for(mine.dtype)).unwrap_or(usize::MAX / 2);
    }
    if mismatches == 0 && recomputed.len() == after.len() {
        Ok(())
    } else {
        Err(Failure::Segment { segment, mismatches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{cid::Cid, task::mlp::Mlp};

    fn task() -> (IterativeTask, Vec<f32>, Vec<f32>) {
        let model = Mlp { inputs: 4, hidden: 8 };
        let rows = 64;
        let unit = |i: usize| ((i * 7919 % 1000) as f32 / 500.0) - 1.0;
        let x: Vec<f32> = (0..rows * 4).map(unit).collect();
        let y: Vec<f32> = (0..rows).map(|r| x[r * 4] - 0.5 * x[r * 4 + 2]).collect();
        let init: Vec<f32> = (0..model.params()).map(|i| 0.3 * unit(i + 17)).collect();
        let task = IterativeTask {
            model,
            rows: rows as u32,
            batch: 8,
            learning_rate: 0.1,
            segments: 8,
            steps_per_segment: 4,
            data: Cid::default(),
            init: Cid::default(),
        };
        (task, [x, y].concat(), init)
    }

    fn loss(task: &IterativeTask, data: &[f32], p: &[f32]) -> f32 {
        let d = mlp::Data::split(task, data).unwrap();
        let h = task.model.hidden as usize;
        let n = task.model.inputs as usize;
        (0..task.rows as usize)
            .map(|r| {
                let x = &d.x[r * n..(r + 1) * n];
                let out = p[h * n + 2 * h]
                    + (0..h)
                        .map(|j| {
                            let z = p[h * n + j] + (0..n).map(|i| p[j * n + i] * x[i]).sum::<f32>();
                            p[h * n + h + j] * z.tanh()
                        })
                        .sum::<f32>();
                (out - d.y[r]).powi(2)
            })
            .sum()
    }

    #[test]
    fn training_learns_and_segments_reproduce_but_skipped_steps_do_not() {
        let (task, data, init) = task();
        let mut p = init.clone();
        let mut trainer = mlp::Trainer::new(&task, mlp::Data::split(&task, &data).unwrap());
        let mut cps = vec![p.clone()];
        for s in 0..task.segments {
            trainer.segment(&mut p, s, task.steps_per_segment);
            cps.push(p.clone());
        }
        assert!(loss(&task, &data, &p) < 0.5 * loss(&task, &data, &init));
        let tol = Tolerance::default();
        for s in 0..task.segments {
            check_segment(&task, &data, s, &cps[s as usize], &cps[s as usize + 1], tol).unwrap();
        }
        let mut lazy = cps[3].clone();
        mlp::Trainer::new(&task, mlp::Data::split(&task, &data).unwrap()).segment(&mut lazy, 3, 3);
        assert!(matches!(
            check_segment(&task, &data, 3, &cps[3], &lazy, tol),
            Err(Failure::Segment { segment: 3, .. })
        ));
        assert!(matches!(check_segment(&task, &data[1..], 3, &cps[3], &cps[4], tol), Err(Failure::Malformed(_))));
    }

    /// A classifier's result: per chunk, `logits` (rows×3, f32) and `label` (argmax, i64).
    fn classifier() -> OnnxTask {
        let cid = Cid::new(&[[1, 0x55, 0x12, 0x20].as_slice(), &[7; 32]].concat()).unwrap();
        OnnxTask {
            model: onnx::ModelRef { model: cid, external: vec![] },
            inputs: vec![onnx::TensorSpec {
                name: "x".into(),
                dtype: DType::F32,
                shape: vec![4, 2],
                data: cid,
                batched: true,
            }],
            chunk_rows: 2,
            outputs: vec![
                onnx::OutputSpec::named("logits"),
                onnx::OutputSpec { name: "label".into(), tolerance: None, scores: Some("logits".into()) },
            ],
        }
    }

    fn outputs(logits: &[f32], labels: &[i64]) -> Vec<Tensor> {
        vec![
            Tensor::new(DType::F32, vec![2, 3], logits.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap(),
            Tensor::new(DType::I64, vec![2], labels.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap(),
        ]
    }

    fn files(task: &OnnxTask, chunk: u32, tensors: &[Tensor], keys: &Keys) -> Vec<Vec<u8>> {
        let mut tensors = tensors.to_vec();
        for (j, t) in tensors.iter_mut().enumerate() {
            t.mark(&keys.watermark(Some(task.output_file(u64::from(chunk), j) as u32))).unwrap();
        }
        tensors.iter().map(Tensor::to_npy).collect()
    }

    #[test]
    fn onnx_chunks_pass_when_honest_and_fail_when_faked_copied_or_moved() {
        let task = classifier();
        let keys = Keys { job: [1; 32], node: [2; 32], seed: [3; 32] };
        let mine = outputs(&[0.1, 0.7, 0.2, 0.9, 0.05, 0.05], &[1, 0]);
        check_onnx_chunk(&task, 1, &files(&task, 1, &mine, &keys), &mine, &keys).unwrap();
        // A near-tie resolved the other way passes; a wrong pick fails.
        let tied = outputs(&[0.1, 0.70001, 0.7, 0.9, 0.05, 0.05], &[1, 0]);
        let other_pick = outputs(&[0.1, 0.70001, 0.7, 0.9, 0.05, 0.05], &[2, 0]);
        check_onnx_chunk(&task, 1, &files(&task, 1, &other_pick, &keys), &tied, &keys).unwrap();
        let wrong = outputs(&[0.1, 0.7, 0.2, 0.9, 0.05, 0.05], &[0, 0]);
        assert!(matches!(
            check_onnx_chunk(&task, 1, &files(&task, 1, &wrong, &keys), &mine, &keys),
            Err(Failure::Chunk { chunk: 1, ref output, .. }) if output == "label"
        ));
        let lazy = outputs(&[0.0; 6], &[0, 0]);
        assert!(matches!(
            check_onnx_chunk(&task, 1, &files(&task, 1, &lazy, &keys), &mine, &keys),
            Err(Failure::Chunk { chunk: 1, mismatches: 6, .. })
        ));
        // Another node's files, or this chunk's files filed under another chunk, lack the marks.
        let thief = Keys { node: [9; 32], ..keys };
        assert_eq!(
            check_onnx_chunk(&task, 1, &files(&task, 1, &mine, &thief), &mine, &keys),
            Err(Failure::Watermark { file: 2 })
        );
        assert_eq!(
            check_onnx_chunk(&task, 1, &files(&task, 0, &mine, &keys), &mine, &keys),
            Err(Failure::Watermark { file: 2 })
        );
        assert!(matches!(check_onnx_chunk(&task, 1, &[vec![1, 2], vec![]], &mine, &keys), Err(Failure::Malformed(_))));
        let manifest = ResultManifest {
            outputs: vec![Cid::new(&[[1, 0x55, 0x12, 0x20].as_slice(), &[1; 32]].concat()).unwrap(); 4],
            checkpoints: vec![],
        };
        check_onnx_layout(&task, &manifest).unwrap();
        assert!(
            check_onnx_layout(&task, &ResultManifest { outputs: manifest.outputs[..3].to_vec(), ..manifest }).is_err()
        );
        assert_eq!(challenged_chunks(&task, &[5; 32]).unwrap(), vec![0, 1]);
    }
}
