//! The agents that run the market off chain: [`NodeAgent`] (bids, executes, proves, collects) and
//! [`ValidatorAgent`] (checks results, attests, settles, expires). Each acts in `tick`s: one pass
//! over chain state, so a restarted agent picks up where chain state says it is.

mod behaviour;
mod node;
mod validator;

use gpufuel_chain::ChainError;
use gpufuel_core::{
    state::Job,
    task::{Task, TaskError, verify::Keys},
};
use solana_address::Address;

pub use behaviour::Behaviour;
pub use node::{NodeAgent, NodeConfig, NodeTick, RunTimings};
pub use validator::{ValidatorAgent, ValidatorConfig, ValidatorTick, Verdict};

use crate::{
    executor::{ExecError, Work},
    store::{ContentStore, StoreError, from_chain},
};

/// Why an agent step failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Task(#[from] TaskError),
}

/// The watermark keys of a job's assignment.
pub fn keys(address: &Address, job: &Job) -> Keys {
    Keys { job: address.to_bytes(), node: job.node, seed: job.seed }
}

/// Fetches and decodes the task a job's input CID names, checking it matches the job's kind.
pub async fn fetch_task(store: &dyn ContentStore, job: &Job) -> Result<Task, AgentError> {
    let task = Task::decode(&store.cat(&from_chain(&job.input_cid)?).await?)?;
    if task.workload() as u8 != job.workload {
        return Err(TaskError::Invalid("the task's kind differs from the job's workload").into());
    }
    Ok(task)
}

/// `f32` values of a file.
pub async fn fetch_f32s(
    store: &dyn ContentStore,
    cid: &gpufuel_core::cid::Cid,
    what: &'static str,
    len: u64,
) -> Result<Vec<f32>, AgentError> {
    Ok(gpufuel_core::task::f32s(what, &store.cat(&from_chain(cid)?).await?, len)?)
}

/// Fetches a task's inputs.
pub async fn fetch_work(store: &dyn ContentStore, task: Task) -> Result<Work, AgentError> {
    Ok(match task {
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
                    Some(cid) => Some(store.cat(&from_chain(cid)?).await?),
                    None => None,
                });
            }
            Work::Kernel { task: t, inputs }
        }
    })
}
