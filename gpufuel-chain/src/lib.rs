//! GPUFuel's Solana client: PDAs, instruction builders, account decoding, and [`LocalChain`],
//! the embedded chain (LiteSVM with the real SBF program and SPL Token).

pub mod chain;
pub mod client;
pub mod config;
pub mod error;
pub mod ix;
pub mod local;
pub mod market;
pub mod pda;
pub mod query;
pub mod rpc;
pub mod send;

pub use chain::Chain;
pub use client::GpuFuelClient;
pub use error::ChainError;
pub use local::LocalChain;
pub use market::LocalMarket;
pub use rpc::RpcChain;

use solana_address::Address;

/// The GPUFuel program's address.
pub const PROGRAM_ID: Address = Address::new_from_array(gpufuel_core::PROGRAM_ID);

/// The compiled program (SBPF v0), embedded at build time.
pub const PROGRAM_SO: &[u8] = include_bytes!(env!("GPUFUEL_PROGRAM_SO"));
