//! GPUFuel protocol core: the types, encodings and rules shared by the on-chain program and every
//! client. Pure logic, no I/O, `no_std` (the program links it for SBF).
//!
//! - [`state`]: account layouts, read in place by the program and decoded with borsh by clients;
//! - [`instruction`]: the instruction set and its borsh encoding;
//! - [`pricing`]: the reference-price update rule and basis-point arithmetic;
//! - [`settlement`]: how committees decide, and how an escrow, a slash, a missed job or an appeal
//!   is split between the parties;
//! - [`committee`]: the validators' stake tree, the committee draw and vote commitments;
//! - [`cid`]: validation of the binary IPFS CIDs stored in jobs;
//! - [`error`]: the protocol's error codes;
//! - [`class`] (with `std`): the GPU classes of this SDK's markets, by id and name;
//! - [`matching`] and [`quote`] (with `std`): the off-chain matching engine and price quotes;
//! - [`proof`] (with `std`): proof of execution (Merkle commitments, watermark, Freivalds,
//!   challenges);
//! - [`task`] (with `std`): what a job computes, the layout of its result, and the validators'
//!   checks.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

pub mod cid;
#[cfg(feature = "std")]
pub mod class;
pub mod committee;
pub mod error;
pub mod instruction;
#[cfg(feature = "std")]
pub mod matching;
pub mod pricing;
#[cfg(feature = "std")]
pub mod proof;
#[cfg(feature = "std")]
pub mod quote;
pub mod settlement;
pub mod state;
#[cfg(feature = "std")]
pub mod task;

pub use error::{ErrorCode, GpuFuelError};

/// Address of the GPUFuel program.
pub const PROGRAM_ID: [u8; 32] = [
    0x0b, 0x65, 0x3a, 0x1f, 0xd4, 0x8a, 0x27, 0x91, 0x3c, 0xe0, 0x55, 0x6b, 0xa2, 0x19, 0x7e, 0xc4, 0x48, 0x02, 0xfd,
    0x36, 0x9b, 0x5a, 0x71, 0x0e, 0xc8, 0x2d, 0x64, 0xb3, 0x1a, 0x87, 0xf0, 0x5c,
];

/// PDA seed prefixes. Every account of the program lives at a PDA with its canonical bump.
pub mod seeds {
    /// `["market"]`: the single market of a deployment.
    pub const MARKET: &[u8] = b"market";
    /// `["vault"]`: the token account holding every stake and escrow; its authority is the market.
    pub const VAULT: &[u8] = b"vault";
    /// `["class", class_id]`.
    pub const GPU_CLASS: &[u8] = b"class";
    /// `["node", operator]`.
    pub const NODE: &[u8] = b"node";
    /// `["validator", operator]`.
    pub const VALIDATOR: &[u8] = b"validator";
    /// `["submitter", authority]`.
    pub const SUBMITTER: &[u8] = b"submitter";
    /// `["job", submitter, job_id (u64 LE)]`.
    pub const JOB: &[u8] = b"job";
}

/// Address of the SPL Token program, the only token program the market accepts.
pub const TOKEN_PROGRAM_ID: [u8; 32] = [
    6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237, 95, 91, 55, 145,
    58, 140, 245, 133, 126, 255, 0, 169,
];

/// Address of the system program.
pub const SYSTEM_PROGRAM_ID: [u8; 32] = [0; 32];

/// Basis points in one whole.
pub const BPS: u64 = 10_000;
