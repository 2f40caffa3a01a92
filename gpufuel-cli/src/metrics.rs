//! `--metrics ADDR` of `node run` and `validator run`: a Prometheus endpoint (`GET /metrics`, in
//! the OpenMetrics text format Prometheus scrapes) with what the agent did (counters from each
//! pass) and what the chain says of its account (gauges, read after each pass from the agent's
//! subscribed copy, so they cost no request).
//!
//! The endpoint answers one fixed request, so a listener reading the request line is all the
//! server it needs; an HTTP framework would add dozens of crates to the CLI for it.

use std::{net::SocketAddr, sync::Arc};

use gpufuel_exec::agent::{NodeTick, ValidatorTick, Verdict};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// Counters and gauges of one agent, registered under `gpufuel_node_` or `gpufuel_validator_`.
pub struct Metrics {
    registry: Registry,
    counters: Vec<(&'static str, Counter)>,
    gauges: Vec<(&'static str, Gauge)>,
    votes: Family<VoteLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VoteLabels {
    verdict: String,
}

/// What each agent counts and shows: (name, help).
const NODE_COUNTERS: [(&str, &str); 7] = [
    ("bids", "Bids placed"),
    ("assigned", "Auctions won and assigned to this node"),
    ("started", "Runs started"),
    ("submitted", "Results submitted"),
    ("settled", "Jobs this node settled"),
    ("appealed", "Failed decisions on its jobs this node appealed"),
    ("run_errors", "Runs that ended in an error"),
];
const NODE_GAUGES: [(&str, &str); 5] = [
    ("stake", "Tokens staked"),
    ("completed", "Jobs completed and paid"),
    ("failed_validations", "Results validators failed (slashed)"),
    ("missed_deadlines", "Jobs taken and not delivered in time (penalised)"),
    ("gpus_busy", "GPUs running jobs"),
];
const VALIDATOR_COUNTERS: [(&str, &str); 5] = [
    ("revealed", "Votes revealed"),
    ("drawn", "Committees drawn or appeal rounds opened"),
    ("appealed", "Decisions appealed"),
    ("settled", "Jobs settled"),
    ("expired", "Overdue jobs expired"),
];
const VALIDATOR_GAUGES: [(&str, &str); 5] = [
    ("stake", "Tokens staked"),
    ("rewards", "Fees and slash shares earned, not yet claimed"),
    ("votes", "Votes revealed over the validator's life"),
    ("overruled", "Votes against a job's final outcome (slashed)"),
    ("missed", "Seats not revealed in time (penalised)"),
];

impl Metrics {
    fn new(prefix: &str, counters: &[(&'static str, &str)], gauges: &[(&'static str, &str)]) -> Self {
        let mut registry = Registry::with_prefix(prefix);
        let counters: Vec<_> = counters
            .iter()
            .map(|(name, help)| {
                let counter = Counter::default();
                registry.register(*name, *help, counter.clone());
                (*name, counter)
            })
            .collect();
        let gauges: Vec<_> = gauges
            .iter()
            .map(|(name, help)| {
                let gauge = Gauge::default();
                registry.register(*name, *help, gauge.clone());
                (*name, gauge)
            })
            .collect();
        let votes = Family::default();
        if prefix.ends_with("validator") {
            registry.register("votes_committed", "Votes committed, by verdict", votes.clone());
        }
        Self { registry, counters, gauges, votes }
    }

    /// A node's.
    pub fn node() -> Self {
        Self::new("gpufuel_node", &NODE_COUNTERS, &NODE_GAUGES)
    }

    /// A validator's.
    pub fn validator() -> Self {
        Self::new("gpufuel_validator", &VALIDATOR_COUNTERS, &VALIDATOR_GAUGES)
    }

    fn add(&self, name: &str, n: usize) {
        if let Some((_, c)) = self.counters.iter().find(|(k, _)| *k == name) {
            c.inc_by(n as u64);
        }
    }

    fn set(&self, name: &str, v: u64) {
        if let Some((_, g)) = self.gauges.iter().find(|(k, _)| *k == name) {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        }
    }

    /// Counts what a node's pass did.
    pub fn node_pass(&self, tick: &NodeTick) {
        for (name, n) in [
            ("bids", tick.bids),
            ("assigned", tick.assigned),
            ("started", tick.started),
            ("submitted", tick.submitted),
            ("settled", tick.settled),
            ("appealed", tick.appealed),
            ("run_errors", tick.errors.len()),
        ] {
            self.add(name, n);
        }
    }

    /// Shows a node's account.
    pub fn node_account(&self, node: &gpufuel_core::state::Node) {
        self.set("stake", node.header.stake);
        self.set("completed", node.completed.into());
        self.set("failed_validations", node.failed_validations.into());
        self.set("missed_deadlines", node.missed_deadlines.into());
        self.set("gpus_busy", node.gpus_busy.into());
    }

    /// Counts what a validator's pass did.
    pub fn validator_pass(&self, tick: &ValidatorTick) {
        for (name, n) in [
            ("revealed", tick.revealed),
            ("drawn", tick.drawn),
            ("appealed", tick.appealed),
            ("settled", tick.settled),
            ("expired", tick.expired),
        ] {
            self.add(name, n);
        }
        for (_, verdict) in &tick.votes {
            let verdict = match verdict {
                Verdict::Pass => "pass",
                Verdict::Fail(_) => "fail",
                Verdict::Abstain => "abstain",
            };
            self.votes.get_or_create(&VoteLabels { verdict: verdict.into() }).inc();
        }
    }

    /// Shows a validator's account.
    pub fn validator_account(&self, v: &gpufuel_core::state::Validator) {
        self.set("stake", v.header.stake);
        self.set("rewards", v.rewards);
        self.set("votes", v.votes.into());
        self.set("overruled", v.overruled.into());
        self.set("missed", v.missed.into());
    }

    fn text(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Serves `metrics` on `addr`, if given, until the process ends, and says where.
pub async fn start(addr: Option<SocketAddr>, metrics: Metrics) -> std::io::Result<Option<Arc<Metrics>>> {
    let Some(addr) = addr else { return Ok(None) };
    let metrics = Arc::new(metrics);
    let bound = serve(metrics.clone(), addr).await?;
    println!("metrics    http://{bound}/metrics");
    Ok(Some(metrics))
}

/// Serves `metrics` on `addr` until the process ends; returns the bound address (port 0 picks
/// one).
async fn serve(metrics: Arc<Metrics>, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut request = vec![0; 1024];
                let n = stream.read(&mut request).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..n]);
                let (status, body) = if line.starts_with("GET /metrics ") || line.starts_with("GET / ") {
                    ("200 OK", metrics.text())
                } else {
                    ("404 Not Found", "GET /metrics\n".to_string())
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Ok(bound)
}
