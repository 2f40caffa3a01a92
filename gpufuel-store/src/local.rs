//! The embedded store: UnixFS blocks on disk under a directory. No daemon, no network; every
//! block is checked against its CID when read, so a corrupted block is an error rather than
//! wrong data.
//!
//! Large blocks (file leaves) are files named by multihash. Small blocks (the root of a small
//! file, DAG nodes) are rows of one SQLite database beside them: a file per block costs a create
//! each, and a node writes hundreds of small result files per job. The database is in WAL mode,
//! so several processes (a node, a validator, the CLI) share one store.
//!
//! Files are pinned as they are added, as in Kubo; [`LocalStore::collect`] removes the
//! blocks no pinned file reaches (mark and sweep: files share blocks, so a file's blocks cannot
//! simply be deleted). Every write stamps the block with the time, even when it was there already,
//! and a sweep spares blocks written within a grace period: an add in another process writes its
//! blocks before it pins its root, and the sweep must not take them in between.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use cid::Cid;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use tokio::io::{AsyncReadExt, AsyncWrite};

use super::{
    Block, ContentStore, ImportOptions, Reader, StoreError,
    unixfs::{self, Blocks, Importer},
};

/// Blocks smaller than this live in the database; larger ones are files. SQLite reads blobs
/// under about 100 KB faster than the file system does, and a block written to it passes
/// through its write-ahead log: leaves of the default 256 KiB chunker stay files.
const SMALL_BLOCK: usize = 64 * 1024;

/// How long a write waits for another process's transaction before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How recently written a block must be for a sweep to spare it unreached.
pub const GC_GRACE: Duration = Duration::from_secs(3600);

/// The dag-pb codec: the only blocks with links.
const DAG_PB: u64 = 0x70;

/// What a garbage collection removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collected {
    /// Blocks removed.
    pub blocks: u64,
    /// Their bytes.
    pub bytes: u64,
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Blocks on disk under a directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    small: Arc<SmallBlocks>,
}

/// The database of small blocks: one writing connection (SQLite takes one writer at a time, and
/// a mutex queues this process's writers without the busy handler's sleeps), and a pool of
/// reading connections (WAL readers do not wait for the writer).
#[derive(Debug)]
struct SmallBlocks {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SmallBlocks {
    /// Opens (or creates) the database. Blocks record when they were last written (`at`, unix
    /// seconds); pins name the files kept. A store made before pins existed gets `kept_before`:
    /// its blocks (written before it) are never collected, since nothing recorded their files.
    fn open(path: PathBuf) -> Result<Self, StoreError> {
        let mut writer = Self::connect(&path)?;
        writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)).map_err(db)?;
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        tx.execute("CREATE TABLE IF NOT EXISTS blocks (hash BLOB PRIMARY KEY, data BLOB NOT NULL, at INTEGER NOT NULL DEFAULT 0)", ())
            .map_err(db)?;
        if !tx
            .prepare("SELECT 1 FROM pragma_table_info('blocks') WHERE name = 'at'")
            .map_err(db)?
            .exists(())
            .map_err(db)?
        {
            tx.execute("ALTER TABLE blocks ADD COLUMN at INTEGER NOT NULL DEFAULT 0", ()).map_err(db)?;
        }
        tx.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL)", ())
            .map_err(db)?;
        tx.execute("INSERT OR IGNORE INTO settings VALUES ('kept_before', ?1)", [unix_now()]).map_err(db)?;
        tx.execute("CREATE TABLE IF NOT EXISTS pins (cid BLOB PRIMARY KEY)", ()).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Self { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    /// A connection: WAL with `synchronous = NORMAL` loses no committed block when the process
    /// dies, and syncs only at checkpoints.
    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        Ok(conn)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().expect("reader pool").pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => Self::connect(&self.path)?,
        };
        let result = f(&conn).map_err(db);
        self.readers.lock().expect("reader pool").push(conn);
        result
    }

    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        let hash = cid.hash().to_bytes();
        self.read(|conn| {
            conn.prepare_cached("SELECT data FROM blocks WHERE hash = ?1")?
                .query_row([&hash], |row| row.get(0))
                .optional()
        })
    }

    /// Stores blocks in one transaction, stamped with the time. A stored block that fails
    /// verification (the disk corrupted it) is replaced.
    fn put(&self, blocks: &[&Block]) -> Result<(), StoreError> {
        if blocks.is_empty() {
            return Ok(());
        }
        let now = unix_now();
        self.write(|tx| {
            let mut insert =
                tx.prepare_cached("INSERT INTO blocks (hash, data, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")?;
            let mut stored = tx.prepare_cached("SELECT data FROM blocks WHERE hash = ?1")?;
            let mut replace = tx.prepare_cached("UPDATE blocks SET data = ?2, at = ?3 WHERE hash = ?1")?;
            let mut touch = tx.prepare_cached("UPDATE blocks SET at = ?2 WHERE hash = ?1")?;
            for (cid, data) in blocks {
                let hash = cid.hash().to_bytes();
                if insert.execute((&hash, data, now))? == 0 {
                    let old: Vec<u8> = stored.query_row([&hash], |row| row.get(0))?;
                    if unixfs::verify_block(cid, &old).is_err() {
                        replace.execute((&hash, data, now))?;
                    } else {
                        touch.execute((&hash, now))?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Runs `f` in one write transaction, taken at once (no other process writes meanwhile).
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().expect("block writer");
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let result = f(&tx).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(result)
    }
}

/// A database failure is the local disk's: the store's I/O error, with SQLite's as its source.
fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Io(std::io::Error::other(e))
}

impl LocalStore {
    /// A store in `root` (created if missing); its blocks survive restarts.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("blocks"))?;
        let small = Arc::new(SmallBlocks::open(root.join("blocks.sqlite"))?);
        Ok(Self { root, small })
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a large block lives: named by its multihash, so CIDv0 and CIDv1 names of one
    /// dag-pb block share the file, as in Kubo's blockstore.
    pub fn block_path(&self, cid: &Cid) -> PathBuf {
        let hash: String = cid.hash().to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        self.root.join("blocks").join(format!("{:x}-{hash}", cid.codec()))
    }

    /// Whether the store holds the block `cid` names (blocking).
    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        if self.block_path(cid).exists() {
            return Ok(true);
        }
        let hash = cid.hash().to_bytes();
        self.small.read(|conn| conn.prepare_cached("SELECT 1 FROM blocks WHERE hash = ?1")?.exists([&hash]))
    }

    /// Writes blocks not yet stored (blocking: call from a blocking thread): the small ones in
    /// one transaction, the large ones on every core. A large block is one create and one write,
    /// no rename: a file cut short by a crash fails verification when read, and the next put of
    /// that block rewrites it.
    fn put_blocks(&self, blocks: &[Block]) -> Result<(), StoreError> {
        let (small, large): (Vec<&Block>, Vec<&Block>) = blocks.iter().partition(|(_, data)| data.len() < SMALL_BLOCK);
        self.small.put(&small)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(large.len()).max(1);
        let per = large.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = large.chunks(per).map(|part| scope.spawn(|| self.put_files(part))).collect();
            parts.into_iter().try_for_each(|h| h.join().expect("block writer"))
        })
    }

    /// Writes large blocks; one already there is rewritten if it fails verification, else
    /// its modification time is stamped (the sweep's grace reads it).
    fn put_files(&self, blocks: &[&Block]) -> Result<(), StoreError> {
        for (cid, data) in blocks {
            let path = self.block_path(cid);
            match std::fs::File::create_new(&path) {
                Ok(mut file) => std::io::Write::write_all(&mut file, data)?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if self.read_block(cid).is_err() {
                        std::fs::write(&path, data)?;
                    } else {
                        std::fs::File::options().write(true).open(&path)?.set_modified(SystemTime::now())?;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Writes a file's blocks and pins its root (blocking).
    fn put_pinned(&self, root: &Cid, blocks: &[Block]) -> Result<(), StoreError> {
        self.put_blocks(blocks)?;
        self.pin_roots(std::slice::from_ref(root))
    }

    fn pin_roots(&self, roots: &[Cid]) -> Result<(), StoreError> {
        self.small.write(|tx| {
            let mut pin = tx.prepare_cached("INSERT OR IGNORE INTO pins (cid) VALUES (?1)")?;
            roots.iter().try_for_each(|root| pin.execute([root.to_bytes()]).map(drop))
        })
    }

    /// The files pinned.
    pub async fn pinned(&self) -> Result<Vec<Cid>, StoreError> {
        let store = self.clone();
        joined(tokio::task::spawn_blocking(move || store.pins()).await)?
    }

    fn pins(&self) -> Result<Vec<Cid>, StoreError> {
        let pins: Vec<Vec<u8>> = self
            .small
            .read(|conn| conn.prepare_cached("SELECT cid FROM pins")?.query_map((), |row| row.get(0))?.collect())?;
        pins.iter().map(|b| Cid::try_from(b.as_slice()).map_err(|e| StoreError::InvalidCid(e.to_string()))).collect()
    }

    /// Removes the blocks that no pinned file reaches and that were last written more than
    /// `grace` ago (an hour is ample: the grace only has to outlast an add in progress).
    /// Blocks written before the store had pins are kept.
    pub async fn collect(&self, grace: Duration) -> Result<Collected, StoreError> {
        let store = self.clone();
        joined(tokio::task::spawn_blocking(move || store.sweep(&store.mark()?, grace)).await)?
    }

    /// The multihashes of every block a pinned file reaches. A block that is missing or fails
    /// verification has no readable links: its file is damaged, and what it reaches stays only
    /// if another file reaches it too.
    fn mark(&self) -> Result<HashSet<Vec<u8>>, StoreError> {
        let mut stack = self.pins()?;
        let mut marked = HashSet::new();
        while let Some(cid) = stack.pop() {
            if !marked.insert(cid.hash().to_bytes()) || cid.codec() != DAG_PB {
                continue;
            }
            match self.read_block(&cid) {
                Ok(block) => stack.extend(links(&block).unwrap_or_default()),
                Err(StoreError::Io(e)) => return Err(StoreError::Io(e)),
                Err(_) => {}
            }
        }
        Ok(marked)
    }

    /// Removes unmarked blocks written between `kept_before` and `grace` ago.
    fn sweep(&self, marked: &HashSet<Vec<u8>>, grace: Duration) -> Result<Collected, StoreError> {
        let kept_before: i64 = self.small.read(|conn| {
            conn.query_row("SELECT value FROM settings WHERE key = 'kept_before'", (), |row| row.get(0))
        })?;
        let cutoff = unix_now() - grace.as_secs() as i64;
        let mut collected = Collected::default();
        // Small blocks: chosen and deleted in one write transaction, so a block another process
        // stamps meanwhile is not taken.
        self.small.write(|tx| {
            let mut candidates = tx.prepare("SELECT hash, length(data) FROM blocks WHERE at >= ?1 AND at < ?2")?;
            let rows: Vec<(Vec<u8>, i64)> = candidates
                .query_map([kept_before, cutoff], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut delete = tx.prepare_cached("DELETE FROM blocks WHERE hash = ?1")?;
            for (hash, len) in rows.into_iter().filter(|(hash, _)| !marked.contains(hash)) {
                delete.execute([&hash])?;
                collected.blocks += 1;
                collected.bytes += len as u64;
            }
            Ok(())
        })?;
        let window = UNIX_EPOCH + Duration::from_secs(kept_before.max(0) as u64)
            ..UNIX_EPOCH + Duration::from_secs(cutoff.max(0) as u64);
        for entry in std::fs::read_dir(self.root.join("blocks"))? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(hash) = name.to_str().and_then(|n| n.split_once('-')).and_then(|(_, h)| hex(h)) else { continue };
            let meta = entry.metadata()?;
            if !marked.contains(&hash) && window.contains(&meta.modified()?) {
                std::fs::remove_file(entry.path())?;
                collected.blocks += 1;
                collected.bytes += meta.len();
            }
        }
        Ok(collected)
    }

    /// Reads and verifies one block (blocking).
    fn read_block(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
        let data = match std::fs::read(self.block_path(cid)) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.small.get(cid)?.ok_or(StoreError::NotFound(*cid))?
            }
            Err(e) => return Err(e.into()),
        };
        unixfs::verify_block(cid, &data)?;
        Ok(data)
    }
}

/// The CIDs a dag-pb node links to (PBNode field 2, Links; PBLink field 1, Hash).
fn links(block: &[u8]) -> Option<Vec<Cid>> {
    use quick_protobuf::BytesReader;
    let mut node = BytesReader::from_bytes(block);
    let mut out = vec![];
    while !node.is_eof() {
        match node.next_tag(block).ok()? {
            18 => {
                let link = node.read_bytes(block).ok()?;
                let mut reader = BytesReader::from_bytes(link);
                while !reader.is_eof() {
                    match reader.next_tag(link).ok()? {
                        10 => out.push(Cid::try_from(reader.read_bytes(link).ok()?).ok()?),
                        tag => reader.read_unknown(link, tag).ok()?,
                    }
                }
            }
            tag => node.read_unknown(block, tag).ok()?,
        }
    }
    Some(out)
}

fn hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
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
                store.put_pinned(&root, &blocks).map(|()| root)
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
                store.put_pinned(&root, &blocks)?;
                Ok(root)
            })
            .await,
        )?
    }

    /// Every file cut and hashed in one blocking task, and their blocks written together.
    async fn add_all(&self, files: Vec<Vec<u8>>, options: &ImportOptions) -> Result<Vec<Cid>, StoreError> {
        let (store, options) = (self.clone(), *options);
        joined(
            tokio::task::spawn_blocking(move || {
                let (mut roots, mut blocks) = (Vec::with_capacity(files.len()), Vec::new());
                for f in &files {
                    let (root, mut b) = super::import(f, &options)?;
                    roots.push(root);
                    blocks.append(&mut b);
                }
                store.put_blocks(&blocks)?;
                store.pin_roots(&roots)?;
                Ok(roots)
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

    /// Pins a file the store holds (its root, at least).
    async fn pin(&self, cid: &Cid) -> Result<(), StoreError> {
        let (store, cid) = (self.clone(), *cid);
        joined(
            tokio::task::spawn_blocking(move || {
                if !store.has(&cid)? {
                    return Err(StoreError::NotFound(cid));
                }
                store.pin_roots(&[cid])
            })
            .await,
        )?
    }

    async fn unpin(&self, cid: &Cid) -> Result<(), StoreError> {
        let (store, bytes) = (self.clone(), cid.to_bytes());
        joined(
            tokio::task::spawn_blocking(move || {
                store.small.write(|tx| tx.execute("DELETE FROM pins WHERE cid = ?1", [&bytes]).map(drop))
            })
            .await,
        )?
    }

    /// Collects with an hour's grace ([`LocalStore::collect`]).
    async fn collect_garbage(&self) -> Result<u64, StoreError> {
        Ok(self.collect(GC_GRACE).await?.bytes)
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
