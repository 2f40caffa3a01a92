//! The agents that run the market off chain: [`NodeAgent`] (bids, executes, proves, collects) and
//! [`ValidatorAgent`] (votes on the committees it is drawn into, appeals, settles, expires). Each acts in `tick`s: one pass
//! over chain state, so a restarted agent picks up where chain state says it is.

mod alerts;
mod behaviour;
mod node;
mod served;
mod validator;

use gpufuel_chain::ChainError;
use gpufuel_core::{
    ErrorCode,
    state::Job,
    task::{Task, TaskError, verify::Keys},
};
use gpufuel_store::{ContentStore, StoreError, from_chain};
use solana_address::Address;

pub use alerts::Alerts;
use behaviour::Files;
pub use behaviour::{Behaviour, UnknownBehaviour};
pub use node::{NodeAgent, NodeConfig, NodeTick, RunTimings};
pub use validator::{ValidatorAgent, ValidatorConfig, ValidatorTick, Verdict};

use crate::executor::{ExecError, Feed, FeedWriter, Work};

/// Why an agent step failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The executor failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// A task or result file is malformed.
    #[error(transparent)]
    Task(#[from] TaskError),
}

impl ErrorCode for AgentError {
    fn code(&self) -> &'static str {
        match self {
            Self::Chain(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Exec(_) => "EXEC_ERROR",
            Self::Task(_) => "INVALID_TASK",
        }
    }
}

/// The watermark keys of a job's assignment.
pub fn keys(address: &Address, job: &Job) -> Keys {
    Keys { job: address.to_bytes(), node: job.node, seed: job.seed }
}

/// Fetches and decodes the task a job's input CID names.
/// Writes `text` to an agent's file (a journal, a ledger), making its directory; appended, or
/// replacing what was there.
async fn write_file(path: &std::path::Path, text: &str, append: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut file =
        tokio::fs::OpenOptions::new().create(true).append(append).write(true).truncate(!append).open(path).await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, text.as_bytes()).await
}

async fn fetch_task(store: &dyn ContentStore, job: &Job) -> Result<Task, AgentError> {
    Ok(Task::decode_for(&store.get(&job.input_cid).await?, job)?)
}

/// `f32` values of a file.
async fn fetch_f32s(
    store: &dyn ContentStore,
    cid: &gpufuel_core::cid::Cid,
    what: &'static str,
    len: u64,
) -> Result<Vec<f32>, AgentError> {
    Ok(gpufuel_core::task::f32s(what, &store.get(cid).await?, len)?)
}

/// Inputs still to stream from the store into their feeds while the run goes on.
#[must_use = "the run waits for these inputs until they are streamed"]
#[derive(Debug, Default)]
struct Arrivals(Vec<(gpufuel_core::cid::Cid, FeedWriter)>);

impl Arrivals {
    /// Streams every input into its feed, all at once. An input of another size than its spec
    /// is [`TaskError::Size`].
    async fn arrive(self, store: &dyn ContentStore) -> Result<(), AgentError> {
        let streams = self.0.into_iter().map(|(cid, mut writer)| async move {
            let streamed = store.cat_to(&from_chain(&cid)?, &mut writer).await;
            let (got, expected) = (writer.offered(), writer.expected());
            if got != expected {
                return Err(TaskError::Size { what: "ONNX input", expected, got }.into());
            }
            streamed.map(|_| ()).map_err(AgentError::from)
        });
        futures_util::future::try_join_all(streams).await.map(|_| ())
    }
}

/// Fetches a task's inputs, the batched inputs of an ONNX job as [`Arrivals`] for the caller to
/// stream alongside the run (the model and the constants are fetched whole first).
async fn fetch_work(store: &dyn ContentStore, task: Task) -> Result<(Work, Arrivals), AgentError> {
    let mut arrivals = Arrivals::default();
    let work = match task {
        Task::MatMul(t) => {
            let (na, nb, _) = t.sizes();
            let a = fetch_f32s(store, &t.a, "A", na).await?;
            let b = fetch_f32s(store, &t.b, "B", nb).await?;
            Work::MatMul { task: t, a, b }
        }
        Task::Iterative(t) => {
            let data_len = u64::from(t.rows) * (u64::from(t.model.inputs) + 1);
            let data = fetch_f32s(store, &t.data, "training data", data_len).await?;
            let init = fetch_f32s(store, &t.init, "initial parameters", t.model.params() as u64).await?;
            Work::Iterative { task: t, data, init }
        }
        Task::Kernel(t) => {
            let mut inputs = Vec::with_capacity(t.buffers.len());
            for b in &t.buffers {
                inputs.push(match &b.input {
                    Some(cid) => Some(store.get(cid).await?),
                    None => None,
                });
            }
            Work::Kernel { task: t, inputs }
        }
        Task::Onnx(t) => {
            let model = fetch_model(store, &t.model).await?;
            let mut inputs = Vec::with_capacity(t.inputs.len());
            for spec in &t.inputs {
                inputs.push(if spec.batched {
                    let (feed, writer) = Feed::expecting(spec.bytes() as usize);
                    arrivals.0.push((spec.data, writer));
                    feed
                } else {
                    Feed::whole(fetch_sized(store, spec).await?)
                });
            }
            Work::Onnx { task: t, model, inputs }
        }
        Task::OnnxSteps(t) => {
            let (model, inputs) = fetch_onnx(store, &t.model, t.fed()).await?;
            Work::OnnxSteps { task: t, model, inputs }
        }
    };
    Ok((work, arrivals))
}

/// A task's inputs, all fetched before it returns.
async fn fetch_whole(store: &dyn ContentStore, task: Task) -> Result<Work, AgentError> {
    let (work, arrivals) = fetch_work(store, task).await?;
    arrivals.arrive(store).await?;
    Ok(work)
}

/// Fetches an ONNX model with its external-data files.
async fn fetch_model(
    store: &dyn ContentStore,
    model: &gpufuel_core::task::onnx::ModelRef,
) -> Result<crate::executor::onnx::Model, AgentError> {
    let mut external = Vec::with_capacity(model.external.len());
    for (location, cid) in &model.external {
        external.push((location.clone(), store.get(cid).await?.into()));
    }
    Ok(crate::executor::onnx::Model { cid: model.model, bytes: store.get(&model.model).await?.into(), external })
}

/// Fetches an ONNX model and its inputs, each of the size its spec gives.
async fn fetch_onnx(
    store: &dyn ContentStore,
    model: &gpufuel_core::task::onnx::ModelRef,
    specs: impl IntoIterator<Item = &gpufuel_core::task::onnx::TensorSpec>,
) -> Result<(crate::executor::onnx::Model, Vec<Vec<u8>>), AgentError> {
    let model = fetch_model(store, model).await?;
    let mut inputs = vec![];
    for spec in specs {
        inputs.push(fetch_sized(store, spec).await?);
    }
    Ok((model, inputs))
}

/// An input of the size its spec gives.
async fn fetch_sized(
    store: &dyn ContentStore,
    spec: &gpufuel_core::task::onnx::TensorSpec,
) -> Result<Vec<u8>, AgentError> {
    let bytes = store.get(&spec.data).await?;
    let expected = spec.bytes();
    if bytes.len() as u64 != expected {
        return Err(TaskError::Size { what: "ONNX input", expected, got: bytes.len() as u64 }.into());
    }
    Ok(bytes)
}
