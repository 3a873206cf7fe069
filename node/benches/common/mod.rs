//! Helpers shared by the node benchmarks: command-line arguments, pre-signed issue transactions,
//! percentiles.
// Each bench target compiles this module on its own and uses part of it.
#![allow(dead_code)]

pub mod cluster;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lichen_client::Client;
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};

/// Client threads of every load.
pub const CLIENT_THREADS: usize = 8;

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

/// The `p` quantile (0..=1) of a sorted, non-empty slice.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `requests` `POST /v1/verify` of `presentation` to the nodes at `urls` from `CLIENT_THREADS`
/// threads: the latencies (sorted) and the wall time.
pub fn verify_load(
    urls: &[String],
    presentation: Vec<u8>,
    requests: usize,
) -> (Vec<Duration>, Duration) {
    let presentation = Arc::new(presentation);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENT_THREADS)
        .map(|t| {
            // Each client thread keeps to one node, the threads spread over the nodes.
            let url = urls[t % urls.len()].clone();
            let (p, next) = (presentation.clone(), next.clone());
            std::thread::spawn(move || {
                let c = Client::new(&url);
                let mut lat = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let t = Instant::now();
                    let (status, report) = c.post_bytes("/v1/verify", &p).unwrap();
                    lat.push(t.elapsed());
                    assert_eq!(status, 200);
                    assert_eq!(report["verdict"], "VALID", "{report}");
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
