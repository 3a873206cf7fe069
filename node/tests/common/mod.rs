//! The harness the in-process node tests share: one validator of a `TestChain` on 127.0.0.1,
//! its client, and transactions signed for it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use lichen_client::Client;
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};
use lichen_node::service::{DataDir, NodeOptions, RunningNode, start};

/// Validator 0 of a chain, on its own tokio runtime, stopped on drop.
pub struct TestNode {
    pub rt: tokio::runtime::Runtime,
    pub node: Option<RunningNode>,
    pub client: Client,
}

impl TestNode {
    /// In memory, with the default state versions kept.
    pub fn start(chain: &TestChain) -> Self {
        Self::start_with(chain, DataDir::Memory, |_| {})
    }

    /// On `data`, with `configure` applied to the options first.
    pub fn start_with(
        chain: &TestChain,
        data: DataDir,
        configure: impl FnOnce(&mut NodeOptions),
    ) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut options = NodeOptions::new(
            data,
            chain.genesis.clone(),
            chain.owned_key("validator-0"),
            "127.0.0.1:0".parse().unwrap(),
        );
        configure(&mut options);
        let node = rt.block_on(start(options)).unwrap();
        let client = Client::new(&format!("http://{}", node.http_addr));
        TestNode {
            rt,
            node: Some(node),
            client,
        }
    }

    pub fn running(&self) -> &RunningNode {
        self.node.as_ref().expect("the node is running")
    }

    /// Stops the node cleanly (dropping it also stops it, ignoring errors).
    pub fn stop(mut self) {
        if let Some(node) = self.node.take() {
            self.rt.block_on(node.stop()).unwrap();
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let _ = self.rt.block_on(node.stop());
        }
    }
}

/// A transaction for `chain` expiring at height 100, signed by `signers`.
pub fn signed(
    chain: &TestChain,
    payload: Payload,
    nonce: u64,
    signers: &[&str],
) -> SignedTransaction {
    let tx = Transaction {
        chain_id: chain.chain_id().to_string(),
        nonce,
        expires_at_height: 100,
        payload,
    };
    chain.sign(tx, signers)
}

/// A business licence `id` of agency-a, valid from 0 with no expiry.
pub fn draft(
    suite: lichen_contracts::crypto::Suite,
    id: &str,
) -> lichen_contracts::model::LicenceDraft {
    lichen_contracts::model::LicenceDraft {
        id: id.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(b"licence file"),
        holder_commitment: lichen_contracts::model::holder_commitment(suite, &[7; 32], "holder"),
        valid_from_ms: 0,
        valid_until_ms: None,
    }
}

/// `method path` with `headers` and `body` over a raw connection (no client library to tidy
/// the request up): the status, the headers (lower-cased names) and the body.
pub fn raw_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

/// The first value of header `name` (lower case) in `raw_request`'s headers.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
