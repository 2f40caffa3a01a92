//! `gpufuel.Client`: the SDK's [`gpufuel_sdk::Client`] with numpy in and out. Quick reads are
//! sync; submitting and waiting are awaitables, each with a `_sync` variant taking the same
//! arguments. An argument left `None` takes the SDK's default ([`JobOptions`], [`Training`]).

use std::{path::PathBuf, sync::Arc, time::Duration};

use gpufuel_core::{
    class::class_name,
    proof::{challenge::Tolerance, freivalds::Precision},
    task::{mlp::Mlp, onnx::OutputSpec},
};
use gpufuel_sdk::{self as sdk, ConnectOptions, JobOptions, JobResult, Training};
use pyo3::{
    prelude::*,
    types::{PyBytes, PyDict, PyTuple},
};

use crate::{
    convert::{self, address, opt, uint},
    error::{coded, invalid},
    runtime::{block_on, call_blocking, run},
};

/// A price quote: prices in base units per GPU-second, the expected wait, and the escrow that
/// submitting at `max_price = price_high` locks.
#[pyclass(frozen, get_all, module = "gpufuel")]
#[derive(Clone, Debug)]
pub struct Quote {
    pub price_low: u64,
    pub price_high: u64,
    pub reference_price: u64,
    pub expected_wait_secs: u64,
    pub eligible_nodes: usize,
    pub available_nodes: usize,
    pub jobs_ahead: usize,
    pub escrow: u64,
}

/// A job as its submitter follows it (`state`: Open, Assigned, Submitted, Settled, Slashed,
/// Cancelled or Expired).
#[pyclass(frozen, get_all, module = "gpufuel")]
#[derive(Clone, Debug)]
pub struct JobStatus {
    pub address: String,
    pub state: String,
    pub done: bool,
    pub gpu_class: u8,
    pub class_name: String,
    pub urgent: bool,
    pub price: u64,
    pub escrow: u64,
    pub premium: u64,
    pub gpu_seconds: u32,
    pub deadline: i64,
    pub node: Option<String>,
    pub submitter: String,
    pub round: u8,
    pub votes_pass: u8,
    pub votes_fail: u8,
}

impl From<sdk::JobStatus> for JobStatus {
    fn from(j: sdk::JobStatus) -> Self {
        Self {
            address: j.address.to_string(),
            state: format!("{:?}", j.state),
            done: j.is_done(),
            gpu_class: j.gpu_class,
            class_name: j.class_name.into(),
            urgent: j.urgent,
            price: j.price,
            escrow: j.escrow,
            premium: j.premium,
            gpu_seconds: j.gpu_seconds,
            deadline: j.deadline,
            node: j.node.map(|n| n.to_string()),
            submitter: j.submitter.to_string(),
            round: j.round,
            votes_pass: j.votes_pass,
            votes_fail: j.votes_fail,
        }
    }
}

/// A node on the market with its stake and track record.
#[pyclass(frozen, get_all, module = "gpufuel")]
#[derive(Clone, Debug)]
pub struct NodeStatus {
    pub address: String,
    pub operator: String,
    pub gpu_class: u8,
    pub class_name: String,
    pub gpu_count: u8,
    pub vram_mib: u32,
    pub stake: u64,
    pub price_floor: u64,
    pub active_jobs: u32,
    pub completed: u32,
    pub failed_validations: u32,
    pub missed_deadlines: u32,
}

impl From<sdk::NodeStatus> for NodeStatus {
    fn from(n: sdk::NodeStatus) -> Self {
        Self {
            address: n.address.to_string(),
            operator: n.operator.to_string(),
            gpu_class: n.gpu_class,
            class_name: n.class_name.into(),
            gpu_count: n.gpu_count,
            vram_mib: n.vram_mib,
            stake: n.stake,
            price_floor: n.price_floor,
            active_jobs: n.active_jobs,
            completed: n.completed,
            failed_validations: n.failed_validations,
            missed_deadlines: n.missed_deadlines,
        }
    }
}

macro_rules! repr {
    ($($t:ty),*) => {$(
        #[pymethods]
        impl $t {
            fn __repr__(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}
repr!(Quote, JobStatus, NodeStatus);

/// What a job asks of the market, from keyword arguments: range-checked, `None` for the SDK's
/// default.
struct Request<'a, 'py> {
    gpu_class: Option<&'a Bound<'py, PyAny>>,
    gpu_count: Option<i128>,
    min_vram_mib: Option<i128>,
    gpu_seconds: Option<i128>,
    max_price: Option<i128>,
    deadline_secs: Option<i128>,
    urgent: Option<bool>,
}

impl Request<'_, '_> {
    fn options(&self) -> PyResult<JobOptions> {
        let d = JobOptions::default();
        Ok(JobOptions {
            gpu_class: self.gpu_class.map_or(Ok(d.gpu_class), convert::gpu_class)?,
            gpu_count: opt("gpu_count", self.gpu_count)?.unwrap_or(d.gpu_count),
            min_vram_mib: opt("min_vram_mib", self.min_vram_mib)?.unwrap_or(d.min_vram_mib),
            min_compute_capability: d.min_compute_capability,
            gpu_seconds: opt("gpu_seconds", self.gpu_seconds)?.unwrap_or(d.gpu_seconds),
            max_price: opt("max_price", self.max_price)?.unwrap_or(d.max_price),
            deadline_secs: opt::<u32>("deadline_secs", self.deadline_secs)?.map_or(d.deadline_secs, i64::from),
            urgent: self.urgent.unwrap_or(d.urgent),
        })
    }
}

/// A wait's limit in seconds; `None`: the SDK's [`sdk::DEFAULT_WAIT`].
fn timeout(secs: Option<f64>) -> PyResult<Duration> {
    let Some(secs) = secs else { return Ok(sdk::DEFAULT_WAIT) };
    Duration::try_from_secs_f64(secs)
        .map_err(|_| invalid(format!("timeout must be a non-negative number of seconds, got {secs}")))
}

/// A verified result as Python sees it: a float32 array, a list of `bytes` buffers, or (an ONNX
/// job's) a dict of output name to numpy array (converted where it is delivered, inside Python).
struct Output(JobResult);

impl<'py> IntoPyObject<'py> for Output {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0 {
            JobResult::Tensor { values, shape } => convert::ndarray(py, values, shape),
            JobResult::Buffers(buffers) => {
                Ok(buffers.iter().map(|b| PyBytes::new(py, b)).collect::<Vec<_>>().into_pyobject(py)?.into_any())
            }
            JobResult::Tensors(tensors) => {
                let outputs = PyDict::new(py);
                for (name, t) in tensors {
                    outputs.set_item(name, convert::tensor(py, &t)?)?;
                }
                Ok(outputs.into_any())
            }
        }
    }
}

/// A submitter's handle on a market: a local network's (`LocalNetwork.client()`) or a cluster's
/// over RPC (`Client.connect()`).
#[pyclass(frozen, module = "gpufuel")]
pub struct Client(pub Arc<sdk::Client>);

#[pymethods]
impl Client {
    /// Connects to a cluster over RPC; unset arguments come from the Solana CLI config
    /// (`~/.config/solana/cli/config.yml`). Files go to a Kubo node (`kubo`) or the embedded
    /// store (`store`, default `~/.local/share/gpufuel/store`). `program_id` names the
    /// deployment (default `$GPUFUEL_PROGRAM_ID`, else `~/.config/gpufuel/config.yml`, else the
    /// well-known address). `pin_endpoint` and `pin_token` name a pinning service (IPFS Pinning
    /// Service API) that keeps each job's inputs and verified results.
    #[staticmethod]
    #[pyo3(signature = (url=None, keypair=None, commitment=None, config=None, kubo=None, store=None, program_id=None, pin_endpoint=None, pin_token=None))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments, each optional
    fn connect(
        py: Python<'_>,
        url: Option<String>,
        keypair: Option<PathBuf>,
        commitment: Option<String>,
        config: Option<PathBuf>,
        kubo: Option<String>,
        store: Option<PathBuf>,
        program_id: Option<String>,
        pin_endpoint: Option<String>,
        pin_token: Option<String>,
    ) -> PyResult<Self> {
        let options =
            ConnectOptions { url, keypair, commitment, config, kubo, store, program_id, pin_endpoint, pin_token };
        let client = block_on(py, sdk::Client::connect(options)).map_err(coded)?;
        Ok(Self(Arc::new(client)))
    }

    /// The wallet's address (base58).
    #[getter]
    fn address(&self) -> String {
        self.0.address().to_string()
    }

    /// The wallet's GPUFuel balance in base units.
    fn balance(&self, py: Python<'_>) -> PyResult<u64> {
        block_on(py, self.0.balance()).map_err(coded)
    }

    /// Registers the wallet as a submitter, staking `stake` (default: the market's minimum),
    /// unless it already is one; a wallet must be registered before it submits.
    #[pyo3(signature = (stake=None))]
    fn register(&self, py: Python<'_>, stake: Option<i128>) -> PyResult<()> {
        let stake = opt("stake", stake)?;
        block_on(py, self.0.register(stake)).map_err(coded)
    }

    /// Whether the wallet is registered as a submitter.
    fn is_registered(&self, py: Python<'_>) -> PyResult<bool> {
        block_on(py, self.0.is_registered()).map_err(coded)
    }

    /// Reference prices by GPU class name, base units per GPU-second.
    fn prices(&self, py: Python<'_>) -> PyResult<Vec<(String, u64)>> {
        let prices = block_on(py, self.0.prices()).map_err(coded)?;
        Ok(prices.into_iter().map(|(c, p)| (class_name(c).to_string(), p)).collect())
    }

    /// A quote for a job with these requirements.
    #[pyo3(signature = (*, gpu_class=None, gpu_seconds=None, urgent=None, gpu_count=None, min_vram_mib=None))]
    fn quote(
        &self,
        py: Python<'_>,
        gpu_class: Option<&Bound<'_, PyAny>>,
        gpu_seconds: Option<i128>,
        urgent: Option<bool>,
        gpu_count: Option<i128>,
        min_vram_mib: Option<i128>,
    ) -> PyResult<Quote> {
        let request =
            Request { gpu_class, gpu_count, min_vram_mib, gpu_seconds, max_price: None, deadline_secs: None, urgent };
        let (q, escrow) = block_on(py, self.0.quote(&request.options()?)).map_err(coded)?;
        Ok(Quote {
            price_low: q.price_low,
            price_high: q.price_high,
            reference_price: q.reference_price,
            expected_wait_secs: q.expected_wait_secs,
            eligible_nodes: q.eligible_nodes,
            available_nodes: q.available_nodes,
            jobs_ahead: q.jobs_ahead,
            escrow,
        })
    }

    /// Submits `C = a·b` (2-D float arrays, or raw little-endian f32 bytes with `m`, `k`, `n`);
    /// resolves to the job's address once created on chain.
    #[pyo3(signature = (a, b, *, m=None, k=None, n=None, bf16_output=false, gpu_class=None, gpu_seconds=None,
        max_price=None, deadline_secs=None, urgent=None, gpu_count=None, min_vram_mib=None))]
    #[allow(clippy::too_many_arguments)]
    fn submit_matmul<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        b: &Bound<'py, PyAny>,
        m: Option<i128>,
        k: Option<i128>,
        n: Option<i128>,
        bf16_output: bool,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: Option<i128>,
        max_price: Option<i128>,
        deadline_secs: Option<i128>,
        urgent: Option<bool>,
        gpu_count: Option<i128>,
        min_vram_mib: Option<i128>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options =
            Request { gpu_class, gpu_count, min_vram_mib, gpu_seconds, max_price, deadline_secs, urgent }.options()?;
        let dim = |name, v: Option<i128>| opt::<u32>(name, v).map(|v| v.map(|v| v as usize));
        let (m, k, n) = (dim("m", m)?, dim("k", k)?, dim("n", n)?);
        let (a, m, ka) = convert::matrix("a", a, m.zip(k))?;
        let (b, kb, n) = convert::matrix("b", b, k.or(Some(ka)).zip(n))?;
        if ka != kb {
            return Err(invalid(format!("a is {m}×{ka} but b is {kb}×{n}: inner dimensions differ")));
        }
        let dims = (uint("m", m as i128)?, uint("k", ka as i128)?, uint("n", n as i128)?);
        let output = if bf16_output { Precision::Bf16 } else { Precision::F32 };
        let client = self.0.clone();
        run(py, async move {
            let job = client.submit_matmul(dims, &a, &b, output, options).await.map_err(coded)?;
            Ok(job.to_string())
        })
    }

    /// `submit_matmul`, blocking.
    #[pyo3(signature = (*args, **kwargs))]
    fn submit_matmul_sync<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_blocking(slf, "submit_matmul", args, kwargs)
    }

    /// Submits the training of a one-hidden-layer MLP (`x`: rows×inputs, `y`: rows, `init`: the
    /// initial parameters) by mini-batch SGD, checkpointed every segment; the result is the
    /// trained parameters.
    #[pyo3(signature = (x, y, init, *, hidden, batch=None, learning_rate=None, segments=None, steps_per_segment=None,
        gpu_class=None, gpu_seconds=None, max_price=None, deadline_secs=None, urgent=None))]
    #[allow(clippy::too_many_arguments)]
    fn submit_training<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        init: &Bound<'py, PyAny>,
        hidden: i128,
        batch: Option<i128>,
        learning_rate: Option<f32>,
        segments: Option<i128>,
        steps_per_segment: Option<i128>,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: Option<i128>,
        max_price: Option<i128>,
        deadline_secs: Option<i128>,
        urgent: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request =
            Request { gpu_class, gpu_count: None, min_vram_mib: None, gpu_seconds, max_price, deadline_secs, urgent };
        let options = request.options()?;
        let (x, rows, inputs) = convert::matrix("x", x, None)?;
        let (y, ydims) = convert::array("y", y)?;
        let (init, _) = convert::array("init", init)?;
        if ydims != [rows] {
            return Err(invalid(format!("y: expected shape ({rows},) to match x's rows, got {ydims:?}")));
        }
        let d = Training::new(Mlp { inputs: uint("inputs", inputs as i128)?, hidden: uint("hidden", hidden)? });
        let training = Training {
            batch: opt("batch", batch)?.unwrap_or(d.batch),
            learning_rate: learning_rate.unwrap_or(d.learning_rate),
            segments: opt("segments", segments)?.unwrap_or(d.segments),
            steps_per_segment: opt("steps_per_segment", steps_per_segment)?.unwrap_or(d.steps_per_segment),
            ..d
        };
        let client = self.0.clone();
        run(py, async move {
            let job = client.submit_training(training, &x, &y, &init, options).await.map_err(coded)?;
            Ok(job.to_string())
        })
    }

    /// `submit_training`, blocking.
    #[pyo3(signature = (*args, **kwargs))]
    fn submit_training_sync<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_blocking(slf, "submit_training", args, kwargs)
    }

    /// Submits batched inference of an ONNX model. `model` is a path, the model's bytes or an
    /// `onnx.ModelProto`; `inputs` maps graph input names to arrays split along axis 0 into
    /// chunks; `constants` to arrays fed whole to every chunk. `outputs` names the outputs
    /// returned (default: all); `scores` maps an index output (argmax, top-k) to the scores it
    /// indexes, so near-ties are judged by score; `tolerances` maps an output to `(rel, abs)`.
    /// The job is checked against the model's signature before anything is stored or escrowed.
    #[pyo3(signature = (model, inputs, *, constants=None, outputs=None, chunk_rows=None, scores=None, tolerances=None,
        allow_non_finite=false, gpu_class=None, gpu_seconds=None, max_price=None, deadline_secs=None, urgent=None,
        gpu_count=None, min_vram_mib=None))]
    #[allow(clippy::too_many_arguments)]
    fn submit_onnx<'py>(
        &self,
        py: Python<'py>,
        model: &Bound<'py, PyAny>,
        inputs: &Bound<'py, PyDict>,
        constants: Option<&Bound<'py, PyDict>>,
        outputs: Option<Vec<String>>,
        chunk_rows: Option<i128>,
        scores: Option<std::collections::HashMap<String, String>>,
        tolerances: Option<std::collections::HashMap<String, (f32, f32)>>,
        allow_non_finite: bool,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: Option<i128>,
        max_price: Option<i128>,
        deadline_secs: Option<i128>,
        urgent: Option<bool>,
        gpu_count: Option<i128>,
        min_vram_mib: Option<i128>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options =
            Request { gpu_class, gpu_count, min_vram_mib, gpu_seconds, max_price, deadline_secs, urgent }.options()?;
        let mut job = sdk::OnnxJob::new(convert::model(model)?).allow_non_finite(allow_non_finite);
        for (name, value) in inputs {
            let name: String = name.extract()?;
            job = job.batched(name.clone(), convert::tensor_in(&name, &value)?);
        }
        for (name, value) in constants.into_iter().flatten() {
            let name: String = name.extract()?;
            job = job.constant(name.clone(), convert::tensor_in(&name, &value)?);
        }
        let (mut scores, mut tolerances) = (scores.unwrap_or_default(), tolerances.unwrap_or_default());
        for name in outputs.unwrap_or_default() {
            let tolerance = tolerances.remove(&name).map(|(rel, abs)| Tolerance { rel, abs });
            job = job.output_spec(OutputSpec { scores: scores.remove(&name), tolerance, name });
        }
        if let Some(name) = scores.keys().chain(tolerances.keys()).next() {
            return Err(invalid(format!("{name:?} has scores or a tolerance but is not in outputs")));
        }
        if let Some(rows) = opt("chunk_rows", chunk_rows)? {
            job = job.chunk_rows(rows);
        }
        let client = self.0.clone();
        run(py, async move {
            let job = client.submit_onnx(job, options).await.map_err(coded)?;
            Ok(job.to_string())
        })
    }

    /// `submit_onnx`, blocking.
    #[pyo3(signature = (*args, **kwargs))]
    fn submit_onnx_sync<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_blocking(slf, "submit_onnx", args, kwargs)
    }

    /// Submits an iterated ONNX step graph: `state` maps each state input to its initial array,
    /// `next` each state input to the output holding its next value; every step also feeds the
    /// step index to `step_input` (an int64 scalar), its slice of each `per_step` array (axis 0 =
    /// steps) and the `constants`. Runs `steps` steps, checkpointed every `checkpoint_every`; the
    /// result is the final state, by state name.
    #[pyo3(signature = (model, state, next, *, steps, checkpoint_every, step_input=None, per_step=None, constants=None,
        tolerances=None, allow_non_finite=false, gpu_class=None, gpu_seconds=None, max_price=None, deadline_secs=None,
        urgent=None, gpu_count=None, min_vram_mib=None))]
    #[allow(clippy::too_many_arguments)]
    fn submit_onnx_steps<'py>(
        &self,
        py: Python<'py>,
        model: &Bound<'py, PyAny>,
        state: &Bound<'py, PyDict>,
        next: std::collections::HashMap<String, String>,
        steps: i128,
        checkpoint_every: i128,
        step_input: Option<String>,
        per_step: Option<&Bound<'py, PyDict>>,
        constants: Option<&Bound<'py, PyDict>>,
        tolerances: Option<std::collections::HashMap<String, (f32, f32)>>,
        allow_non_finite: bool,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: Option<i128>,
        max_price: Option<i128>,
        deadline_secs: Option<i128>,
        urgent: Option<bool>,
        gpu_count: Option<i128>,
        min_vram_mib: Option<i128>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options =
            Request { gpu_class, gpu_count, min_vram_mib, gpu_seconds, max_price, deadline_secs, urgent }.options()?;
        let mut job = sdk::OnnxStepsJob::new(convert::model(model)?)
            .steps(uint("steps", steps)?, uint("checkpoint_every", checkpoint_every)?)
            .allow_non_finite(allow_non_finite);
        let (mut next, mut tolerances) = (next, tolerances.unwrap_or_default());
        for (name, value) in state {
            let name: String = name.extract()?;
            let output =
                next.remove(&name).ok_or_else(|| invalid(format!("next has no output for the state {name:?}")))?;
            let tolerance = tolerances.remove(&name).map(|(rel, abs)| Tolerance { rel, abs });
            let spec = OutputSpec { name: output, tolerance, scores: None };
            job = job.state_spec(name.clone(), convert::tensor_in(&name, &value)?, spec);
        }
        if let Some(name) = next.keys().chain(tolerances.keys()).next() {
            return Err(invalid(format!("{name:?} is in next or tolerances but not in state")));
        }
        if let Some(name) = step_input {
            job = job.step_input(name);
        }
        for (name, value) in per_step.into_iter().flatten() {
            let name: String = name.extract()?;
            job = job.per_step(name.clone(), convert::tensor_in(&name, &value)?);
        }
        for (name, value) in constants.into_iter().flatten() {
            let name: String = name.extract()?;
            job = job.constant(name.clone(), convert::tensor_in(&name, &value)?);
        }
        let client = self.0.clone();
        run(py, async move {
            let job = client.submit_onnx_steps(job, options).await.map_err(coded)?;
            Ok(job.to_string())
        })
    }

    /// `submit_onnx_steps`, blocking.
    #[pyo3(signature = (*args, **kwargs))]
    fn submit_onnx_steps_sync<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_blocking(slf, "submit_onnx_steps", args, kwargs)
    }

    /// A job's status.
    fn status(&self, py: Python<'_>, job: &str) -> PyResult<JobStatus> {
        let job = address(job)?;
        block_on(py, self.0.status(&job)).map(Into::into).map_err(coded)
    }

    /// Jobs on the market (only this wallet's with `mine=True`), latest deadline first.
    #[pyo3(signature = (mine=false))]
    fn jobs(&self, py: Python<'_>, mine: bool) -> PyResult<Vec<JobStatus>> {
        let jobs = block_on(py, self.0.jobs(mine)).map_err(coded)?;
        Ok(jobs.into_iter().map(Into::into).collect())
    }

    /// Nodes on the market.
    fn nodes(&self, py: Python<'_>) -> PyResult<Vec<NodeStatus>> {
        let nodes = block_on(py, self.0.nodes()).map_err(coded)?;
        Ok(nodes.into_iter().map(Into::into).collect())
    }

    /// Cancels an open job; its escrow returns.
    fn cancel(&self, py: Python<'_>, job: &str) -> PyResult<()> {
        let job = address(job)?;
        block_on(py, self.0.cancel(&job)).map_err(coded)
    }

    /// Waits until the job is settled, slashed, cancelled or expired.
    #[pyo3(signature = (job, timeout=None))]
    fn wait<'py>(&self, py: Python<'py>, job: &str, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let (job, wait, client) = (address(job)?, self::timeout(timeout)?, self.0.clone());
        run(py, async move { client.wait(&job, wait).await.map(JobStatus::from).map_err(coded) })
    }

    /// `wait`, blocking.
    #[pyo3(signature = (*args, **kwargs))]
    fn wait_sync<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_blocking(slf, "wait", args, kwargs)
    }

    /// Waits for the job and returns its verified result: a float32 array (the product, shape
    /// (m, n), or the trained parameters), or a kernel's output buffers as a list of bytes.
    /// A job that ends unsettled raises `NotSettledError`.
    #[pyo3(signature = (job, timeout=None))]
    fn result<'py>(&self, py: Python<'py>, job: &str, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let (job, wait, client) = (address(job)?, self::timeout(timeout)?, self.0.clone());
        run(py, async move { client.result(&job, wait).await.map(Output).map_err(coded) })
    }

    /// `result`, blocking.
    #[pyo3(signature = (*args, **kwargs))]
    fn result_sync<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call_blocking(slf, "result", args, kwargs)
    }
}
