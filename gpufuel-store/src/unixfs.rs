//! UnixFS import and export (rust-unixfs): the balanced DAG of 174-link nodes that Kubo builds,
//! so the CIDs match Kubo's for the same options.

use std::{collections::HashMap, ops::Range};

use async_trait::async_trait;
use cid::{Cid, Version};
use rust_unixfs::file::{
    adder::{Chunker, FileAdder},
    visit::IdleFileVisit,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Block, CidVersion, ImportOptions, StoreError};

/// Codec of raw leaves.
const RAW: u64 = 0x55;
/// Codec of dag-pb nodes.
const DAG_PB: u64 = 0x70;
/// Multihash code of sha2-256, the only hash the chain's CID slot holds.
const SHA2_256: u64 = 0x12;

/// Cuts a byte stream into blocks.
pub struct Importer {
    adder: FileAdder,
    /// The latest block produced: after `finish`, the root (a file of one chunk can be complete
    /// before `finish`).
    last: Option<Cid>,
}

impl Importer {
    pub fn new(options: &ImportOptions) -> Result<Self, StoreError> {
        options.validate()?;
        let version = match options.cid_version {
            CidVersion::V0 => Version::V0,
            CidVersion::V1 => Version::V1,
        };
        let adder = FileAdder::builder()
            .with_chunker(Chunker::Size(options.chunk_size))
            .with_cid_version(version)
            .with_raw_leaves(options.raw_leaves)
            .build();
        Ok(Self { adder, last: None })
    }

    /// Feeds bytes; completed blocks go to `blocks`.
    pub fn push(&mut self, mut data: &[u8], blocks: &mut Vec<Block>) {
        while !data.is_empty() {
            let (ready, used) = self.adder.push(data);
            let start = blocks.len();
            blocks.extend(ready);
            self.last = blocks[start..].last().map(|(cid, _)| *cid).or(self.last);
            data = &data[used..];
        }
    }

    /// Ends the file; the remaining blocks go to `blocks` and the root CID is returned.
    pub fn finish(self, blocks: &mut Vec<Block>) -> Cid {
        let start = blocks.len();
        blocks.extend(self.adder.finish());
        blocks[start..].last().map(|(cid, _)| *cid).or(self.last).expect("a file has a root block")
    }
}

/// Checks that `block` is the content `cid` names.
pub fn verify_block(cid: &Cid, block: &[u8]) -> Result<(), StoreError> {
    let hash = cid.hash();
    if hash.code() != SHA2_256 || !matches!(cid.codec(), RAW | DAG_PB) {
        return Err(StoreError::Unsupported(*cid));
    }
    if hash.digest() == gpufuel_core::proof::sha256(&[block]) { Ok(()) } else { Err(StoreError::Corrupted(*cid)) }
}

/// Blocks fetched ahead of the walk, so a store can read and verify them in parallel.
const PREFETCH: usize = 16;

/// Where a walk gets its blocks.
#[async_trait]
pub trait Blocks: Send + Sync {
    /// The blocks `cids` name, in order, each checked against its CID.
    async fn blocks(&self, cids: &[Cid]) -> Result<Vec<Vec<u8>>, StoreError>;
}

async fn one(blocks: &dyn Blocks, cid: &Cid) -> Result<Vec<u8>, StoreError> {
    Ok(blocks.blocks(std::slice::from_ref(cid)).await?.pop().expect("one block per CID"))
}

/// Writes the file under `root` to `out`, fetching its blocks in order; returns the byte count.
/// With a `range`, only the bytes in it are written and only the blocks holding them fetched
/// (the links' block sizes say where each subtree lies).
pub async fn walk(
    blocks: &dyn Blocks,
    root: &Cid,
    range: Option<Range<u64>>,
    out: &mut (dyn AsyncWrite + Send + Unpin),
) -> Result<u64, StoreError> {
    let block = one(blocks, root).await?;
    if root.codec() == RAW {
        let (len, r) = (block.len() as u64, range.unwrap_or(0..u64::MAX));
        let part = &block[r.start.min(len) as usize..r.end.min(len).max(r.start.min(len)) as usize];
        out.write_all(part).await?;
        return Ok(part.len() as u64);
    }
    let start = match range {
        Some(r) => IdleFileVisit::default().with_target_range(r),
        None => IdleFileVisit::default(),
    };
    let (content, _, _, mut visit) = start.start(&block).map_err(|_| StoreError::Unsupported(*root))?;
    let mut total = content.len() as u64;
    out.write_all(content).await?;
    let mut cache = None;
    let mut ahead: HashMap<Cid, Vec<u8>> = HashMap::new();
    while let Some(v) = visit {
        let (next, window) = {
            let (first, rest) = v.pending_links();
            (*first, std::iter::once(*first).chain(rest.take(PREFETCH - 1).copied()).collect::<Vec<Cid>>())
        };
        if !ahead.contains_key(&next) {
            ahead.extend(window.iter().copied().zip(blocks.blocks(&window).await?));
        }
        let block = ahead.remove(&next).expect("fetched above");
        let (content, rest) = v.continue_walk(&block, &mut cache).map_err(|_| StoreError::Unsupported(next))?;
        total += content.len() as u64;
        out.write_all(content).await?;
        visit = rest;
    }
    out.flush().await?;
    Ok(total)
}
