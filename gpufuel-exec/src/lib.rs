//! What GPUFuel nodes and validators run: [`executor`]s (CPU, CUDA, a caller's function) and the
//! [`agent`]s (the node's: bid, execute, prove, collect; the validator's: check, vote where drawn, appeal, settle).
#![warn(missing_docs)]

pub mod agent;
pub mod executor;
