//! The checks a validator runs on a result, per workload kind. The validator agent fetches the
//! files (by CID, so their contents are already bound to the commitment) and calls these.

use super::{IterativeTask, MatMulTask, ResultManifest, TaskError, bf16s, f32s, mlp};
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
}
