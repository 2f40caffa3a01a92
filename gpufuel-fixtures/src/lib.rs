//! Every fixture of GPUFuel's tests and benchmarks, in one crate that no published crate depends on:
//!
//! - [`market`]: [`LocalMarket`], a market on the embedded chain that remembers its participants
//!   (the program's tests and the compute-unit benchmark);
//! - [`world`]: the program tests' market with three nodes, three validators and a submitter;
//! - [`cluster`]: a market built entirely through the careful sender on any [`Cluster`], the
//!   embedded chain ([`Local`]) or an embedded surfpool JSON-RPC server ([`Surfnet`]) behind a
//!   fault-injecting [`Proxy`];
//! - [`kubo`]: the real Kubo core's test front (Kubo RPC and Pinning Service APIs).

pub mod cluster;
pub mod kubo;
pub mod market;
pub mod surfnet;
pub mod world;

pub use cluster::{Cluster, Local, Market, options};
pub use gpufuel_chain::local::Wallet;
pub use market::{LocalMarket, job_spec, sample_cid};
pub use surfnet::{Proxy, Surfnet};

/// The GPU class markets are created with.
pub const CLASS: u8 = 1;
/// A second class, for tests that need one.
pub const OTHER_CLASS: u8 = 2;
/// The class's starting reference price.
pub const REF_PRICE: u64 = 1_000;
/// What every participant stakes.
pub const STAKE: u64 = 10_000_000;
/// Tokens a participant holds beyond its stake.
pub const FUNDS: u64 = 100_000_000;
/// SOL each funded wallet gets, for fees.
pub const LAMPORTS: u64 = 10_000_000_000;
