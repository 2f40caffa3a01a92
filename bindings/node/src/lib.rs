//! `@gpufuel/sdk`: the Rust crates' nouns (`LocalNetwork`, `Client`, `NodeAgent`,
//! `ValidatorAgent`, `Work`) for Node.js, adding only conversion (typed arrays, numbers, class
//! names) and errors whose `code` is the crates' [`gpufuel_core::ErrorCode`]. The same nouns,
//! one file each, as the Python package.

mod agent;
mod client;
mod convert;
mod error;
mod executor;
mod network;

pub use agent::{NodeAgent, ValidatorAgent};
pub use client::Client;
pub use network::LocalNetwork;
