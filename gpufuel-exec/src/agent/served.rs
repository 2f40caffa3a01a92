//! What a node serves: the files of the results it submitted. They stay pinned at the pinning
//! service, if any, until their job ends (validators fetch them while they check), and in the
//! node's store until a retention period after that (the submitter reads them meanwhile); then
//! the store collects them. Both survive a restart: the service's pins are found by their name,
//! the store's by a ledger on disk, one file per job.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use gpufuel_core::state::Job;
use gpufuel_store::{
    Cid, ContentStore, PinningService,
    pinning::{Pin, PinState},
};
use solana_address::Address;

use super::write_file;

/// The files of one job's result, and when the node saw the job end (chain time).
#[derive(Debug, Default)]
struct Entry {
    files: Vec<Cid>,
    ended: Option<i64>,
}

#[derive(Default)]
struct Held {
    entries: HashMap<Address, Entry>,
    /// Pin requests at the service, by job.
    requests: HashMap<Address, Vec<String>>,
}

pub(crate) struct Served {
    store: Arc<dyn ContentStore>,
    service: Option<PinningService>,
    /// The name of this node's pins at the service.
    name: String,
    /// Where the ledger lives: `<dir>/<job>`, the result's CIDs one per line, then `ended <t>`.
    ledger: Option<PathBuf>,
    retention: Duration,
    held: Mutex<Held>,
}

impl Served {
    /// Reads back what a previous run of `node` served: the ledger, and the service's pins.
    pub(crate) async fn open(
        store: Arc<dyn ContentStore>,
        service: Option<PinningService>,
        node: &Address,
        ledger: Option<PathBuf>,
        retention: Duration,
    ) -> Self {
        let served =
            Self { store, service, name: format!("gpufuel {node} served"), ledger, retention, held: Mutex::default() };
        served.recover().await;
        served
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn recover(&self) {
        if let Some(dir) = &self.ledger
            && let Ok(mut files) = tokio::fs::read_dir(dir).await
        {
            while let Ok(Some(file)) = files.next_entry().await {
                let job = file.file_name().to_str().and_then(|n| n.parse::<Address>().ok());
                let text = tokio::fs::read_to_string(file.path()).await.ok();
                if let (Some(job), Some(text)) = (job, text) {
                    self.held().entries.insert(job, parse(&text));
                }
            }
        }
        if let Some(service) = &self.service {
            use PinState::*;
            match service.pins(None, Some(&self.name), &[Queued, Pinning, Pinned, Failed]).await {
                Ok(pins) => {
                    let mut held = self.held();
                    for pin in pins {
                        if let Some(job) = pin.pin.meta.get("job").and_then(|j| j.parse::<Address>().ok()) {
                            held.requests.entry(job).or_default().push(pin.requestid);
                        }
                    }
                }
                Err(e) => tracing::warn!("listing this node's pins: {e}"),
            }
        }
    }

    /// Records a submitted result's files (already pinned in the store, which adds them so) and
    /// asks the service to keep them. A failure is logged, not fatal: the result is on chain and
    /// in the store either way.
    pub(crate) async fn add(&self, job: &Address, files: Vec<Cid>) {
        if let Some(path) = self.path(job) {
            let text: String = files.iter().map(|f| format!("{f}\n")).collect();
            if let Err(e) = write_file(&path, &text, false).await {
                tracing::warn!(job = %job, "writing the served ledger: {e}");
            }
        }
        if let Some(service) = &self.service {
            let mut requests = vec![];
            for file in &files {
                let mut pin = Pin::new(file, &self.name);
                pin.meta.insert("job".into(), job.to_string());
                match service.pin(&pin).await {
                    Ok(status) => requests.push(status.requestid),
                    Err(e) => tracing::warn!(job = %job, "pinning the result: {e}"),
                }
            }
            self.held().requests.insert(*job, requests);
        }
        self.held().entries.insert(*job, Entry { files, ended: None });
    }

    /// Notes the jobs that ended (terminal among `mine`, or gone from the chain) and removes
    /// their service pins; unpins from the store the files of jobs that ended `retention` ago,
    /// and has the store collect them.
    pub(crate) async fn release(&self, mine: &[(Address, Job)], now: i64) {
        let ended = |a: &Address| {
            mine.iter().find(|(m, _)| m == a).is_none_or(|(_, j)| j.job_state().is_ok_and(|s| s.is_terminal()))
        };
        let retention = i64::try_from(self.retention.as_secs()).unwrap_or(i64::MAX);
        let (newly_ended, requests, expired) = {
            let mut held = self.held();
            let newly_ended: Vec<Address> = held
                .entries
                .iter_mut()
                .filter(|(a, e)| e.ended.is_none() && ended(a))
                .map(|(a, e)| {
                    e.ended = Some(now);
                    *a
                })
                .collect();
            let done: Vec<Address> = held.requests.keys().filter(|a| ended(a)).copied().collect();
            let requests: Vec<_> = done.iter().filter_map(|a| held.requests.remove(a).map(|r| (*a, r))).collect();
            let due: Vec<Address> = held
                .entries
                .iter()
                .filter(|(_, e)| e.ended.is_some_and(|t| now.saturating_sub(t) >= retention))
                .map(|(a, _)| *a)
                .collect();
            let expired: Vec<_> = due.iter().filter_map(|a| held.entries.remove(a).map(|e| (*a, e.files))).collect();
            (newly_ended, requests, expired)
        };
        for job in &newly_ended {
            if let Some(path) = self.path(job)
                && let Err(e) = write_file(&path, &format!("ended {now}\n"), true).await
            {
                tracing::warn!(job = %job, "writing the served ledger: {e}");
            }
        }
        if let Some(service) = &self.service {
            for (job, request) in requests.iter().flat_map(|(j, r)| std::iter::repeat(j).zip(r)) {
                if let Err(e) = service.unpin(request).await {
                    tracing::warn!(job = %job, "unpinning the result: {e}");
                }
            }
        }
        if expired.is_empty() {
            return;
        }
        for (job, files) in &expired {
            for file in files {
                if let Err(e) = self.store.unpin(file).await {
                    tracing::warn!(job = %job, "unpinning {file}: {e}");
                }
            }
            if let Some(path) = self.path(job) {
                let _ = tokio::fs::remove_file(path).await;
            }
        }
        match self.store.collect_garbage().await {
            Ok(bytes) => tracing::info!(jobs = expired.len(), bytes, "collected served results past retention"),
            Err(e) => tracing::warn!("collecting the store: {e}"),
        }
    }

    fn path(&self, job: &Address) -> Option<PathBuf> {
        self.ledger.as_ref().map(|d| d.join(job.to_string()))
    }
}

/// A ledger file: CIDs, then perhaps `ended <t>`; unreadable lines are skipped.
fn parse(text: &str) -> Entry {
    let mut entry = Entry::default();
    for line in text.lines() {
        match line.strip_prefix("ended ") {
            Some(t) => entry.ended = t.parse().ok(),
            None => entry.files.extend(line.parse::<Cid>().ok()),
        }
    }
    entry
}
