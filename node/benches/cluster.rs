//! Four validators on this machine: committed transactions per second and finality latency
//! under a bounded load of pre-signed issue transactions, the CPU floor per transaction measured
//! in the same run and the ratio of the achieved rate to the machine's bound, light-load
//! finality, HTTP verification requests per second with p50/p99, and presentation size.
//!
//! Four in-process nodes (one tokio runtime), each with fjall on disk, the real HTTP API and the
//! libp2p network on 127.0.0.1; clients are threads of the same process and share the cores.
//!
//! `cargo bench -p lichen-node --bench cluster [-- --licences N --verify-requests M --suite sm|intl --observers K --submit-batch B]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

// The allocator the `lichen` binary runs with (see node/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lichen_client::{Client, ClientError};
use lichen_contracts::block::tx_root;
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::exec::{VersionedState, execute_block_known};
use lichen_contracts::ledger::{BlockContext, verify_digested};
use lichen_contracts::smt::{MemoryTreeStore, SparseMerkleTree};
use lichen_contracts::state::ReplayWindow;
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::SignedTransaction;
use lichen_node::chain::reads::{KeptReads, VersionReads};
use lichen_node::mempool::{AdmitContext, Mempool};

use common::cluster::{Cluster, VALIDATORS};
use common::http_load::{self, Connection};
use common::{CLIENT_THREADS, licence_id, ms, percentile};

/// The watcher polls node 0's `/health` this often.
const WATCH_POLL: Duration = Duration::from_millis(5);
/// Transactions submitted one at a time with `?wait=final` for the light-load latency.
const LIGHT_TXS: usize = 200;
/// Bounds on every wait.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(900);
/// A submission answered 503 (mempool full, overloaded) is retried this often, at most.
const RETRIES_MAX: usize = 2_000;
/// Linux reports process CPU time in ticks of 1/100 s (USER_HZ).
const CLOCK_TICKS_PER_S: f64 = 100.0;

/// This process's user + system CPU time so far (all threads, live or ended).
fn process_cpu() -> Option<Duration> {
    stat_cpu("/proc/self/stat")
}

/// The calling thread's user + system CPU time so far.
fn thread_cpu() -> Option<Duration> {
    stat_cpu("/proc/thread-self/stat")
}

/// Busy and total time of the whole machine (all processes) so far, in ticks, from /proc/stat.
fn machine_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total - idle, total))
}

/// User + system time from a /proc `stat` file.
fn stat_cpu(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) / CLOCK_TICKS_PER_S))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Submits `txs` as one batch (`POST /v1/transactions/batch`), retrying those answered "retry"
/// (or the whole request on 503/429). Returns the number of retries.
fn submit_batch(client: &Client, txs: &[&[u8]]) -> usize {
    let mut waiting: Vec<&[u8]> = txs.to_vec();
    for retry in 0..RETRIES_MAX {
        match client.submit_batch(&waiting) {
            Ok(answer) => {
                let mut again = Vec::new();
                for (tx, result) in waiting.iter().zip(&answer.results) {
                    match result.status.as_str() {
                        "pending" => {}
                        "retry" => again.push(*tx),
                        _ => panic!("batch item refused: {result:?}"),
                    }
                }
                if again.is_empty() {
                    return retry;
                }
                waiting = again;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(ClientError::Api {
                status: 429 | 503, ..
            }) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("batch submission failed: {e}"),
        }
    }
    panic!("batch still refused after {RETRIES_MAX} retries");
}

/// Submits one transaction (`POST /v1/transactions`, without waiting) on a kept-alive
/// connection of the lean client, retrying while the node answers 503 (overloaded, pool full)
/// or 429 (the agency's share of the pool is full). Returns the number of retries.
fn submit_one(connection: &mut Connection, url: &str, bytes: &[u8]) -> usize {
    let request = http_load::post_request(url, "/v1/transactions", bytes);
    for retry in 0..RETRIES_MAX {
        match connection.send(&request) {
            Ok((202, _)) => return retry,
            Ok((429 | 503, _)) => std::thread::sleep(Duration::from_millis(10)),
            Ok((status, body)) => panic!(
                "submission answered {status}: {}",
                String::from_utf8_lossy(body)
            ),
            Err(e) => panic!("submission failed: {e}"),
        }
    }
    panic!("submission still refused after {RETRIES_MAX} retries");
}

/// Polls node 0's height every `WATCH_POLL` until `stop`, then once more: the instant each new
/// height was first seen (heights skipped between two polls get the later instant). Polls
/// `/health`, which reads only the tip record (`/v1/status` decodes the whole tip block).
fn watch_heights(
    url: String,
    stop: Arc<AtomicBool>,
    from: u64,
) -> (BTreeMap<u64, Instant>, Duration) {
    let client = Client::new(&url);
    let mut seen = BTreeMap::new();
    let mut last = from;
    let deadline = Instant::now() + COMMIT_TIMEOUT + Duration::from_secs(60);
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        if let Ok(s) = client.get_json("/health") {
            let now = Instant::now();
            let height = s["height"].as_u64().unwrap_or(0);
            for h in last + 1..=height {
                seen.insert(h, now);
            }
            last = last.max(height);
        }
        if stopping || Instant::now() > deadline {
            return (seen, thread_cpu().unwrap_or_default());
        }
        std::thread::sleep(WATCH_POLL);
    }
}

struct LoadResult {
    rate: f64,
    elapsed: Duration,
    submitted: Duration,
    retries: usize,
    latencies: Vec<Duration>,
    /// The benchmark transactions' indices per block, in block order: (height, indices).
    blocks: Vec<(u64, Vec<usize>)>,
    empty_blocks_between: u64,
    /// The view each of those blocks was committed in (above 0: after a view change).
    views: Vec<u64>,
    /// When node 0 saw each of those blocks, from the first submission.
    seen_at: Vec<Duration>,
    missing: usize,
    cpu: Option<LoadCpu>,
}

/// CPU time spent while the load ran (first submission to the commit of the last transaction,
/// plus the final polls).
struct LoadCpu {
    /// This whole process.
    process: Duration,
    /// The client threads and the height watcher (the rest of the process is the four nodes).
    clients: Duration,
    /// The whole machine's busy share (all processes), if readable.
    machine_busy: Option<f64>,
}

/// Submits every transaction once, from `CLIENT_THREADS` threads round-robin over the nodes, and
/// waits until all are committed.
/// `batch`: transactions per request (1: `POST /v1/transactions`, else the batch endpoint).
fn load(
    cluster: &Cluster,
    suite: Suite,
    txs: &[SignedTransaction],
    last_id: &str,
    batch: usize,
) -> LoadResult {
    let n = txs.len();
    let bytes: Arc<Vec<Vec<u8>>> = Arc::new(txs.iter().map(|t| t.to_bytes()).collect());
    let ids: HashMap<String, usize> = txs
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id(suite).to_hex(), i))
        .collect();
    let from = cluster.status(0).unwrap()["height"].as_u64().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (url, stop) = (cluster.urls[0].clone(), stop.clone());
        std::thread::spawn(move || watch_heights(url, stop, from))
    };
    let cpu_before = process_cpu();
    let machine_before = machine_cpu();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENT_THREADS)
        .map(|_| {
            let (bytes, next, urls) = (bytes.clone(), next.clone(), cluster.urls.clone());
            std::thread::spawn(move || {
                let clients: Vec<Client> = urls.iter().map(|u| Client::new(u)).collect();
                let mut connections: Vec<Connection> = urls
                    .iter()
                    .map(|u| Connection::open(u).expect("connect"))
                    .collect();
                let mut sent = Vec::new();
                let mut retries = 0;
                loop {
                    let first = next.fetch_add(batch, Ordering::Relaxed);
                    if first >= bytes.len() {
                        break;
                    }
                    let chunk = first..(first + batch).min(bytes.len());
                    let txs: Vec<&[u8]> = bytes[chunk.clone()].iter().map(Vec::as_slice).collect();
                    let at = Instant::now();
                    let node = (first / batch) % clients.len();
                    retries += if batch == 1 {
                        submit_one(&mut connections[node], &urls[node], txs[0])
                    } else {
                        submit_batch(&clients[node], &txs)
                    };
                    sent.extend(chunk.map(|i| (i, at)));
                }
                (sent, retries, thread_cpu().unwrap_or_default())
            })
        })
        .collect();
    let mut submit_at = vec![started; n];
    let mut retries = 0;
    let mut clients_cpu = Duration::ZERO;
    for h in handles {
        let (sent, r, cpu) = h.join().unwrap();
        retries += r;
        clients_cpu += cpu;
        for (i, at) in sent {
            submit_at[i] = at;
        }
    }
    let submitted = started.elapsed();

    // Done when the last licence is readable everywhere and every mempool is empty (status only
    // once the licence is there: it is the dearer request).
    let clients: Vec<Client> = cluster.urls.iter().map(|u| Client::new(u)).collect();
    let last = format!("/v1/licences/{last_id}");
    let deadline = Instant::now() + COMMIT_TIMEOUT;
    loop {
        let done = clients.iter().all(|c| c.get_json(&last).is_ok())
            && clients.iter().all(|c| {
                c.get_json("/v1/status")
                    .is_ok_and(|s| s["mempool"]["transactions"].as_u64() == Some(0))
            });
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "transactions not committed within {COMMIT_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let process = cpu_before
        .zip(process_cpu())
        .map(|(before, after)| after.saturating_sub(before));
    let machine = machine_before
        .zip(machine_cpu())
        .map(|(before, after)| (after.0 - before.0) as f64 / (after.1 - before.1).max(1) as f64);
    std::thread::sleep(WATCH_POLL * 4);
    stop.store(true, Ordering::Relaxed);
    let (seen, watcher_cpu) = watcher.join().unwrap();

    // Which block holds each transaction: node 0's blocks since the load began.
    let to = *seen.keys().last().expect("no block seen during the load");
    let mut height_of = vec![None; n];
    let mut blocks = Vec::new();
    let mut views = Vec::new();
    for h in from + 1..=to {
        let b = clients[0].get_json(&format!("/v1/blocks/{h}")).unwrap();
        let mine: Vec<usize> = b["block"]["txs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| ids.get(t["id"].as_str().unwrap()).copied())
            .collect();
        for &i in &mine {
            height_of[i] = Some(h);
        }
        if !mine.is_empty() {
            views.push(b["certificate"]["view"].as_u64().unwrap_or(0));
            blocks.push((h, mine));
        }
    }
    let first_height = blocks.first().map(|(h, _)| *h).unwrap_or(to);
    let last_height = blocks.last().map(|(h, _)| *h).unwrap_or(to);
    let empty_blocks_between = (last_height + 1 - first_height).saturating_sub(blocks.len() as u64);
    let missing = height_of.iter().filter(|h| h.is_none()).count();
    let first_submit = submit_at.iter().min().copied().unwrap_or(started);
    let last_commit = seen[&last_height];
    let elapsed = last_commit - first_submit;
    let mut latencies: Vec<Duration> = height_of
        .iter()
        .zip(&submit_at)
        .filter_map(|(h, at)| h.map(|h| seen[&h].saturating_duration_since(*at)))
        .collect();
    latencies.sort();
    let seen_at = blocks
        .iter()
        .map(|(h, _)| seen[h].saturating_duration_since(first_submit))
        .collect();
    LoadResult {
        rate: (n - missing) as f64 / elapsed.as_secs_f64(),
        elapsed,
        submitted,
        retries,
        latencies,
        blocks,
        empty_blocks_between,
        views,
        seen_at,
        missing,
        cpu: process.map(|process| LoadCpu {
            process,
            clients: clients_cpu + watcher_cpu,
            machine_busy: machine,
        }),
    }
}

/// One transaction at a time to node 0, each waiting for finality: the round trips, sorted.
fn light_load(url: &str, txs: &[SignedTransaction]) -> Vec<Duration> {
    let client = Client::new(url);
    let mut lat: Vec<Duration> = txs
        .iter()
        .map(|tx| {
            let t = Instant::now();
            let (status, body) = client
                .post_bytes(
                    "/v1/transactions?wait=final&timeout_ms=30000",
                    &tx.to_bytes(),
                )
                .unwrap();
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["status"], "committed", "{body}");
            t.elapsed()
        })
        .collect();
    lat.sort();
    lat
}

/// The per-transaction CPU cost every validator pays, single-threaded on this machine.
struct Floor {
    /// Admission: decode, chain and expiry checks, witness hash and id, signature verification.
    admit: Duration,
    /// Of which decoding (each signer's public key is validated: a point decompression).
    decode: Duration,
    /// Execution without signature checks (already verified), the state-tree update with its
    /// hashing, and the tx root.
    execute: Duration,
}

impl Floor {
    fn per_validator(&self) -> Duration {
        self.admit + self.execute
    }

    fn per_tx(&self) -> Duration {
        self.per_validator() * VALIDATORS as u32
    }
}

/// Measures the floor on the very transactions and blocks of the run, over a fresh in-memory
/// state from the same genesis: three times, each part the median of the three (one measurement
/// moved by a fifth from run to run on this machine, and the ratio to the bound with it).
fn measure_floor(
    chain: &TestChain,
    txs: &[SignedTransaction],
    blocks: &[(u64, Vec<usize>)],
    expiry_blocks_max: u64,
) -> Floor {
    let mut runs: Vec<Floor> = (0..FLOOR_RUNS)
        .map(|_| measure_floor_once(chain, txs, blocks, expiry_blocks_max))
        .collect();
    // How far the measurements spread: the ratio to the bound moves with them.
    let each: Vec<String> = runs
        .iter()
        .map(|f| format!("{:.1}", f.per_validator().as_secs_f64() * 1e6))
        .collect();
    println!(
        "{:>4}: CPU floor per validator, each of {FLOOR_RUNS} measurements: {} us/tx",
        chain.suite.name(),
        each.join(", ")
    );
    let median = |runs: &mut Vec<Floor>, part: fn(&Floor) -> Duration| {
        runs.sort_by_key(part);
        part(&runs[runs.len() / 2])
    };
    Floor {
        admit: median(&mut runs, |f| f.admit),
        decode: median(&mut runs, |f| f.decode),
        execute: median(&mut runs, |f| f.execute),
    }
}

/// Measurements of the floor per run (their median is reported).
const FLOOR_RUNS: usize = 3;

fn measure_floor_once(
    chain: &TestChain,
    txs: &[SignedTransaction],
    blocks: &[(u64, Vec<usize>)],
    expiry_blocks_max: u64,
) -> Floor {
    let suite = chain.suite;
    let n: usize = blocks.iter().map(|(_, b)| b.len()).sum();
    let bytes: Vec<Vec<u8>> = txs.iter().map(|t| t.to_bytes()).collect();
    let first_height = blocks.first().map(|(h, _)| *h).unwrap_or(1);

    // (a) admission, once per transaction per validator: what the node's admission does but
    // its lookups (decoding, chain and expiry, the id and witness hash from one encoding, the
    // signature check).
    let ctx = AdmitContext {
        suite,
        chain_id: chain.chain_id(),
        next_height: first_height,
        expiry_blocks_max,
    };
    let t = Instant::now();
    for (_, block) in blocks {
        for &i in block {
            std::hint::black_box(SignedTransaction::from_wire(&bytes[i]).unwrap());
        }
    }
    let decode = t.elapsed() / n as u32;
    let mut decoded: Vec<Option<SignedTransaction>> = vec![None; txs.len()];
    let t = Instant::now();
    for (_, block) in blocks {
        for &i in block {
            let tx = Mempool::screen(&ctx, &bytes[i]).unwrap();
            let digested = tx.digested(suite);
            verify_digested(suite, digested).unwrap();
            std::hint::black_box((digested.id(), digested.witness()));
            decoded[i] = Some(tx);
        }
    }
    let admit = t.elapsed() / n as u32;

    // (b) execution of the same blocks, signatures trusted, on a fresh genesis state.
    let mut store = MemoryTreeStore::new();
    let writes = chain.genesis.state_writes().unwrap();
    let batch = SparseMerkleTree::new(&store, suite)
        .put_batch(None, 0, &writes)
        .unwrap();
    store.write_batch(&batch);
    let mut replay = ReplayWindow::default();
    // The reads the nodes keep per version (the configuration, the agency, the licence type).
    let reads = VersionReads::default();
    let mut spent = Duration::ZERO;
    for (version, (height, block)) in (1u64..).zip(blocks) {
        let block_txs: Vec<SignedTransaction> =
            block.iter().map(|&i| decoded[i].take().unwrap()).collect();
        let ctx = BlockContext {
            height: *height,
            time_ms: now_ms(),
        };
        let t = Instant::now();
        let base = KeptReads::new(
            VersionedState::new(&store, suite, version - 1),
            version - 1,
            &reads,
        );
        let execution =
            execute_block_known(suite, &base, &replay, &block_txs, &ctx, &|_| true).unwrap();
        let batch = SparseMerkleTree::new(&store, suite)
            .put_batch(Some(version - 1), version, &execution.writes)
            .unwrap();
        std::hint::black_box(tx_root(suite, &block_txs));
        spent += t.elapsed();
        store.write_batch(&batch);
        for (id, expiry) in execution.tx_ids.iter().zip(&execution.tx_expiries) {
            replay.insert(*id, *expiry);
        }
    }
    Floor {
        admit,
        decode,
        execute: spent / n as u32,
    }
}

fn run(
    suite: Suite,
    licences: usize,
    verify_requests: usize,
    observers: usize,
    submit_batch: usize,
) {
    let name = suite.name();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "{name:>4}: {VALIDATORS} validators, {cores} cores, load average {} at start",
        load_average()
    );
    let mut chain = TestChain::new(suite, VALIDATORS);
    let cluster = Cluster::start_with(&mut chain, observers);
    // Connected (an idle chain makes a block only once a heartbeat, a minute by default).
    cluster.wait_ready(0);
    let status = cluster.status(0).unwrap();
    let height = status["height"].as_u64().unwrap();
    let expiry_blocks_max = status["tx_expiry_blocks_max"].as_u64().unwrap();
    // Leave room for a node a few blocks behind node 0 (admission refuses an expiry more than
    // `tx_expiry_blocks_max` after its next block).
    let expires = height + expiry_blocks_max.saturating_sub(10);
    let t = Instant::now();
    let txs = common::issue_txs(&chain, "BENCH", 0..licences, expires);
    let light = common::issue_txs(&chain, "LIGHT", 0..LIGHT_TXS, expires);
    println!(
        "{name:>4}: pre-signed {} transactions in {:.2} s",
        licences + LIGHT_TXS,
        t.elapsed().as_secs_f64()
    );

    // 1. Throughput and finality latency under load.
    let r = load(
        &cluster,
        suite,
        &txs,
        &licence_id("BENCH", licences - 1),
        submit_batch,
    );
    let mut sizes: Vec<usize> = r.blocks.iter().map(|(_, b)| b.len()).collect();
    sizes.sort();
    println!(
        "{name:>4}: {licences} issue transactions from {CLIENT_THREADS} client threads round-robin over {VALIDATORS} nodes, {} per request: submitted in {:.2} s ({} retries after 503), all committed after {:.2} s -> {:.0} tx/s{}",
        submit_batch,
        r.submitted.as_secs_f64(),
        r.retries,
        r.elapsed.as_secs_f64(),
        r.rate,
        if r.missing > 0 {
            format!(" ({} NOT FOUND in any block)", r.missing)
        } else {
            String::new()
        }
    );
    println!(
        "{name:>4}: {} blocks with benchmark transactions ({} to {} each, median {}), {} empty blocks among them, {} committed in a view above 0 (highest view {})",
        r.blocks.len(),
        sizes.first().unwrap_or(&0),
        sizes.last().unwrap_or(&0),
        sizes.get(sizes.len() / 2).unwrap_or(&0),
        r.empty_blocks_between,
        r.views.iter().filter(|v| **v > 0).count(),
        r.views.iter().max().unwrap_or(&0)
    );
    let timeline: Vec<String> = r
        .blocks
        .iter()
        .zip(&r.seen_at)
        .map(|((_, b), at)| format!("{}@{}", b.len(), at.as_millis()))
        .collect();
    println!(
        "{name:>4}: blocks as node 0 saw them (transactions@ms from the first submission): {}",
        timeline.join(" ")
    );
    if !r.latencies.is_empty() {
        println!(
            "{name:>4}: finality latency under load (submit -> block seen on node 0): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            ms(percentile(&r.latencies, 0.5)),
            ms(percentile(&r.latencies, 0.99)),
            ms(*r.latencies.last().unwrap())
        );
    }

    // 2. Finality latency at light load.
    let lat = light_load(&cluster.urls[0], &light);
    println!(
        "{name:>4}: light load ({LIGHT_TXS} transactions one at a time, ?wait=final on node 0): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap())
    );

    // 3. Verification requests.
    let ids: Vec<String> = (0..licences).map(|i| licence_id("BENCH", i)).collect();
    let presentations = common::presentations(&cluster.urls[0], &ids, common::VERIFY_PRESENTATIONS);
    let average = presentations.iter().map(Vec::len).sum::<usize>() / presentations.len();
    println!(
        "{name:>4}: {} presentations of different licences at the last {} heights, {average} bytes on average (quorum certificate of {VALIDATORS} validators, ~{} licences in state)",
        presentations.len(),
        common::PRESENTATION_HEIGHTS,
        licences + LIGHT_TXS
    );
    let (lat, elapsed) = common::verify_load(&cluster.urls[..1], &presentations, verify_requests);
    println!(
        "{name:>4}: POST /v1/verify x {} to node 0: {} ({CLIENT_THREADS} client threads on keep-alive connections, the cluster idling beside it, load average {})",
        lat.len(),
        common::load_figures(&lat, elapsed),
        load_average()
    );
    if !cluster.observers.is_empty() {
        // The read path scales out: the same presentations verified by observers that follow
        // the chain by sync (none of them votes).
        let height = cluster.status(0).unwrap()["height"].as_u64().unwrap();
        cluster.wait_observers(height);
        let (lat, elapsed) =
            common::verify_load(&cluster.observer_urls, &presentations, verify_requests);
        println!(
            "{name:>4}: POST /v1/verify x {} spread over {} observers: {}",
            lat.len(),
            cluster.observers.len(),
            common::load_figures(&lat, elapsed)
        );
    }
    cluster.stop();

    // 4. The CPU floor, on the same transactions and blocks, with the cluster stopped.
    let floor = measure_floor(&chain, &txs, &r.blocks, expiry_blocks_max);
    let bound = cores as f64 / floor.per_tx().as_secs_f64();
    println!(
        "{name:>4}: CPU floor per validator: admission {:.1} us (decode {:.1} us, signature check, hashes) + execution and state-tree update (no signature check) {:.1} us = {:.1} us/tx",
        floor.admit.as_secs_f64() * 1e6,
        floor.decode.as_secs_f64() * 1e6,
        floor.execute.as_secs_f64() * 1e6,
        floor.per_validator().as_secs_f64() * 1e6
    );
    println!(
        "{name:>4}: CPU floor per committed tx (x{VALIDATORS} validators) {:.1} us -> bound {bound:.0} tx/s on {cores} cores; achieved {:.0} tx/s = {:.1}% of the bound",
        floor.per_tx().as_secs_f64() * 1e6,
        r.rate,
        100.0 * r.rate / bound
    );
    if let Some(cpu) = &r.cpu {
        let committed = (licences - r.missing).max(1) as f64;
        let available = r.elapsed.as_secs_f64() * cores as f64;
        let nodes = cpu.process.saturating_sub(cpu.clients);
        println!(
            "{name:>4}: CPU during the load: this process {:.2} s of {available:.2} s on {cores} cores ({:.0}%), machine busy {}; the nodes (with any observers) {:.2} s = {:.0} us per committed tx = {:.1}x the floor; clients and watcher {:.2} s ({:.0} us/tx)",
            cpu.process.as_secs_f64(),
            100.0 * cpu.process.as_secs_f64() / available,
            cpu.machine_busy
                .map(|b| format!("{:.0}%", 100.0 * b))
                .unwrap_or_else(|| "?".into()),
            nodes.as_secs_f64(),
            nodes.as_secs_f64() * 1e6 / committed,
            nodes.as_secs_f64() / (committed * floor.per_tx().as_secs_f64()),
            cpu.clients.as_secs_f64(),
            cpu.clients.as_secs_f64() * 1e6 / committed,
        );
    }
    println!(
        "{name:>4}: the floor counts signature checks, decoding, ledger rules, state-tree hashing and the tx root; not HTTP, libp2p, storage writes, consensus votes or certificates. Load average {} at end",
        load_average()
    );
}

fn main() {
    // As the `lichen` binary runs (node/cli/src/main.rs).
    lichen_node::memory::disable_transparent_huge_pages().unwrap();
    // `LICHEN_LOG=warn` (or any filter) shows the nodes' logs on stderr.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("LICHEN_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let licences = common::arg("--licences", 20_000).max(1);
    let verify_requests = common::arg("--verify-requests", 8_000).max(1);
    // Observers beside the validators (they follow by sync during the load), which then serve
    // the same verification requests.
    let observers = common::arg("--observers", 0);
    // Transactions per request: 1 (the default) submits each with `POST /v1/transactions`, as
    // a front-desk client does; more use `POST /v1/transactions/batch`, as a bulk loader does.
    let submit_batch = common::arg("--submit-batch", 1).clamp(1, 256);
    let suites = match common::arg_str("--suite").as_deref() {
        Some("sm") => vec![Suite::Sm],
        Some("intl") => vec![Suite::Intl],
        Some(other) => panic!("--suite is sm or intl, not '{other}'"),
        None => vec![Suite::Intl, Suite::Sm],
    };
    for suite in suites {
        run(suite, licences, verify_requests, observers, submit_batch);
    }
}
