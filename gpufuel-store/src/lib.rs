//! Content-addressed storage of job inputs and results: [`ContentStore`] with [`LocalStore`]
//! (blocks on disk, no daemon) and [`KuboStore`] (a Kubo node's RPC API). Both give the CIDs Kubo
//! gives for the same [`ImportOptions`], so a job's files can move between them. Jobs name their
//! files by the binary CIDs of [`gpufuel_core::cid`]: [`ContentStore::put`] and
//! [`ContentStore::get`] speak those. [`PinningService`] keeps files on a pinning service (the
//! IPFS Pinning Service API) beyond any node's temporary store.
#![warn(missing_docs)]

mod kubo;
mod local;
pub mod pinning;
mod unixfs;

use std::{ops::Range, path::Path, pin::Pin};

use async_trait::async_trait;
pub use cid::Cid;
use tokio::io::{AsyncRead, AsyncWrite};

pub use kubo::KuboStore;
pub use local::{Collected, GC_GRACE, LocalStore};
pub use pinning::PinningService;

/// The CID version of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CidVersion {
    /// CIDv0: dag-pb, base58 `Qm…`.
    V0,
    /// CIDv1.
    V1,
}

/// How a file is cut into blocks and named; what `ipfs add` calls `--cid-version`,
/// `--raw-leaves` and `--chunker=size-N`. Always pass them explicitly to Kubo: its defaults
/// change with configuration profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// `--cid-version`.
    pub cid_version: CidVersion,
    /// `--raw-leaves`: leaves are raw blocks, not dag-pb nodes (CIDv1 only).
    pub raw_leaves: bool,
    /// `--chunker=size-N`: bytes per leaf (at most [`MAX_CHUNK`]).
    pub chunk_size: usize,
}

/// Kubo's fixed-size chunker default.
pub const DEFAULT_CHUNK: usize = 256 * 1024;
/// Largest chunk Kubo accepts (`size-1048576`).
pub const MAX_CHUNK: usize = 1024 * 1024;

impl Default for ImportOptions {
    /// CIDv1 with raw leaves and 256 KiB chunks: every CID fits the chain's 36-byte slot, and each
    /// leaf's CID is the SHA-256 of its bytes.
    fn default() -> Self {
        Self { cid_version: CidVersion::V1, raw_leaves: true, chunk_size: DEFAULT_CHUNK }
    }
}

impl ImportOptions {
    /// `ipfs add` with no flags on Kubo 0.22: CIDv0, dag-pb leaves, 256 KiB chunks.
    pub fn kubo_v0() -> Self {
        Self { cid_version: CidVersion::V0, raw_leaves: false, chunk_size: DEFAULT_CHUNK }
    }

    fn validate(&self) -> Result<(), StoreError> {
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK {
            return Err(StoreError::Options("chunk size must be 1 B to 1 MiB"));
        }
        if self.cid_version == CidVersion::V0 && self.raw_leaves {
            return Err(StoreError::Options("raw leaves need CIDv1"));
        }
        Ok(())
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file (or one of its blocks) is not in the store.
    #[error("{0} is not in the store")]
    NotFound(Cid),
    /// A block's bytes do not hash to its CID.
    #[error("block {0} does not match its CID (corrupted)")]
    Corrupted(Cid),
    /// Kubo did not find the file within its timeout.
    #[error("{cid} was not found within {secs} s")]
    Timeout {
        /// The file asked for.
        cid: Cid,
        /// The timeout.
        secs: u64,
    },
    /// The CID names something other than a UnixFS file this store can read.
    #[error("{0} is not a UnixFS file or uses an unsupported hash or codec")]
    Unsupported(Cid),
    /// Import options Kubo would refuse.
    #[error("invalid import options: {0}")]
    Options(&'static str),
    /// A CID that does not parse or does not fit the chain's slot.
    #[error("invalid CID: {0}")]
    InvalidCid(String),
    /// The store's endpoint cannot be reached.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The store answered with an error.
    #[error("the store refused the request: {0}")]
    Refused(String),
    /// The local disk failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl gpufuel_core::ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        "STORE_ERROR"
    }
}

/// A byte stream to add.
pub type Reader = Pin<Box<dyn AsyncRead + Send>>;

/// A content-addressed store of UnixFS files.
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// Adds (and pins) a file read from `reader`, without holding it in memory.
    async fn add_stream(&self, reader: Reader, options: &ImportOptions) -> Result<Cid, StoreError>;

    /// Writes a file's bytes to `out` as they are read; returns the byte count.
    async fn cat_to(&self, cid: &Cid, out: &mut (dyn AsyncWrite + Send + Unpin)) -> Result<u64, StoreError>;

    /// Writes bytes `range` of a file to `out` (clamped to the file's end), fetching only the
    /// blocks that hold them; returns the byte count.
    async fn cat_range_to(
        &self,
        cid: &Cid,
        range: Range<u64>,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, StoreError>;

    /// Keeps a file (and every block under it) from garbage collection.
    async fn pin(&self, cid: &Cid) -> Result<(), StoreError>;

    /// Lets garbage collection take a file again (an add pins it). Unpinning a file that is not
    /// pinned does nothing.
    async fn unpin(&self, cid: &Cid) -> Result<(), StoreError>;

    /// Removes blocks no pinned file reaches, where this store collects on request; returns
    /// the bytes freed. Kubo collects on its own schedule (`ipfs daemon --enable-gc`, or
    /// `ipfs repo gc`), so a Kubo store does nothing here.
    async fn collect_garbage(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// Adds bytes held in memory.
    async fn add(&self, data: Vec<u8>, options: &ImportOptions) -> Result<Cid, StoreError> {
        self.add_stream(Box::pin(std::io::Cursor::new(data)), options).await
    }

    /// Adds several files held in memory; their CIDs in order. The embedded store writes them
    /// all in one transaction (a node's result is often hundreds of small files); other stores
    /// add them side by side.
    async fn add_all(&self, files: Vec<Vec<u8>>, options: &ImportOptions) -> Result<Vec<Cid>, StoreError> {
        futures_util::future::try_join_all(files.into_iter().map(|f| self.add(f, options))).await
    }

    /// Adds a file from disk, streaming it.
    async fn add_file(&self, path: &Path, options: &ImportOptions) -> Result<Cid, StoreError> {
        let file = tokio::fs::File::open(path).await?;
        self.add_stream(Box::pin(file), options).await
    }

    /// A whole file in memory.
    async fn cat(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        self.cat_to(cid, &mut out).await?;
        Ok(out)
    }

    /// Adds bytes with the default import; returns the CID as a job stores it on chain.
    async fn put(&self, data: Vec<u8>) -> Result<gpufuel_core::cid::Cid, StoreError> {
        to_chain(&self.add(data, &ImportOptions::default()).await?)
    }

    /// A whole file named by a CID read from chain.
    async fn get(&self, cid: &gpufuel_core::cid::Cid) -> Result<Vec<u8>, StoreError> {
        self.cat(&from_chain(cid)?).await
    }

    /// Bytes `range` of a file named by a CID read from chain (a validator's chunk of an input).
    async fn get_range(&self, cid: &gpufuel_core::cid::Cid, range: Range<u64>) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::with_capacity(range.end.saturating_sub(range.start).min(1 << 30) as usize);
        self.cat_range_to(&from_chain(cid)?, range, &mut out).await?;
        Ok(out)
    }
}

/// A block and its CID.
pub type Block = (Cid, Vec<u8>);

/// Cuts `data` into blocks as an add would, without storing anything: the root CID and every
/// block with its CID (for computing a CID, or handing blocks to another store).
pub fn import(data: &[u8], options: &ImportOptions) -> Result<(Cid, Vec<Block>), StoreError> {
    let mut importer = unixfs::Importer::new(options)?;
    let mut blocks = Vec::new();
    importer.push(data, &mut blocks);
    let root = importer.finish(&mut blocks);
    Ok((root, blocks))
}

/// The binary CID stored on chain.
pub fn to_chain(cid: &Cid) -> Result<gpufuel_core::cid::Cid, StoreError> {
    gpufuel_core::cid::Cid::new(&cid.to_bytes())
        .map_err(|_| StoreError::InvalidCid(format!("{cid} does not fit the chain's CID slot (sha2-256 only)")))
}

/// A CID read from chain.
pub fn from_chain(cid: &gpufuel_core::cid::Cid) -> Result<Cid, StoreError> {
    Cid::try_from(cid.as_bytes()).map_err(|e| StoreError::InvalidCid(e.to_string()))
}
