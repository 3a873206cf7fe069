//! kill -9 durability of the chain store on disk (fjall).
//!
//! The parent test re-runs this test binary as a child process (`crash_child`, selected by an
//! environment variable) that commits blocks with real transactions in a loop and prints each
//! height once `commit_block` has returned. After a pseudo-random number of acknowledged commits
//! the parent SIGKILLs the child (at whatever instant the child is at: often in the middle of the
//! next commit), reopens the store and checks that nothing acknowledged is lost and nothing is
//! half-written; the next round's child resumes from the tip on the same directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use lichen_contracts::block::Block;
use lichen_contracts::crypto::Suite;
use lichen_contracts::model::LicenceStatus;
use lichen_contracts::smt::SparseMerkleTree;
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::SignedTransaction;
use lichen_storage::{ChainStore, KvStore, TxLocation, layout};

use common::*;

/// Set (to the data directory) in the child process only.
const CHILD_DIR_ENV: &str = "LICHEN_STORAGE_CRASH_CHILD_DIR";
/// If set in the child: commit this many blocks, then exit normally.
const CHILD_BLOCKS_ENV: &str = "LICHEN_STORAGE_CRASH_CHILD_BLOCKS";
/// If set in the child: SIGKILL itself right after acknowledging this many commits, the worst
/// instant for durability (the parent's kill always lands a little later).
const CHILD_SELF_KILL_ENV: &str = "LICHEN_STORAGE_CRASH_CHILD_SELF_KILL";
/// What the child's own lines start with (the test harness prints on the same stdout).
const MARK: &str = "@@lichen-crash ";
/// Blocks one child commits at most before it waits to be killed.
const CHILD_BLOCKS_MAX: u64 = 40;
/// Kill rounds, and the most acknowledged commits a round waits for.
const ROUNDS: usize = 5;
const ACKS_MAX: u64 = 8;
/// State versions the child keeps below its tip (so commits also prune).
const KEEP: u64 = 3;
/// The validator added by the council, at this height.
const ADD_VALIDATOR_AT: u64 = 5;
/// How long the parent waits for one line of the child's output.
const LINE_TIMEOUT: Duration = Duration::from_secs(60);
const SUITE: Suite = Suite::Intl;

/// The transactions of block `height`: the same in every process (the test chain's keys, nonces
/// and Ed25519 signatures are deterministic).
fn block_txs(chain: &mut TestChain, height: u64) -> Vec<SignedTransaction> {
    let mut txs = vec![
        issue(chain, &format!("C-{height}"), "agency-a"),
        anchor(chain, &format!("crash-{height}")),
    ];
    if height > 1 {
        txs.push(suspend(chain, &format!("C-{}", height - 1), "agency-a"));
    }
    if height == ADD_VALIDATOR_AT {
        txs.push(add_validator(chain, "validator-4"));
    }
    txs
}

/// Extends the in-memory chain (no store) to `height`.
fn extend_to(chain: &mut TestChain, height: u64) {
    while chain.height() < height {
        let h = chain.height() + 1;
        let txs = block_txs(chain, h);
        let time = next_time(chain);
        chain
            .commit(txs, time)
            .unwrap_or_else(|e| panic!("block {h}: {e}"));
    }
}

/// The child: resumes the chain in the directory and commits blocks, acknowledging each.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return; // an ordinary test run: nothing to do
    };
    let blocks: Option<u64> = std::env::var(CHILD_BLOCKS_ENV)
        .ok()
        .map(|b| b.parse().unwrap());
    let self_kill: Option<u64> = std::env::var(CHILD_SELF_KILL_ENV)
        .ok()
        .map(|b| b.parse().unwrap());
    // The parent may have closed the store a moment ago (see `open_disk`).
    let store = ChainStore::new(open_disk(Path::new(&dir)));
    let mut chain = TestChain::new(SUITE, 4);
    store.init_genesis(&chain.genesis).unwrap();
    let tip = store.tip().unwrap().height;
    // Rebuild the in-memory chain to the stored tip: it must be the stored chain.
    while chain.height() < tip {
        let h = chain.height() + 1;
        extend_to(&mut chain, h);
        assert_eq!(
            store.header(h).unwrap().as_ref(),
            Some(&chain.blocks[h as usize].header),
            "stored block {h} is the deterministic one"
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{MARK}ready {tip}").unwrap();
    out.flush().unwrap();
    let end = tip + blocks.unwrap_or(CHILD_BLOCKS_MAX);
    while chain.height() < end {
        let h = chain.height() + 1;
        let txs = block_txs(&mut chain, h);
        commit_next(&mut chain, &store, txs, h.saturating_sub(KEEP));
        // Acknowledged only now that commit_block has returned.
        writeln!(out, "\n{MARK}committed {h}").unwrap();
        out.flush().unwrap();
        if self_kill == Some(h - tip) {
            kill_self();
        }
    }
    if blocks.is_none() {
        // Wait to be killed; if the parent goes away first, stdin closes and the child ends.
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    }
}

/// SIGKILL to this process, now: nothing after the last acknowledgement runs (no destructor, no
/// flush). `kill -9` via the shell's `kill` (no unsafe code here); abort if that is unavailable.
fn kill_self() -> ! {
    let pid = std::process::id().to_string();
    let _ = Command::new("kill").args(["-9", &pid]).status();
    std::process::abort();
}

/// A child process, killed and reaped on drop (also when the parent test fails).
struct ChildProcess {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl ChildProcess {
    fn spawn(dir: &Path, blocks: Option<u64>, self_kill: Option<u64>) -> Self {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR_ENV, dir)
            .env_remove(CHILD_BLOCKS_ENV)
            .env_remove(CHILD_SELF_KILL_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(b) = blocks {
            cmd.env(CHILD_BLOCKS_ENV, b.to_string());
        }
        if let Some(n) = self_kill {
            cmd.env(CHILD_SELF_KILL_ENV, n.to_string());
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.find(MARK)
                    && tx.send(line[i + MARK.len()..].to_string()).is_err()
                {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        ChildProcess {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// The next `word N` line of the child, as N. Panics (with the child's stderr) if the child
    /// ends or stays silent for `LINE_TIMEOUT`.
    fn expect(&mut self, word: &str) -> u64 {
        match self.lines.recv_timeout(LINE_TIMEOUT) {
            Ok(line) => {
                let n = line
                    .strip_prefix(word)
                    .and_then(|rest| rest.trim().parse().ok());
                n.unwrap_or_else(|| panic!("expected '{word} N' from the child, got '{line}'"))
            }
            Err(e) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
                panic!(
                    "no '{word}' line from the child ({e}); its stderr:\n{}",
                    stderr.unwrap_or_default()
                );
            }
        }
    }

    /// SIGKILL (`Child::kill` on Unix) and reap.
    fn kill(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "the child was killed: {status}");
    }

    /// Waits for the child to end on its own (its output closes), killed by a signal.
    fn wait_killed(mut self) {
        match self.lines.recv_timeout(LINE_TIMEOUT) {
            Err(mpsc::RecvTimeoutError::Disconnected) => {}
            other => panic!("expected the child to end, got {other:?}"),
        }
        let status = self.child.wait().unwrap();
        assert!(status.code().is_none(), "killed by a signal: {status}");
    }

    /// Waits for a normal exit and checks it succeeded.
    fn wait_success(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().unwrap();
        let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
        assert!(
            status.success(),
            "child failed: {status}; stderr:\n{}",
            stderr.unwrap_or_default()
        );
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Reopens the store after a crash and checks it holds exactly the reference chain up to its tip,
/// whole; returns the tip height. `reference` is extended to the tip.
fn check_after_crash(dir: &Path, reference: &mut TestChain) -> u64 {
    let suite = SUITE;
    let store = ChainStore::new(open_disk(dir));
    assert_eq!(store.genesis().unwrap(), reference.genesis);
    let tip = store.tip().unwrap();
    extend_to(reference, tip.height);
    let ref_block = |h: u64| &reference.blocks[h as usize];
    assert_eq!(tip.hash, ref_block(tip.height).header.hash(suite));

    for h in 1..=tip.height {
        let b = ref_block(h);
        let stored = store
            .block(h)
            .unwrap()
            .unwrap_or_else(|| panic!("block {h} of {} missing", tip.height));
        assert_eq!(
            stored,
            Block {
                header: b.header.clone(),
                txs: b.txs.clone()
            },
            "block {h}"
        );
        let certificate = store
            .certificate(h)
            .unwrap()
            .unwrap_or_else(|| panic!("certificate {h} missing"));
        assert_eq!(Some(&certificate), b.certificate.as_ref());
        certificate
            .verify(
                suite,
                reference.chain_id(),
                &reference.genesis.hash(),
                &stored.header,
                &store.signing_set(h).unwrap(),
            )
            .unwrap_or_else(|e| panic!("certificate {h}: {e}"));
        for (i, tx) in stored.txs.iter().enumerate() {
            assert_eq!(
                store.tx_location(&tx.id(suite)).unwrap(),
                Some(TxLocation {
                    height: h,
                    index: i as u32
                }),
                "tx {i} of block {h}"
            );
        }
        let hash = evidence_hash(suite, &format!("crash-{h}"));
        assert_eq!(
            store.evidence_location(&hash).unwrap().map(|l| l.height),
            Some(h)
        );
        let history = store.licence_history(&format!("C-{h}")).unwrap();
        let statuses: Vec<LicenceStatus> = history.iter().map(|e| e.status).collect();
        let expected = if h < tip.height {
            vec![LicenceStatus::Active, LicenceStatus::Suspended]
        } else {
            vec![LicenceStatus::Active]
        };
        assert_eq!(statuses, expected, "history of C-{h}");
    }

    // The state at the tip is whole: its root is the header's.
    let header = store.header(tip.height).unwrap().unwrap();
    assert_eq!(
        SparseMerkleTree::new(&store, suite)
            .root_hash(tip.height)
            .unwrap(),
        header.state_root,
        "state root at the tip {}",
        tip.height
    );
    // Nothing of a later block is there: no block, certificate or tree node above the tip.
    assert_eq!(store.block(tip.height + 1).unwrap(), None);
    assert_eq!(store.certificate(tip.height + 1).unwrap(), None);
    assert_eq!(
        count_prefix(store.kv(), layout::BLOCK) as u64,
        tip.height + 1
    );
    assert_eq!(
        count_prefix(store.kv(), layout::CERTIFICATE) as u64,
        tip.height
    );
    let mut above = vec![layout::NODE];
    above.extend_from_slice(&(tip.height + 1).to_be_bytes());
    assert_eq!(
        store
            .kv()
            .scan(&above, &[layout::NODE + 1], 1, false)
            .unwrap(),
        vec![],
        "no state-tree node of a version above the tip"
    );
    // Indexes derived per block agree with the chain.
    for (id, expiry) in reference.replay.entries() {
        use lichen_contracts::replay::ReplayLookup;
        assert!(
            ReplayLookup::contains(&store, id, expiry).unwrap(),
            "{id} in the window"
        );
    }
    assert_eq!(
        store.signing_set(tip.height + 1).unwrap(),
        next_set(reference)
    );
    assert_eq!(
        store.pruned_below().unwrap(),
        tip.height.saturating_sub(KEEP)
    );
    tip.height
}

#[test]
fn kill_9_loses_nothing_acknowledged() {
    if std::env::var_os(CHILD_DIR_ENV).is_some() {
        return; // inside a child
    }
    let dir = tempfile::tempdir().unwrap();
    let mut reference = TestChain::new(SUITE, 4);
    let mut rng = SplitMix(0x11c4_e2a5_5eed_0004);
    let mut tip = 0;
    for round in 0..ROUNDS {
        let acks = 1 + rng.next() % ACKS_MAX;
        // Odd rounds: the child kills itself right after its last acknowledgement; even rounds:
        // the parent kills it a moment later, wherever it is in the next block.
        let self_kill = round % 2 == 1;
        let mut child = ChildProcess::spawn(dir.path(), None, self_kill.then_some(acks));
        assert_eq!(
            child.expect("ready"),
            tip,
            "round {round}: resumes at the tip"
        );
        let mut acknowledged = tip;
        for _ in 0..acks {
            let h = child.expect("committed");
            assert_eq!(h, acknowledged + 1, "round {round}: heights in order");
            acknowledged = h;
        }
        if self_kill {
            child.wait_killed();
        } else {
            // Spread the kill over the next block's work (no assertion depends on timing).
            std::thread::sleep(Duration::from_micros(rng.next() % 4_000));
            child.kill();
        }
        tip = check_after_crash(dir.path(), &mut reference);
        // Shown if the test fails.
        eprintln!(
            "round {round}: {} after {acks} acknowledged commits; acknowledged {acknowledged}, tip {tip}",
            if self_kill {
                "self-kill"
            } else {
                "parent kill"
            }
        );
        assert!(
            tip >= acknowledged,
            "round {round}: tip {tip} lost acknowledged block {acknowledged}"
        );
        if self_kill {
            assert_eq!(
                tip, acknowledged,
                "round {round}: nothing after the last commit"
            );
        }
    }
    assert!(
        tip > ADD_VALIDATOR_AT,
        "the rounds cross the validator change"
    );
    // A last child resumes from the tip and finishes normally.
    let mut child = ChildProcess::spawn(dir.path(), Some(2), None);
    assert_eq!(child.expect("ready"), tip);
    assert_eq!(child.expect("committed"), tip + 1);
    assert_eq!(child.expect("committed"), tip + 2);
    child.wait_success();
    assert_eq!(check_after_crash(dir.path(), &mut reference), tip + 2);
}
