//! `gpufuel.Client`: the Rust [`gpufuel_exec::client::Client`] with numpy in and out. Quick reads
//! are sync; submitting and waiting are coroutines with `_sync` variants.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use gpufuel_core::task::mlp::Mlp;
use gpufuel_exec::{
    client::{self as rs, ConnectOptions},
    executor::class_name,
    job::{JobOptions, JobResult, Training},
};
use pyo3::{IntoPyObjectExt, prelude::*, types::PyBytes};

use crate::{
    convert::{self, address, client_error, invalid, uint},
    runtime::{self, block_on},
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
    pub votes_pass: u8,
    pub votes_fail: u8,
}

impl From<rs::JobStatus> for JobStatus {
    fn from(j: rs::JobStatus) -> Self {
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

impl From<rs::NodeStatus> for NodeStatus {
    fn from(n: rs::NodeStatus) -> Self {
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

/// Job options from keyword arguments, range-checked.
#[allow(clippy::too_many_arguments)]
fn options(
    gpu_class: Option<&Bound<'_, PyAny>>,
    gpu_count: i128,
    min_vram_mib: i128,
    gpu_seconds: i128,
    max_price: i128,
    deadline_secs: i128,
    urgent: bool,
) -> PyResult<JobOptions> {
    Ok(JobOptions {
        gpu_class: gpu_class.map_or(Ok(0), convert::gpu_class)?,
        gpu_count: uint("gpu_count", gpu_count)?,
        min_vram_mib: uint("min_vram_mib", min_vram_mib)?,
        min_compute_capability: 0,
        gpu_seconds: uint("gpu_seconds", gpu_seconds)?,
        max_price: uint("max_price", max_price)?,
        deadline_secs: uint::<u32>("deadline_secs", deadline_secs)?.into(),
        urgent,
    })
}

fn timeout(secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| invalid(format!("timeout must be a non-negative number of seconds, got {secs}")))
}

/// A submitter's handle on a market: a local network's (`LocalNetwork.client()`) or a cluster's
/// over RPC (`Client.connect()`).
#[pyclass(frozen, module = "gpufuel")]
pub struct Client(pub Arc<rs::Client>);

/// A verified result as Python sees it: a float32 array, or a list of `bytes` buffers (converted
/// where it is delivered, inside Python).
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
        }
    }
}

/// A coroutine, or its result when `sync`.
fn run<'py, F, T>(py: Python<'py>, sync: bool, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    if sync { block_on(py, fut)?.into_bound_py_any(py) } else { runtime::spawn(py, fut) }
}

impl Client {
    #[allow(clippy::too_many_arguments)]
    fn matmul<'py>(
        &self,
        py: Python<'py>,
        sync: bool,
        a: &Bound<'py, PyAny>,
        b: &Bound<'py, PyAny>,
        shape: (Option<i128>, Option<i128>, Option<i128>),
        bf16_output: bool,
        options: JobOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dim = |name, v: Option<i128>| v.map(|v| uint::<u32>(name, v).map(|v| v as usize)).transpose();
        let (m, k, n) = (dim("m", shape.0)?, dim("k", shape.1)?, dim("n", shape.2)?);
        let (a, m, ka) = convert::matrix("a", a, m.zip(k))?;
        let (b, kb, n) = convert::matrix("b", b, k.or(Some(ka)).zip(n))?;
        if ka != kb {
            return Err(invalid(format!("a is {m}×{ka} but b is {kb}×{n}: inner dimensions differ")));
        }
        let dims = (uint("m", m as i128)?, uint("k", ka as i128)?, uint("n", n as i128)?);
        let client = self.0.clone();
        run(py, sync, async move {
            let job = client.submit_matmul(dims, &a, &b, bf16_output, options).await.map_err(client_error)?;
            Ok(job.to_string())
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn training<'py>(
        &self,
        py: Python<'py>,
        sync: bool,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        init: &Bound<'py, PyAny>,
        (hidden, batch, learning_rate, segments, steps): (i128, i128, f32, i128, i128),
        options: JobOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (x, rows, inputs) = convert::matrix("x", x, None)?;
        let (y, ydims) = convert::array("y", y)?;
        let (init, _) = convert::array("init", init)?;
        if ydims != [rows] {
            return Err(invalid(format!("y: expected shape ({rows},) to match x's rows, got {ydims:?}")));
        }
        let training = Training {
            model: Mlp { inputs: uint("inputs", inputs as i128)?, hidden: uint("hidden", hidden)? },
            batch: uint("batch", batch)?,
            learning_rate,
            segments: uint("segments", segments)?,
            steps_per_segment: uint("steps_per_segment", steps)?,
        };
        let client = self.0.clone();
        run(py, sync, async move {
            let job = client.submit_training(training, &x, &y, &init, options).await.map_err(client_error)?;
            Ok(job.to_string())
        })
    }

    fn fetch_result<'py>(&self, py: Python<'py>, sync: bool, job: &str, secs: f64) -> PyResult<Bound<'py, PyAny>> {
        let (job, wait, client) = (address(job)?, timeout(secs)?, self.0.clone());
        run(py, sync, async move { client.result(&job, wait).await.map(Output).map_err(client_error) })
    }

    fn wait_for<'py>(&self, py: Python<'py>, sync: bool, job: &str, secs: f64) -> PyResult<Bound<'py, PyAny>> {
        let (job, wait, client) = (address(job)?, timeout(secs)?, self.0.clone());
        run(py, sync, async move { client.wait(&job, wait).await.map(JobStatus::from).map_err(client_error) })
    }
}

#[pymethods]
impl Client {
    /// Connects to a cluster over RPC; unset arguments come from the Solana CLI config
    /// (`~/.config/solana/cli/config.yml`). Files go to a Kubo node (`kubo`) or the embedded
    /// store (`store`, default `~/.local/share/gpufuel/store`).
    #[staticmethod]
    #[pyo3(signature = (url=None, keypair=None, commitment=None, config=None, kubo=None, store=None))]
    fn connect(
        py: Python<'_>,
        url: Option<String>,
        keypair: Option<PathBuf>,
        commitment: Option<String>,
        config: Option<PathBuf>,
        kubo: Option<String>,
        store: Option<PathBuf>,
    ) -> PyResult<Self> {
        let options = ConnectOptions { url, keypair, commitment, config, kubo, store };
        let client = block_on(py, rs::Client::connect(options)).map_err(client_error)?;
        Ok(Self(Arc::new(client)))
    }

    /// The wallet's address (base58).
    #[getter]
    fn address(&self) -> String {
        self.0.address().to_string()
    }

    /// The wallet's GPUFuel balance in base units.
    fn balance(&self, py: Python<'_>) -> PyResult<u64> {
        block_on(py, self.0.balance()).map_err(client_error)
    }

    /// Registers the wallet as a submitter, staking `stake` (default: the market's minimum),
    /// unless it already is one; a wallet must be registered before it submits.
    #[pyo3(signature = (stake=None))]
    fn register(&self, py: Python<'_>, stake: Option<i128>) -> PyResult<()> {
        let stake = stake.map(|s| uint("stake", s)).transpose()?;
        block_on(py, self.0.register(stake)).map_err(client_error)
    }

    /// Whether the wallet is registered as a submitter.
    fn is_registered(&self, py: Python<'_>) -> PyResult<bool> {
        block_on(py, self.0.is_registered()).map_err(client_error)
    }

    /// Reference prices by GPU class name, base units per GPU-second.
    fn prices(&self, py: Python<'_>) -> PyResult<Vec<(String, u64)>> {
        let prices = block_on(py, self.0.prices()).map_err(client_error)?;
        Ok(prices.into_iter().map(|(c, p)| (class_name(c).to_string(), p)).collect())
    }

    /// A quote for a job with these requirements.
    #[pyo3(signature = (*, gpu_class=None, gpu_seconds=10, urgent=false, gpu_count=1, min_vram_mib=0))]
    fn quote(
        &self,
        py: Python<'_>,
        gpu_class: Option<&Bound<'_, PyAny>>,
        gpu_seconds: i128,
        urgent: bool,
        gpu_count: i128,
        min_vram_mib: i128,
    ) -> PyResult<Quote> {
        let options = options(gpu_class, gpu_count, min_vram_mib, gpu_seconds, 1, 1, urgent)?;
        let (q, escrow) = block_on(py, self.0.quote(&options)).map_err(client_error)?;
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
    /// returns the job's address once created on chain.
    #[pyo3(signature = (a, b, *, m=None, k=None, n=None, bf16_output=false, gpu_class=None, gpu_seconds=10,
        max_price=1000, deadline_secs=3600, urgent=false, gpu_count=1, min_vram_mib=0))]
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
        gpu_seconds: i128,
        max_price: i128,
        deadline_secs: i128,
        urgent: bool,
        gpu_count: i128,
        min_vram_mib: i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = options(gpu_class, gpu_count, min_vram_mib, gpu_seconds, max_price, deadline_secs, urgent)?;
        self.matmul(py, false, a, b, (m, k, n), bf16_output, o)
    }

    /// `submit_matmul`, blocking.
    #[pyo3(signature = (a, b, *, m=None, k=None, n=None, bf16_output=false, gpu_class=None, gpu_seconds=10,
        max_price=1000, deadline_secs=3600, urgent=false, gpu_count=1, min_vram_mib=0))]
    #[allow(clippy::too_many_arguments)]
    fn submit_matmul_sync<'py>(
        &self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        b: &Bound<'py, PyAny>,
        m: Option<i128>,
        k: Option<i128>,
        n: Option<i128>,
        bf16_output: bool,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: i128,
        max_price: i128,
        deadline_secs: i128,
        urgent: bool,
        gpu_count: i128,
        min_vram_mib: i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = options(gpu_class, gpu_count, min_vram_mib, gpu_seconds, max_price, deadline_secs, urgent)?;
        self.matmul(py, true, a, b, (m, k, n), bf16_output, o)
    }

    /// Submits the training of a one-hidden-layer MLP (`x`: rows×inputs, `y`: rows, `init`: the
    /// initial parameters) by mini-batch SGD, checkpointed every segment; the result is the
    /// trained parameters.
    #[pyo3(signature = (x, y, init, *, hidden, batch=32, learning_rate=0.05, segments=8, steps_per_segment=4,
        gpu_class=None, gpu_seconds=10, max_price=1000, deadline_secs=3600, urgent=false))]
    #[allow(clippy::too_many_arguments)]
    fn submit_training<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        init: &Bound<'py, PyAny>,
        hidden: i128,
        batch: i128,
        learning_rate: f32,
        segments: i128,
        steps_per_segment: i128,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: i128,
        max_price: i128,
        deadline_secs: i128,
        urgent: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = options(gpu_class, 1, 0, gpu_seconds, max_price, deadline_secs, urgent)?;
        self.training(py, false, x, y, init, (hidden, batch, learning_rate, segments, steps_per_segment), o)
    }

    /// `submit_training`, blocking.
    #[pyo3(signature = (x, y, init, *, hidden, batch=32, learning_rate=0.05, segments=8, steps_per_segment=4,
        gpu_class=None, gpu_seconds=10, max_price=1000, deadline_secs=3600, urgent=false))]
    #[allow(clippy::too_many_arguments)]
    fn submit_training_sync<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        init: &Bound<'py, PyAny>,
        hidden: i128,
        batch: i128,
        learning_rate: f32,
        segments: i128,
        steps_per_segment: i128,
        gpu_class: Option<&Bound<'py, PyAny>>,
        gpu_seconds: i128,
        max_price: i128,
        deadline_secs: i128,
        urgent: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let o = options(gpu_class, 1, 0, gpu_seconds, max_price, deadline_secs, urgent)?;
        self.training(py, true, x, y, init, (hidden, batch, learning_rate, segments, steps_per_segment), o)
    }

    /// A job's status.
    fn status(&self, py: Python<'_>, job: &str) -> PyResult<JobStatus> {
        let job = address(job)?;
        block_on(py, self.0.status(&job)).map(Into::into).map_err(client_error)
    }

    /// Jobs on the market (only this wallet's with `mine=True`), latest deadline first.
    #[pyo3(signature = (mine=false))]
    fn jobs(&self, py: Python<'_>, mine: bool) -> PyResult<Vec<JobStatus>> {
        let jobs = block_on(py, self.0.jobs(mine)).map_err(client_error)?;
        Ok(jobs.into_iter().map(Into::into).collect())
    }

    /// Nodes on the market.
    fn nodes(&self, py: Python<'_>) -> PyResult<Vec<NodeStatus>> {
        let nodes = block_on(py, self.0.nodes()).map_err(client_error)?;
        Ok(nodes.into_iter().map(Into::into).collect())
    }

    /// Cancels an open job; its escrow returns.
    fn cancel(&self, py: Python<'_>, job: &str) -> PyResult<()> {
        let job = address(job)?;
        block_on(py, self.0.cancel(&job)).map_err(client_error)
    }

    /// Waits until the job is settled, slashed, cancelled or expired.
    #[pyo3(signature = (job, timeout=600.0))]
    fn wait<'py>(&self, py: Python<'py>, job: &str, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        self.wait_for(py, false, job, timeout)
    }

    /// `wait`, blocking.
    #[pyo3(signature = (job, timeout=600.0))]
    fn wait_sync<'py>(&self, py: Python<'py>, job: &str, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        self.wait_for(py, true, job, timeout)
    }

    /// Waits for the job and returns its verified result: a float32 array (the product, shape
    /// (m, n), or the trained parameters), or a kernel's output buffers as a list of bytes.
    /// A job that ends unsettled raises `NotSettledError`.
    #[pyo3(signature = (job, timeout=600.0))]
    fn result<'py>(&self, py: Python<'py>, job: &str, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        self.fetch_result(py, false, job, timeout)
    }

    /// `result`, blocking.
    #[pyo3(signature = (job, timeout=600.0))]
    fn result_sync<'py>(&self, py: Python<'py>, job: &str, timeout: f64) -> PyResult<Bound<'py, PyAny>> {
        self.fetch_result(py, true, job, timeout)
    }
}
