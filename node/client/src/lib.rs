//! A small blocking client for the node's HTTP API (used by the CLI and the tests). The bodies
//! clients read field by field come back typed (`lichen_views::api`); the rest as JSON values in
//! the shared `lichen_views` shapes.

use std::time::Duration;

use lichen_views::VerifyReport;
use lichen_views::api::{
    BatchSubmitResponse, EvidenceResponse, FinalityReceipt, HealthResponse, LicenceRecordResponse,
    ListPage, PendingResponse, StatusResponse,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Largest response body read, in bytes.
pub const RESPONSE_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// How long connecting to the node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long each later phase of a request may take: sending it, the node's answer (which waits
/// for finality with `?wait=final`, at most a minute), reading the answer's body.
const PHASE_TIMEOUT: Duration = Duration::from_secs(90);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot reach the node at {url}: {reason} (is `lichen node run` or `lichen dev` running?)"
    )]
    Unreachable { url: String, reason: String },
    #[error("the node answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        body: Value,
    },
    #[error("the node's answer to {url} is not valid: {reason}")]
    BadResponse { url: String, reason: String },
}

/// A node's API at `base` (e.g. `http://127.0.0.1:8080`).
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Self {
        // A timeout for each phase, none for the whole call or for name resolution: with either,
        // ureq resolves the host on a thread of its own for every request (a thread created and
        // torn down per request, even on a kept-alive connection), and an address resolves
        // without one. The system resolver's own timeouts bound a lookup.
        let phase = Some(PHASE_TIMEOUT);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_send_request(phase)
            .timeout_send_body(phase)
            .timeout_recv_response(phase)
            .timeout_recv_body(phase)
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn finish(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Vec<u8>, bool), ClientError> {
        self.finish_up_to(url, result, RESPONSE_BYTES_MAX)
    }

    fn finish_up_to(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        limit: u64,
    ) -> Result<(u16, Vec<u8>, bool), ClientError> {
        let mut response = result.map_err(|e| ClientError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let is_json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| ClientError::BadResponse {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        if status >= 400 {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let code = v["error"]["code"].as_str().unwrap_or("unknown").to_string();
            let message = v["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(ClientError::Api {
                status,
                code,
                message,
                body: v,
            });
        }
        Ok((status, body, is_json))
    }

    fn json(&self, url: &str, body: &[u8]) -> Result<Value, ClientError> {
        serde_json::from_slice(body).map_err(|e| ClientError::BadResponse {
            url: url.to_string(),
            reason: format!("not JSON: {e}"),
        })
    }

    /// `GET path` as JSON.
    pub fn get_json(&self, path: &str) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .get(&url)
            .header("Accept", "application/json")
            .call();
        let (_, body, _) = self.finish(&url, r)?;
        self.json(&url, &body)
    }

    /// `GET path` as bytes.
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .get(&url)
            .header("Accept", "application/octet-stream")
            .call();
        Ok(self.finish(&url, r)?.1)
    }

    /// `GET path` as bytes, reading at most `limit` bytes of answer (for answers that may be
    /// larger than [`RESPONSE_BYTES_MAX`]: state chunks, trust packages).
    pub fn get_bytes_up_to(&self, path: &str, limit: u64) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .get(&url)
            .header("Accept", "application/octet-stream")
            .call();
        Ok(self.finish_up_to(&url, r, limit)?.1)
    }

    /// `POST path` with binary `body`; the JSON answer and its status.
    pub fn post_bytes(&self, path: &str, body: &[u8]) -> Result<(u16, Value), ClientError> {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .post(&url)
            .header("Content-Type", "application/octet-stream")
            .send(body);
        let (status, body, _) = self.finish(&url, r)?;
        Ok((status, self.json(&url, &body)?))
    }

    /// `POST path` with a JSON `body`; the JSON answer and its status.
    pub fn post_json(&self, path: &str, body: &Value) -> Result<(u16, Value), ClientError> {
        let url = format!("{}{path}", self.base);
        let r = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes());
        let (status, body, _) = self.finish(&url, r)?;
        Ok((status, self.json(&url, &body)?))
    }

    /// `GET path` as a typed body.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let value = self.get_json(path)?;
        typed(&format!("{}{path}", self.base), value)
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<StatusResponse, ClientError> {
        self.get("/v1/status")
    }

    /// `GET /health`.
    pub fn health(&self) -> Result<HealthResponse, ClientError> {
        self.get("/health")
    }

    /// Verifies a presentation, compact presentation or evidence receipt against the node's
    /// chain (`POST /v1/verify`, no desk parameters): the per-check report.
    pub fn verify(&self, presentation: &[u8]) -> Result<VerifyReport, ClientError> {
        let path = "/v1/verify";
        let (_, body) = self.post_bytes(path, presentation)?;
        typed(&format!("{}{path}", self.base), body)
    }

    /// One page of a list endpoint (`/v1/agencies`, `/v1/licence-types`, `/v1/submitters`,
    /// `/v1/agencies/{id}/licences`): up to `limit` entries after `cursor` (the previous page's
    /// `next_cursor`; `None` for the first page).
    pub fn page(
        &self,
        list: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<ListPage, ClientError> {
        let mut path = format!("{list}?limit={limit}");
        if let Some(cursor) = cursor {
            path.push_str("&cursor=");
            path.push_str(&percent_encode(cursor));
        }
        self.get(&path)
    }

    /// Submits an encoded signed transaction without waiting (`POST /v1/transactions`, 202).
    pub fn submit(&self, tx: &[u8]) -> Result<PendingResponse, ClientError> {
        let path = "/v1/transactions";
        let (_, body) = self.post_bytes(path, tx)?;
        typed(&format!("{}{path}", self.base), body)
    }

    /// `GET /v1/licences/{id}`: the record, its history, the height it is read at.
    pub fn licence(&self, id: &str) -> Result<LicenceRecordResponse, ClientError> {
        self.get(&format!("/v1/licences/{}", percent_encode(id)))
    }

    /// `GET /v1/licences/{id}/presentation`: the presentation's bytes.
    pub fn presentation(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        self.get_bytes(&format!("/v1/licences/{}/presentation", percent_encode(id)))
    }

    /// `GET /v1/evidence/{hash}`: the anchored entry (`hash` in hex).
    pub fn evidence(&self, hash: &str) -> Result<EvidenceResponse, ClientError> {
        self.get(&format!("/v1/evidence/{}", percent_encode(hash)))
    }

    /// `GET /v1/evidence/{hash}/receipt`: the evidence receipt's bytes.
    pub fn receipt(&self, hash: &str) -> Result<Vec<u8>, ClientError> {
        self.get_bytes(&format!("/v1/evidence/{}/receipt", percent_encode(hash)))
    }

    /// `GET /v1/trust-anchor`: the genesis trust anchor's bytes.
    pub fn trust_anchor(&self) -> Result<Vec<u8>, ClientError> {
        self.get_bytes("/v1/trust-anchor")
    }

    /// Submits encoded signed transactions in one request (`POST /v1/transactions/batch`, at
    /// most 256): one result per transaction, in order (`"pending"`, `"retry"` or `"refused"`).
    pub fn submit_batch(&self, txs: &[&[u8]]) -> Result<BatchSubmitResponse, ClientError> {
        let path = "/v1/transactions/batch";
        let (_, body) = self.post_bytes(path, &encode_batch(txs))?;
        typed(&format!("{}{path}", self.base), body)
    }

    /// Submits an encoded signed transaction and waits up to `timeout_ms` for the block that
    /// commits it (`POST /v1/transactions?wait=final`).
    pub fn submit_final(&self, tx: &[u8], timeout_ms: u64) -> Result<FinalityReceipt, ClientError> {
        let path = format!("/v1/transactions?wait=final&timeout_ms={timeout_ms}");
        let (_, body) = self.post_bytes(&path, tx)?;
        typed(&format!("{}{path}", self.base), body)
    }
}

/// `text` with every byte outside the URL's unreserved set percent-encoded, for a path segment
/// or a query value (licence ids may hold `/` and `:`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The batch body: `seq<bytes>` (PROTOCOL.md, "Encoding"): a big-endian `u32` count, then each
/// transaction as a big-endian `u32` length and its bytes.
pub fn encode_batch(txs: &[&[u8]]) -> Vec<u8> {
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    let mut body = Vec::with_capacity(4 + txs.iter().map(|t| 4 + t.len()).sum::<usize>());
    body.extend_from_slice(&len(txs.len()));
    for tx in txs {
        body.extend_from_slice(&len(tx.len()));
        body.extend_from_slice(tx);
    }
    body
}

fn typed<T: DeserializeOwned>(url: &str, value: Value) -> Result<T, ClientError> {
    serde_json::from_value(value).map_err(|e| ClientError::BadResponse {
        url: url.to_string(),
        reason: format!("unexpected body: {e}"),
    })
}
