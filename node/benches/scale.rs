//! The scale run: one validator loaded with up to 10^7 licences through the real transaction
//! path (HTTP submission, admission, consensus, execution, fjall on disk), with figures at every
//! checkpoint (10^5, 10^6, 10^7 by default): licences/s since the last checkpoint, bytes on disk
//! per licence and what they are made of (key prefix by key prefix, read after a clean stop),
//! resident memory, licence lookup and presentation export latency (p50/p99), presentation size
//! and the cold restart time.
//!
//! Clients sign as they go (nothing pre-signed: 10^7 transactions would not fit in memory) and
//! handle back-pressure: 429/503 are retried after a pause, an expired transaction is re-signed.
//!
//! With `--join`, each checkpoint also times a new node joining: by state sync from the loaded
//! node, and by replaying its blocks from genesis (`--replay-seconds`, default 600, then
//! projected).
//!
//! With `--resume DIR`, the run goes on in the data directory of an earlier run that stopped
//! (killed, or the machine went down: the node recovers it as after a power loss): licences
//! already committed are found by their ids, those lost from the pool are submitted again, and
//! the checkpoints not yet reached follow. A run without it keeps its directory too when killed
//! (its path is printed first).
//!
//! `./scripts/scale.sh [--licences N] [--suite intl|sm] [--checkpoints a,b,c] [--join] [--resume DIR]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

// The allocator the `lichen` binary runs with (see node/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lichen_client::{Client, ClientError};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::testkit::TestChain;
use lichen_node::chain::Chain;
use lichen_node::service::{DataDir, NodeOptions, RunningNode, start};
use lichen_node::state_sync::{ApiPaths, sync_data_dir};
use lichen_storage::{FjallKv, KvStore};

use common::{CLIENT_THREADS, licence_id, ms, percentile};

/// Blocks ahead of the last seen height at which a client's transactions expire (the chain
/// allows 1,000).
const EXPIRY_AHEAD_BLOCKS: u64 = 500;
/// Lookups and presentation exports timed at each checkpoint.
const LATENCY_SAMPLES: usize = 2_000;
/// Entries read per scan when summing the store's bytes by key prefix.
const SCAN_PAGE: usize = 50_000;
/// Longest wait for the licences of one checkpoint to commit.
const CHECKPOINT_WAIT_MAX: Duration = Duration::from_secs(4 * 3600);
/// `--resume`: licences either side of the first one missing that are looked up one by one
/// (the pool held at most 12,500 when the run stopped, committed in about submission order).
const RESUME_SCAN_LICENCES: usize = 50_000;
const PREFIX: &str = "SCALE";

struct Run {
    chain: Arc<TestChain>,
    suite: Suite,
    /// State versions kept (`--versions-kept`; the node's default without it).
    versions_kept: Option<u64>,
    /// `--join`: time state sync and replay at each checkpoint.
    join: bool,
    dir: DataDirectory,
    rt: tokio::runtime::Runtime,
}

/// A new directory (removed at the end of a run that ends), or `--resume`'s.
enum DataDirectory {
    New(tempfile::TempDir),
    Resumed(std::path::PathBuf),
}

impl DataDirectory {
    fn path(&self) -> &Path {
        match self {
            DataDirectory::New(dir) => dir.path(),
            DataDirectory::Resumed(dir) => dir,
        }
    }
}

impl Run {
    fn options(&self) -> NodeOptions {
        let key = self.chain.owned_key("validator-0");
        let mut options = NodeOptions::new(
            DataDir::Disk(self.dir.path().to_path_buf()),
            self.chain.genesis.clone(),
            key,
            "127.0.0.1:0".parse().unwrap(),
        );
        if let Some(kept) = self.versions_kept {
            options.state_versions_kept = kept;
        }
        options
    }

    fn start(&self) -> RunningNode {
        self.rt.block_on(start(self.options())).unwrap()
    }
}

/// The issue transaction of licence `i`, encoded.
fn issue_tx(chain: &TestChain, i: usize, expires_at_height: u64) -> Vec<u8> {
    common::issue_tx(chain, PREFIX, i, expires_at_height).to_bytes()
}

/// Which licences a load submits: the `k`th of `count`.
type Licences = Arc<dyn Fn(usize) -> usize + Send + Sync>;

/// Submits `count` licences from `CLIENT_THREADS` signing threads; returns when every one was
/// accepted into the pool (not yet committed).
fn load(
    chain: &Arc<TestChain>,
    url: &str,
    count: usize,
    licence: Licences,
    height: &Arc<AtomicU64>,
) {
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..CLIENT_THREADS)
        .map(|_| {
            let (chain, next, height, url, licence) = (
                chain.clone(),
                next.clone(),
                height.clone(),
                url.to_string(),
                licence.clone(),
            );
            std::thread::spawn(move || {
                let c = Client::new(&url);
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= count {
                        break;
                    }
                    let i = licence(k);
                    let mut signed_at = height.load(Ordering::Relaxed);
                    let mut tx = issue_tx(&chain, i, signed_at + EXPIRY_AHEAD_BLOCKS);
                    loop {
                        match c.post_bytes("/v1/transactions", &tx) {
                            Ok((202, _)) => break,
                            Ok((status, body)) => panic!("licence {i}: {status} {body}"),
                            // Back-pressure (the pool, or this agency's share of it, is full).
                            Err(ClientError::Api {
                                status: 429 | 503, ..
                            }) => std::thread::sleep(Duration::from_millis(20)),
                            Err(e) => panic!("licence {i}: submission failed: {e}"),
                        }
                        // Waited so long that the transaction may expire: sign it afresh.
                        let now = height.load(Ordering::Relaxed);
                        if now > signed_at + EXPIRY_AHEAD_BLOCKS / 2 {
                            signed_at = now;
                            tx = issue_tx(&chain, i, signed_at + EXPIRY_AHEAD_BLOCKS);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Follows the node's height every 200 ms (clients sign against it) and prints progress every
/// 10 s, until `stop`.
fn watch(
    url: String,
    height: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let c = Client::new(&url);
        let started = Instant::now();
        let mut printed = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(s) = c.get_json("/v1/status") {
                let h = s["height"].as_u64().unwrap_or(0);
                height.store(h, Ordering::Relaxed);
                if printed.elapsed() >= Duration::from_secs(10) {
                    printed = Instant::now();
                    let engine = c.get_bytes("/metrics").map(|m| engine_line(&m));
                    println!(
                        "  [{:>6.0} s] height {h}, mempool {}, RSS {} MiB; {}",
                        started.elapsed().as_secs_f64(),
                        s["mempool"]["transactions"],
                        common::rss_kib().unwrap_or(0) / 1024,
                        engine.unwrap_or_default()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// The storage engine's gauges from `GET /metrics`' text: memtables, block cache, tables.
fn engine_line(metrics: &[u8]) -> String {
    let text = String::from_utf8_lossy(metrics);
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    format!(
        "memtables {:.0} MiB, cache {:.0} MiB, tables {} (level 0: {}), flushes waiting {}, compactions {}",
        value("lichen_storage_memtable_bytes") / 1048576.0,
        value("lichen_storage_cache_bytes") / 1048576.0,
        value("lichen_storage_tables"),
        value("lichen_storage_level0_tables"),
        value("lichen_storage_flushes_pending"),
        value("lichen_storage_compactions_running"),
    )
}

/// `--resume`: how many of the first licences are committed (`SCALE-00000000` on, as the run
/// submitted them), and those below it or shortly after it that are not (they were in the pool
/// when the run stopped, or committed out of order). Submitting those, then licences from the
/// returned count on, completes the set without submitting one twice.
fn committed_so_far(url: &str, licences: usize) -> (usize, Vec<usize>) {
    let c = Client::new(url);
    let committed = |i: usize| {
        c.get_bytes(&format!("/v1/licences/{}", licence_id(PREFIX, i)))
            .is_ok()
    };
    // The first missing licence, by bisection: committed(lo) or lo == 0, !committed(hi).
    let (mut lo, mut hi) = (0, licences);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if committed(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let end = (hi + RESUME_SCAN_LICENCES).min(licences);
    let missing = (hi.saturating_sub(RESUME_SCAN_LICENCES)..end)
        .filter(|&i| !committed(i))
        .collect();
    (end, missing)
}

/// p50 and p99 of `samples` GETs of `path_of(random licence below issued)`, one client.
fn latency(url: &str, issued: usize, path_of: impl Fn(&str) -> String) -> (Duration, Duration) {
    let c = Client::new(url);
    // A fixed-seed LCG: the same licences at every run of the same size.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lat: Vec<Duration> = (0..LATENCY_SAMPLES)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = licence_id(PREFIX, (x >> 33) as usize % issued);
            let t = Instant::now();
            c.get_bytes(&path_of(&id)).unwrap();
            t.elapsed()
        })
        .collect();
    lat.sort();
    (percentile(&lat, 0.5), percentile(&lat, 0.99))
}

/// Bytes of keys and values (and entries) in the store, by key prefix.
fn usage_by_prefix(dir: &Path) -> BTreeMap<u8, (u64, u64)> {
    let kv = FjallKv::open(dir, lichen_storage::CACHE_BYTES_DEFAULT).unwrap();
    let mut usage = BTreeMap::new();
    let mut start = vec![];
    loop {
        let page = kv.scan(&start, &[0xff; 64], SCAN_PAGE, false).unwrap();
        for e in &page {
            let u = usage.entry(e.0[0]).or_insert((0, 0));
            u.0 += (e.0.len() + e.1.len()) as u64;
            u.1 += 1;
        }
        match page.last() {
            Some(e) if page.len() == SCAN_PAGE => {
                start = e.0.clone();
                start.push(0);
            }
            _ => return usage,
        }
    }
}

fn prefix_name(p: u8) -> &'static str {
    use lichen_storage::layout as l;
    match p {
        l::BLOCK => "blocks",
        l::CERTIFICATE => "certificates",
        l::NODE => "state-tree nodes",
        l::STALE => "stale-node index",
        l::TX => "tx index",
        l::LICENCE => "licence history",
        l::AGENCY => "agency index",
        l::EVIDENCE => "evidence index",
        _ => "other",
    }
}

fn checkpoint(
    run: &Run,
    node: RunningNode,
    issued: usize,
    since: (usize, Duration),
) -> RunningNode {
    let url = format!("http://{}", node.http_addr);
    let suite = run.suite.name();
    let height = Client::new(&url).get_json("/v1/status").unwrap()["height"]
        .as_u64()
        .unwrap();
    println!(
        "\n{suite}: {issued} licences at height {height}: {:.0} licences/s since {} ({:.0} s)",
        (issued - since.0) as f64 / since.1.as_secs_f64(),
        since.0,
        since.1.as_secs_f64()
    );
    let presentation = Client::new(&url)
        .get_bytes(&format!(
            "/v1/licences/{}/presentation",
            licence_id(PREFIX, 0)
        ))
        .unwrap();
    let (l50, l99) = latency(&url, issued, |id| format!("/v1/licences/{id}"));
    let (p50, p99) = latency(&url, issued, |id| format!("/v1/licences/{id}/presentation"));
    println!(
        "{suite}: GET licence p50 {:.2} ms p99 {:.2} ms; presentation export p50 {:.2} ms p99 {:.2} ms, {} bytes",
        ms(l50),
        ms(l99),
        ms(p50),
        ms(p99),
        presentation.len()
    );
    println!(
        "{suite}: RSS {} MiB now, peak {} MiB (one process: node and signing clients)",
        common::rss_kib().unwrap_or(0) / 1024,
        common::rss_peak_kib().unwrap_or(0) / 1024
    );

    let stop = Instant::now();
    run.rt.block_on(node.stop()).unwrap();
    let stop = stop.elapsed();
    let bytes = common::dir_bytes(run.dir.path());
    println!(
        "{suite}: clean stop {:.0} ms; on disk {:.1} MB = {:.0} bytes per licence",
        ms(stop),
        bytes as f64 / 1e6,
        bytes as f64 / issued as f64
    );
    let files: Vec<String> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .flatten()
        .map(|e| {
            let b = common::dir_bytes(&e.path()).max(e.metadata().map_or(0, |m| m.len()));
            format!(
                "{} {:.1} MB",
                e.file_name().to_string_lossy(),
                b as f64 / 1e6
            )
        })
        .collect();
    println!("{suite}:   files: {}", files.join(", "));
    let usage = usage_by_prefix(run.dir.path());
    let logical: u64 = usage.values().map(|u| u.0).sum();
    let mut names: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (p, (b, n)) in usage {
        let e = names.entry(prefix_name(p)).or_default();
        e.0 += b;
        e.1 += n;
    }
    for (name, (b, n)) in names {
        println!(
            "{suite}:   {name:<18} {:>7.0} bytes per licence ({n} entries)",
            b as f64 / issued as f64
        );
    }
    println!(
        "{suite}:   keys and values {:.0} bytes per licence; the files hold {:.2}x that",
        logical as f64 / issued as f64,
        bytes as f64 / logical as f64
    );

    let t = Instant::now();
    let node = run.start();
    let c = Client::new(&format!("http://{}", node.http_addr));
    let health = c.get_json("/health").unwrap();
    assert_eq!(
        health["height"].as_u64(),
        Some(height),
        "the restarted node lost blocks"
    );
    println!(
        "{suite}: cold restart at height {}: {:.0} ms to a /health answer; RSS then {} MiB",
        health["height"],
        ms(t.elapsed()),
        common::rss_kib().unwrap_or(0) / 1024
    );
    warmed(run, &c, height, t);
    if run.join {
        join(run, &c, issued, height);
    }
    node
}

/// After the restart: when the filter of committed ids covers the replay window again (the
/// node warms it in the background from the stored blocks), read from `GET /metrics` (polled
/// every 50 ms for at most 10 minutes), and the RSS then.
fn warmed(run: &Run, client: &Client, height: u64, started: Instant) {
    let window = run.chain.genesis.config.params.tx_expiry_blocks_max;
    let covered = height.saturating_sub(window.saturating_sub(1)).max(1) - 1;
    let suite = run.suite.name();
    while started.elapsed() < Duration::from_secs(600) {
        let metrics = client.get_bytes("/metrics").unwrap();
        let text = String::from_utf8_lossy(&metrics);
        let gauge = text.lines().find_map(|l| {
            l.strip_prefix("lichen_committed_ids_covered_above ")?
                .parse::<i64>()
                .ok()
        });
        if gauge == Some(covered as i64) {
            println!(
                "{suite}: committed-id filter warmed (blocks {}..={height}) {:.0} ms after the \
                 restart; RSS then {} MiB",
                covered + 1,
                ms(started.elapsed()),
                common::rss_kib().unwrap_or(0) / 1024
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("{suite}: committed-id filter not warmed 10 minutes after the restart");
}

/// `--join`: how long a new node takes to join at this size, by state sync from the loaded node
/// (over its HTTP API on 127.0.0.1) and by replaying its blocks from genesis (fetched over the
/// same API, executed and committed as block sync does; stopped after `--replay-seconds`,
/// default 600, and projected from its rate).
fn join(run: &Run, client: &Client, issued: usize, height: u64) {
    let suite = run.suite.name();
    let dir = tempfile::tempdir().unwrap();
    let synced = dir.path().join("synced");
    let t = Instant::now();
    let report = sync_data_dir(
        &synced,
        &run.chain.genesis,
        lichen_storage::CACHE_BYTES_DEFAULT,
        &mut ApiPaths(|path: &str, limit| {
            client
                .get_bytes_up_to(path, limit)
                .map_err(|e| e.to_string())
        }),
        &mut |_| {},
    )
    .unwrap();
    let sync_time = t.elapsed();
    println!(
        "{suite}: state sync to checkpoint {}: {:.1} s ({} state entries in {} chunks, {} blocks, {:.1} MB read; {:.1} MB on disk); RSS then {} MiB",
        report.tip.height,
        sync_time.as_secs_f64(),
        report.leaves,
        report.chunks,
        report.blocks,
        report.bytes as f64 / 1e6,
        common::dir_bytes(&synced) as f64 / 1e6,
        common::rss_kib().unwrap_or(0) / 1024
    );
    std::fs::remove_dir_all(&synced).unwrap();

    let budget = Duration::from_secs(common::arg("--replay-seconds", 600) as u64);
    let replica = Chain::open_dir(
        &dir.path().join("replay"),
        run.chain.genesis.clone(),
        lichen_node::chain::STATE_VERSIONS_KEPT_DEFAULT,
        lichen_storage::CACHE_BYTES_DEFAULT,
    )
    .unwrap();
    let t = Instant::now();
    let mut next = 1u64;
    let mut txs = 0usize;
    while next <= height && t.elapsed() < budget {
        let bytes = client
            .get_bytes_up_to(&format!("/v1/blocks?from={next}&count=32"), 1 << 26)
            .unwrap();
        let blocks = lichen_node::net::wire::decode_blocks(&bytes).unwrap();
        // Only up to the checkpoint's height: the node may have committed more since.
        for b in blocks
            .into_iter()
            .filter(|b| b.block.header.height <= height)
        {
            txs += b.block.txs.len();
            replica
                .commit(&b.block, &b.certificate, b.block.header.time_ms)
                .unwrap();
            next += 1;
        }
    }
    let replay_time = t.elapsed();
    let done = next - 1;
    let projected = replay_time.as_secs_f64() * issued as f64 / txs.max(1) as f64;
    println!(
        "{suite}: replay from genesis: {done} of {height} blocks ({txs} transactions) in {:.1} s{}: {:.0} transactions/s",
        replay_time.as_secs_f64(),
        if done < height {
            format!(", projected {projected:.0} s for all")
        } else {
            String::new()
        },
        txs as f64 / replay_time.as_secs_f64()
    );
    println!(
        "{suite}: join at {issued} licences: state sync {:.1} s, replay {:.1} s ({:.0}x)",
        sync_time.as_secs_f64(),
        projected,
        projected / sync_time.as_secs_f64()
    );
}

fn main() {
    // As the `lichen` binary runs (node/cli/src/main.rs).
    lichen_node::memory::disable_transparent_huge_pages().unwrap();
    let licences = common::arg("--licences", 100_000);
    let suite = match common::arg_str("--suite").as_deref() {
        Some("sm") => Suite::Sm,
        _ => Suite::Intl,
    };
    let mut checkpoints: Vec<usize> = match common::arg_str("--checkpoints") {
        Some(list) => list.split(',').map(|c| c.parse().unwrap()).collect(),
        None => std::iter::successors(Some(100_000), |c| Some(c * 10))
            .take_while(|c| *c < licences)
            .collect(),
    };
    checkpoints.retain(|c| *c < licences);
    checkpoints.push(licences);

    let run = Run {
        chain: Arc::new(TestChain::new(suite, 1)),
        suite,
        versions_kept: common::arg_str("--versions-kept").map(|v| v.parse().unwrap()),
        join: std::env::args().any(|a| a == "--join"),
        dir: match common::arg_str("--resume") {
            Some(dir) => DataDirectory::Resumed(dir.into()),
            None => DataDirectory::New(tempfile::tempdir().unwrap()),
        },
        rt: lichen_node::service::runtime().unwrap(),
    };
    println!(
        "scale: {} licences, suite {}, checkpoints {checkpoints:?}, data in {}",
        licences,
        suite.name(),
        run.dir.path().display()
    );
    let t = Instant::now();
    let mut node = run.start();
    let url = format!("http://{}", node.http_addr);
    let started = Instant::now();
    let (mut from, mut missing) = (0, Vec::new());
    if let DataDirectory::Resumed(_) = run.dir {
        let height = Client::new(&url).get_json("/health").unwrap()["height"].clone();
        println!(
            "resumed at height {height}: {:.0} ms to a /health answer; RSS then {} MiB",
            ms(t.elapsed()),
            common::rss_kib().unwrap_or(0) / 1024
        );
        (from, missing) = committed_so_far(&url, licences);
        println!(
            "resumed: {} licences committed, {} of them missing to submit again; going on from {from}",
            from - missing.len(),
            missing.len()
        );
        // (A run stopped within the scan of its last checkpoint resumes at that checkpoint.)
        checkpoints.retain(|c| *c >= from);
    }
    let mut last = (from - missing.len(), Instant::now());
    for &target in &checkpoints {
        let url = format!("http://{}", node.http_addr);
        let now = Client::new(&url).get_json("/v1/status").unwrap()["height"].as_u64();
        let height = Arc::new(AtomicU64::new(now.unwrap()));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = watch(url.clone(), height.clone(), stop.clone());
        let again = Arc::new(std::mem::take(&mut missing));
        load(
            &run.chain,
            &url,
            again.len(),
            Arc::new(move |k| again[k]),
            &height,
        );
        load(
            &run.chain,
            &url,
            target - from,
            Arc::new(move |k| from + k),
            &height,
        );
        from = target;
        let newest = format!("/v1/licences/{}", licence_id(PREFIX, target - 1));
        common::wait_committed(&url, &newest, CHECKPOINT_WAIT_MAX);
        stop.store(true, Ordering::Relaxed);
        watcher.join().unwrap();
        let since = (last.0, last.1.elapsed());
        node = checkpoint(&run, node, target, since);
        last = (target, Instant::now());
    }
    run.rt.block_on(node.stop()).unwrap();
    println!(
        "\nscale: {licences} licences in {:.0} s in all",
        started.elapsed().as_secs_f64()
    );
}
