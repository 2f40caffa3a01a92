//! GPUFuel execution: content storage, executors, the node and validator agents, and the local
//! network that wires them to the embedded chain.

pub mod agent;
pub mod client;
pub mod executor;
pub mod job;
pub mod network;
pub mod store;
