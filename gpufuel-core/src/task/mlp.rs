//! The iterative workload: mini-batch SGD on a one-hidden-layer MLP (`tanh` hidden layer, linear
//! output, squared error). Step `t` trains on rows `(t·batch + i) mod rows`, so any segment can
//! be re-executed from the checkpoint before it. This reference runs on the CPU in a fixed order;
//! a GPU sums in its own order, which the validators' tolerance absorbs.

use borsh::{BorshDeserialize, BorshSerialize};

use super::{IterativeTask, MAX_DIM, TaskError};

/// The model's shape. Parameters, flattened: `W1` (`hidden×inputs`), `b1` (`hidden`), `w2`
/// (`hidden`), `b2` (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Mlp {
    /// Features per row.
    pub inputs: u32,
    /// Hidden units.
    pub hidden: u32,
}

impl Mlp {
    /// Number of parameters.
    pub fn params(&self) -> usize {
        let (d, h) = (self.inputs as usize, self.hidden as usize);
        h * d + 2 * h + 1
    }

    pub(super) fn validate(&self) -> Result<(), TaskError> {
        let ok = (1..=4096).contains(&self.inputs) && (1..=4096).contains(&self.hidden) && self.inputs <= MAX_DIM;
        if ok { Ok(()) } else { Err(TaskError::Invalid("MLP inputs and hidden units must be 1..=4096")) }
    }
}

/// Training data borrowed from the task's data file.
pub struct Data<'a> {
    /// Features, `rows×inputs`.
    pub x: &'a [f32],
    /// Targets, one per row.
    pub y: &'a [f32],
}

impl<'a> Data<'a> {
    /// Splits the data file's values into `x` and `y`.
    pub fn split(task: &IterativeTask, values: &'a [f32]) -> Result<Self, TaskError> {
        let rows = task.rows as usize;
        let expected = rows * (task.model.inputs as usize + 1);
        if values.len() != expected {
            return Err(TaskError::Size {
                what: "training data",
                expected: expected as u64 * 4,
                got: values.len() as u64 * 4,
            });
        }
        let (x, y) = values.split_at(rows * task.model.inputs as usize);
        Ok(Self { x, y })
    }
}

/// Scratch buffers for [`step`], reused across steps.
pub struct Trainer<'a> {
    task: &'a IterativeTask,
    data: Data<'a>,
    grad: Vec<f32>,
    hidden: Vec<f32>,
}

impl<'a> Trainer<'a> {
    /// Buffers for `task` on `data`.
    pub fn new(task: &'a IterativeTask, data: Data<'a>) -> Self {
        Self { task, data, grad: vec![0.0; task.model.params()], hidden: vec![0.0; task.model.hidden as usize] }
    }

    /// Runs steps `segment·k .. segment·k + steps` on `params` (`k` = steps per segment).
    pub fn segment(&mut self, params: &mut [f32], segment: u32, steps: u32) {
        let first = u64::from(segment) * u64::from(self.task.steps_per_segment);
        for t in first..first + u64::from(steps) {
            self.step(params, t);
        }
    }

    /// SGD step `t`.
    pub fn step(&mut self, params: &mut [f32], t: u64) {
        let (d, h) = (self.task.model.inputs as usize, self.task.model.hidden as usize);
        let (rows, batch) = (u64::from(self.task.rows), u64::from(self.task.batch));
        self.grad.fill(0.0);
        let (w1, rest) = params.split_at(h * d);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h);
        let (g_w1, g_rest) = self.grad.split_at_mut(h * d);
        let (g_b1, g_rest) = g_rest.split_at_mut(h);
        let (g_w2, g_b2) = g_rest.split_at_mut(h);
        for i in 0..batch {
            let r = ((t * batch + i) % rows) as usize;
            let x = &self.data.x[r * d..(r + 1) * d];
            let mut out = b2[0];
            for (j, hj) in self.hidden.iter_mut().enumerate() {
                let z = b1[j] + w1[j * d..(j + 1) * d].iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
                *hj = z.tanh();
                out += w2[j] * *hj;
            }
            let err = out - self.data.y[r];
            g_b2[0] += err;
            for (j, &hj) in self.hidden.iter().enumerate() {
                g_w2[j] += err * hj;
                let dz = err * w2[j] * (1.0 - hj * hj);
                g_b1[j] += dz;
                for (g, v) in g_w1[j * d..(j + 1) * d].iter_mut().zip(x) {
                    *g += dz * v;
                }
            }
        }
        let rate = self.task.learning_rate / self.task.batch as f32;
        for (p, g) in params.iter_mut().zip(&self.grad) {
            *p -= rate * g;
        }
    }
}
