//! [`NetworkError`]: why the local network failed.

use gpufuel_chain::ChainError;
use gpufuel_core::ErrorCode;
use gpufuel_exec::agent::AgentError;
use gpufuel_sdk::ClientError;
use gpufuel_store::StoreError;

/// Why the local network failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The embedded chain refused a set-up transaction.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The embedded store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An agent failed to start.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// A submission failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The network's directory could not be made, or a node index is out of range.
    #[error("{0}")]
    Config(String),
    /// Jobs did not finish within the steps allowed.
    #[error("jobs still unfinished after {0} steps")]
    Stalled(usize),
}

impl ErrorCode for NetworkError {
    /// The code of the failure underneath; `CONFIG_ERROR` and `TIMEOUT` for the network's own.
    fn code(&self) -> &'static str {
        match self {
            Self::Chain(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Agent(e) => e.code(),
            Self::Client(e) => e.code(),
            Self::Config(_) => "CONFIG_ERROR",
            Self::Stalled(_) => "TIMEOUT",
        }
    }
}
