//! [`ChainError`]: why a chain call failed, with the program's own errors decoded.

use gpufuel_core::{ErrorCode, GpuFuelError};
use solana_instruction::error::InstructionError;
use solana_transaction_error::TransactionError;

/// Errors from the chain client.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The program refused the instruction with one of its own errors.
    #[error("instruction {index} refused: {error}")]
    Program {
        /// The instruction's position in the transaction (as the caller numbered them).
        index: u8,
        /// The program's reason.
        error: GpuFuelError,
    },
    /// The transaction failed for another reason (runtime, token program, signatures).
    #[error("transaction failed: {error}\n{logs}")]
    Transaction {
        /// The runtime's reason.
        error: TransactionError,
        /// The programs' logs, one line each.
        logs: String,
    },
    /// An account does not exist or does not decode as the expected type.
    #[error("account {0} is missing or malformed")]
    Account(String),
    /// A config or keypair file is missing or malformed.
    #[error("config: {0}")]
    Config(String),
    /// The cluster could not be reached or answered with an error.
    #[error("RPC: {0}")]
    Rpc(String),
    /// A transaction (or a wait on an account) did not finish within the time allowed. A
    /// transaction may still land until its blockhash expires: check it before acting again.
    #[error("{signature} not done within {secs} s")]
    Timeout {
        /// The transaction's signature (or what was waited on).
        signature: String,
        /// How long was waited.
        secs: u64,
    },
    /// No quote can be given for the request.
    #[error(transparent)]
    Quote(#[from] gpufuel_core::quote::QuoteError),
}

impl ChainError {
    /// Classifies a failed transaction, mapping the program's custom codes to [`GpuFuelError`].
    pub fn from_transaction(error: TransactionError, logs: &[String]) -> Self {
        if let TransactionError::InstructionError(index, InstructionError::Custom(code)) = &error
            && let Some(error) = GpuFuelError::from_code(*code)
        {
            return Self::Program { index: *index, error };
        }
        Self::Transaction { error, logs: logs.join("\n") }
    }

    /// The program error, if the program refused the transaction.
    pub fn program_error(&self) -> Option<GpuFuelError> {
        match self {
            Self::Program { error, .. } => Some(*error),
            _ => None,
        }
    }
}

impl ErrorCode for ChainError {
    fn code(&self) -> &'static str {
        match self {
            Self::Program { .. } => "PROGRAM_ERROR",
            Self::Transaction { .. } => "TRANSACTION_FAILED",
            Self::Account(_) => "ACCOUNT_NOT_FOUND",
            Self::Config(_) => "CONFIG_ERROR",
            Self::Rpc(_) => "RPC_ERROR",
            Self::Timeout { .. } => "TIMEOUT",
            Self::Quote(_) => "NO_QUOTE",
        }
    }
}
