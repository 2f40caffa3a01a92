//! `@gpufuel/sdk`: the Rust crates' nouns (`LocalNetwork`, `Client`, `NodeAgent`,
//! `ValidatorAgent`) for Node.js, adding only conversion (typed arrays, numbers, class names) and
//! errors whose `code` is [`gpufuel_exec::client::ClientError::code`].

mod agent;
mod client;
mod convert;
mod executor;
mod network;

pub use agent::{NodeAgent, ValidatorAgent};
pub use client::Client;
pub use network::LocalNetwork;
