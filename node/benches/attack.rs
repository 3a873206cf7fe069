//! The attack harness (issue 14): four validators in this process, as in the cluster benchmark,
//! and an honest load of issue transactions, each submitted with `?wait=final` from
//! `--honest-threads` threads (default 32; 8 with `--quick`) round-robin over validators 0-2
//! (validator 3 may be the hostile one, and its clients are on their own): once with no attack,
//! then once under each attack, the attacker running from threads of this process for exactly as
//! long as the load. A hostile client:
//!
//! - `slowloris`: `SLOW_PER_NODE` connections to every node that send half a request head, or a
//!   head announcing a 1 MiB body and then 16 bytes of it (reopened when the node closes them);
//! - `junk-txs`: `ATTACK_THREADS` threads submitting evidence anchors signed by keys no entity
//!   holds (valid signatures), round-robin over the nodes, as fast as they are answered;
//! - `garbage`: `ATTACK_THREADS` threads posting 64 KiB of random bytes as transactions;
//! - `handshake-flood`: `HANDSHAKES_PER_NODE` TCP connections to every node's libp2p port that
//!   never start the handshake (reopened when closed).
//!
//! A hostile validator (validator 3, still running its honest node; see `attack/hostile.rs`):
//! `vote-flood`, `future-flood`, `junk-block` (when it leads), `forged-proposals` (copies of
//! each new height's leader's proposal, signed by itself, sent before the leader's) and
//! `peer-flood` (sync requests, junk catch-ups and junk forwarded batches).
//!
//! Per phase: honest committed tx/s and its share of the no-attack rate, finality p50/p99, the
//! highest view the load's blocks were committed in (above 0: view changes), this process's peak
//! RSS during the phase (the four nodes and all clients: `VmHWM`, reset per phase), and what the
//! attacker's requests got. The run fails, whatever the timings, if an honest transaction does
//! not commit (the chain stalled) or an attacker's transaction is accepted.
//!
//! For a hostile validator the table also says whether the honest nodes cut it off (a peer
//! penalised past the ban threshold is disconnected for a minute): the fewest peers an honest
//! node had during the phase.
//!
//! `cargo bench -p lichen-node --features attack --bench attack [-- --licences N --suite
//! sm|intl --phases a,b]` (`--phases`: only those, beside the baseline); `scripts/attack.sh` runs it in release, `scripts/attack.sh --quick` briefly (CI:
//! debug build, `cargo test --features lichen-node/attack --bench attack -- --quick`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

// The allocator the `lichen` binary runs with (see node/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[path = "attack/hostile.rs"]
mod hostile;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lichen_client::{Client, ClientError};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};

use common::cluster::{Cluster, VALIDATORS};
use common::{arg, arg_str, issue_txs, ms, percentile, reset_rss_peak, rss_peak_kib};

/// Slow connections held open against every node during `slowloris`.
const SLOW_PER_NODE: usize = 150;
/// Idle libp2p connections held open against every node during `handshake-flood`.
const HANDSHAKES_PER_NODE: usize = 100;
/// Attacker threads of `junk-txs` and `garbage`.
const ATTACK_THREADS: usize = 2;
/// Distinct junk transactions (each resubmitted in turn).
const JUNK_TXS: usize = 256;
/// Bytes of one garbage body.
const GARBAGE_BYTES: usize = 64 * 1024;
/// The longest any phase may take.
const PHASE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long one honest `?wait=final` may wait.
const FINAL_TIMEOUT_MS: u64 = 30_000;

/// What an attack did while the honest load ran.
#[derive(Default, Debug)]
struct AttackTally {
    /// Attacker requests by outcome ("422 tx_refused", "reset", ...).
    outcomes: BTreeMap<String, usize>,
    /// Attacker transactions a node accepted (must stay 0).
    accepted: usize,
}

struct Phase {
    name: &'static str,
    /// The fewest peers an honest node had (hostile-validator phases).
    honest_peers_min: Option<usize>,
    rate: f64,
    latencies: Vec<Duration>,
    view_max: u64,
    rss_peak_kib: Option<u64>,
    tally: AttackTally,
}

/// A deterministic stream of bytes (no randomness crate needed for junk).
fn junk_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn bytes32(seed: u64) -> [u8; 32] {
    <[u8; 32]>::try_from(junk_bytes(32, seed)).unwrap()
}

/// Evidence anchors in the name of `court-1`, each signed by a key no entity holds.
fn junk_txs(chain: &TestChain, suite: Suite) -> Vec<Vec<u8>> {
    (0..JUNK_TXS)
        .map(|i| {
            let key = SecretKey::from_bytes(suite.sig_algo(), &bytes32(i as u64 + 1)).unwrap();
            let tx = Transaction {
                chain_id: chain.chain_id().to_string(),
                nonce: i as u64,
                expires_at_height: 1_000,
                payload: Payload::AnchorEvidence {
                    hash: Hash32(bytes32(1_000 + i as u64)),
                    submitter: "court-1".into(),
                    label: String::new(),
                },
            };
            SignedTransaction {
                signatures: vec![tx.sign(suite, &key)],
                tx,
            }
            .to_bytes()
        })
        .collect()
}

/// Runs `attack` on `ATTACK_THREADS` threads until `stop`, tallying each request's outcome.
fn flood(
    urls: &[String],
    bodies: Arc<Vec<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<AttackTally>>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..ATTACK_THREADS)
        .map(|t| {
            let (urls, bodies, stop, tally) =
                (urls.to_vec(), bodies.clone(), stop.clone(), tally.clone());
            std::thread::spawn(move || {
                let clients: Vec<Client> = urls.iter().map(|u| Client::new(u)).collect();
                let deadline = Instant::now() + PHASE_TIMEOUT;
                let mut i = t;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let body = &bodies[i % bodies.len()];
                    let outcome = match clients[i % clients.len()]
                        .post_bytes("/v1/transactions", body)
                    {
                        Ok((status, _)) => {
                            tally.lock().unwrap().accepted += 1;
                            format!("{status} accepted")
                        }
                        Err(ClientError::Api { status, code, .. }) => format!("{status} {code}"),
                        Err(_) => "no answer".to_string(),
                    };
                    *tally.lock().unwrap().outcomes.entry(outcome).or_default() += 1;
                    i += ATTACK_THREADS;
                }
            })
        })
        .collect()
}

/// Holds `per_node` connections to each of `addrs` (made by `open(address, i)`) until `stop`,
/// checking them once a second and reopening those the node closed, each counted as `closed`.
fn hold_connections(
    addrs: Vec<std::net::SocketAddr>,
    per_node: usize,
    open: fn(&std::net::SocketAddr, usize) -> Option<TcpStream>,
    closed_outcome: &'static str,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<AttackTally>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut held: Vec<(usize, usize, Option<TcpStream>)> = Vec::new();
        for (n, addr) in addrs.iter().enumerate() {
            for i in 0..per_node {
                held.push((n, i, open(addr, i)));
            }
        }
        let deadline = Instant::now() + PHASE_TIMEOUT;
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(1));
            for (n, i, conn) in &mut held {
                // A closed connection reads 0 bytes (or an answer such as 408, then 0).
                let closed = match conn {
                    Some(s) => {
                        let mut buf = [0u8; 512];
                        std::io::Read::read(s, &mut buf).is_ok()
                    }
                    None => true,
                };
                if closed {
                    *tally
                        .lock()
                        .unwrap()
                        .outcomes
                        .entry(closed_outcome.into())
                        .or_default() += 1;
                    *conn = open(&addrs[*n], *i);
                }
            }
        }
    })
}

/// Holds `SLOW_PER_NODE` slow connections to every node's HTTP API: half a request head, or a
/// head announcing a 1 MiB body and then 16 bytes of it.
fn slowloris(
    cluster: &Cluster,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<AttackTally>>,
) -> std::thread::JoinHandle<()> {
    fn open(addr: &std::net::SocketAddr, i: usize) -> Option<TcpStream> {
        let mut s = TcpStream::connect(addr).ok()?;
        let first: &[u8] = if i.is_multiple_of(3) {
            b"GET /health HTTP/1.1\r\nHost: x\r\n"
        } else {
            b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n0123456789abcdef"
        };
        s.write_all(first).ok()?;
        s.set_nonblocking(true).ok()?;
        Some(s)
    }
    let addrs = cluster.nodes.iter().map(|n| n.http_addr).collect();
    hold_connections(
        addrs,
        SLOW_PER_NODE,
        open,
        "slow connection closed by the node, reopened",
        stop,
        tally,
    )
}

/// Holds `HANDSHAKES_PER_NODE` TCP connections to every node's libp2p port that never start the
/// handshake: the node closes them at once when over its per-address limit, else after the
/// handshake timeout.
fn handshake_flood(
    cluster: &Cluster,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<AttackTally>>,
) -> std::thread::JoinHandle<()> {
    use libp2p::multiaddr::Protocol;
    fn open(addr: &std::net::SocketAddr, _: usize) -> Option<TcpStream> {
        let s = TcpStream::connect(addr).ok()?;
        s.set_nonblocking(true).ok()?;
        Some(s)
    }
    let addrs = cluster
        .nodes
        .iter()
        .map(|n| {
            let address = &n.network.as_ref().unwrap().listen_addrs[0];
            let (mut ip, mut port) = (None, None);
            for p in address.iter() {
                match p {
                    Protocol::Ip4(i) => ip = Some(std::net::IpAddr::V4(i)),
                    Protocol::Tcp(t) => port = Some(t),
                    _ => {}
                }
            }
            std::net::SocketAddr::new(ip.unwrap(), port.unwrap())
        })
        .collect();
    hold_connections(
        addrs,
        HANDSHAKES_PER_NODE,
        open,
        "idle connection closed by the node, reopened",
        stop,
        tally,
    )
}

/// Validators the honest clients use (the last one may be hostile).
const HONEST: usize = VALIDATORS - 1;

/// Submits every transaction once with `?wait=final`, from `threads` threads round-robin over the
/// honest nodes: the committed rate, each finality latency, and the highest view seen.
fn honest_load(
    cluster: &Cluster,
    txs: &[SignedTransaction],
    threads: usize,
) -> (f64, Vec<Duration>, u64) {
    let bytes: Arc<Vec<Vec<u8>>> = Arc::new(txs.iter().map(|t| t.to_bytes()).collect());
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (bytes, urls) = (bytes.clone(), cluster.urls[..HONEST].to_vec());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut view_max = 0;
                for i in (t..bytes.len()).step_by(threads) {
                    let client = Client::new(&urls[i % urls.len()]);
                    let sent = Instant::now();
                    let deadline = sent + PHASE_TIMEOUT;
                    loop {
                        let path =
                            format!("/v1/transactions?wait=final&timeout_ms={FINAL_TIMEOUT_MS}");
                        match client.post_bytes(&path, &bytes[i]) {
                            Ok((200, body)) => {
                                assert_eq!(body["status"], "committed", "{body}");
                                latencies.push(sent.elapsed());
                                if let Some(h) = body["height"].as_u64()
                                    && let Ok(block) = client.get_json(&format!("/v1/blocks/{h}"))
                                {
                                    view_max = view_max
                                        .max(block["certificate"]["view"].as_u64().unwrap_or(0));
                                }
                                break;
                            }
                            // Overloaded, the agency's share full, or not final yet: the same
                            // transaction again (a duplicate is waited on, not admitted twice).
                            Err(ClientError::Api {
                                status: 429 | 503 | 504,
                                ..
                            }) => {}
                            other => panic!("honest transaction {i} failed: {other:?}"),
                        }
                        assert!(
                            Instant::now() < deadline,
                            "honest transaction {i} never committed: the chain stalled"
                        );
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                (latencies, view_max)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut view_max = 0;
    for t in workers {
        let (l, v) = t.join().expect("an honest client failed");
        latencies.extend(l);
        view_max = view_max.max(v);
    }
    let rate = txs.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (rate, latencies, view_max)
}

/// Samples the honest nodes' peer counts until `stop`: the fewest any of them had.
fn watch_peers(cluster: &Cluster, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let statuses: Vec<_> = cluster.nodes[..HONEST]
        .iter()
        .map(|n| n.status.clone())
        .collect();
    std::thread::spawn(move || {
        let mut fewest = usize::MAX;
        while !stop.load(Ordering::Relaxed) {
            for s in &statuses {
                fewest = fewest.min(s.snapshot().peers);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        fewest
    })
}

/// Every phase, in order: no attack, the hostile clients' and a stranger's, the hostile
/// validator's (from the sixth on, each on a fresh cluster).
const PHASES: [&str; 10] = [
    "none",
    "slowloris",
    "junk-txs",
    "garbage",
    "handshake-flood",
    "vote-flood",
    "future-flood",
    "junk-block",
    "forged-proposals",
    "peer-flood",
];

/// `run`'s phases: `none` (the baseline) and those `--phases a,b` names, or all.
fn phases_chosen() -> Vec<&'static str> {
    let chosen = arg_str("--phases");
    let chosen: Option<Vec<&str>> = chosen.as_deref().map(|c| c.split(',').collect());
    if let Some(names) = &chosen
        && let Some(unknown) = names.iter().find(|n| !PHASES.contains(n))
    {
        panic!("--phases: no phase named {unknown} (the phases: {PHASES:?})");
    }
    PHASES
        .into_iter()
        .filter(|p| *p == "none" || chosen.as_ref().is_none_or(|c| c.contains(p)))
        .collect()
}

fn run(suite: Suite, licences: usize, honest_threads: usize) -> Vec<Phase> {
    let mut chain = TestChain::new(suite, VALIDATORS);
    let mut cluster = Cluster::start(&mut chain);
    cluster.wait_ready(0);
    let junk = Arc::new(junk_txs(&chain, suite));
    let garbage: Arc<Vec<Vec<u8>>> =
        Arc::new((0..8).map(|i| junk_bytes(GARBAGE_BYTES, 77 + i)).collect());
    let junk_block = Arc::new(hostile::unregistered_txs(
        &chain,
        hostile::JUNK_BLOCK_TXS,
        5_000_000,
    ));
    let mut phases = Vec::new();
    for (p, name) in phases_chosen().into_iter().enumerate() {
        let hostile_phase = PHASES[5..].contains(&name);
        // Each hostile validator's attack on a cluster of its own: a ban from one attack (a
        // minute) must not carry into the next.
        if hostile_phase {
            cluster.stop();
            chain = TestChain::new(suite, VALIDATORS);
            cluster = Cluster::start(&mut chain);
            cluster.wait_ready(0);
        }
        let hostile = Arc::new(hostile::Hostile::new(
            &chain,
            &format!("validator-{HONEST}"),
            &cluster.nodes[HONEST],
        ));
        let height = cluster.status(0).unwrap()["height"].as_u64().unwrap();
        let txs = issue_txs(&chain, &format!("ATTACK{p}"), 0..licences, height + 900);
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(AttackTally::default()));
        reset_rss_peak();
        let attackers: Vec<std::thread::JoinHandle<()>> = match name {
            "none" => Vec::new(),
            "slowloris" => vec![slowloris(&cluster, stop.clone(), tally.clone())],
            "junk-txs" => flood(&cluster.urls, junk.clone(), stop.clone(), tally.clone()),
            "garbage" => flood(&cluster.urls, garbage.clone(), stop.clone(), tally.clone()),
            "handshake-flood" => vec![handshake_flood(&cluster, stop.clone(), tally.clone())],
            _ => {
                let attack = hostile::run(name, hostile.clone(), junk_block.clone(), stop.clone());
                let tally = tally.clone();
                vec![std::thread::spawn(move || {
                    let sent = attack.join().expect("hostile validator thread");
                    let mut tally = tally.lock().unwrap();
                    for (what, n) in sent {
                        *tally.outcomes.entry(format!("{what} sent")).or_default() += n as usize;
                    }
                })]
            }
        };
        let peers = hostile_phase.then(|| watch_peers(&cluster, stop.clone()));
        // Let the attack take hold before the honest load starts.
        if !attackers.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
        }
        let (rate, latencies, view_max) = honest_load(&cluster, &txs, honest_threads);
        stop.store(true, Ordering::Relaxed);
        for a in attackers {
            a.join().expect("attacker thread");
        }
        let honest_peers_min = peers.map(|w| w.join().expect("peer watcher"));
        let tally = std::mem::take(&mut *tally.lock().unwrap());
        assert_eq!(
            tally.accepted, 0,
            "{name}: the nodes accepted attacker transactions: {tally:?}"
        );
        phases.push(Phase {
            name,
            honest_peers_min,
            rate,
            latencies,
            view_max,
            rss_peak_kib: rss_peak_kib(),
            tally,
        });
    }
    cluster.stop();
    phases
}

fn main() {
    // As the `lichen` binary runs (node/cli/src/main.rs).
    lichen_node::memory::disable_transparent_huge_pages().unwrap();
    let quick = std::env::args().any(|a| a == "--quick");
    let licences = arg("--licences", if quick { 40 } else { 2_000 });
    let honest_threads = arg("--honest-threads", if quick { 8 } else { 32 }).max(1);
    let suites: Vec<Suite> = match arg_str("--suite").as_deref() {
        Some("sm") => vec![Suite::Sm],
        Some("intl") => vec![Suite::Intl],
        _ if quick => vec![Suite::Intl],
        _ => vec![Suite::Intl, Suite::Sm],
    };
    for suite in suites {
        let name = suite.name();
        println!(
            "{name}: {VALIDATORS} validators in one process; honest load {licences} issue transactions, ?wait=final from {honest_threads} threads"
        );
        println!(
            "{name}: | attack | honest tx/s | of baseline | finality p50 | p99 | max view | peak RSS (process) | the attacker got |"
        );
        println!("{name}: |---|---|---|---|---|---|---|---|");
        let phases = run(suite, licences, honest_threads);
        let baseline = phases[0].rate;
        for p in &phases {
            let mut got: Vec<String> = p
                .tally
                .outcomes
                .iter()
                .map(|(k, v)| format!("{v} x {k}"))
                .collect();
            if let Some(fewest) = p.honest_peers_min {
                got.push(if fewest < HONEST {
                    format!("cut off (an honest node was down to {fewest} peers)")
                } else {
                    "never cut off".to_string()
                });
            }
            let got = if got.is_empty() {
                "-".to_string()
            } else {
                got.join("; ")
            };
            println!(
                "{name}: | {} | {:.0} | {:.0}% | {:.0} ms | {:.0} ms | {} | {} | {got} |",
                p.name,
                p.rate,
                100.0 * p.rate / baseline,
                ms(percentile(&p.latencies, 0.5)),
                ms(percentile(&p.latencies, 0.99)),
                p.view_max,
                p.rss_peak_kib
                    .map(|k| format!("{:.0} MiB", k as f64 / 1024.0))
                    .unwrap_or_else(|| "?".into()),
            );
        }
    }
}
