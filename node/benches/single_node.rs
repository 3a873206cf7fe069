//! Single-node figures: issued licences committed per second, HTTP verification requests per
//! second with p50/p99, presentation size, bytes on disk per licence, peak RSS and cold start,
//! for both suites. One validator, fjall on disk, the real HTTP API on 127.0.0.1, clients in
//! threads of the same process (their pre-signed transactions count in the peak RSS).
//!
//! `cargo bench -p lichen-node --bench single_node [-- --licences N --verify-requests M]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

// The allocator the `lichen` binary runs with (see node/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lichen_client::{Client, ClientError};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::testkit::TestChain;
use lichen_node::service::{DataDir, NodeOptions, start};

use common::CLIENT_THREADS;

fn run(suite: Suite, licences: usize, verify_requests: usize) {
    let chain = TestChain::new(suite, 1);
    let dir = tempfile::tempdir().unwrap();
    let rt = lichen_node::service::runtime().unwrap();
    let options = || {
        NodeOptions::new(
            DataDir::Disk(dir.path().to_path_buf()),
            chain.genesis.clone(),
            chain.owned_key("validator-0"),
            "127.0.0.1:0".parse().unwrap(),
        )
    };
    let node = rt.block_on(start(options())).unwrap();
    let url = format!("http://{}", node.http_addr);
    let txs = Arc::new(
        common::issue_txs(&chain, "BENCH", 0..licences, 900)
            .iter()
            .map(|t| t.to_bytes())
            .collect::<Vec<_>>(),
    );

    // 1. Issue: all clients submit without waiting; time until the last is committed.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENT_THREADS)
        .map(|_| {
            let (txs, next, url) = (txs.clone(), next.clone(), url.clone());
            std::thread::spawn(move || {
                let c = Client::new(&url);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= txs.len() {
                        break;
                    }
                    // Back-pressure (the pool, or this agency's share of it, is full): again.
                    loop {
                        match c.post_bytes("/v1/transactions", &txs[i]) {
                            Ok((status, body)) => {
                                assert_eq!(status, 202, "{body}");
                                break;
                            }
                            Err(ClientError::Api {
                                status: 429 | 503, ..
                            }) => std::thread::sleep(Duration::from_millis(10)),
                            Err(e) => panic!("submission failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let submitted = started.elapsed();
    let last = format!("/v1/licences/{}", common::licence_id("BENCH", licences - 1));
    common::wait_committed(&url, &last, Duration::from_secs(600));
    let committed = started.elapsed();
    let c = Client::new(&url);
    let height = c.get_json("/v1/status").unwrap()["height"]
        .as_u64()
        .unwrap();
    println!(
        "{:>4}: issued {licences} licences: submitted in {:.2} s, all committed after {:.2} s -> {:.0} licences/s ({height} blocks)",
        suite.name(),
        submitted.as_secs_f64(),
        committed.as_secs_f64(),
        licences as f64 / committed.as_secs_f64()
    );

    // 2. Verification requests.
    let ids: Vec<String> = (0..licences)
        .map(|i| common::licence_id("BENCH", i))
        .collect();
    let presentations = common::presentations(&url, &ids, common::VERIFY_PRESENTATIONS);
    println!(
        "{:>4}: {} presentations of different licences, {} bytes on average",
        suite.name(),
        presentations.len(),
        presentations.iter().map(Vec::len).sum::<usize>() / presentations.len()
    );
    let (lat, elapsed) = common::export_load(std::slice::from_ref(&url), &ids, verify_requests);
    println!(
        "{:>4}: GET /v1/licences/{{id}}/presentation x {}: {} ({CLIENT_THREADS} client threads on keep-alive connections)",
        suite.name(),
        lat.len(),
        common::load_figures(&lat, elapsed)
    );
    let (lat, elapsed) =
        common::verify_load(std::slice::from_ref(&url), &presentations, verify_requests);
    println!(
        "{:>4}: POST /v1/verify x {}: {} ({CLIENT_THREADS} client threads on keep-alive connections)",
        suite.name(),
        lat.len(),
        common::load_figures(&lat, elapsed)
    );

    // 3. Cold start on the data just written: open, replay nothing, serve /health.
    rt.block_on(node.stop()).unwrap();
    let bytes = common::dir_bytes(dir.path());
    println!(
        "{:>4}: data on disk after a clean stop: {:.1} MB = {:.0} bytes per licence (blocks, state tree, indexes); peak RSS of this process {}",
        suite.name(),
        bytes as f64 / 1e6,
        bytes as f64 / licences as f64,
        common::rss_peak_kib().map_or("?".to_string(), |k| format!("{} MiB", k / 1024))
    );
    let t = Instant::now();
    let node = rt.block_on(start(options())).unwrap();
    let c = Client::new(&format!("http://{}", node.http_addr));
    let health = c.get_json("/health").unwrap();
    println!(
        "{:>4}: cold start at height {}: {:.0} ms to a /health answer",
        suite.name(),
        health["height"],
        t.elapsed().as_secs_f64() * 1e3
    );
    rt.block_on(node.stop()).unwrap();
}

fn main() {
    // As the `lichen` binary runs (node/cli/src/main.rs).
    lichen_node::memory::disable_transparent_huge_pages().unwrap();
    let licences = common::arg("--licences", 5_000);
    let verify_requests = common::arg("--verify-requests", 4_000);
    for suite in [Suite::Intl, Suite::Sm] {
        run(suite, licences, verify_requests);
    }
}
