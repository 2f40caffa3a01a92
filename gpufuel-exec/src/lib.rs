//! GPUFuel execution: content storage, executors, the node and validator agents, and the local
//! network that wires them to the embedded chain.

pub mod executor;
pub mod store;
