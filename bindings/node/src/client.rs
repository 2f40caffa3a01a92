//! `Client`: the SDK's [`gpufuel_sdk::Client`] with Promises and typed arrays. Options left
//! `undefined` take the SDK's defaults ([`JobOptions`], [`Training`]).

use std::{collections::HashMap, sync::Arc, time::Duration};

use gpufuel_core::{
    class::class_name,
    proof::{challenge::Tolerance, freivalds::Precision},
    task::{
        mlp::Mlp,
        onnx::OutputSpec,
        tensor::{DType, Tensor},
    },
};
use gpufuel_sdk::{self as rs, ConnectOptions, JobOptions, JobResult, Training};
use napi::{
    Env,
    bindgen_prelude::{Buffer, Float32Array, PromiseRaw},
};
use napi_derive::napi;

use crate::{
    convert::{address, gpu_class, opt, uint},
    error::{Result, coded, invalid, promise},
};

type Promise<'env, T> = napi::Result<PromiseRaw<'env, T>>;

/// A price quote (base units per GPU-second), the expected wait, and the escrow that
/// submitting at `maxPrice = priceHigh` locks.
#[napi(object)]
pub struct Quote {
    pub price_low: f64,
    pub price_high: f64,
    pub reference_price: f64,
    pub expected_wait_secs: f64,
    pub eligible_nodes: u32,
    pub available_nodes: u32,
    pub jobs_ahead: u32,
    pub escrow: f64,
}

/// A job as its submitter follows it (`state`: Open, Assigned, Submitted, Settled, Slashed,
/// Cancelled or Expired).
#[napi(object)]
pub struct JobStatus {
    pub address: String,
    pub state: String,
    pub done: bool,
    pub gpu_class: u32,
    pub class_name: String,
    pub urgent: bool,
    pub price: f64,
    pub escrow: f64,
    pub premium: f64,
    pub gpu_seconds: u32,
    pub deadline: f64,
    pub node: Option<String>,
    pub submitter: String,
    pub round: u32,
    pub votes_pass: u32,
    pub votes_fail: u32,
}

impl From<rs::JobStatus> for JobStatus {
    fn from(j: rs::JobStatus) -> Self {
        Self {
            address: j.address.to_string(),
            state: format!("{:?}", j.state),
            done: j.is_done(),
            gpu_class: j.gpu_class.into(),
            class_name: j.class_name.into(),
            urgent: j.urgent,
            price: j.price as f64,
            escrow: j.escrow as f64,
            premium: j.premium as f64,
            gpu_seconds: j.gpu_seconds,
            deadline: j.deadline as f64,
            node: j.node.map(|n| n.to_string()),
            submitter: j.submitter.to_string(),
            round: j.round.into(),
            votes_pass: j.votes_pass.into(),
            votes_fail: j.votes_fail.into(),
        }
    }
}

/// A node on the market with its stake and track record.
#[napi(object)]
pub struct NodeStatus {
    pub address: String,
    pub operator: String,
    pub gpu_class: u32,
    pub class_name: String,
    pub gpu_count: u32,
    pub vram_mib: u32,
    pub stake: f64,
    pub price_floor: f64,
    pub active_jobs: u32,
    pub completed: u32,
    pub failed_validations: u32,
    pub missed_deadlines: u32,
}

impl From<rs::NodeStatus> for NodeStatus {
    fn from(n: rs::NodeStatus) -> Self {
        Self {
            address: n.address.to_string(),
            operator: n.operator.to_string(),
            gpu_class: n.gpu_class.into(),
            class_name: n.class_name.into(),
            gpu_count: n.gpu_count.into(),
            vram_mib: n.vram_mib,
            stake: n.stake as f64,
            price_floor: n.price_floor as f64,
            active_jobs: n.active_jobs,
            completed: n.completed,
            failed_validations: n.failed_validations,
            missed_deadlines: n.missed_deadlines,
        }
    }
}

/// A reference price of a GPU class.
#[napi(object)]
pub struct Price {
    pub gpu_class: u32,
    pub class_name: String,
    pub price: f64,
}

/// A verified result: a row-major `values` tensor of `shape` (a product `[m, n]` or trained
/// parameters `[count]`), a kernel's output `buffers`, or an ONNX job's named `tensors`.
#[napi(object, js_name = "JobResult")]
pub struct JobOutput {
    pub values: Option<Float32Array>,
    pub shape: Vec<u32>,
    pub buffers: Option<Vec<Buffer>>,
    pub tensors: Option<Vec<NamedTensor>>,
}

/// An ONNX output: its little-endian, row-major bytes with their dtype (`f32`, `i64`, …) and shape.
#[napi(object)]
pub struct NamedTensor {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<f64>,
    pub data: Buffer,
}

/// An input of an ONNX job: its bytes (little-endian, row-major; `Buffer.from(a.buffer,
/// a.byteOffset, a.byteLength)` views a typed array without copying), dtype (`f32`, `i64`, …) and
/// shape. Split along axis 0 into chunks unless `constant`.
#[napi(object)]
pub struct OnnxInput {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<f64>,
    pub data: Buffer,
    /// Fed whole to every chunk (weights, constants); default false.
    pub constant: Option<bool>,
}

/// A state tensor of a step graph: the graph input `name`, its initial bytes, dtype and shape,
/// and the output `next` holding its value after a step.
#[napi(object)]
pub struct OnnxState {
    pub name: String,
    pub next: String,
    pub dtype: String,
    pub shape: Vec<f64>,
    pub data: Buffer,
    /// How its next value is compared (default: its dtype's).
    pub tolerance: Option<OutputTolerance>,
}

/// How many steps a step graph runs.
#[napi(object)]
pub struct OnnxSteps {
    pub steps: u32,
    /// Steps between checkpoints (each a segment validators may re-run).
    pub checkpoint_every: u32,
    /// The graph input fed the step index (an int64 scalar), if it takes one.
    pub step_input: Option<String>,
    /// Accept NaN and infinities in the initial state and float inputs (default false).
    pub allow_non_finite: Option<bool>,
}

/// How an ONNX job returns and checks its outputs.
#[napi(object)]
#[derive(Default)]
pub struct OnnxOptions {
    /// Outputs returned (default: every output of the graph).
    pub outputs: Option<Vec<String>>,
    /// Rows per chunk (default: the batch in at most 512 chunks).
    pub chunk_rows: Option<f64>,
    /// Index output (argmax, top-k) → the scores it indexes, so near-ties are judged by score.
    pub scores: Option<HashMap<String, String>>,
    /// Output → its comparison tolerance.
    pub tolerances: Option<HashMap<String, OutputTolerance>>,
    /// Accept NaN and infinities in float inputs (default false).
    pub allow_non_finite: Option<bool>,
}

/// `|recomputed − committed| ≤ abs + rel·|recomputed|`.
#[napi(object)]
pub struct OutputTolerance {
    pub rel: f64,
    pub abs: f64,
}

/// The shape of `C = A·B`.
#[napi(object)]
pub struct MatMulShape {
    pub m: u32,
    pub k: u32,
    pub n: u32,
}

/// A one-hidden-layer MLP trained by mini-batch SGD, checkpointed every segment.
#[napi(object)]
pub struct TrainingOptions {
    /// Features per row of `x`.
    pub inputs: u32,
    pub hidden: u32,
    /// Rows per step (default 32).
    pub batch: Option<u32>,
    /// Default 0.05.
    pub learning_rate: Option<f64>,
    /// Checkpoints (default 8).
    pub segments: Option<u32>,
    /// Steps between checkpoints (default 4).
    pub steps_per_segment: Option<u32>,
}

/// Where `Client.connect` finds the cluster, wallet and store; unset fields come from the
/// Solana CLI config.
#[napi(object)]
#[derive(Default)]
pub struct Connect {
    pub url: Option<String>,
    pub keypair: Option<String>,
    pub commitment: Option<String>,
    pub config: Option<String>,
    /// Kubo RPC API (`http://127.0.0.1:5001`); else the embedded store in `store`.
    pub kubo: Option<String>,
    pub store: Option<String>,
    /// The program's address (base58); default `$GPUFUEL_PROGRAM_ID`, else `program_id` in
    /// `~/.config/gpufuel/config.yml`, else the well-known address.
    pub program_id: Option<String>,
    /// A pinning service (IPFS Pinning Service API base URL) that keeps each job's inputs and
    /// verified results, and its access token.
    pub pin_endpoint: Option<String>,
    pub pin_token: Option<String>,
}

/// What a job asks of the market. Amounts are base units; prices base units per GPU-second.
#[napi(object)]
#[derive(Default)]
pub struct JobRequest {
    /// Class id or name (`"cpu"`, `"h100"`, …); default `cpu`.
    pub gpu_class: Option<napi::Either<u32, String>>,
    /// GPUs the job runs on at once (default 1).
    pub gpu_count: Option<f64>,
    /// Minimum memory per GPU, MiB (default 0).
    pub min_vram_mib: Option<f64>,
    /// GPU-seconds billed (default 10).
    pub gpu_seconds: Option<f64>,
    /// Highest price accepted (default 1000).
    pub max_price: Option<f64>,
    /// Seconds from now to the deadline (default 3600).
    pub deadline_secs: Option<f64>,
    /// Pay the urgent premium (default false).
    pub urgent: Option<bool>,
}

impl JobRequest {
    fn options(&self) -> Result<JobOptions> {
        let d = JobOptions::default();
        Ok(JobOptions {
            gpu_class: gpu_class(&self.gpu_class)?.unwrap_or(d.gpu_class),
            gpu_count: opt("gpuCount", self.gpu_count)?.unwrap_or(d.gpu_count),
            min_vram_mib: opt("minVramMib", self.min_vram_mib)?.unwrap_or(d.min_vram_mib),
            min_compute_capability: d.min_compute_capability,
            gpu_seconds: opt("gpuSeconds", self.gpu_seconds)?.unwrap_or(d.gpu_seconds),
            max_price: opt("maxPrice", self.max_price)?.unwrap_or(d.max_price),
            deadline_secs: opt::<u32>("deadlineSecs", self.deadline_secs)?.map_or(d.deadline_secs, i64::from),
            urgent: self.urgent.unwrap_or(d.urgent),
        })
    }
}

/// A typed tensor from JS: its bytes, dtype name and shape.
fn tensor(name: &str, dtype: &str, shape: &[f64], data: &Buffer) -> Result<Tensor> {
    let dtype = dtype.parse::<DType>().map_err(|e| invalid(format!("{name}: {e}")))?;
    let shape = shape.iter().map(|&d| uint::<u64>("shape", d)).collect::<Result<Vec<_>>>()?;
    Tensor::new(dtype, shape, data.to_vec()).map_err(|e| invalid(format!("{name}: {e}")))
}

/// A wait's limit in seconds; `undefined`: the SDK's [`rs::DEFAULT_WAIT`].
fn timeout(secs: Option<f64>) -> Result<Duration> {
    let Some(secs) = secs else { return Ok(rs::DEFAULT_WAIT) };
    Duration::try_from_secs_f64(secs)
        .map_err(|_| invalid(format!("timeout must be a non-negative number of seconds, got {secs}")))
}

/// A submitter's handle on a market: a local network's (`network.client()`) or a cluster's over
/// RPC (`Client.connect()`).
#[napi]
pub struct Client(pub(crate) Arc<rs::Client>);

#[napi]
impl Client {
    /// Connects to a cluster over RPC with the wallet's GPUFuel token account.
    #[napi(ts_return_type = "Promise<Client>")]
    pub fn connect(env: &Env, options: Option<Connect>) -> Promise<'_, Client> {
        let o = options.unwrap_or_default();
        let options = ConnectOptions {
            url: o.url,
            keypair: o.keypair.map(Into::into),
            commitment: o.commitment,
            config: o.config.map(Into::into),
            kubo: o.kubo,
            store: o.store.map(Into::into),
            program_id: o.program_id,
            pin_endpoint: o.pin_endpoint,
            pin_token: o.pin_token,
        };
        promise(env, async move { Ok(Client(Arc::new(rs::Client::connect(options).await.map_err(coded)?))) })
    }

    /// The wallet's address (base58).
    #[napi(getter)]
    pub fn address(&self) -> String {
        self.0.address().to_string()
    }

    /// The wallet's GPUFuel balance in base units.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn balance<'env>(&self, env: &'env Env) -> Promise<'env, f64> {
        let c = self.0.clone();
        promise(env, async move { Ok(c.balance().await.map_err(coded)? as f64) })
    }

    /// Registers the wallet as a submitter, staking `stake` (default: the market's minimum),
    /// unless it already is one; a wallet must be registered before it submits.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn register<'env>(&self, env: &'env Env, stake: Option<f64>) -> Promise<'env, ()> {
        let (c, stake) = (self.0.clone(), opt("stake", stake));
        promise(env, async move { c.register(stake?).await.map_err(coded) })
    }

    /// Whether the wallet is registered as a submitter.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn is_registered<'env>(&self, env: &'env Env) -> Promise<'env, bool> {
        let c = self.0.clone();
        promise(env, async move { c.is_registered().await.map_err(coded) })
    }

    /// Reference prices per GPU class.
    #[napi(ts_return_type = "Promise<Array<Price>>")]
    pub fn prices<'env>(&self, env: &'env Env) -> Promise<'env, Vec<Price>> {
        let c = self.0.clone();
        promise(env, async move {
            let prices = c.prices().await.map_err(coded)?;
            Ok(prices
                .into_iter()
                .map(|(c, p)| Price { gpu_class: c.into(), class_name: class_name(c).into(), price: p as f64 })
                .collect())
        })
    }

    /// A quote for a job with these requirements.
    #[napi(ts_return_type = "Promise<Quote>")]
    pub fn quote<'env>(&self, env: &'env Env, request: Option<JobRequest>) -> Promise<'env, Quote> {
        let (options, c) = (request.unwrap_or_default().options(), self.0.clone());
        promise(env, async move { quote(&c, options?).await })
    }

    /// `quote`, blocking the calling thread (for scripts; servers should await `quote`).
    #[napi]
    pub fn quote_sync(&self, request: Option<JobRequest>) -> Result<Quote> {
        let options = request.unwrap_or_default().options()?;
        napi::bindgen_prelude::block_on(quote(&self.0, options))
    }

    /// Submits `C = a·b` (row-major `Float32Array`s of `m×k` and `k×n`); resolves to the job's
    /// address once created on chain.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn submit_matmul<'env>(
        &self,
        env: &'env Env,
        a: Float32Array,
        b: Float32Array,
        shape: MatMulShape,
        request: Option<JobRequest>,
    ) -> Promise<'env, String> {
        let checked = (|| {
            let options = request.unwrap_or_default().options()?;
            let MatMulShape { m, k, n } = shape;
            for (name, v, rows, cols) in [("a", &a, m, k), ("b", &b, k, n)] {
                if v.len() as u64 != u64::from(rows) * u64::from(cols) {
                    return Err(invalid(format!("{name}: {} values is not {rows}×{cols}", v.len())));
                }
            }
            Ok((options, (m, k, n), a.to_vec(), b.to_vec()))
        })();
        let c = self.0.clone();
        promise(env, async move {
            let (options, shape, a, b) = checked?;
            let job = c.submit_matmul(shape, &a, &b, Precision::F32, options).await.map_err(coded)?;
            Ok(job.to_string())
        })
    }

    /// Submits batched inference of an ONNX `model` (the `.onnx` bytes) on `inputs`. The job is
    /// checked against the model's signature before anything is stored or escrowed: a wrong input
    /// name, dtype or shape, a custom operator domain or a malformed model rejects with
    /// `INVALID_TASK`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn submit_onnx<'env>(
        &self,
        env: &'env Env,
        model: Buffer,
        inputs: Vec<OnnxInput>,
        onnx: Option<OnnxOptions>,
        request: Option<JobRequest>,
    ) -> Promise<'env, String> {
        let checked = (|| {
            let options = request.unwrap_or_default().options()?;
            let onnx = onnx.unwrap_or_default();
            let mut job = rs::OnnxJob::new(model.to_vec()).allow_non_finite(onnx.allow_non_finite.unwrap_or(false));
            for input in inputs {
                let t = tensor(&input.name, &input.dtype, &input.shape, &input.data)?;
                job = if input.constant.unwrap_or(false) {
                    job.constant(input.name, t)
                } else {
                    job.batched(input.name, t)
                };
            }
            let (mut scores, mut tolerances) = (onnx.scores.unwrap_or_default(), onnx.tolerances.unwrap_or_default());
            for name in onnx.outputs.unwrap_or_default() {
                let tolerance = tolerances.remove(&name).map(|t| Tolerance { rel: t.rel as f32, abs: t.abs as f32 });
                job = job.output_spec(OutputSpec { scores: scores.remove(&name), tolerance, name });
            }
            if let Some(name) = scores.keys().chain(tolerances.keys()).next() {
                return Err(invalid(format!("{name:?} has scores or a tolerance but is not in outputs")));
            }
            if let Some(rows) = opt("chunkRows", onnx.chunk_rows)? {
                job = job.chunk_rows(rows);
            }
            Ok((job, options))
        })();
        let c = self.0.clone();
        promise(env, async move {
            let (job, options) = checked?;
            Ok(c.submit_onnx(job, options).await.map_err(coded)?.to_string())
        })
    }

    /// Submits an iterated ONNX step graph: each step feeds the `state`, the step index, its slice
    /// of each input (axis 0 = steps; `constant` inputs whole); the result's `tensors` are the
    /// final state by state name.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn submit_onnx_steps<'env>(
        &self,
        env: &'env Env,
        model: Buffer,
        state: Vec<OnnxState>,
        inputs: Vec<OnnxInput>,
        steps: OnnxSteps,
        request: Option<JobRequest>,
    ) -> Promise<'env, String> {
        let checked = (|| -> Result<_> {
            let options = request.unwrap_or_default().options()?;
            let mut job = rs::OnnxStepsJob::new(model.to_vec())
                .steps(steps.steps, steps.checkpoint_every)
                .allow_non_finite(steps.allow_non_finite.unwrap_or(false));
            for s in state {
                let tensor = tensor(&s.name, &s.dtype, &s.shape, &s.data)?;
                let tolerance = s.tolerance.map(|t| Tolerance { rel: t.rel as f32, abs: t.abs as f32 });
                job = job.state_spec(s.name, tensor, OutputSpec { name: s.next, tolerance, scores: None });
            }
            if let Some(name) = steps.step_input {
                job = job.step_input(name);
            }
            for input in inputs {
                let t = tensor(&input.name, &input.dtype, &input.shape, &input.data)?;
                job = if input.constant.unwrap_or(false) {
                    job.constant(input.name, t)
                } else {
                    job.per_step(input.name, t)
                };
            }
            Ok((job, options))
        })();
        let c = self.0.clone();
        promise(env, async move {
            let (job, options) = checked?;
            Ok(c.submit_onnx_steps(job, options).await.map_err(coded)?.to_string())
        })
    }

    /// Submits the training of an MLP on `x` (`rows×inputs`, row-major) and `y` (`rows`) from the
    /// parameters `init`; the verified result is the trained parameters.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn submit_training<'env>(
        &self,
        env: &'env Env,
        x: Float32Array,
        y: Float32Array,
        init: Float32Array,
        training: TrainingOptions,
        request: Option<JobRequest>,
    ) -> Promise<'env, String> {
        let checked = (|| {
            let options = request.unwrap_or_default().options()?;
            let rows = y.len() as u64;
            if x.len() as u64 != rows * u64::from(training.inputs) {
                let inputs = training.inputs;
                return Err(invalid(format!("x: {} values is not {rows} rows (y) × {inputs} inputs", x.len())));
            }
            let d = Training::new(Mlp { inputs: training.inputs, hidden: training.hidden });
            let training = Training {
                batch: training.batch.unwrap_or(d.batch),
                learning_rate: training.learning_rate.map_or(d.learning_rate, |r| r as f32),
                segments: training.segments.unwrap_or(d.segments),
                steps_per_segment: training.steps_per_segment.unwrap_or(d.steps_per_segment),
                ..d
            };
            Ok((options, training, x.to_vec(), y.to_vec(), init.to_vec()))
        })();
        let c = self.0.clone();
        promise(env, async move {
            let (options, training, x, y, init) = checked?;
            let job = c.submit_training(training, &x, &y, &init, options).await.map_err(coded)?;
            Ok(job.to_string())
        })
    }

    /// A job's status.
    #[napi(ts_return_type = "Promise<JobStatus>")]
    pub fn status<'env>(&self, env: &'env Env, job: String) -> Promise<'env, JobStatus> {
        let c = self.0.clone();
        promise(env, async move { Ok(c.status(&address(&job)?).await.map_err(coded)?.into()) })
    }

    /// Jobs on the market (only this wallet's with `mine`), latest deadline first.
    #[napi(ts_return_type = "Promise<Array<JobStatus>>")]
    pub fn jobs<'env>(&self, env: &'env Env, mine: Option<bool>) -> Promise<'env, Vec<JobStatus>> {
        let c = self.0.clone();
        promise(env, async move {
            let jobs = c.jobs(mine.unwrap_or(false)).await.map_err(coded)?;
            Ok(jobs.into_iter().map(Into::into).collect())
        })
    }

    /// Nodes on the market.
    #[napi(ts_return_type = "Promise<Array<NodeStatus>>")]
    pub fn nodes<'env>(&self, env: &'env Env) -> Promise<'env, Vec<NodeStatus>> {
        let c = self.0.clone();
        promise(env, async move { Ok(c.nodes().await.map_err(coded)?.into_iter().map(Into::into).collect()) })
    }

    /// Cancels an open job; its escrow returns.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn cancel<'env>(&self, env: &'env Env, job: String) -> Promise<'env, ()> {
        let c = self.0.clone();
        promise(env, async move { c.cancel(&address(&job)?).await.map_err(coded) })
    }

    /// Resolves once the job is settled, slashed, cancelled or expired (`TIMEOUT` after
    /// `timeoutSecs`, default 600).
    #[napi(ts_return_type = "Promise<JobStatus>")]
    pub fn wait<'env>(&self, env: &'env Env, job: String, timeout_secs: Option<f64>) -> Promise<'env, JobStatus> {
        let c = self.0.clone();
        promise(env, async move {
            let (job, wait) = (address(&job)?, timeout(timeout_secs)?);
            Ok(c.wait(&job, wait).await.map_err(coded)?.into())
        })
    }

    /// Waits for the job and resolves to its verified result; a job that ends unsettled rejects
    /// with code `NOT_SETTLED`.
    #[napi(ts_return_type = "Promise<JobResult>")]
    pub fn result<'env>(&self, env: &'env Env, job: String, timeout_secs: Option<f64>) -> Promise<'env, JobOutput> {
        let c = self.0.clone();
        promise(env, async move {
            let (job, wait) = (address(&job)?, timeout(timeout_secs)?);
            Ok(match c.result(&job, wait).await.map_err(coded)? {
                JobResult::Tensor { values, shape } => JobOutput {
                    values: Some(Float32Array::new(values)),
                    shape: shape.iter().map(|&d| d as u32).collect(),
                    buffers: None,
                    tensors: None,
                },
                JobResult::Buffers(b) => JobOutput {
                    values: None,
                    shape: vec![],
                    buffers: Some(b.into_iter().map(Buffer::from).collect()),
                    tensors: None,
                },
                JobResult::Tensors(ts) => JobOutput {
                    values: None,
                    shape: vec![],
                    buffers: None,
                    tensors: Some(
                        ts.into_iter()
                            .map(|(name, t)| NamedTensor {
                                name,
                                dtype: t.dtype.name().to_string(),
                                shape: t.shape.iter().map(|&d| d as f64).collect(),
                                data: Buffer::from(t.data),
                            })
                            .collect(),
                    ),
                },
            })
        })
    }
}

async fn quote(client: &rs::Client, options: JobOptions) -> Result<Quote> {
    let (q, escrow) = client.quote(&options).await.map_err(coded)?;
    Ok(Quote {
        price_low: q.price_low as f64,
        price_high: q.price_high as f64,
        reference_price: q.reference_price as f64,
        expected_wait_secs: q.expected_wait_secs as f64,
        eligible_nodes: q.eligible_nodes as u32,
        available_nodes: q.available_nodes as u32,
        jobs_ahead: q.jobs_ahead as u32,
        escrow: escrow as f64,
    })
}
