//! Alerts to an operator's webhook: a POST of a small JSON object when the node is slashed (its
//! failed validations grow), misses a deadline, or its wallet's SOL runs low. The object has a
//! `text` line, so chat webhooks that read that field show it as it is.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use gpufuel_core::state::Node;
use serde_json::json;
use solana_address::Address;

/// Where and when a node agent sends alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alerts {
    /// The URL each alert is POSTed to, as JSON.
    pub webhook: String,
    /// The wallet is reported low below this many lamports (default 0.05 SOL: fees for a day
    /// of passes at a few transactions a minute).
    pub min_lamports: u64,
}

impl Alerts {
    /// Alerts to `webhook` with the default threshold.
    pub fn new(webhook: impl Into<String>) -> Self {
        Self { webhook: webhook.into(), min_lamports: 50_000_000 }
    }
}

/// How often the wallet's SOL is read (one RPC request).
const SOL_READ: Duration = Duration::from_secs(60);

/// What the agent last saw, to alert on changes only.
#[derive(Default)]
struct Seen {
    /// Failed validations and missed deadlines, from the first pass on.
    record: Option<(u32, u32)>,
    /// When the SOL was last read, and whether it was low then.
    sol: Option<(Instant, bool)>,
}

pub(crate) struct Watch {
    alerts: Alerts,
    http: reqwest::Client,
    seen: Mutex<Seen>,
}

impl Watch {
    pub(crate) fn new(alerts: Alerts) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { alerts, http, seen: Mutex::default() }
    }

    /// Alerts on what changed in `node`'s record since the last pass.
    pub(crate) async fn record(&self, address: &Address, node: &Node) {
        let now = (node.failed_validations, node.missed_deadlines);
        let before = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).record.replace(now);
        let Some((failed, missed)) = before else { return };
        let changes =
            [("slashed", "failed validations", now.0, failed), ("missed_deadline", "missed deadlines", now.1, missed)];
        for (event, what, count, before) in changes {
            if count > before {
                let text = format!(
                    "node {address}: {} more {what}, {count} in all; stake now {}",
                    count - before,
                    node.header.stake
                );
                self.send(event, address, text, node).await;
            }
        }
    }

    /// Whether the wallet's SOL is due to be read again.
    pub(crate) fn sol_due(&self) -> bool {
        let seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.sol.is_none_or(|(at, _)| at.elapsed() >= SOL_READ)
    }

    /// Alerts once when the wallet's `lamports` fall below the threshold (again after they
    /// recover and fall again).
    pub(crate) async fn sol(&self, address: &Address, node: &Node, lamports: u64) {
        let low = lamports < self.alerts.min_lamports;
        let was = {
            let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            seen.sol.replace((Instant::now(), low)).is_some_and(|(_, was)| was)
        };
        if low && !was {
            let sol = |l: u64| l as f64 / 1e9;
            let text = format!(
                "node {address}: its wallet holds {} SOL, below {} for fees",
                sol(lamports),
                sol(self.alerts.min_lamports)
            );
            self.send("low_sol", address, text, node).await;
        }
    }

    async fn send(&self, event: &str, address: &Address, text: String, node: &Node) {
        tracing::warn!(event, "{text}");
        let body = json!({
            "event": event,
            "node": address.to_string(),
            "text": text,
            "stake": node.header.stake,
            "failed_validations": node.failed_validations,
            "missed_deadlines": node.missed_deadlines,
        });
        let sent = self.http.post(&self.alerts.webhook).json(&body).send().await;
        match sent.and_then(reqwest::Response::error_for_status) {
            Ok(_) => {}
            Err(e) => tracing::warn!(event, "the alert webhook refused or failed: {e}"),
        }
    }
}
