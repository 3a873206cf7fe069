//! Cluster tests: four validators (and observers) as separate `lichen node run` processes on
//! 127.0.0.1, talking libp2p, with faults: the leader killed under load, a validator killed with
//! `kill -9` and restarted, one stopped with SIGSTOP and resumed, a stranger and a node of
//! another genesis trying to join, validators added and removed by the council on the running
//! chain. Every honest node must end with the same blocks and state root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lichen_client::{Client, ClientError};
use lichen_contracts::crypto::{SecretKey, Suite, keystore};
use lichen_contracts::model::ChainParams;
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{BIN, free_port};

const PASSWORD: &str = "lichen-dev";
/// Generous bounds: debug builds on a shared 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(40);
/// These tests watch an idle chain go on (catching up, restarts, set changes): empty blocks
/// every 300 ms instead of the default minute.
const HEARTBEAT_MS: u64 = 300;

/// One cluster at a time: four or five debug-build nodes each already fill two cores, and the
/// timing bounds above assume the machine is theirs.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next one may still run.
    ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lichen(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::lichen_in(dir, &[("LICHEN_PASSWORD", PASSWORD)], args)
}

fn lichen_ok(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = lichen(dir, args);
    assert_eq!(code, 0, "lichen {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// One node process and where it serves.
struct Proc {
    name: String,
    child: Child,
    url: String,
    log: PathBuf,
}

impl Proc {
    fn client(&self) -> Client {
        Client::new(&self.url)
    }

    fn status(&self) -> Option<Value> {
        self.client().get_json("/v1/status").ok()
    }

    fn height(&self) -> u64 {
        self.status()
            .and_then(|s| s["height"].as_u64())
            .unwrap_or(0)
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig} {} failed", self.name);
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "{} not killed: {status}",
            self.name
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // A stopped process must be resumed to die promptly.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node's configuration: a consensus key (validators) or none (observers), a network key,
/// ports, and whom to dial.
#[derive(Clone)]
struct NodeSpec {
    name: String,
    key: Option<String>,
    p2p_key: String,
    genesis: String,
    http_port: u16,
    p2p_port: u16,
}

/// The chain's files and its node processes.
struct Cluster {
    dir: TempDir,
    specs: Vec<NodeSpec>,
    nodes: Vec<Option<Proc>>,
    suite: Suite,
}

impl Cluster {
    /// `lichen dev --init` writes the genesis (four validators with network keys), every key and
    /// the demo entities; observers named in `observers` get network keys and are added to the
    /// genesis before any node starts.
    fn new(suite: &str, observers: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        lichen_ok(
            dir.path(),
            &["dev", "--init", "--dir", ".", "--suite", suite],
        );
        let mut specs = Vec::new();
        for i in 1..=4 {
            specs.push(NodeSpec {
                name: format!("validator-{i}"),
                key: Some(format!("keys/validator-{i}.key")),
                p2p_key: format!("keys/validator-{i}.p2p"),
                genesis: "genesis.json".into(),
                http_port: free_port(),
                p2p_port: free_port(),
            });
        }
        for name in observers {
            let p2p_key = format!("keys/{name}.p2p");
            let peer = lichen_ok(dir.path(), &["p2p-key", "new", &p2p_key]);
            lichen_ok(
                dir.path(),
                &[
                    "genesis",
                    "add-observer",
                    "--name",
                    name,
                    "--peer-id",
                    peer.trim(),
                ],
            );
            specs.push(NodeSpec {
                name: name.to_string(),
                key: None,
                p2p_key,
                genesis: "genesis.json".into(),
                http_port: free_port(),
                p2p_port: free_port(),
            });
        }
        let nodes = specs.iter().map(|_| None).collect();
        let suite = if suite == "sm" {
            Suite::Sm
        } else {
            Suite::Intl
        };
        Cluster {
            dir,
            specs,
            nodes,
            suite,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn peer_id(&self, spec: &NodeSpec) -> String {
        lichen_ok(self.dir.path(), &["p2p-key", "show", &spec.p2p_key])
            .trim()
            .to_string()
    }

    /// Writes `<name>.toml`: every other node of the cluster as a peer to dial.
    fn write_config(&self, spec: &NodeSpec, dial: &[NodeSpec]) -> String {
        let peers: Vec<String> = dial
            .iter()
            .filter(|s| s.name != spec.name)
            .map(|s| {
                format!(
                    "\"/ip4/127.0.0.1/tcp/{}/p2p/{}\"",
                    s.p2p_port,
                    self.peer_id(s)
                )
            })
            .collect();
        let key = spec
            .key
            .as_ref()
            .map(|k| format!("key = \"{k}\"\n"))
            .unwrap_or_default();
        let config = format!(
            "genesis = \"{}\"\n{key}data_dir = \"data/{}\"\n\n[http]\nlisten = \"127.0.0.1:{}\"\n\n\
             [consensus]\nheartbeat_ms = {HEARTBEAT_MS}\n\n\
             [network]\nkey = \"{}\"\nlisten = [\"/ip4/127.0.0.1/tcp/{}\"]\npeers = [{}]\n",
            spec.genesis,
            spec.name,
            spec.http_port,
            spec.p2p_key,
            spec.p2p_port,
            peers.join(", ")
        );
        let file = format!("{}.toml", spec.name);
        fs::write(self.path(&file), config).unwrap();
        file
    }

    fn spawn(&self, spec: &NodeSpec, dial: &[NodeSpec]) -> Proc {
        let config = self.write_config(spec, dial);
        let log = self.path(&format!("{}.log", spec.name));
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(BIN)
            .current_dir(self.dir.path())
            .env("LICHEN_PASSWORD", PASSWORD)
            .env("LICHEN_LOG", "info")
            .args(["node", "run", "--config", &config])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let proc = Proc {
            name: spec.name.clone(),
            child,
            url: format!("http://127.0.0.1:{}", spec.http_port),
            log,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        while proc.status().is_none() {
            assert!(
                Instant::now() < deadline,
                "{} did not serve within {READY_TIMEOUT:?}:\n{}",
                spec.name,
                proc.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        proc
    }

    /// Starts node `i` (again), dialling every node of the cluster.
    fn start(&mut self, i: usize) {
        let proc = self.spawn(&self.specs[i], &self.specs);
        self.nodes[i] = Some(proc);
    }

    fn node(&self, i: usize) -> &Proc {
        self.nodes[i].as_ref().expect("node running")
    }

    fn live(&self) -> impl Iterator<Item = &Proc> {
        self.nodes.iter().flatten()
    }

    fn logs(&self) -> String {
        self.live()
            .map(|p| {
                let log = p.log();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("=== {} (last 40 lines)\n{}\n", p.name, tail.join("\n"))
            })
            .collect()
    }

    /// Waits until every node in `which` reports at least `height`.
    fn wait_height(&self, which: &[usize], height: u64, why: &str) {
        let deadline = Instant::now() + PROGRESS_TIMEOUT;
        loop {
            let heights: Vec<u64> = which.iter().map(|i| self.node(*i).height()).collect();
            if heights.iter().all(|h| *h >= height) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{why}: heights {heights:?} of nodes {which:?} not all at {height} within \
                 {PROGRESS_TIMEOUT:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn max_height(&self, which: &[usize]) -> u64 {
        which
            .iter()
            .map(|i| self.node(*i).height())
            .max()
            .unwrap_or(0)
    }

    /// The node (index into `nodes`) that leads the next height, from a validator's status.
    fn next_leader(&self, among: &[usize]) -> usize {
        let status = self.node(among[0]).status().unwrap();
        let n = status["validators"].as_u64().unwrap();
        let next = status["height"].as_u64().unwrap() + 1;
        let view = status["view"].as_u64().unwrap();
        let leader = (next + view) % n;
        *among
            .iter()
            .find(|i| self.node(**i).status().unwrap()["validator_index"].as_u64() == Some(leader))
            .unwrap()
    }

    /// Block `height`'s hash and state root as `node` reports them.
    fn block_at(&self, node: usize, height: u64) -> (String, String) {
        let b = self
            .node(node)
            .client()
            .get_json(&format!("/v1/blocks/{height}"))
            .unwrap_or_else(|e| panic!("block {height} from node {node}: {e}"));
        let header = &b["block"]["header"];
        (
            header["hash"].as_str().unwrap().to_string(),
            header["state_root"].as_str().unwrap().to_string(),
        )
    }

    /// Every node in `which` holds the same block at each height up to a common one (hashes chain
    /// their parents, so the top one's agreement covers the rest, but all are compared).
    fn assert_agree(&self, which: &[usize], from: u64) -> u64 {
        let top = self.max_height(which);
        self.wait_height(which, top, "catching up before comparing");
        for h in from..=top {
            let first = self.block_at(which[0], h);
            for i in &which[1..] {
                assert_eq!(
                    self.block_at(*i, h),
                    first,
                    "nodes {} and {} differ at height {h}",
                    which[0],
                    i
                );
            }
        }
        top
    }

    fn key(&self, name: &str) -> SecretKey {
        keystore::open(
            &fs::read(self.path(&format!("keys/{name}.key"))).unwrap(),
            PASSWORD.as_bytes(),
        )
        .unwrap()
    }

    /// `count` evidence anchors signed by the demo court, ready to submit.
    fn anchors(&self, count: usize, tag: &str) -> Vec<(String, Vec<u8>)> {
        let status = self.node(0).status().unwrap();
        let chain_id = status["chain_id"].as_str().unwrap().to_string();
        let height = status["height"].as_u64().unwrap();
        let key = self.key("court-1");
        let count = count as u64;
        common::evidence_txs(
            self.suite,
            &chain_id,
            &key,
            "court-1",
            tag,
            count,
            height + 900,
        )
    }
}

/// Submits transactions one after another to the live nodes in turn (a node that does not answer
/// is skipped), until told to stop or out of transactions. Returns the ids some node accepted.
struct Load {
    stop: Arc<AtomicBool>,
    accepted: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(urls: Vec<String>, txs: Vec<(String, Vec<u8>)>) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
        let (s, a) = (stop.clone(), accepted.clone());
        let thread = std::thread::spawn(move || {
            let clients: Vec<Client> = urls.iter().map(|u| Client::new(u)).collect();
            for (n, (id, bytes)) in txs.iter().enumerate() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                // Try each node once, starting from a different one each time.
                for k in 0..clients.len() {
                    let c = &clients[(n + k) % clients.len()];
                    if let Ok((202 | 200, _)) = c.post_bytes("/v1/transactions", bytes) {
                        a.lock().unwrap().push(id.clone());
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Load {
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.accepted.lock().unwrap().clone()
    }
}

/// Every accepted transaction ends up committed on every node in `which`.
fn assert_all_committed(cluster: &Cluster, which: &[usize], ids: &[String]) {
    let deadline = Instant::now() + PROGRESS_TIMEOUT;
    for id in ids {
        for i in which {
            loop {
                let found = cluster
                    .node(*i)
                    .client()
                    .get_json(&format!("/v1/transactions/{id}"))
                    .is_ok_and(|v| v["status"] == "committed");
                if found {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "transaction {id} not committed on node {i}\n{}",
                    cluster.logs()
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[test]
fn validators_survive_leader_crash_restart_and_stall_and_an_observer_follows() {
    let _exclusive = exclusive();
    let mut c = Cluster::new("intl", &["court-observer"]);
    for i in 0..5 {
        c.start(i);
    }
    let validators = [0, 1, 2, 3];
    c.wait_height(&[0, 1, 2, 3, 4], 3, "the chain starts");
    for i in validators {
        let s = c.node(i).status().unwrap();
        assert_eq!(s["role"], "validator");
        assert!(s["validator_index"].is_u64(), "{s}");
    }
    let observer = c.node(4).status().unwrap();
    assert_eq!(observer["role"], "observer");
    assert!(observer["validator_index"].is_null());

    // Load on all four validators while the leader of the next height is killed.
    let urls: Vec<String> = validators.iter().map(|i| c.node(*i).url.clone()).collect();
    let load = Load::start(urls, c.anchors(300, "leader-crash"));
    std::thread::sleep(Duration::from_millis(800));
    let leader = c.next_leader(&validators);
    c.nodes[leader].as_mut().unwrap().kill9();
    c.nodes[leader] = None;
    let rest: Vec<usize> = validators
        .iter()
        .copied()
        .filter(|i| *i != leader)
        .collect();
    let at_kill = c.max_height(&rest);
    // Commits resume within a few view timeouts (1 s, then 2 s, ...).
    let started = Instant::now();
    c.wait_height(
        &rest,
        at_kill + 3,
        "commits resume after the leader is killed",
    );
    eprintln!(
        "leader (node {leader}) killed at height {at_kill}; 3 more blocks in {:?}",
        started.elapsed()
    );

    // Restarted alone first (dialling nobody): it serves, but it is not ready, and says why:
    // it is behind and reaches no quorum.
    let behind_ms = HEARTBEAT_MS + 2 * ChainParams::DEFAULT.view_timeout_base_ms + 500;
    std::thread::sleep(Duration::from_millis(behind_ms).saturating_sub(started.elapsed()));
    // Other ports, so that neither its peers nor the load's clients reach it (a transaction
    // it took alone would be lost when it stops: accepted, never final).
    let mut alone = c.specs[leader].clone();
    alone.p2p_port = free_port();
    alone.http_port = free_port();
    let isolated = c.spawn(&alone, &[]);
    match isolated.client().get_json("/ready") {
        Err(ClientError::Api {
            status,
            code,
            message,
            ..
        }) => {
            assert_eq!((status, code.as_str()), (503, "not_ready"), "{message}");
            assert!(message.contains("behind"), "{message}");
            assert!(message.contains("validators in reach"), "{message}");
        }
        other => panic!("an isolated, lagging validator must not be ready: {other:?}"),
    }
    drop(isolated);

    // Restart it on its data among the others: it catches up, and is ready again.
    c.start(leader);
    let target = c.max_height(&rest) + 2;
    c.wait_height(&[leader], target, "the restarted validator catches up");
    let deadline = Instant::now() + PROGRESS_TIMEOUT;
    while c.node(leader).client().get_json("/ready").is_err() {
        assert!(
            Instant::now() < deadline,
            "the caught-up validator never became ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // It votes again: stop another validator; the three left (the restarted one among them)
    // are exactly a quorum, so blocks are final only with its vote.
    let stalled = *rest.iter().find(|i| **i != leader).unwrap();
    c.node(stalled).signal("-STOP");
    let others: Vec<usize> = validators
        .iter()
        .copied()
        .filter(|i| *i != stalled)
        .collect();
    let at_stop = c.max_height(&others);
    c.wait_height(&others, at_stop + 3, "3 of 4 keep finalising (SIGSTOP)");
    c.node(stalled).signal("-CONT");
    let target = c.max_height(&others) + 1;
    c.wait_height(&[stalled], target, "the resumed validator catches up");

    let accepted = load.finish();
    assert!(accepted.len() > 20, "only {} accepted", accepted.len());
    let all = [0, 1, 2, 3, 4];
    assert_all_committed(&c, &all, &accepted);
    let top = c.assert_agree(&all, 1);
    eprintln!(
        "{} transactions committed; all agree up to height {top}",
        accepted.len()
    );

    // The observer serves presentations that verify offline from the genesis.
    fs::write(c.path("licence.pdf"), b"observer test licence").unwrap();
    lichen_ok(
        c.dir.path(),
        &[
            "issue",
            "--node",
            &c.node(0).url,
            "--key",
            "keys/market-bureau.key",
            "--agency",
            "market-bureau",
            "--type",
            "business",
            "--id",
            "OBS-1",
            "--file",
            "licence.pdf",
            "--holder-id",
            "holder",
        ],
    );
    let deadline = Instant::now() + PROGRESS_TIMEOUT;
    while c.node(4).client().get_json("/v1/licences/OBS-1").is_err() {
        assert!(Instant::now() < deadline, "the observer never saw OBS-1");
        std::thread::sleep(Duration::from_millis(100));
    }
    lichen_ok(
        c.dir.path(),
        &[
            "presentation",
            "export",
            "OBS-1",
            "-o",
            "obs.pres",
            "--node",
            &c.node(4).url,
        ],
    );
    let verdict = lichen_ok(
        c.dir.path(),
        &[
            "verify",
            "--presentation",
            "obs.pres",
            "--trust",
            "genesis.json",
            "--file",
            "licence.pdf",
        ],
    );
    assert!(verdict.starts_with("VALID"), "{verdict}");
    // An observer never votes: its peer id is in no certificate, and it refuses to build.
    assert!(
        !c.node(4).log().contains("proposal built"),
        "observer proposed"
    );
}

#[test]
fn strangers_and_another_genesis_are_refused() {
    let _exclusive = exclusive();
    let mut c = Cluster::new("intl", &[]);
    for i in 0..4 {
        c.start(i);
    }
    c.wait_height(&[0, 1, 2, 3], 2, "the chain starts");

    // A stranger: a network key no genesis lists.
    let stranger_key = "keys/stranger.p2p";
    lichen_ok(c.dir.path(), &["p2p-key", "new", stranger_key]);
    let stranger_peer = lichen_ok(c.dir.path(), &["p2p-key", "show", stranger_key])
        .trim()
        .to_string();
    let stranger = NodeSpec {
        name: "stranger".into(),
        key: None,
        p2p_key: stranger_key.into(),
        genesis: "genesis.json".into(),
        http_port: free_port(),
        p2p_port: free_port(),
    };
    let stranger = c.spawn(&stranger, &c.specs);

    // Another chain's genesis, with a validator's own network key (so the peer id is listed):
    // the protocol names differ by genesis hash, so nothing is exchanged.
    let other = tempfile::tempdir().unwrap();
    lichen_ok(
        other.path(),
        &["dev", "--init", "--dir", ".", "--suite", "intl"],
    );
    fs::copy(
        other.path().join("genesis.json"),
        c.path("other-genesis.json"),
    )
    .unwrap();
    let impostor = NodeSpec {
        name: "impostor".into(),
        key: None,
        p2p_key: "keys/validator-1.p2p".into(),
        genesis: "other-genesis.json".into(),
        http_port: free_port(),
        p2p_port: free_port(),
    };
    let impostor = c.spawn(&impostor, &c.specs);

    let before = c.max_height(&[0, 1, 2, 3]);
    c.wait_height(&[0, 1, 2, 3], before + 5, "the chain goes on");
    for (p, what) in [(&stranger, "stranger"), (&impostor, "other genesis")] {
        let s = p.status().unwrap();
        assert_eq!(s["height"], 0, "{what} synced: {s}\n{}", p.log());
    }
    // Its dials succeed at the TCP level and are closed once Noise names it: between redials
    // (with growing backoff) it holds no connection.
    let deadline = Instant::now() + PROGRESS_TIMEOUT;
    loop {
        let stranger_status = stranger.status().unwrap();
        if stranger_status["peers"] == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stranger stays connected: {stranger_status}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let refused = (0..4).any(|i| {
        let log = c.node(i).log();
        log.contains("refused a connection") && log.contains(&stranger_peer)
    });
    assert!(
        refused,
        "no validator logged refusing {stranger_peer}\n{}",
        c.logs()
    );
    c.assert_agree(&[0, 1, 2, 3], 1);
}

/// A running validator is backed up; another validator loses its data and is restored from
/// that backup (every block executed again, every certificate checked): it rejoins and agrees.
/// A backup with one byte altered restores nothing.
#[test]
fn a_validator_restored_from_a_backup_rejoins() {
    let _exclusive = exclusive();
    let mut c = Cluster::new("sm", &[]);
    for i in 0..4 {
        c.start(i);
    }
    c.wait_height(&[0, 1, 2, 3], 2, "the chain starts");
    let urls: Vec<String> = (0..4).map(|i| c.node(i).url.clone()).collect();
    let accepted = Load::start(urls, c.anchors(60, "backup")).finish();

    let dir = c.dir.path().to_path_buf();
    let url = c.node(0).url.clone();
    let out = lichen_ok(&dir, &["node", "backup", "--node", &url, "--to", "backup"]);
    assert!(out.contains("backed up chain"), "{out}");
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(c.path("backup/backup.json")).unwrap()).unwrap();
    let backed_up = manifest["height"].as_u64().unwrap();
    assert!(backed_up >= 2, "{manifest}");

    // Validator 4 loses its data; a restore refuses a non-empty directory first.
    let lost = 3;
    c.nodes[lost] = None;
    let config = format!("{}.toml", c.specs[lost].name);
    let (code, _, err) = lichen(
        &dir,
        &["node", "restore", "--config", &config, "--from", "backup"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("not empty"), "{err}");
    fs::remove_dir_all(c.path(&format!("data/{}", c.specs[lost].name))).unwrap();

    // An altered backup: refused, nothing kept.
    fs::create_dir(c.path("bad")).unwrap();
    fs::copy(c.path("backup/backup.json"), c.path("bad/backup.json")).unwrap();
    let mut blocks = fs::read(c.path("backup/blocks.bin")).unwrap();
    let at = blocks.len() / 2;
    blocks[at] ^= 1;
    fs::write(c.path("bad/blocks.bin"), blocks).unwrap();
    let (code, _, err) = lichen(
        &dir,
        &["node", "restore", "--config", &config, "--from", "bad"],
    );
    assert_ne!(code, 0, "an altered backup was restored");
    assert!(err.contains("nothing was kept"), "{err}");
    assert!(!c.path(&format!("data/{}", c.specs[lost].name)).exists());

    let out = lichen_ok(
        &dir,
        &["node", "restore", "--config", &config, "--from", "backup"],
    );
    assert!(out.contains(&format!("to height {backed_up}")), "{out}");
    c.start(lost);
    let others = [0, 1, 2];
    let target = c.max_height(&others) + 2;
    c.wait_height(&[lost], target, "the restored validator catches up");
    assert_all_committed(&c, &[lost], &accepted);
    c.assert_agree(&[0, 1, 2, 3], 1);
}

#[test]
fn council_adds_and_removes_validators_on_a_running_chain() {
    let _exclusive = exclusive();
    let mut c = Cluster::new("sm", &[]);
    for i in 0..4 {
        c.start(i);
    }
    c.wait_height(&[0, 1, 2, 3], 2, "the chain starts");
    let url = c.node(0).url.clone();

    // A fifth validator: keys, then the council's transaction.
    lichen_ok(
        c.dir.path(),
        &["keygen", "--algo", "sm2", "--out", "keys/validator-5.key"],
    );
    let peer5 = lichen_ok(c.dir.path(), &["p2p-key", "new", "keys/validator-5.p2p"]);
    let pub5 = fs::read_to_string(c.path("keys/validator-5.key.pub")).unwrap();
    lichen_ok(
        c.dir.path(),
        &[
            "gov",
            "propose",
            "add-validator",
            "--key",
            "keys/council-1.key",
            "--out",
            "add5.json",
            "--node",
            &url,
            "--name",
            "validator-5",
            "--validator-key",
            pub5.trim(),
            "--peer-id",
            peer5.trim(),
        ],
    );
    let receipt = lichen_ok(
        c.dir.path(),
        &["--json", "gov", "submit", "add5.json", "--node", &url],
    );
    let added_at: Value = serde_json::from_str(&receipt).unwrap();
    let added_at = added_at["height"].as_u64().unwrap();
    c.specs.push(NodeSpec {
        name: "validator-5".into(),
        key: Some("keys/validator-5.key".into()),
        p2p_key: "keys/validator-5.p2p".into(),
        genesis: "genesis.json".into(),
        http_port: free_port(),
        p2p_port: free_port(),
    });
    c.nodes.push(None);
    c.start(4);
    let five = [0, 1, 2, 3, 4];
    c.wait_height(&five, added_at + 2, "the new validator syncs");
    let s = c.node(4).status().unwrap();
    assert_eq!(s["validators"], 5, "{s}");
    assert!(s["validator_index"].is_u64(), "not a validator: {s}");

    // It votes: with five validators the quorum is four, so stopping one of the first four
    // leaves exactly a quorum that includes the new one.
    c.node(1).signal("-STOP");
    let others = [0, 2, 3, 4];
    let at = c.max_height(&others);
    c.wait_height(
        &others,
        at + 3,
        "four of five finalise, the new validator among them",
    );
    c.node(1).signal("-CONT");
    c.wait_height(
        &[1],
        c.max_height(&others),
        "the stopped validator catches up",
    );

    // Remove validator-2 (node 1).
    let pub2 = fs::read_to_string(c.path("keys/validator-2.key.pub")).unwrap();
    lichen_ok(
        c.dir.path(),
        &[
            "gov",
            "propose",
            "remove-validator",
            "--key",
            "keys/council-1.key",
            "--out",
            "remove2.json",
            "--node",
            &url,
            "--validator-key",
            pub2.trim(),
        ],
    );
    lichen_ok(
        c.dir.path(),
        &["gov", "submit", "remove2.json", "--node", &url],
    );
    let remaining = [0, 2, 3, 4];
    let at = c.max_height(&remaining);
    c.wait_height(&remaining, at + 3, "the chain goes on without validator-2");
    let s = c.node(0).status().unwrap();
    assert_eq!(s["validators"], 4, "{s}");
    // The removed validator is a stranger now: nothing new reaches it.
    let removed_at = c.node(1).height();
    let later = c.max_height(&remaining) + 4;
    c.wait_height(&remaining, later, "blocks after the removal");
    assert!(
        c.node(1).height() <= removed_at + 2,
        "the removed validator still follows: {} vs {removed_at}",
        c.node(1).height()
    );

    // A presentation built after both changes verifies from the genesis trust anchor alone.
    fs::write(c.path("licence.pdf"), b"after reconfiguration").unwrap();
    lichen_ok(
        c.dir.path(),
        &[
            "issue",
            "--node",
            &url,
            "--key",
            "keys/market-bureau.key",
            "--agency",
            "market-bureau",
            "--type",
            "business",
            "--id",
            "GOV-1",
            "--file",
            "licence.pdf",
            "--holder-id",
            "holder",
        ],
    );
    lichen_ok(
        c.dir.path(),
        &[
            "presentation",
            "export",
            "GOV-1",
            "-o",
            "gov.pres",
            "--node",
            &url,
        ],
    );
    let verdict = lichen_ok(
        c.dir.path(),
        &[
            "verify",
            "--presentation",
            "gov.pres",
            "--trust",
            "genesis.json",
            "--file",
            "licence.pdf",
        ],
    );
    assert!(verdict.starts_with("VALID"), "{verdict}");
    assert!(verdict.contains("2 validator-set change(s)"), "{verdict}");
    c.assert_agree(&remaining, 1);
}

/// `lichen dev` as a newcomer runs it: four validators in one process, the banner's address
/// serves a four-validator chain, Ctrl-C stops it cleanly, and running it again resumes the same
/// chain.
#[test]
fn lichen_dev_runs_four_validators_stops_cleanly_and_resumes() {
    let _exclusive = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = |tag: &str| -> (Child, PathBuf) {
        let log = dir.path().join(format!("dev-{tag}.log"));
        let child = Command::new(BIN)
            .current_dir(dir.path())
            .args(["dev", "--dir", "chain", "--suite", "intl", "--port"])
            .arg(port.to_string())
            .args(["--heartbeat-ms", &HEARTBEAT_MS.to_string()])
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (child, log)
    };
    let wait_banner = |child: &mut Child, log: &Path| -> String {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let text = fs::read_to_string(log).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.starts_with("serving http://")) {
                return line.trim_start_matches("serving ").to_string();
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "lichen dev exited:\n{text}"
            );
            assert!(Instant::now() < deadline, "no banner:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let stop = |mut child: Child, log: &Path| {
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "lichen dev did not stop on Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "{status}: {}",
            fs::read_to_string(log).unwrap()
        );
    };

    let (mut child, log) = start("first");
    let url = wait_banner(&mut child, &log);
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("created a new dev chain"), "{text}");
    assert!(text.contains("4 validators on libp2p"), "{text}");
    let client = Client::new(&url);
    let deadline = Instant::now() + PROGRESS_TIMEOUT;
    let status = loop {
        let s = client.get_json("/v1/status").unwrap();
        if s["height"].as_u64().unwrap() >= 3 && s["peers"] == 3 {
            break s;
        }
        assert!(Instant::now() < deadline, "no progress: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status["validators"], 4);
    assert_eq!(status["suite"], "intl");
    fs::write(dir.path().join("licence.pdf"), b"dev licence").unwrap();
    lichen_ok(
        dir.path(),
        &[
            "issue",
            "--node",
            &url,
            "--key",
            "chain/keys/market-bureau.key",
            "--agency",
            "market-bureau",
            "--type",
            "business",
            "--id",
            "DEV-1",
            "--file",
            "licence.pdf",
            "--holder-id",
            "holder",
        ],
    );
    let height = client.get_json("/v1/status").unwrap()["height"]
        .as_u64()
        .unwrap();
    stop(child, &log);

    let (mut child, log) = start("again");
    let url = wait_banner(&mut child, &log);
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("resuming the dev chain"), "{text}");
    let client = Client::new(&url);
    let resumed = client.get_json("/v1/status").unwrap()["height"]
        .as_u64()
        .unwrap();
    assert!(resumed >= height, "resumed at {resumed}, below {height}");
    assert!(client.get_json("/v1/licences/DEV-1").is_ok(), "DEV-1 lost");
    let deadline = Instant::now() + PROGRESS_TIMEOUT;
    while client.get_json("/v1/status").unwrap()["height"]
        .as_u64()
        .unwrap()
        < resumed + 2
    {
        assert!(
            Instant::now() < deadline,
            "the resumed chain makes no blocks"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(child, &log);
}
