//! Storage: CIDs identical to the real Kubo core's, round trips, corruption and absence, and
//! `KuboStore` against a Kubo RPC endpoint (the test-only front over the real Kubo core in CI, or
//! a real node named by GPUFUEL_KUBO_API).

use std::time::{Duration, Instant};

use gpufuel_fixtures::kubo::{Endpoint, KUBO_DIR, PIN_TOKEN, kubo, kubo_python};

use gpufuel_store::{self as store, CidVersion, ContentStore, ImportOptions, KuboStore, LocalStore, StoreError};

/// Files of the sizes Kubo's chunking treats differently: empty, one byte, one chunk, one chunk
/// and a byte, several MB (more than one level of the DAG needs 174 chunks: 45.6 MB).
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let patterned = |n: usize| (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect::<Vec<u8>>();
    vec![
        ("0 B", vec![]),
        ("1 B", b"x".to_vec()),
        ("hello", b"hello world\n".to_vec()),
        ("256 KiB", vec![0; 262_144]),
        ("256 KiB + 1", vec![0; 262_145]),
        ("3 MB", patterned(3_000_000)),
        ("46 MB (two levels)", patterned(46_000_000)),
    ]
}

#[test]
fn cidv0_matches_the_real_kubo_core() {
    let Some(python) = kubo_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = vec![];
    let mut ours = vec![];
    for (i, (_, data)) in samples().iter().enumerate() {
        let path = dir.path().join(format!("f{i}"));
        std::fs::write(&path, data).unwrap();
        paths.push(path);
        ours.push(store::import(data, &ImportOptions::kubo_v0()).unwrap().0.to_string());
    }
    let out = kubo(&python).arg(format!("{KUBO_DIR}/kubo_cids.py")).args(&paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let kubo: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    for ((name, _), (mine, theirs)) in samples().iter().zip(ours.iter().zip(&kubo)) {
        assert_eq!(mine, theirs, "{name}");
    }
    assert_eq!(ours[2], "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
}

#[test]
fn cidv1_raw_leaf_dags_are_read_back_by_the_real_kubo_core() {
    let Some(python) = kubo_python() else { return };
    let options = ImportOptions::default();
    for (name, data) in samples().into_iter().filter(|(n, _)| !n.starts_with("46")) {
        let (root, blocks) = store::import(&data, &options).unwrap();
        assert_eq!(root.version(), cid::Version::V1);
        if data.len() <= 262_144 {
            // One chunk: the root is the raw leaf itself, the SHA-256 of the bytes.
            assert_eq!(root.codec(), 0x55, "{name}");
            assert_eq!(root.hash().digest(), gpufuel_core::proof::sha256(&[&data]), "{name}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("blocks")).unwrap();
        for (cid, block) in &blocks {
            std::fs::write(dir.path().join("blocks").join(cid.to_string()), block).unwrap();
        }
        std::fs::write(dir.path().join("expected"), &data).unwrap();
        let out = kubo(&python)
            .arg(format!("{KUBO_DIR}/kubo_readback.py"))
            .arg(root.to_string())
            .arg(dir.path().join("blocks"))
            .arg(dir.path().join("expected"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let hello = store::import(b"hello world\n", &options).unwrap().0.to_string();
    assert_eq!(hello, "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
}

#[tokio::test]
async fn local_store_round_trips_streams_and_detects_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let s = LocalStore::open(dir.path()).unwrap();
    for (name, data) in samples().into_iter().filter(|(n, _)| !n.starts_with("46")) {
        for options in [ImportOptions::default(), ImportOptions::kubo_v0()] {
            let cid = s.add(data.clone(), &options).await.unwrap();
            assert_eq!(cid, store::import(&data, &options).unwrap().0, "{name}");
            assert_eq!(s.cat(&cid).await.unwrap(), data, "{name}");
        }
    }
    // From a file on disk, streamed.
    let path = dir.path().join("big");
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let cid = s.add_file(&path, &ImportOptions::default()).await.unwrap();
    assert_eq!(cid, store::import(&data, &ImportOptions::default()).unwrap().0);
    // Corrupt one leaf on disk: reading fails with a typed error naming the block.
    let (_, blocks) = store::import(&data, &ImportOptions::default()).unwrap();
    let leaf = blocks[3].0;
    let mut bytes = std::fs::read(s.block_path(&leaf)).unwrap();
    bytes[100] ^= 1;
    std::fs::write(s.block_path(&leaf), bytes).unwrap();
    assert!(matches!(s.cat(&cid).await, Err(StoreError::Corrupted(c)) if c == leaf));
    // A block cut short (a crash mid-write) is rewritten by the next add of its content.
    std::fs::write(s.block_path(&leaf), &blocks[3].1[..1000]).unwrap();
    assert!(matches!(s.cat(&cid).await, Err(StoreError::Corrupted(c)) if c == leaf));
    assert_eq!(s.add(data.clone(), &ImportOptions::default()).await.unwrap(), cid);
    assert_eq!(s.cat(&cid).await.unwrap(), data);
    // Absent content.
    let absent = store::import(b"never added", &ImportOptions::default()).unwrap().0;
    assert!(matches!(s.cat(&absent).await, Err(StoreError::NotFound(c)) if c == absent));
    assert!(matches!(s.pin(&absent).await, Err(StoreError::NotFound(_))));
    // Options Kubo would refuse.
    let bad = ImportOptions { cid_version: CidVersion::V0, raw_leaves: true, ..ImportOptions::default() };
    assert!(matches!(s.add(vec![1], &bad).await, Err(StoreError::Options(_))));
    let huge = ImportOptions { chunk_size: 2 << 20, ..ImportOptions::default() };
    assert!(matches!(s.add(vec![1], &huge).await, Err(StoreError::Options(_))));
}

#[tokio::test]
async fn local_store_keeps_small_blocks_in_one_database_that_handles_share() {
    let dir = tempfile::tempdir().unwrap();
    // Two handles on one directory, as a node and the CLI in two processes would hold.
    let (a, b) = (LocalStore::open(dir.path()).unwrap(), LocalStore::open(dir.path()).unwrap());
    let files: Vec<Vec<u8>> = (0..300u32).map(|i| format!("result {i}").repeat(40).into_bytes()).collect();
    let adds: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (s, f) = (if i % 2 == 0 { a.clone() } else { b.clone() }, f.clone());
            tokio::spawn(async move { s.add(f, &ImportOptions::default()).await })
        })
        .collect();
    let mut cids = vec![];
    for add in adds {
        cids.push(add.await.unwrap().unwrap());
    }
    for (i, (cid, f)) in cids.iter().zip(&files).enumerate() {
        let other = if i % 2 == 0 { &b } else { &a };
        assert_eq!(&other.cat(cid).await.unwrap(), f);
        assert!(!a.block_path(cid).exists(), "a small block is a row, not a file");
    }
    // A row the disk corrupted is an error naming the block, and the next add repairs it.
    let db = rusqlite::Connection::open(dir.path().join("blocks.sqlite")).unwrap();
    let hash = cids[7].hash().to_bytes();
    let mut bad = files[7].clone();
    bad[3] ^= 1;
    assert_eq!(db.execute("UPDATE blocks SET data = ?2 WHERE hash = ?1", (&hash, &bad)).unwrap(), 1);
    assert!(matches!(a.cat(&cids[7]).await, Err(StoreError::Corrupted(c)) if c == cids[7]));
    assert_eq!(b.add(files[7].clone(), &ImportOptions::default()).await.unwrap(), cids[7]);
    assert_eq!(a.cat(&cids[7]).await.unwrap(), files[7]);
    // A lost row is absent content.
    assert_eq!(db.execute("DELETE FROM blocks WHERE hash = ?1", [&hash]).unwrap(), 1);
    assert!(matches!(a.cat(&cids[7]).await, Err(StoreError::NotFound(c)) if c == cids[7]));
    assert!(matches!(b.pin(&cids[7]).await, Err(StoreError::NotFound(_))));
    b.pin(&cids[8]).await.unwrap();
    // Many files in one add: the CIDs one add each gives, the small ones rows, the large ones files.
    let mixed: Vec<Vec<u8>> = vec![b"one".to_vec(), vec![7; 700_000], vec![], files[9].clone()];
    let added = a.add_all(mixed.clone(), &ImportOptions::default()).await.unwrap();
    for (cid, f) in added.iter().zip(&mixed) {
        assert_eq!(*cid, store::import(f, &ImportOptions::default()).unwrap().0);
        assert_eq!(&b.cat(cid).await.unwrap(), f);
    }
    let leaf = store::import(&mixed[1], &ImportOptions::default()).unwrap().1[0].0;
    assert!(a.block_path(&leaf).exists(), "a 256 KiB leaf is a file");
    // A reopened store still holds every block.
    drop((a, b));
    let c = LocalStore::open(dir.path()).unwrap();
    assert_eq!(c.cat(&cids[299]).await.unwrap(), files[299]);
}

/// Garbage collection: adds pin; an unpinned file's own blocks go (large files and rows alike,
/// raw and dag-pb leaves), the blocks it shares with a pinned file stay, blocks written within
/// the grace stay, and a store made before pins existed keeps every block it had.
#[tokio::test]
async fn local_store_collects_the_blocks_of_unpinned_files_only() {
    use std::collections::HashSet;
    let dir = tempfile::tempdir().unwrap();
    let s = LocalStore::open(dir.path()).unwrap();
    let patterned = |n: usize, k: usize| (0..n).map(|i| ((i * k + 7) % 251) as u8).collect::<Vec<u8>>();
    let shared = patterned(262_144, 31);
    let a = [shared.clone(), patterned(600_000, 17)].concat(); // shares its first leaf with b
    let b = [shared, patterned(300_000, 13)].concat();
    let v1 = ImportOptions::default();
    let (ca, cb) = (s.add(a.clone(), &v1).await.unwrap(), s.add(b.clone(), &v1).await.unwrap());
    let small = s.add(b"a small file".to_vec(), &v1).await.unwrap();
    let v0 = s.add(patterned(700_000, 19), &ImportOptions::kubo_v0()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await; // past the second the blocks were stamped in

    assert_eq!(s.collect(Duration::ZERO).await.unwrap(), store::Collected::default(), "all pinned");
    s.unpin(&ca).await.unwrap();
    s.unpin(&ca).await.unwrap(); // unpinning twice is harmless
    assert_eq!(s.collect(store::GC_GRACE).await.unwrap().blocks, 0, "written within the grace");
    let blocks = |data: &[u8], o: &ImportOptions| store::import(data, o).unwrap().1;
    let kept: HashSet<_> = blocks(&b, &v1).into_iter().map(|(c, _)| c.hash().to_bytes()).collect();
    let own: Vec<_> = blocks(&a, &v1).into_iter().filter(|(c, _)| !kept.contains(&c.hash().to_bytes())).collect();
    let collected = s.collect(Duration::ZERO).await.unwrap();
    assert_eq!(
        (collected.blocks, collected.bytes),
        (own.len() as u64, own.iter().map(|(_, d)| d.len() as u64).sum::<u64>()),
        "a's own blocks, not the leaf it shares"
    );
    assert!(matches!(s.cat(&ca).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.cat(&cb).await.unwrap(), b);
    assert_eq!(s.cat(&small).await.unwrap(), b"a small file");
    assert_eq!(s.add(a.clone(), &v1).await.unwrap(), ca, "added again");
    assert_eq!(s.cat(&ca).await.unwrap(), a);

    s.unpin(&v0).await.unwrap();
    s.unpin(&small).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let collected = s.collect(Duration::ZERO).await.unwrap();
    assert_eq!(collected.blocks, blocks(&patterned(700_000, 19), &ImportOptions::kubo_v0()).len() as u64 + 1);
    assert!(matches!(s.cat(&v0).await, Err(StoreError::NotFound(_))), "dag-pb leaves are reached by links");
    s.pin(&cb).await.unwrap();
    assert!(matches!(s.pin(&small).await, Err(StoreError::NotFound(_))));
    assert_eq!((s.cat(&ca).await.unwrap(), s.cat(&cb).await.unwrap()), (a, b));

    // A store from before pins: its blocks have no recorded file, and are kept.
    let old = tempfile::tempdir().unwrap();
    let (leaf, data) = blocks(b"made by an older version", &v1).remove(0);
    std::fs::create_dir_all(old.path().join("blocks")).unwrap();
    let db = rusqlite::Connection::open(old.path().join("blocks.sqlite")).unwrap();
    db.execute("CREATE TABLE blocks (hash BLOB PRIMARY KEY, data BLOB NOT NULL)", ()).unwrap();
    db.execute("INSERT INTO blocks VALUES (?1, ?2)", (leaf.hash().to_bytes(), &data)).unwrap();
    drop(db);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let reopened = LocalStore::open(old.path()).unwrap();
    assert_eq!(reopened.collect(Duration::ZERO).await.unwrap().blocks, 0);
    assert_eq!(reopened.cat(&leaf).await.unwrap(), b"made by an older version");
}

/// Reads ranges of a stored file (inside one block, across block boundaries, past the end,
/// empty) and compares them with the slices of `data`.
async fn assert_ranges(store: &dyn ContentStore, cid: &store::Cid, data: &[u8], name: &str) {
    let len = data.len() as u64;
    let cuts =
        [(0, 5), (3, 3), (262_140, 262_150), (100_000, 900_000), (len.saturating_sub(7), len + 10), (len + 1, len + 9)];
    for (start, end) in cuts {
        let mut out = vec![];
        let n = store.cat_range_to(cid, start..end, &mut out).await.unwrap();
        let (a, b) = (start.min(len) as usize, end.min(len).max(start.min(len)) as usize);
        assert_eq!((n, out.as_slice()), ((b - a) as u64, &data[a..b]), "{name}: {start}..{end}");
    }
}

#[tokio::test]
async fn local_store_reads_ranges_fetching_only_their_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStore::open(dir.path()).unwrap();
    for (name, data) in samples().into_iter().filter(|(n, _)| !n.starts_with("46")) {
        for options in [ImportOptions::default(), ImportOptions::kubo_v0()] {
            let cid = local.add(data.clone(), &options).await.unwrap();
            assert_ranges(&local, &cid, &data, name).await;
        }
    }
    // Only the blocks under the range are read: with one leaf block removed, ranges elsewhere
    // still read and a range over it fails.
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let (cid, blocks) = store::import(&data, &ImportOptions::default()).unwrap();
    local.add(data.clone(), &ImportOptions::default()).await.unwrap();
    let second = &blocks[1].0;
    std::fs::remove_file(local.block_path(second)).unwrap();
    let mut out = vec![];
    local.cat_range_to(&cid, 0..1_000, &mut out).await.unwrap();
    assert_eq!(out, &data[..1_000]);
    let mut out = vec![];
    assert!(local.cat_range_to(&cid, 262_144..262_200, &mut out).await.is_err());
}

#[tokio::test]
async fn kubo_store_adds_and_cats_with_kubo_cids_and_times_out_on_missing_content() {
    let Some(ep) = Endpoint::start() else { return };
    let kubo = KuboStore::new(&ep.api, Duration::from_secs(2)).unwrap();
    let options = ImportOptions::kubo_v0();
    for (name, data) in samples().into_iter().filter(|(n, _)| !n.starts_with("46")) {
        let cid = kubo.add(data.clone(), &options).await.unwrap();
        assert_eq!(cid, store::import(&data, &options).unwrap().0, "{name}: Kubo's CID is ours");
        assert_eq!(kubo.cat(&cid).await.unwrap(), data, "{name}");
        assert_ranges(&kubo, &cid, &data, name).await;
        kubo.pin(&cid).await.unwrap();
        kubo.unpin(&cid).await.unwrap();
        kubo.unpin(&cid).await.unwrap(); // not pinned any more: nothing to do
    }
    let absent = store::import(b"never added", &options).unwrap().0;
    let t = Instant::now();
    let err = kubo.cat(&absent).await.unwrap_err();
    assert!(matches!(err, StoreError::Timeout { cid, .. } if cid == absent), "{err}");
    assert!(t.elapsed() < Duration::from_secs(10));
    // Unreachable endpoint: a typed error, quickly.
    let down = KuboStore::new("http://127.0.0.1:9", Duration::from_secs(1)).unwrap();
    assert!(matches!(down.add(vec![1], &options).await, Err(StoreError::Unavailable(_))));
}

/// The Pinning Service API client against the test front's implementation of the spec, over the
/// real Kubo core: a pin of content the node holds is pinned, listed and removed; a pin of
/// content nobody provides fails; a wrong token and an unknown request are typed refusals.
#[tokio::test]
async fn a_pinning_service_pins_lists_and_unpins_and_refuses_a_wrong_token() {
    use gpufuel_store::pinning::{Pin, PinState, PinningService};
    let Some(ep) = Endpoint::front() else { return };
    let kubo = KuboStore::new(&ep.api, Duration::from_secs(2)).unwrap();
    let service = PinningService::new(&ep.api, PIN_TOKEN).unwrap();
    let cid = kubo.add(vec![42; 300_000], &ImportOptions::kubo_v0()).await.unwrap();
    let request = service.pin(&Pin::new(&cid, "job 7 input")).await.unwrap();
    assert_eq!(
        (request.pin.cid.as_str(), request.pin.name.as_deref()),
        (cid.to_string().as_str(), Some("job 7 input"))
    );
    let pinned = service.wait(&request.requestid, Duration::from_secs(10)).await.unwrap();
    assert_eq!(pinned.status, PinState::Pinned);
    let listed = service.pins(Some(&cid), None, &[PinState::Pinned]).await.unwrap();
    assert_eq!(listed.iter().map(|p| p.requestid.as_str()).collect::<Vec<_>>(), vec![request.requestid.as_str()]);
    let named = service.pins(None, Some("job 7 input"), &[PinState::Pinned]).await.unwrap();
    assert_eq!(named, listed);
    assert!(service.pins(None, Some("job 7"), &[PinState::Pinned]).await.unwrap().is_empty(), "names match exactly");
    assert!(service.pins(Some(&cid), None, &[PinState::Failed]).await.unwrap().is_empty());

    let absent = store::import(b"nobody has this", &ImportOptions::kubo_v0()).unwrap().0;
    let lost = service.pin(&Pin::new(&absent, "lost")).await.unwrap();
    let err = service.wait(&lost.requestid, Duration::from_secs(10)).await.unwrap_err();
    assert!(matches!(&err, StoreError::Refused(m) if m.contains("could not pin")), "{err}");

    service.unpin(&request.requestid).await.unwrap();
    assert!(service.pins(Some(&cid), None, &[PinState::Pinned]).await.unwrap().is_empty());
    let gone = service.status(&request.requestid).await.unwrap_err();
    assert!(matches!(&gone, StoreError::Refused(m) if m.contains("HTTP 404")), "{gone}");
    let stranger = PinningService::new(&ep.api, "wrong").unwrap();
    let refused = stranger.pin(&Pin::new(&cid, "x")).await.unwrap_err();
    assert!(matches!(&refused, StoreError::Refused(m) if m.contains("refused the token")), "{refused}");
    let down = PinningService::new("http://127.0.0.1:9", PIN_TOKEN).unwrap();
    assert!(matches!(down.status("x").await, Err(StoreError::Unavailable(_))));
}
