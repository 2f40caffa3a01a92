//! A Kubo node through its RPC API (`/api/v0`): plain HTTP where every call is a POST, `add`
//! takes multipart form data and answers newline-delimited JSON. A small typed client on
//! reqwest: the `ipfs-api` crates no longer build (docs/DESIGN-NOTES.md, Storage).

use std::time::Duration;

use async_trait::async_trait;
use cid::Cid;
use futures_util::StreamExt;
use reqwest::{Client, Response, multipart};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{CidVersion, ContentStore, ImportOptions, Reader, StoreError};

/// A Kubo node's RPC endpoint.
#[derive(Debug, Clone)]
pub struct KuboStore {
    api: String,
    http: Client,
    /// How long Kubo may search for a CID it does not hold before `cat` fails.
    find_timeout: Duration,
}

#[derive(serde::Deserialize)]
struct Added {
    #[serde(rename = "Hash")]
    hash: String,
}

#[derive(serde::Deserialize)]
struct KuboError {
    #[serde(rename = "Message")]
    message: String,
}

impl KuboStore {
    /// A client of the node whose RPC API listens at `api` (for example `http://127.0.0.1:5001`).
    /// `find_timeout` bounds the search for content the node does not hold.
    pub fn new(api: &str, find_timeout: Duration) -> Result<Self, StoreError> {
        let http = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { api: api.trim_end_matches('/').to_string(), http, find_timeout })
    }

    fn url(&self, command: &str) -> String {
        format!("{}/api/v0/{command}", self.api)
    }

    /// Sends a request and turns transport failures and Kubo's JSON errors into [`StoreError`]s.
    async fn call(&self, request: reqwest::RequestBuilder, cid: Option<&Cid>) -> Result<Response, StoreError> {
        let response = request.send().await.map_err(|e| StoreError::Unavailable(format!("{}: {e}", self.api)))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<KuboError>(&body).map(|e| e.message).unwrap_or(body);
        Err(match cid {
            Some(cid) if message.contains("deadline exceeded") || message.contains("not found") => {
                StoreError::Timeout { cid: *cid, secs: self.find_timeout.as_secs() }
            }
            _ => StoreError::Refused(format!("HTTP {status}: {message}")),
        })
    }
}

#[async_trait]
impl ContentStore for KuboStore {
    async fn add_stream(&self, reader: Reader, options: &ImportOptions) -> Result<Cid, StoreError> {
        options.validate()?;
        let version = match options.cid_version {
            CidVersion::V0 => "0",
            CidVersion::V1 => "1",
        };
        let part = multipart::Part::stream(reqwest::Body::wrap_stream(ReaderStream::new(reader))).file_name("data");
        let request = self
            .http
            .post(self.url("add"))
            .query(&[
                ("cid-version", version),
                ("raw-leaves", if options.raw_leaves { "true" } else { "false" }),
                ("chunker", &format!("size-{}", options.chunk_size)),
                ("pin", "true"),
                ("quieter", "true"),
            ])
            .multipart(multipart::Form::new().part("file", part));
        let body = self.call(request, None).await?.text().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let last = body.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default();
        let added: Added =
            serde_json::from_str(last).map_err(|_| StoreError::Refused(format!("unexpected add response: {body}")))?;
        added.hash.parse().map_err(|e: cid::Error| StoreError::InvalidCid(e.to_string()))
    }

    async fn cat_to(&self, cid: &Cid, out: &mut (dyn AsyncWrite + Send + Unpin)) -> Result<u64, StoreError> {
        self.cat_range_to(cid, 0..u64::MAX, out).await
    }

    /// Kubo's `cat` with `offset` and `length`.
    async fn cat_range_to(
        &self,
        cid: &Cid,
        range: std::ops::Range<u64>,
        out: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<u64, StoreError> {
        let timeout = format!("{}ms", self.find_timeout.as_millis());
        let mut query = vec![("arg", cid.to_string()), ("timeout", timeout), ("offset", range.start.to_string())];
        if range.end != u64::MAX {
            query.push(("length", range.end.saturating_sub(range.start).to_string()));
        }
        let request = self.http.post(self.url("cat")).query(&query);
        let mut stream = self.call(request, Some(cid)).await?.bytes_stream();
        let mut total = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| StoreError::Unavailable(format!("reading {cid}: {e}")))?;
            out.write_all(&chunk).await?;
            total += chunk.len() as u64;
        }
        out.flush().await?;
        Ok(total)
    }

    async fn pin(&self, cid: &Cid) -> Result<(), StoreError> {
        let timeout = format!("{}ms", self.find_timeout.as_millis());
        let request =
            self.http.post(self.url("pin/add")).query(&[("arg", cid.to_string().as_str()), ("timeout", &timeout)]);
        self.call(request, Some(cid)).await.map(drop)
    }

    async fn unpin(&self, cid: &Cid) -> Result<(), StoreError> {
        let request = self.http.post(self.url("pin/rm")).query(&[("arg", cid.to_string())]);
        match self.call(request, None).await {
            Err(StoreError::Refused(m)) if m.contains("not pinned") => Ok(()),
            result => result.map(drop),
        }
    }
}
