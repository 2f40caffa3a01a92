//! [`PinningService`]: a client of the IPFS Pinning Service API, the open HTTP spec that pinning
//! services and Filecoin-backed storage providers implement
//! (<https://ipfs.github.io/pinning-services-api-spec/>): ask a service to keep a CID, follow the
//! request until the content is pinned, list and remove pins. A bearer token authenticates.

use std::{collections::BTreeMap, time::Duration};

use cid::Cid;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Where a pin request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinState {
    /// Accepted, not started.
    Queued,
    /// The service is fetching the content.
    Pinning,
    /// The content is kept.
    Pinned,
    /// The service could not get the content.
    Failed,
}

impl PinState {
    fn name(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Pinning => "pinning",
            Self::Pinned => "pinned",
            Self::Failed => "failed",
        }
    }
}

/// What is pinned: a CID, a name, where to fetch it from, free-form metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The content's CID.
    pub cid: String,
    /// A name to find it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Multiaddrs of peers that hold the content, to fetch it from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

impl Pin {
    /// A pin of `cid` under `name`, with no origins or metadata.
    pub fn new(cid: &Cid, name: &str) -> Self {
        Self { cid: cid.to_string(), name: Some(name.to_string()), ..Self::default() }
    }
}

/// A pin request as the service reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PinStatus {
    /// The request's id (pins are named by request, not by CID).
    pub requestid: String,
    /// Where it stands.
    pub status: PinState,
    /// When it was made (RFC 3339).
    pub created: String,
    /// What it pins.
    pub pin: Pin,
    /// Multiaddrs of the service's peers holding the content, to connect to.
    #[serde(default)]
    pub delegates: Vec<String>,
}

#[derive(Deserialize)]
struct PinResults {
    results: Vec<PinStatus>,
}

#[derive(Deserialize)]
struct Failure {
    error: FailureReason,
}

#[derive(Deserialize)]
struct FailureReason {
    reason: String,
    #[serde(default)]
    details: Option<String>,
}

/// A pinning service's endpoint (its base URL, under which `/pins` lives) and access token.
#[derive(Debug, Clone)]
pub struct PinningService {
    endpoint: String,
    token: String,
    http: Client,
}

impl PinningService {
    /// A client of the service at `endpoint` (for example `https://api.pinata.cloud/psa`),
    /// authenticating with `token`.
    pub fn new(endpoint: &str, token: &str) -> Result<Self, StoreError> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { endpoint: endpoint.trim_end_matches('/').to_string(), token: token.to_string(), http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/pins{path}", self.endpoint)
    }

    /// Sends with the token; the service's error object, or the transport failure, as a
    /// [`StoreError`].
    async fn call(&self, request: RequestBuilder) -> Result<reqwest::Response, StoreError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", self.endpoint)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let why = match serde_json::from_str::<Failure>(&body) {
            Ok(Failure { error: FailureReason { reason, details: Some(d) } }) if !d.is_empty() => {
                format!("{reason}: {d}")
            }
            Ok(Failure { error }) => error.reason,
            Err(_) => body,
        };
        Err(match status {
            StatusCode::UNAUTHORIZED => StoreError::Refused(format!("the pinning service refused the token ({why})")),
            _ => StoreError::Refused(format!("pinning service, HTTP {}: {why}", status.as_u16())),
        })
    }

    async fn status_of(response: reqwest::Response) -> Result<PinStatus, StoreError> {
        response.json().await.map_err(|e| StoreError::Refused(format!("pinning service: malformed answer: {e}")))
    }

    /// Asks the service to keep a pin's CID. The request is usually `Queued` at first:
    /// [`PinningService::wait`] follows it.
    pub async fn pin(&self, pin: &Pin) -> Result<PinStatus, StoreError> {
        Self::status_of(self.call(self.http.post(self.url("")).json(pin)).await?).await
    }

    /// A pin request's status.
    pub async fn status(&self, requestid: &str) -> Result<PinStatus, StoreError> {
        Self::status_of(self.call(self.http.get(self.url(&format!("/{requestid}")))).await?).await
    }

    /// Follows a request until it is pinned (returned) or failed (an error), polling with a
    /// backoff from 100 ms to 5 s for at most `timeout`.
    pub async fn wait(&self, requestid: &str, timeout: Duration) -> Result<PinStatus, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = Duration::from_millis(100);
        loop {
            let status = self.status(requestid).await?;
            match status.status {
                PinState::Pinned => return Ok(status),
                PinState::Failed => {
                    return Err(StoreError::Refused(format!("the pinning service could not pin {}", status.pin.cid)));
                }
                PinState::Queued | PinState::Pinning if tokio::time::Instant::now() + pause > deadline => {
                    return Err(StoreError::Refused(format!(
                        "{} still {} after {} s",
                        status.pin.cid,
                        status.status.name(),
                        timeout.as_secs()
                    )));
                }
                _ => tokio::time::sleep(pause).await,
            }
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// Pin requests of `cid` and named exactly `name` (any, when `None`) in one of `states`,
    /// newest first, at most 1,000 (the spec's page limit).
    pub async fn pins(
        &self,
        cid: Option<&Cid>,
        name: Option<&str>,
        states: &[PinState],
    ) -> Result<Vec<PinStatus>, StoreError> {
        let states: Vec<_> = states.iter().map(|s| s.name()).collect();
        let mut query = vec![("status", states.join(",")), ("limit", "1000".to_string())];
        query.extend(cid.map(|c| ("cid", c.to_string())));
        query.extend(name.map(|n| ("name", n.to_string())));
        let response = self.call(self.http.get(self.url("")).query(&query)).await?;
        let results: PinResults = response
            .json()
            .await
            .map_err(|e| StoreError::Refused(format!("pinning service: malformed answer: {e}")))?;
        Ok(results.results)
    }

    /// Removes a pin request (the service may then drop the content).
    pub async fn unpin(&self, requestid: &str) -> Result<(), StoreError> {
        self.call(self.http.delete(self.url(&format!("/{requestid}")))).await.map(drop)
    }
}
