//! The embedded store: UnixFS blocks as files under a directory, named by CID. No daemon, no
//! network; every block is checked against its CID when read, so a corrupted file on disk is an
//! error rather than wrong data.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cid::Cid;
use tokio::io::{AsyncReadExt, AsyncWrite};

use super::{
    ContentStore, ImportOptions, Reader, StoreError,
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
        std::fs::create_dir_all(root.join("pins"))?;
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

    async fn put_blocks(&self, blocks: &mut Vec<(Cid, Vec<u8>)>) -> Result<(), StoreError> {
        for (cid, data) in blocks.drain(..) {
            let path = self.block_path(&cid);
            if tokio::fs::try_exists(&path).await? {
                continue;
            }
            // Write then rename, so a crash never leaves a partial block under its name.
            let tmp = path.with_extension(format!("tmp{}", rand::random::<u64>()));
            tokio::fs::write(&tmp, &data).await?;
            tokio::fs::rename(&tmp, &path).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Blocks for LocalStore {
    async fn block(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
        let data = match tokio::fs::read(self.block_path(cid)).await {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound(*cid)),
            Err(e) => return Err(e.into()),
        };
        unixfs::verify_block(cid, &data)?;
        Ok(data)
    }
}

#[async_trait]
impl ContentStore for LocalStore {
    async fn add_stream(&self, mut reader: Reader, options: &ImportOptions) -> Result<Cid, StoreError> {
        let mut importer = Importer::new(options)?;
        let mut buf = vec![0u8; options.chunk_size.max(64 * 1024)];
        let mut blocks = Vec::new();
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            importer.push(&buf[..n], &mut blocks);
            self.put_blocks(&mut blocks).await?;
        }
        let root = importer.finish(&mut blocks);
        self.put_blocks(&mut blocks).await?;
        self.pin(&root).await?;
        Ok(root)
    }

    async fn cat_to(&self, cid: &Cid, out: &mut (dyn AsyncWrite + Send + Unpin)) -> Result<u64, StoreError> {
        unixfs::walk(self, cid, out).await
    }

    async fn pin(&self, cid: &Cid) -> Result<(), StoreError> {
        if !self.has(cid) {
            return Err(StoreError::NotFound(*cid));
        }
        tokio::fs::write(self.root.join("pins").join(cid.to_string()), b"").await?;
        Ok(())
    }
}
