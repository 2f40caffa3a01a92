//! A whole GPUFuel market in one process, for demos, tests and the bindings' local mode:
//! [`LocalNetwork`] (the embedded chain and store, node agents, validators, simulated time) and
//! [`RunningNetwork`], the same stepping itself in the background. A cluster user needs neither.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use gpufuel_core::proof::freivalds::Precision;
//! use gpufuel_network::{LocalNetworkConfig, RunningNetwork};
//! use gpufuel_sdk::JobOptions;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let network = RunningNetwork::start(LocalNetworkConfig::default()).await?;
//! let client = network.client(None, true).await?;
//! let job = client.submit_matmul((2, 2, 2), &[1.0; 4], &[1.0; 4], Precision::F32, JobOptions::default()).await?;
//! let result = client.result(&job, Duration::from_secs(60)).await?;
//! # let _ = result;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod error;
mod network;
mod running;

pub use error::NetworkError;
pub use network::{JobProgress, LocalNetwork, LocalNetworkConfig, LocalNode};
pub use running::{CLIENT_TOKENS, RunningNetwork};
