//! Helpers shared by the node benchmarks: command-line arguments, pre-signed issue transactions,
//! percentiles.
// Each bench target compiles this module on its own and uses part of it.
#![allow(dead_code)]

pub mod cluster;
pub mod http_load;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lichen_client::Client;
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};

/// Client threads of every load.
pub const CLIENT_THREADS: usize = 8;

/// Presentations of different licences a verification load takes in turn.
pub const VERIFY_PRESENTATIONS: usize = 256;

/// The value after `name` on the command line, parsed; `default` if absent or unparsable.
pub fn arg(name: &str, default: usize) -> usize {
    arg_str(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The value after the last `name` on the command line (a later one overrides an earlier one).
pub fn arg_str(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .rposition(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The licence id of issue transaction `i` with `prefix`.
pub fn licence_id(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:08}")
}

/// Issue transactions `ids` (licence ids `prefix-NNNNNNNN`, `business` licences of `agency-a`),
/// signed by `agency-a`, expiring at `expires_at_height`.
pub fn issue_txs(
    chain: &TestChain,
    prefix: &str,
    ids: std::ops::Range<usize>,
    expires_at_height: u64,
) -> Vec<SignedTransaction> {
    ids.map(|i| issue_tx(chain, prefix, i, expires_at_height))
        .collect()
}

/// Issue transaction `i` of [`issue_txs`].
pub fn issue_tx(
    chain: &TestChain,
    prefix: &str,
    i: usize,
    expires_at_height: u64,
) -> SignedTransaction {
    let suite = chain.suite;
    let tx = Transaction {
        chain_id: chain.chain_id().to_string(),
        nonce: i as u64,
        expires_at_height,
        payload: Payload::IssueLicence(LicenceDraft {
            id: licence_id(prefix, i),
            licence_type: "business".into(),
            issuer: "agency-a".into(),
            document_hash: suite.digest(format!("licence file {prefix} {i}").as_bytes()),
            holder_commitment: holder_commitment(suite, &[1; 32], &format!("holder {i}")),
            valid_from_ms: 0,
            valid_until_ms: None,
        }),
    };
    chain.sign(tx, &["agency-a"])
}

/// Waits (at most `wait_max`) until the licence at `licence_path` is committed and the node at
/// `url` has nothing left in its pool.
pub fn wait_committed(url: &str, licence_path: &str, wait_max: Duration) {
    let c = Client::new(url);
    let deadline = Instant::now() + wait_max;
    loop {
        let s = c.get_json("/v1/status").unwrap();
        if s["mempool"]["transactions"].as_u64() == Some(0) && c.get_json(licence_path).is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "licences not committed in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A load's figures from its sorted latencies and wall time: "R requests/s, p50 A ms, p99 B ms".
pub fn load_figures(lat: &[Duration], elapsed: Duration) -> String {
    format!(
        "{:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
        lat.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.99))
    )
}

/// The `p` quantile (0..=1) of a sorted, non-empty slice.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `requests` `POST /v1/verify` to the nodes at `urls` from `CLIENT_THREADS` threads, each on
/// one keep-alive connection, taking `presentations` in turn (presentations of different
/// licences, so that each request hashes its own proof): the latencies (sorted) and the wall
/// time. Each answer must be 200 with the verdict VALID.
pub fn verify_load(
    urls: &[String],
    presentations: &[Vec<u8>],
    requests: usize,
) -> (Vec<Duration>, Duration) {
    http_requests_load(
        urls,
        |url| {
            presentations
                .iter()
                .map(|p| http_load::post_request(url, "/v1/verify", p))
                .collect()
        },
        requests,
        |body| http_load::contains(body, br#""verdict":"VALID""#),
    )
}

/// `requests` `GET /v1/licences/{id}/presentation` (binary, at the tip) to the nodes at `urls`,
/// taking `ids` in turn, as [`verify_load`] does: each answer must be 200 with a body.
pub fn export_load(urls: &[String], ids: &[String], requests: usize) -> (Vec<Duration>, Duration) {
    http_requests_load(
        urls,
        |url| {
            ids.iter()
                .map(|id| http_load::get_request(url, &format!("/v1/licences/{id}/presentation")))
                .collect()
        },
        requests,
        |body| !body.is_empty(),
    )
}

/// `requests` requests to the nodes at `urls` from `CLIENT_THREADS` threads, each on one
/// keep-alive connection to one node (the threads spread over the nodes), taking the requests
/// `build` makes for its node in turn: the latencies (sorted) and the wall time. Each answer
/// must be 200 and `accept` its body.
fn http_requests_load(
    urls: &[String],
    build: impl Fn(&str) -> Vec<Vec<u8>>,
    requests: usize,
    accept: fn(&[u8]) -> bool,
) -> (Vec<Duration>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            let url = urls[t % urls.len()].clone();
            let requests_bytes = build(&url);
            assert!(!requests_bytes.is_empty());
            let next = next.clone();
            std::thread::spawn(move || {
                let mut c = http_load::Connection::open(&url).unwrap();
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let t = Instant::now();
                    let (status, body) = c.send(&requests_bytes[i % requests_bytes.len()]).unwrap();
                    lat.push(t.elapsed());
                    assert!(
                        status == 200 && accept(body),
                        "{status} {}",
                        String::from_utf8_lossy(body)
                    );
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    lat.sort();
    (lat, elapsed)
}

/// The presentations of up to `count` licences, spread evenly over `ids` (so over the blocks
/// that committed them), exported by the node at `url` at the last [`PRESENTATION_HEIGHTS`]
/// heights in turn (so that they carry as many different certificates): what a front desk
/// sees from licences presented at recent heights.
pub fn presentations(url: &str, ids: &[String], count: usize) -> Vec<Vec<u8>> {
    let c = Client::new(url);
    let tip = c.get_json("/v1/status").unwrap()["height"]
        .as_u64()
        .unwrap();
    let step = (ids.len() / count.max(1)).max(1);
    ids.iter()
        .step_by(step)
        .take(count)
        .enumerate()
        .map(|(i, id)| {
            let path = format!("/v1/licences/{id}/presentation");
            let height = tip.saturating_sub(i as u64 % PRESENTATION_HEIGHTS);
            // A licence committed after that height is exported at the tip.
            c.get_bytes(&format!("{path}?height={height}"))
                .or_else(|_| c.get_bytes(&path))
                .unwrap()
        })
        .collect()
}

/// How many recent heights the presentations of a verification load are certified at.
pub const PRESENTATION_HEIGHTS: u64 = 16;

/// This process's resident set now, in KiB.
pub fn rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

/// This process's peak resident set since the last reset, in KiB.
pub fn rss_peak_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

fn proc_status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Resets the peak resident set (Linux: writing 5 to `clear_refs`).
pub fn reset_rss_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The bytes of every file under `path`.
pub fn dir_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
