//! The embedded store: UnixFS blocks as files under a directory, named by CID. No daemon, no
//! network; every block is checked against its CID when read, so a corrupted file on disk is an
//! error rather than wrong data.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cid::Cid;
use tokio::io::{AsyncReadExt, AsyncWrite};

use super::{
    Block, ContentStore, ImportOptions, Reader, StoreError,
    unixfs::{self, Blocks, Importer},
};

/// Blocks on disk under a directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store in `root` (created if missing); its blocks survive restarts.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("blocks"))?;
        Ok(Self { root })
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a block lives: named by its multihash, so CIDv0 and CIDv1 names of one dag-pb block
    /// share the file, as in Kubo's blockstore.
    pub fn block_path(&self, cid: &Cid) -> PathBuf {
        let hash: String = cid.hash().to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        self.root.join("blocks").join(format!("{:x}-{hash}", cid.codec()))
    }

    /// Whether the store holds the block `cid` names.
    pub fn has(&self, cid: &Cid) -> bool {
        self.block_path(cid).exists()
    }

    /// Writes blocks not yet stored (blocking: call from a blocking thread). One create per
    /// block, no rename: a file cut short by a crash fails verification when read, and the next
    /// put of that block rewrites it.
    fn put_blocks(&self, blocks: &[Block]) -> std::io::Result<()> {
        for (cid, data) in blocks {
            let path = self.block_path(cid);
            match std::fs::File::create_new(&path) {
                Ok(mut file) => std::io::Write::write_all(&mut file, data)?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if self.read_block(cid).is_err() {
                        std::fs::write(&path, data)?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads and verifies one block (blocking).
    fn read_block(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
        let data = match std::fs::read(self.block_path(cid)) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound(*cid)),
            Err(e) => return Err(e.into()),
        };
        unixfs::verify_block(cid, &data)?;
        Ok(data)
    }
}

fn joined<T>(r: Result<T, tokio::task::JoinError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Io(std::io::Error::other(e)))
}

#[async_trait]
impl Blocks for LocalStore {
    /// Reads and hashes the blocks on every core: verifying is most of the cost of a read.
    async fn blocks(&self, cids: &[Cid]) -> Result<Vec<Vec<u8>>, StoreError> {
        let (store, cids) = (self.clone(), cids.to_vec());
        joined(
            tokio::task::spawn_blocking(move || {
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(cids.len()).max(1);
                let per = cids.len().div_ceil(threads);
                std::thread::scope(|scope| {
                    let parts: Vec<_> = cids
                        .chunks(per.max(1))
                        .map(|part| scope.spawn(|| part.iter().map(|c| store.read_block(c)).collect::<Vec<_>>()))
                        .collect();
                    parts.into_iter().flat_map(|h| h.join().expect("block reader")).collect()
                })
            })
            .await,
        )?
    }
}

#[async_trait]
impl ContentStore for LocalStore {
    async fn add_stream(&self, mut reader: Reader, options: &ImportOptions) -> Result<Cid, StoreError> {
        let mut importer = Importer::new(options)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = read_full(&mut reader, &mut buf).await?;
            if n == 0 {
                break;
            }
            // Hashing and writing block the thread: one blocking task per MiB read.
            let store = self.clone();
            (importer, buf) = joined(
                tokio::task::spawn_blocking(move || {
                    let mut blocks = Vec::new();
                    importer.push(&buf[..n], &mut blocks);
                    store.put_blocks(&blocks).map(|()| (importer, buf))
                })
                .await,
            )??;
        }
        let store = self.clone();
        let root = joined(
            tokio::task::spawn_blocking(move || {
                let mut blocks = Vec::new();
                let root = importer.finish(&mut blocks);
                store.put_blocks(&blocks).map(|()| root)
            })
            .await,
        )??;
        Ok(root)
    }

    /// Bytes already in memory: cut, hashed and written in one blocking task, without the
    /// stream's staging buffer (a node adds many small files while its computation runs).
    async fn add(&self, data: Vec<u8>, options: &ImportOptions) -> Result<Cid, StoreError> {
        let (store, options) = (self.clone(), *options);
        joined(
            tokio::task::spawn_blocking(move || {
                let (root, blocks) = super::import(&data, &options)?;
                // Written on every core: a large output is many blocks.
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(blocks.len()).max(1);
                let per = blocks.len().div_ceil(threads).max(1);
                std::thread::scope(|scope| {
                    let parts: Vec<_> = blocks.chunks(per).map(|part| scope.spawn(|| store.put_blocks(part))).collect();
                    parts.into_iter().try_for_each(|h| h.join().expect("block writer"))
                })?;
                Ok(root)
            })
            .await,
        )?
    }

    async fn cat_to(&self, cid: &Cid, out: &mut (dyn AsyncWrite + Send + Unpin)) -> Result<u64, StoreError> {
        unixfs::walk(self, cid, None, out).await
    }

    async fn cat_range_to(
        &self,
        cid: &Cid,
        range: std::ops::Range<u64>,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, StoreError> {
        unixfs::walk(self, cid, Some(range), out).await
    }

    /// The store never collects garbage, so every block stays: pinning only checks presence.
    async fn pin(&self, cid: &Cid) -> Result<(), StoreError> {
        if tokio::fs::try_exists(self.block_path(cid)).await? { Ok(()) } else { Err(StoreError::NotFound(*cid)) }
    }
}

/// Fills `buf` as far as the stream allows; 0 at its end.
async fn read_full(reader: &mut Reader, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let m = reader.read(&mut buf[n..]).await?;
        if m == 0 {
            break;
        }
        n += m;
    }
    Ok(n)
}
