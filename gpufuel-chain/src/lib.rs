//! GPUFuel's Solana client: the [`Chain`] a cluster is reached through ([`RpcChain`] over
//! JSON-RPC; [`LocalChain`], LiteSVM in process, with the `local` feature; [`Mirror`], a copy of
//! the program's accounts kept by subscription, for agents), the careful sender
//! ([`send`]), instruction builders ([`ix`]), PDAs ([`pda`]), typed reads ([`query`]),
//! [`GpuFuelClient`], every instruction for every role, and the program's deployment
//! ([`deploy`]).
#![warn(missing_docs)]

pub mod chain;
pub mod client;
pub mod committee;
pub mod config;
pub mod deploy;
pub mod error;
pub mod ix;
#[cfg(feature = "local")]
pub mod local;
pub mod mirror;
pub mod pda;
pub mod query;
pub mod rpc;
pub mod send;

pub use chain::Chain;
pub use client::GpuFuelClient;
pub use error::ChainError;
#[cfg(feature = "local")]
pub use local::LocalChain;
pub use mirror::Mirror;
pub use rpc::RpcChain;

use solana_address::Address;

/// The GPUFuel program's address.
pub const PROGRAM_ID: Address = Address::new_from_array(gpufuel_core::PROGRAM_ID);

/// The compiled program (SBPF v0), embedded at build time.
#[cfg(feature = "local")]
pub const PROGRAM_SO: &[u8] = include_bytes!(env!("GPUFUEL_PROGRAM_SO"));
