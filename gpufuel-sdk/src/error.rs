//! [`ClientError`]: why a submitter's call failed, with the stable code the bindings expose.

use gpufuel_chain::ChainError;
use gpufuel_core::{ErrorCode, state::JobState, task::TaskError};
use gpufuel_store::StoreError;
use solana_address::Address;

/// Why a client call failed. Nothing was escrowed unless the job was created (its address is
/// what a successful submission returns).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// An argument is out of range or malformed (nothing was sent).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The job ended otherwise than settled, so it has no verified result.
    #[error("the job is {0:?}: only a settled job has a verified result")]
    NotSettled(JobState),
    /// The committee upheld the node's report that the task fails for everyone (the model does
    /// not load or run): the escrow came back less the validators' fee.
    #[error("the task fails for everyone, as the committee verified: {0}")]
    TaskFailed(String),
    /// The wallet has no submitter account: `register` stakes and creates it.
    #[error("the wallet {0} is not registered as a submitter: register it (staking tokens) before submitting")]
    NotRegistered(Address),
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The task, or a file of its result, is malformed.
    #[error(transparent)]
    Task(#[from] TaskError),
}

impl ErrorCode for ClientError {
    /// `INVALID_ARGUMENT`, `INVALID_TASK`, `NOT_SETTLED`, `TASK_FAILED`, `NOT_REGISTERED`, `STORE_ERROR`, or the
    /// chain's (`PROGRAM_ERROR`, `TRANSACTION_FAILED`, `ACCOUNT_NOT_FOUND`, `RPC_ERROR`, `TIMEOUT`,
    /// `CONFIG_ERROR`, `NO_QUOTE`).
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidArgument(_) => "INVALID_ARGUMENT",
            Self::NotSettled(_) => "NOT_SETTLED",
            Self::TaskFailed(_) => "TASK_FAILED",
            Self::NotRegistered(_) => "NOT_REGISTERED",
            Self::Chain(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Task(_) => "INVALID_TASK",
        }
    }
}
