//! The GPUFuel submitter SDK: a [`Client`] quotes a job, stores its inputs, creates it with its
//! escrow, follows it, and reads its result once validators have verified it. It runs on any
//! cluster over RPC ([`Client::connect`], Solana CLI conventions) or on the embedded network of
//! `gpufuel-network`, and is what the Python and Node packages wrap.
//!
//! The repository's README shows the whole flow in Rust; it is compiled as this crate's doctest.
#![warn(missing_docs)]

mod client;
mod error;
pub mod job;
pub mod onnx;
mod status;

pub use client::{Client, ConnectOptions, DEFAULT_WAIT, data_dir};
pub use error::ClientError;
pub use job::{JobOptions, JobResult, Training};
pub use onnx::{OnnxJob, OnnxStepsJob};
pub use status::{JobStatus, NodeStatus};

/// The README's Rust example, compiled and type-checked with the doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
