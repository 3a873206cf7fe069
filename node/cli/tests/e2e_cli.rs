//! End to end: the real `lichen` binary, a real node process on 127.0.0.1 with its data in a
//! temporary directory, driven the way an operator would drive it. Covers the whole tour in both
//! suites, a clean restart, `kill -9` durability of acknowledged transactions, bad input and
//! council governance.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lichen_client::{Client, ClientError};
use lichen_contracts::crypto::{Suite, keystore};
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{BIN, free_port};
use lichen_cli::exit;

const PASSWORD: &str = "e2e correct horse";
const WRONG_PASSWORD: &str = "e2e wrong horse";
/// Longest a CLI command may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a node may take to answer `/health` after it is started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a node may take to exit after SIGTERM, or to refuse to start.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
/// Where the node's HTTP API is when none runs (nothing listens on port 1).
const NO_NODE: &str = "http://127.0.0.1:1";

// ------------------------------------------------------------------------------- harness

/// How a command gets its key-file password.
#[derive(Clone, Copy, Debug)]
enum Pw {
    /// `LICHEN_PASSWORD` in the environment.
    Env,
    /// `--password-file pw.txt`.
    File,
    /// `LICHEN_PASSWORD` set to a wrong password.
    WrongEnv,
    /// `--password-file wrong-pw.txt`.
    WrongFile,
    /// No password at all (commands that open no key).
    None,
}

/// A finished command.
#[derive(Debug)]
struct Out {
    what: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "`{}` exited {}\nstdout:\n{}\nstderr:\n{}",
            self.what, self.code, self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed no JSON ({e})\nstdout:\n{}\nstderr:\n{}",
                self.what, self.stdout, self.stderr
            )
        })
    }

    fn assert_code(&self, code: u8) -> &Self {
        let code = i32::from(code);
        assert_eq!(
            self.code, code,
            "`{}` exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.what, self.code, self.stdout, self.stderr
        );
        self
    }

    fn assert_stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "`{}`: stderr does not mention {needle:?}\nstderr:\n{}",
            self.what,
            self.stderr
        );
        self
    }
}

/// Runs `cmd` to completion within `limit`, collecting its output.
fn output_within(mut cmd: Command, limit: Duration, what: String) -> Out {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{what}`: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = wait_within(&mut child, limit)
        .unwrap_or_else(|| panic!("`{what}` did not finish within {limit:?}"));
    Out {
        code: status.code().unwrap_or(-1),
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        what,
    }
}

/// Waits for `child` to exit, at most `limit`; kills it (and returns `None`) if it does not.
fn wait_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A working directory holding key files, genesis files and a node's data, and the URL of the
/// node the CLI talks to (`LICHEN_NODE`).
struct Site {
    dir: TempDir,
    url: String,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("pw.txt"), format!("{PASSWORD}\n")).unwrap();
        fs::write(
            dir.path().join("wrong-pw.txt"),
            format!("{WRONG_PASSWORD}\n"),
        )
        .unwrap();
        Site {
            dir,
            url: NO_NODE.to_string(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, pw: Pw) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env_remove("LICHEN_PASSWORD")
            .env("LICHEN_NODE", &self.url)
            .env("LICHEN_LOG", "warn");
        match pw {
            Pw::Env => {
                cmd.env("LICHEN_PASSWORD", PASSWORD);
            }
            Pw::WrongEnv => {
                cmd.env("LICHEN_PASSWORD", WRONG_PASSWORD);
            }
            Pw::File => {
                cmd.args(["--password-file", "pw.txt"]);
            }
            Pw::WrongFile => {
                cmd.args(["--password-file", "wrong-pw.txt"]);
            }
            Pw::None => {}
        }
        cmd
    }

    /// `lichen ARGS`, whatever its exit status.
    fn run(&self, pw: Pw, args: &[&str]) -> Out {
        let mut cmd = self.command(pw);
        cmd.args(args);
        output_within(cmd, CLI_TIMEOUT, format!("lichen {}", args.join(" ")))
    }

    /// `lichen ARGS`, which must succeed.
    fn ok(&self, pw: Pw, args: &[&str]) -> Out {
        self.run(pw, args).ok()
    }

    /// `lichen --json ARGS`, which must succeed; its JSON output.
    fn json(&self, pw: Pw, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(pw, &all).json()
    }

    /// `lichen --json verify ...`: the verdict and the exit status.
    fn verify(&self, presentation: &str, trust: &str, extra: &[&str]) -> (Value, i32) {
        let mut args = vec![
            "--json",
            "verify",
            "--presentation",
            presentation,
            "--trust",
            trust,
        ];
        args.extend_from_slice(extra);
        let out = self.run(Pw::None, &args);
        assert!(
            out.code == 0 || out.code == 1,
            "`{}` exited {} (an error, not a verdict)\nstderr:\n{}",
            out.what,
            out.code,
            out.stderr
        );
        (out.json(), out.code)
    }

    /// Asserts `out` is a transaction the node refused (422 `tx_refused`, not a timeout) with a
    /// reason containing `reason`.
    fn assert_refused(&self, out: &Out, reason: &str) {
        out.assert_code(exit::REFUSED);
        out.assert_stderr_has("tx_refused");
        out.assert_stderr_has(reason);
    }

    /// Starts `lichen node run --config CONFIG` on a fresh port, waits until it serves, and
    /// points the CLI at it.
    fn start_node(&mut self, config: &str, pw: Pw, tag: &str) -> Node {
        let node = Node::start(self, config, pw, tag);
        self.url = node.url.clone();
        node
    }

    fn client(&self) -> Client {
        Client::new(&self.url)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        fs::write(self.path(name), bytes).unwrap();
    }
}

/// A `lichen node run` child process, killed when dropped.
struct Node {
    child: Child,
    url: String,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Node {
    fn spawn(site: &Site, config: &str, pw: Pw, tag: &str) -> (Child, u16, PathBuf, PathBuf) {
        let port = free_port();
        let stdout = site.path(&format!("node-{tag}.out"));
        let stderr = site.path(&format!("node-{tag}.err"));
        let mut cmd = site.command(pw);
        cmd.env("LICHEN_LOG", "info")
            .args(["node", "run", "--config", config, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap());
        let child = cmd.spawn().unwrap();
        (child, port, stdout, stderr)
    }

    fn start(site: &Site, config: &str, pw: Pw, tag: &str) -> Node {
        let (child, port, stdout, stderr) = Node::spawn(site, config, pw, tag);
        let mut node = Node {
            child,
            url: format!("http://127.0.0.1:{port}"),
            stdout,
            stderr,
        };
        let client = Client::new(&node.url);
        let deadline = Instant::now() + READY_TIMEOUT;
        let banner = format!("serving http://127.0.0.1:{port}");
        loop {
            if let Some(status) = node.child.try_wait().unwrap() {
                panic!("node '{tag}' exited at start ({status}):\n{}", node.logs());
            }
            let healthy = client
                .get_json("/health")
                .is_ok_and(|v| v["status"] == "ok");
            if healthy && fs::read_to_string(&node.stdout).unwrap().contains(&banner) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node '{tag}' not ready within {READY_TIMEOUT:?}:\n{}",
                node.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        node
    }

    fn logs(&self) -> String {
        format!(
            "--- stdout\n{}--- stderr\n{}",
            fs::read_to_string(&self.stdout).unwrap_or_default(),
            fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// SIGTERM; the node must stop cleanly and exit 0.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid} failed");
        let status = wait_within(&mut self.child, EXIT_TIMEOUT).unwrap_or_else(|| {
            panic!(
                "the node did not stop within {EXIT_TIMEOUT:?} of SIGTERM:\n{}",
                self.logs()
            )
        });
        assert!(
            status.success(),
            "the node exited {status} on SIGTERM:\n{}",
            self.logs()
        );
        assert!(
            self.logs().contains("stopped cleanly"),
            "no clean stop:\n{}",
            self.logs()
        );
    }

    /// SIGKILL, no chance to clean up.
    fn kill9(&mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "the node was not killed: {status}"
        );
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------- chain set-up

const AGENCY: &str = "market-bureau";
const AGENCY2: &str = "health-office";
const SUBMITTER: &str = "court-1";

/// Key files made by [`make_keys`] (each with its `.pub`).
const KEYS: [&str; 8] = [
    "validator.key",
    "council1.key",
    "council2.key",
    "agency.key",
    "agency2.key",
    "court.key",
    "tax.key",
    "other-validator.key",
];

/// Makes every key of [`KEYS`] (in parallel; half with the password from the environment, half
/// from a file) and checks each `.pub` against `keygen`'s and `key show`'s output.
fn make_keys(site: &Site, algo: &str) {
    std::thread::scope(|s| {
        for (i, name) in KEYS.iter().enumerate() {
            s.spawn(move || {
                let pw = if i % 2 == 0 { Pw::Env } else { Pw::File };
                let made = site.json(pw, &["keygen", "--algo", algo, "-o", name]);
                let public = made["public_key"].as_str().unwrap().to_string();
                assert!(public.starts_with(&format!("{algo}:")), "{name}: {public}");
                let pub_file = fs::read_to_string(site.path(&format!("{name}.pub"))).unwrap();
                assert_eq!(pub_file.trim(), public, "{name}.pub");
                let shown = site.json(pw, &["key", "show", name]);
                assert_eq!(shown["public_key"], public.as_str(), "key show {name}");
                assert_eq!(shown["algo"], algo);
            });
        }
    });
}

/// Keys, `genesis.json` for `chain_id` (council of two with `threshold`, one validator, two
/// agencies each with its own licence type, one evidence submitter), `other.json` for another
/// chain, and `node.toml`. Returns the genesis hash.
fn make_chain(site: &Site, suite: &str, chain_id: &str, threshold: u16) -> String {
    let algo = if suite == "intl" { "ed25519" } else { "sm2" };
    make_keys(site, algo);
    // With --json, every genesis command says what it did as one object.
    let g = |args: &[&str]| -> Value {
        let mut all = vec!["genesis"];
        all.extend_from_slice(args);
        site.json(Pw::None, &all)
    };
    g(&["new", "--chain-id", chain_id, "--suite", suite]);
    let t = threshold.to_string();
    g(&[
        "add-council",
        "--key",
        "council1.key.pub",
        "--key",
        "council2.key.pub",
        "--threshold",
        &t,
    ]);
    g(&[
        "add-validator",
        "--name",
        "v1",
        "--key",
        "validator.key.pub",
    ]);
    let added = g(&[
        "add-agency",
        "--id",
        AGENCY,
        "--name",
        "Market Bureau",
        "--key",
        "agency.key.pub",
    ]);
    assert_eq!(
        (added["added"].as_str(), added["id"].as_str()),
        (Some("agency"), Some(AGENCY)),
        "{added}"
    );
    g(&[
        "add-agency",
        "--id",
        AGENCY2,
        "--name",
        "Health Office",
        "--key",
        "agency2.key.pub",
    ]);
    g(&[
        "add-licence-type",
        "--code",
        "business",
        "--name",
        "Business licence",
        "--agency",
        AGENCY,
    ]);
    g(&[
        "add-licence-type",
        "--code",
        "food",
        "--name",
        "Food licence",
        "--agency",
        AGENCY2,
    ]);
    g(&[
        "add-submitter",
        "--id",
        SUBMITTER,
        "--name",
        "Court",
        "--key",
        "court.key.pub",
    ]);
    // Another chain: same suite, its own id and validator.
    g(&[
        "new",
        "-o",
        "other.json",
        "--chain-id",
        "other-chain",
        "--suite",
        suite,
    ]);
    g(&[
        "add-council",
        "-g",
        "other.json",
        "--key",
        "council1.key.pub",
        "--threshold",
        "1",
    ]);
    g(&[
        "add-validator",
        "-g",
        "other.json",
        "--name",
        "ov",
        "--key",
        "other-validator.key.pub",
    ]);
    // The listen address here is overridden by --listen in every test.
    site.write(
        "node.toml",
        b"genesis = \"genesis.json\"\nkey = \"validator.key\"\ndata_dir = \"data\"\n\n[http]\nlisten = \"127.0.0.1:9\"\n",
    );
    let hash = site.json(Pw::None, &["genesis", "hash"]);
    assert_eq!(hash["chain_id"], chain_id);
    let shown: Value =
        serde_json::from_str(&site.ok(Pw::None, &["genesis", "show"]).stdout).unwrap();
    assert_eq!(shown["config"]["council"]["threshold"], threshold);
    assert_eq!(shown["config"]["suite"], suite);
    hash["genesis_hash"].as_str().unwrap().to_string()
}

fn suite_of(name: &str) -> Suite {
    if name == "intl" {
        Suite::Intl
    } else {
        Suite::Sm
    }
}

fn digest_hex(suite: Suite, bytes: &[u8]) -> String {
    suite.digest(bytes).to_hex()
}

fn is_hex64(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn height_of(status: &Value) -> u64 {
    status["height"].as_u64().unwrap()
}

/// Asserts a transaction receipt says committed; its (id, height).
fn committed(receipt: &Value) -> (String, u64) {
    assert_eq!(receipt["status"], "committed", "{receipt}");
    assert!(is_hex64(&receipt["id"]), "{receipt}");
    let height = receipt["height"].as_u64().unwrap();
    assert!(height >= 1, "{receipt}");
    (receipt["id"].as_str().unwrap().to_string(), height)
}

// ------------------------------------------------------------------------------- the tour

/// What the tour left on chain.
struct Tour {
    issue_tx: String,
    revoke_tx: String,
    evidence_hash: String,
}

/// Issue, query, export, verify VALID; revoke, verify REVOKED; tampering and a wrong document
/// are TAMPERED; evidence anchored and its receipt ANCHORED; another chain's genesis trusts
/// none of it.
fn tour(site: &Site, suite_name: &str) -> Tour {
    let suite = suite_of(suite_name);
    let licence_file = format!("licence of {suite_name} holder-1\n").into_bytes();
    site.write("licence.pdf", &licence_file);
    site.write("forged.pdf", b"a different licence file\n");

    // Issue (password from the environment).
    let receipt = site.json(
        Pw::Env,
        &[
            "issue",
            "--key",
            "agency.key",
            "--agency",
            AGENCY,
            "--type",
            "business",
            "--id",
            "LIC-0001",
            "--file",
            "licence.pdf",
            "--holder-id",
            "holder-1",
            "--valid-until",
            "2099-01-01",
        ],
    );
    let (issue_tx, issue_height) = committed(&receipt);
    assert!(is_hex64(&receipt["holder_salt"]), "{receipt}");
    // The generated salt was written to a file before the submission, readable only by us.
    let salt_file: Value =
        serde_json::from_slice(&site.read("LIC-0001.holder-salt")).expect("salt file is JSON");
    assert_eq!(
        salt_file["holder_salt"], receipt["holder_salt"],
        "{salt_file}"
    );
    assert_eq!(salt_file["holder_id"], "holder-1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(site.path("LIC-0001.holder-salt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let holder_salt = receipt["holder_salt"].as_str().unwrap().to_string();

    let q = site.json(Pw::None, &["query", "licence", "LIC-0001"]);
    let l = &q["licence"];
    assert_eq!(l["status"], "active", "{q}");
    assert_eq!(l["issuer"], AGENCY);
    assert_eq!(l["licence_type"], "business");
    assert_eq!(
        l["document_hash"],
        digest_hex(suite, &licence_file).as_str()
    );
    assert_eq!(l["issued_height"], issue_height);
    assert_eq!(l["valid_until"], "2099-01-01T00:00:00.000Z");
    let history = q["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{q}");
    assert_eq!(history[0]["tx_id"], issue_tx.as_str());
    assert_eq!(history[0]["status"], "active");

    let t = site.json(Pw::None, &["query", "tx", &issue_tx]);
    assert_eq!(t["status"], "committed");
    assert_eq!(t["height"], issue_height);

    // Export and verify offline: against the genesis, and against the binary trust anchor.
    let exported = site.json(
        Pw::None,
        &["presentation", "export", "LIC-0001", "-o", "lic.pres"],
    );
    let pres = site.read("lic.pres");
    assert_eq!(exported["size"], pres.len(), "{exported}");
    let (report, code) = site.verify("lic.pres", "genesis.json", &["--file", "licence.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("VALID"), 0),
        "{report}"
    );
    assert!(
        report["height"].as_u64().unwrap() >= issue_height,
        "{report}"
    );
    site.ok(
        Pw::None,
        &["genesis", "anchor", "genesis.json", "-o", "anchor.bin"],
    );
    let doc_hash = digest_hex(suite, &licence_file);
    let (report, code) = site.verify("lic.pres", "anchor.bin", &["--document-hash", &doc_hash]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("VALID"), 0),
        "{report}"
    );

    // Revoke (password from a file), export again: REVOKED.
    let receipt = site.json(
        Pw::File,
        &[
            "revoke",
            "--key",
            "agency.key",
            "--id",
            "LIC-0001",
            "--reason",
            "fraud",
        ],
    );
    let (revoke_tx, revoke_height) = committed(&receipt);
    assert!(revoke_height > issue_height);
    let q = site.json(Pw::None, &["query", "licence", "LIC-0001"]);
    assert_eq!(q["licence"]["status"], "revoked", "{q}");
    assert_eq!(q["licence"]["status_reason"], "fraud", "{q}");
    let statuses: Vec<&str> = q["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["active", "revoked"], "{q}");
    assert_eq!(q["history"][1]["tx_id"], revoke_tx.as_str());
    // Revoking twice is refused, with the reason.
    let out = site.run(
        Pw::File,
        &[
            "revoke",
            "--key",
            "agency.key",
            "--id",
            "LIC-0001",
            "--reason",
            "again",
        ],
    );
    site.assert_refused(&out, "final");

    site.ok(
        Pw::None,
        &["presentation", "export", "LIC-0001", "-o", "revoked.pres"],
    );
    let (report, code) = site.verify("revoked.pres", "genesis.json", &["--file", "licence.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("REVOKED"), 1),
        "{report}"
    );

    // The presentation exported before the revocation still says VALID on its own (within its
    // proof age); with a trust package exported after the revocation it says REVOKED.
    // (First, the holder: the right id and salt open the commitment, another id does not.)
    let (report, code) = site.verify(
        "lic.pres",
        "genesis.json",
        &[
            "--holder-id",
            "holder-1",
            "--holder-salt",
            &holder_salt,
            "--expect",
            "licence",
        ],
    );
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("VALID"), 0),
        "{report}"
    );
    assert_eq!(report["holder_checked"], true, "{report}");
    let (report, code) = site.verify(
        "lic.pres",
        "genesis.json",
        &["--holder-id", "holder-2", "--holder-salt", &holder_salt],
    );
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("HOLDER MISMATCH"), 1),
        "{report}"
    );
    // The same through the node's POST /v1/verify.
    let (status, v) = site
        .client()
        .post_bytes(
            &format!("/v1/verify?expect=licence&holder_id=holder-2&holder_salt={holder_salt}"),
            &site.read("lic.pres"),
        )
        .unwrap();
    assert_eq!(
        (status, v["verdict"].as_str()),
        (200, Some("HOLDER MISMATCH")),
        "{v}"
    );
    let (report, code) = site.verify("lic.pres", "genesis.json", &[]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("VALID"), 0),
        "{report}"
    );
    let exported = site.json(Pw::None, &["trust-package", "export", "-o", "pkg.bin"]);
    assert_eq!(exported["size"], site.read("pkg.bin").len(), "{exported}");
    let shown = site.json(
        Pw::None,
        &[
            "trust-package",
            "show",
            "pkg.bin",
            "--trust",
            "genesis.json",
        ],
    );
    assert_eq!(shown["verified"], true, "{shown}");
    assert_eq!(shown["revocations"]["revoked"], 1, "{shown}");
    assert!(
        shown["checkpoint"]["height"].as_u64().unwrap() >= revoke_height,
        "{shown}"
    );
    let (report, code) = site.verify("lic.pres", "genesis.json", &["--trust-package", "pkg.bin"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("REVOKED"), 1),
        "{report}"
    );
    assert_eq!(
        report["trust_package"]["checkpoint_height"], shown["checkpoint"]["height"],
        "{report}"
    );
    // A package altered in transit is refused with the reason, not used.
    let mut bad = site.read("pkg.bin");
    let last = bad.len() - 1;
    bad[last] ^= 1;
    site.write("bad-pkg.bin", &bad);
    let out = site.run(
        Pw::None,
        &[
            "verify",
            "--presentation",
            "lic.pres",
            "--trust",
            "genesis.json",
            "--trust-package",
            "bad-pkg.bin",
        ],
    );
    out.assert_code(exit::OTHER)
        .assert_stderr_has("cannot be used");
    // A compact presentation at the package's checkpoint: a few hundred bytes, verified with
    // the package only.
    let exported = site.json(
        Pw::None,
        &[
            "presentation",
            "export",
            "LIC-0001",
            "--compact",
            "-o",
            "lic.cpres",
        ],
    );
    let compact = site.read("lic.cpres");
    assert!(compact.len() <= 500, "{exported}");
    site.ok(Pw::None, &["trust-package", "export", "-o", "pkg2.bin"]);
    let (report, code) = site.verify(
        "lic.cpres",
        "genesis.json",
        &["--trust-package", "pkg2.bin", "--file", "licence.pdf"],
    );
    assert_eq!(report["kind"], "compact", "{report}");
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("REVOKED"), 1),
        "{report}"
    );
    let (report, _) = site.verify("lic.cpres", "genesis.json", &[]);
    assert_eq!(report["verdict"], "UNKNOWN ISSUER", "{report}");
    // A licence issued and suspended after the package: a delta brings the package up to date.
    for (command, extra) in [
        (
            "issue",
            vec![
                "--agency",
                AGENCY,
                "--type",
                "business",
                "--file",
                "licence.pdf",
                "--holder-id",
                "holder-2",
            ],
        ),
        ("suspend", vec!["--reason", "inspection"]),
    ] {
        let mut args = vec![command, "--key", "agency.key", "--id", "LIC-DELTA"];
        args.extend(extra);
        site.json(Pw::Env, &args);
    }
    let updated = site.json(
        Pw::None,
        &[
            "trust-package",
            "update",
            "pkg2.bin",
            "-o",
            "pkg3.bin",
            "--trust",
            "genesis.json",
        ],
    );
    // (On a chain this small a delta is about the size of a package; at scale it is the
    // changes only: contracts/tests/trust_package.rs.)
    assert!(
        updated["checkpoint"].as_u64().unwrap() > updated["from_checkpoint"].as_u64().unwrap(),
        "{updated}"
    );
    let shown = site.json(
        Pw::None,
        &[
            "trust-package",
            "show",
            "pkg3.bin",
            "--trust",
            "genesis.json",
        ],
    );
    assert_eq!(shown["revocations"]["suspended"], 1, "{shown}");
    assert_eq!(shown["revocations"]["revoked"], 1, "{shown}");
    // A delta since a height that is no checkpoint is refused with the reason.
    let out = site.run(
        Pw::None,
        &[
            "trust-package",
            "update",
            "bad-pkg.bin",
            "-o",
            "x.bin",
            "--trust",
            "genesis.json",
        ],
    );
    out.assert_code(exit::OTHER)
        .assert_stderr_has("cannot be used");

    // A flipped byte in the middle of the (valid) presentation: TAMPERED.
    let mut tampered = pres.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0xff;
    site.write("tampered.pres", &tampered);
    let (report, code) = site.verify("tampered.pres", "genesis.json", &["--file", "licence.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("TAMPERED"), 1),
        "{report}"
    );

    // The valid presentation with another file: TAMPERED, and the document check says why.
    let (report, code) = site.verify("lic.pres", "genesis.json", &["--file", "forged.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("TAMPERED"), 1),
        "{report}"
    );
    let doc_check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "document_hash")
        .unwrap_or_else(|| panic!("no document_hash check: {report}"));
    assert_eq!(doc_check["outcome"], "fail", "{report}");

    // Evidence: anchor, query, receipt, verify.
    let evidence_file = format!("exhibit A ({suite_name})\n").into_bytes();
    site.write("exhibit.pdf", &evidence_file);
    let receipt = site.json(
        Pw::File,
        &[
            "evidence",
            "anchor",
            "exhibit.pdf",
            "--key",
            "court.key",
            "--submitter",
            SUBMITTER,
            "--label",
            "exhibit A",
        ],
    );
    let (anchor_tx, anchor_height) = committed(&receipt);
    let evidence_hash = digest_hex(suite, &evidence_file);
    assert_eq!(receipt["evidence_hash"], evidence_hash.as_str());
    let e = site.json(Pw::None, &["query", "evidence", &evidence_hash]);
    assert_eq!(e["evidence"]["submitter"], SUBMITTER, "{e}");
    assert_eq!(e["evidence"]["label"], "exhibit A", "{e}");
    assert_eq!(e["evidence"]["tx_id"], anchor_tx.as_str(), "{e}");
    assert_eq!(e["evidence"]["height"], anchor_height, "{e}");
    let r = site.json(
        Pw::None,
        &[
            "evidence",
            "receipt",
            "--file",
            "exhibit.pdf",
            "-o",
            "ev.rcpt",
        ],
    );
    assert_eq!(r["hash"], evidence_hash.as_str());
    let (report, code) = site.verify("ev.rcpt", "genesis.json", &[]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("ANCHORED"), 0),
        "{report}"
    );
    let (report, code) = site.verify("ev.rcpt", "genesis.json", &["--file", "exhibit.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("ANCHORED"), 0),
        "{report}"
    );
    let (report, code) = site.verify("ev.rcpt", "genesis.json", &["--file", "forged.pdf"]);
    assert_ne!(report["verdict"], "ANCHORED", "{report}");
    assert_eq!(code, 1);
    // The independent Python verifier (PROTOCOL.md alone), as a court would run it on the same
    // files and the genesis file, agrees with `lichen verify` on VALID, REVOKED, ANCHORED and
    // TAMPERED.
    for (file, extra, expected) in [
        ("lic.pres", vec![], "VALID"),
        ("revoked.pres", vec![], "REVOKED"),
        ("ev.rcpt", vec!["--document", "exhibit.pdf"], "ANCHORED"),
        (
            "tampered.pres",
            vec!["--document", "licence.pdf"],
            "TAMPERED",
        ),
    ] {
        let (ours, our_code) = site.verify(
            file,
            "genesis.json",
            &extra
                .iter()
                .map(|a| if *a == "--document" { "--file" } else { a })
                .collect::<Vec<_>>(),
        );
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/independent_verifier.py"
        );
        let out = Command::new("python3")
            .current_dir(site.path(""))
            .args([
                script,
                "--json",
                "--trust",
                "genesis.json",
                "--presentation",
                file,
            ])
            .args(&extra)
            .output()
            .expect("python3 runs");
        let theirs: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{file}: the Python verifier printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(ours["verdict"], expected, "{ours}");
        assert_eq!(theirs["verdict"], expected, "{file}: {theirs}");
        assert_eq!(out.status.code(), Some(our_code), "{file}");
    }
    // At a licence desk a receipt is WRONG KIND, however genuine; at an evidence desk it passes.
    let (report, code) = site.verify("ev.rcpt", "genesis.json", &["--expect", "licence"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("WRONG KIND"), 1),
        "{report}"
    );
    let (report, code) = site.verify("ev.rcpt", "genesis.json", &["--expect", "evidence"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("ANCHORED"), 0),
        "{report}"
    );

    // Another chain's genesis vouches for neither.
    let (report, code) = site.verify("lic.pres", "other.json", &["--file", "licence.pdf"]);
    assert_ne!(report["verdict"], "VALID", "{report}");
    assert_eq!(code, 1, "{report}");
    let (report, code) = site.verify("ev.rcpt", "other.json", &[]);
    assert_ne!(report["verdict"], "ANCHORED", "{report}");
    assert_eq!(code, 1, "{report}");

    let status = site.json(Pw::None, &["status"]);
    assert_eq!(status["suite"], suite_name);
    assert!(height_of(&status) >= anchor_height, "{status}");
    assert_eq!(status["validators"], 1);

    Tour {
        issue_tx,
        revoke_tx,
        evidence_hash,
    }
}

// ------------------------------------------------------------------------------- tests

/// Scenarios 1 (SM suite), 2 (restart) and 5 (governance with a council threshold of 2).
#[test]
fn sm_tour_restart_and_governance() {
    let mut site = Site::new();
    let genesis_hash = make_chain(&site, "sm", "tour-sm", 2);
    let node = site.start_node("node.toml", Pw::Env, "first");
    let status = site.json(Pw::None, &["status"]);
    assert_eq!(status["chain_id"], "tour-sm");
    assert_eq!(status["genesis_hash"], genesis_hash.as_str());
    assert_eq!(status["suite"], "sm");

    let tour = tour(&site, "sm");

    // ---- restart: SIGTERM, then the same data directory again.
    let before = site.json(Pw::None, &["status"]);
    let licence_before = site.json(Pw::None, &["query", "licence", "LIC-0001"]);
    let evidence_before = site.json(Pw::None, &["query", "evidence", &tour.evidence_hash]);
    node.stop();
    site.run(Pw::None, &["status"])
        .assert_code(exit::UNREACHABLE)
        .assert_stderr_has("cannot reach the node");
    let node = site.start_node("node.toml", Pw::File, "second");

    let after = site.json(Pw::None, &["status"]);
    assert_eq!(after["genesis_hash"], genesis_hash.as_str());
    assert!(height_of(&after) >= height_of(&before), "{before}\n{after}");
    let h = height_of(&before).to_string();
    let block = site.json(Pw::None, &["query", "block", &h]);
    assert_eq!(
        block["block"]["header"]["hash"], before["block_hash"],
        "{block}"
    );
    assert!(block["certificate"].is_object(), "{block}");
    let licence_after = site.json(Pw::None, &["query", "licence", "LIC-0001"]);
    assert_eq!(licence_after["licence"], licence_before["licence"]);
    assert_eq!(licence_after["history"], licence_before["history"]);
    assert_eq!(licence_after["history"].as_array().unwrap().len(), 2);
    let evidence_after = site.json(Pw::None, &["query", "evidence", &tour.evidence_hash]);
    assert_eq!(evidence_after, evidence_before);
    for id in [&tour.issue_tx, &tour.revoke_tx] {
        let t = site.json(Pw::None, &["query", "tx", id]);
        assert_eq!(t["status"], "committed", "{t}");
    }
    // Still verifiable, and new transactions still commit.
    site.ok(
        Pw::None,
        &["presentation", "export", "LIC-0001", "-o", "after.pres"],
    );
    let (report, code) = site.verify("after.pres", "genesis.json", &["--file", "licence.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("REVOKED"), 1),
        "{report}"
    );
    site.write("licence2.pdf", b"second licence\n");
    let doc2 = digest_hex(Suite::Sm, b"second licence\n");
    let receipt = site.json(
        Pw::File,
        &[
            "issue",
            "--key",
            "agency.key",
            "--agency",
            AGENCY,
            "--type",
            "business",
            "--id",
            "LIC-0002",
            "--document-hash",
            &doc2,
            "--holder-id",
            "holder-2",
        ],
    );
    let (_, height2) = committed(&receipt);
    assert!(height2 > height_of(&before), "{receipt}");
    site.ok(
        Pw::None,
        &["presentation", "export", "LIC-0002", "-o", "lic2.pres"],
    );
    let (report, code) = site.verify("lic2.pres", "genesis.json", &["--file", "licence2.pdf"]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("VALID"), 0),
        "{report}"
    );

    // ---- governance: threshold 2.
    let client = site.client();
    let has_tax = |c: &Client| {
        c.get_json("/v1/agencies").unwrap()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "tax-bureau")
    };
    assert!(!has_tax(&client));
    let proposal = site.json(
        Pw::Env,
        &[
            "gov",
            "propose",
            "add-agency",
            "--key",
            "council1.key",
            "-o",
            "p.tx",
            "--id",
            "tax-bureau",
            "--name",
            "Tax Bureau",
            "--agency-key",
            "tax.key.pub",
        ],
    );
    assert_eq!(proposal["signatures"], 1, "{proposal}");
    let shown = site.json(Pw::None, &["gov", "show", "p.tx"]);
    assert_eq!(shown["id"], proposal["id"]);
    assert_eq!(shown["signatures"], 1);
    // One signature of two: refused, nothing changes.
    let out = site.run(Pw::None, &["gov", "submit", "p.tx"]);
    site.assert_refused(&out, "threshold is 2");
    assert!(!has_tax(&client));
    site.ok(
        Pw::File,
        &["gov", "approve", "p.tx", "--key", "council2.key"],
    );
    site.run(
        Pw::File,
        &["gov", "approve", "p.tx", "--key", "council2.key"],
    )
    .assert_code(exit::OTHER)
    .assert_stderr_has("already signed");
    assert_eq!(
        site.json(Pw::None, &["gov", "show", "p.tx"])["signatures"],
        2
    );
    let receipt = site.json(Pw::None, &["gov", "submit", "p.tx"]);
    let (gov_tx, _) = committed(&receipt);
    assert_eq!(receipt["id"], proposal["id"]);
    let agencies = client.get_json("/v1/agencies").unwrap();
    let tax = agencies["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "tax-bureau")
        .unwrap_or_else(|| panic!("tax-bureau not listed: {agencies}"));
    assert_eq!(tax["name"], "Tax Bureau");
    assert_eq!(tax["status"], "active");
    let tax_pub = fs::read_to_string(site.path("tax.key.pub")).unwrap();
    assert_eq!(tax["keys"][0], tax_pub.trim());
    let t = site.json(Pw::None, &["query", "tx", &gov_tx]);
    assert_eq!(t["status"], "committed");

    // ---- key rotation: the council replaces the agency's key; the old one signs nothing more.
    site.json(
        Pw::Env,
        &["keygen", "--algo", "sm2", "-o", "agency-new.key"],
    );
    let rotate = |args: &[&str]| {
        let mut all = vec!["gov", "propose"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--key", "council1.key", "-o", "rotate.tx"]);
        site.json(Pw::Env, &all);
        site.ok(
            Pw::File,
            &["gov", "approve", "rotate.tx", "--key", "council2.key"],
        );
        site.json(Pw::None, &["gov", "submit", "rotate.tx"])
    };
    rotate(&[
        "update-agency",
        "--id",
        AGENCY,
        "--agency-key",
        "agency-new.key.pub",
    ]);
    let issue = |key: &str, id: &str| {
        site.run(
            Pw::Env,
            &[
                "--json",
                "issue",
                "--key",
                key,
                "--agency",
                AGENCY,
                "--type",
                "business",
                "--id",
                id,
                "--file",
                "licence.pdf",
                "--holder-id",
                "holder-1",
            ],
        )
    };
    let out = issue("agency.key", "LIC-ROTATED-OLD");
    out.assert_code(exit::REFUSED);
    site.assert_refused(&out, "is not a key of agency 'market-bureau'");
    issue("agency-new.key", "LIC-ROTATED-NEW").ok();
    let agency = client.get_json("/v1/agencies?limit=500").unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == AGENCY)
        .cloned()
        .unwrap();
    let new_pub = fs::read_to_string(site.path("agency-new.key.pub")).unwrap();
    assert_eq!(
        agency["keys"],
        serde_json::json!([new_pub.trim()]),
        "{agency}"
    );
    // Nothing to change is refused before anything is signed.
    site.run(
        Pw::Env,
        &[
            "gov",
            "propose",
            "update-agency",
            "--id",
            AGENCY,
            "--key",
            "council1.key",
            "-o",
            "x.tx",
        ],
    )
    .assert_code(exit::OTHER)
    .assert_stderr_has("nothing to change");
    node.stop();
}

/// Scenario 1 for the intl suite (Ed25519), then scenario 4: bad input gets clear errors and
/// changes nothing.
#[test]
fn intl_tour_and_bad_input() {
    let mut site = Site::new();
    make_chain(&site, "intl", "tour-intl", 1);
    let node = site.start_node("node.toml", Pw::File, "first");
    tour(&site, "intl");

    // Wrong passwords, from the environment and from a file.
    for pw in [Pw::WrongEnv, Pw::WrongFile] {
        site.run(pw, &["key", "show", "agency.key"])
            .assert_code(exit::OTHER)
            .assert_stderr_has("password");
    }
    // People read times in their own zone (a POSIX TZ: no tz database needed): the licence's
    // validity and the status time, local, with the zone and offset.
    let mut cmd = site.command(Pw::None);
    cmd.env("TZ", "CST-8").args([
        "verify",
        "--presentation",
        "lic.pres",
        "--trust",
        "genesis.json",
    ]);
    let out = output_within(cmd, CLI_TIMEOUT, "verify in CST-8".into());
    let valid = out
        .stdout
        .lines()
        .find(|l| l.starts_with("licence LIC-0001"))
        .unwrap_or_else(|| panic!("no licence line:\n{}", out.stdout));
    assert!(
        valid.contains("valid from 20") && valid.contains("CST (UTC+08:00)"),
        "{valid}"
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("status as of") && l.contains("(UTC+08:00)")),
        "{}",
        out.stdout
    );

    // A usage error is clap's 2; completions for the shells.
    site.run(Pw::None, &["issue", "--agency"])
        .assert_code(exit::USAGE);
    for (shell, marker) in [
        ("bash", "_lichen()"),
        ("zsh", "#compdef lichen"),
        ("fish", "complete -c lichen"),
    ] {
        let out = site.ok(Pw::None, &["completions", shell]);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        assert!(
            out.stdout.contains("trust-package"),
            "{shell} completes the subcommands"
        );
    }

    // What operators scrape: readiness and Prometheus metrics that moved with the tour.
    let client = site.client();
    let ready = client.get_json("/ready").unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["quorum"], 1);
    let metrics = String::from_utf8(client.get_bytes("/metrics").unwrap()).unwrap();
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from\n{metrics}"))
    };
    assert!(value("lichen_height") >= 1.0);
    assert!(value("lichen_transactions_committed_total") >= 1.0);
    assert!(value("lichen_transactions_admitted_total") >= 1.0);
    assert!(value("lichen_storage_bytes") > 0.0);
    // The storage engine's gauges are there (a small chain's bytes may all be in a memtable).
    assert!(value("lichen_storage_memtable_bytes") + value("lichen_storage_tables") > 0.0);
    assert!(value("lichen_storage_level0_tables") <= value("lichen_storage_tables"));
    assert!(value("lichen_storage_cache_bytes") >= 0.0);
    // The queues peers fill: bounded by the driver's byte budget, and the relay backlog.
    let queued = value("lichen_p2p_inputs_queued_bytes");
    assert!((0.0..=lichen_node::runtime::INPUT_QUEUE_BYTES_MAX as f64).contains(&queued));
    assert!(value("lichen_relay_batches_waiting") >= 0.0);
    assert!(value("lichen_committed_ids_covered_above") >= -1.0);
    assert_eq!(value("lichen_ready"), 1.0);
    assert!(value("lichen_commit_write_seconds_count") >= 1.0);

    // An agency issuing a type it is not authorised for: refused with the reason, and the chain
    // records nothing (no licence; every block since is empty).
    let h0 = height_of(&client.get_json("/v1/status").unwrap());
    let out = site.run(
        Pw::Env,
        &[
            "issue",
            "--key",
            "agency.key",
            "--agency",
            AGENCY,
            "--type",
            "food",
            "--id",
            "LIC-FOOD",
            "--document-hash",
            &"ab".repeat(32),
            "--holder-id",
            "holder-9",
        ],
    );
    site.assert_refused(
        &out,
        "agency 'market-bureau' is not authorised to issue licence type 'food'",
    );
    // Another agency's key for market-bureau: refused too.
    let out = site.run(
        Pw::Env,
        &[
            "issue",
            "--key",
            "agency2.key",
            "--agency",
            AGENCY,
            "--type",
            "business",
            "--id",
            "LIC-FOOD",
            "--document-hash",
            &"ab".repeat(32),
            "--holder-id",
            "holder-9",
        ],
    );
    site.assert_refused(&out, "is not a key of agency 'market-bureau'");
    site.run(Pw::None, &["query", "licence", "LIC-FOOD"])
        .assert_code(exit::REFUSED)
        .assert_stderr_has("not found");
    let status = client.get_json("/v1/status").unwrap();
    assert_eq!(status["mempool"]["transactions"], 0, "{status}");
    for h in h0 + 1..=height_of(&status) {
        let b = client.get_json(&format!("/v1/blocks/{h}")).unwrap();
        assert_eq!(b["block"]["header"]["tx_count"], 0, "block {h}: {b}");
    }

    // The API: too large, garbage, unknown route.
    let big = vec![0u8; 2 * 1024 * 1024];
    match client.post_bytes("/v1/transactions", &big) {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (413, "body_too_large"));
        }
        other => panic!("2 MiB body: {other:?}"),
    }
    // The 413 leaves the unread body behind; the node says `Connection: close`, so the same
    // client reconnects for what follows.
    match client.post_bytes(
        "/v1/transactions?wait=final",
        b"certainly not a transaction",
    ) {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "malformed_tx"));
        }
        other => panic!("garbage: {other:?}"),
    }
    match client.get_json("/v1/no-such-thing") {
        Err(ClientError::Api {
            status, code, body, ..
        }) => {
            assert_eq!(status, 404);
            assert_eq!(code, "no_such_route");
            assert!(body["error"]["message"].is_string(), "{body}");
        }
        other => panic!("unknown route: {other:?}"),
    }
    assert_eq!(
        client.get_json("/v1/status").unwrap()["mempool"]["transactions"],
        0
    );

    // Genesis editing: a licence type for an unknown agency is refused, the file untouched.
    let genesis_before = site.read("genesis.json");
    site.run(
        Pw::None,
        &[
            "genesis",
            "add-licence-type",
            "--code",
            "fishing",
            "--name",
            "Fishing",
            "--agency",
            "no-such-agency",
        ],
    )
    .assert_code(exit::OTHER)
    .assert_stderr_has("agency 'no-such-agency' is not in the genesis");
    assert_eq!(site.read("genesis.json"), genesis_before);

    // Verify errors (not verdicts) exit 2.
    site.run(
        Pw::None,
        &[
            "verify",
            "--presentation",
            "missing.pres",
            "--trust",
            "genesis.json",
        ],
    )
    .assert_code(exit::OTHER)
    .assert_stderr_has("missing.pres");

    // A node on this data directory with another genesis refuses to start, naming both.
    let height_before = height_of(&client.get_json("/v1/status").unwrap());
    node.stop();
    site.write(
        "wrong.toml",
        b"genesis = \"other.json\"\nkey = \"other-validator.key\"\ndata_dir = \"data\"\n",
    );
    let other_hash = site.json(Pw::None, &["genesis", "hash", "other.json"])["genesis_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let (mut child, port, _, stderr) = Node::spawn(&site, "wrong.toml", Pw::Env, "wrong");
    let status = wait_within(&mut child, EXIT_TIMEOUT).unwrap_or_else(|| {
        panic!(
            "a node with the wrong genesis kept running (port {port}):\n{}",
            fs::read_to_string(&stderr).unwrap()
        )
    });
    let err = fs::read_to_string(&stderr).unwrap();
    assert_eq!(status.code(), Some(i32::from(exit::OTHER)), "{err}");
    for needle in [
        "not the genesis given",
        "other-chain",
        &other_hash,
        "tour-intl",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    // ... and the data is unharmed.
    let node = site.start_node("node.toml", Pw::Env, "again");
    let status = site.json(Pw::None, &["status"]);
    assert_eq!(status["chain_id"], "tour-intl");
    assert!(height_of(&status) >= height_before);
    let q = site.json(Pw::None, &["query", "licence", "LIC-0001"]);
    assert_eq!(q["licence"]["status"], "revoked");

    // A new node's data from this one's checkpoint (`lichen node sync`), checked from the
    // genesis file; then that node, run alone as an observer, answers for the chain.
    let source = site.url.clone();
    site.write(
        "synced.toml",
        b"genesis = \"genesis.json\"\ndata_dir = \"synced\"\n",
    );
    let out = site.ok(
        Pw::None,
        &["node", "sync", "--config", "synced.toml", "--from", &source],
    );
    assert!(out.stdout.contains("synced"), "{}", out.stdout);
    // Never over data that is there, and nothing kept from an unreachable source.
    site.run(
        Pw::None,
        &["node", "sync", "--config", "synced.toml", "--from", &source],
    )
    .assert_code(exit::OTHER)
    .assert_stderr_has("not empty");
    site.write(
        "nowhere.toml",
        b"genesis = \"genesis.json\"\ndata_dir = \"nowhere\"\n",
    );
    site.run(
        Pw::None,
        &[
            "node",
            "sync",
            "--config",
            "nowhere.toml",
            "--from",
            "http://127.0.0.1:9",
        ],
    )
    .assert_code(exit::UNREACHABLE)
    .assert_stderr_has("nothing was kept");
    assert!(!site.path("nowhere.state-sync").exists());
    node.stop();
    let synced = site.start_node("synced.toml", Pw::None, "synced");
    let q = site.json(Pw::None, &["query", "licence", "LIC-0001"]);
    assert_eq!(q["licence"]["status"], "revoked");
    let status = site.json(Pw::None, &["status"]);
    assert_eq!(status["chain_id"], "tour-intl");
    synced.stop();
}

/// Scenario 3: every transaction the node acknowledged as final survives `kill -9`.
#[test]
fn kill_9_loses_no_acknowledged_transaction() {
    const TOTAL: usize = 60;
    const WORKERS: usize = 3;
    let mut site = Site::new();
    make_chain(&site, "sm", "crash-sm", 1);
    let mut node = site.start_node("node.toml", Pw::Env, "first");
    let client = site.client();
    let status = client.get_json("/v1/status").unwrap();
    let chain_id = status["chain_id"].as_str().unwrap().to_string();
    let height = height_of(&status);

    // Sign every transaction up front, in-process.
    let key = keystore::open(&site.read("court.key"), PASSWORD.as_bytes()).unwrap();
    let suite = Suite::Sm;
    let txs = common::evidence_txs(
        suite,
        &chain_id,
        &key,
        SUBMITTER,
        "crash",
        TOTAL as u64,
        height + 100,
    );
    let txs = Arc::new(txs);

    let next = Arc::new(AtomicUsize::new(0));
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (txs, next, acked, killed, failures) = (
                txs.clone(),
                next.clone(),
                acked.clone(),
                killed.clone(),
                failures.clone(),
            );
            let client = client.clone();
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((id, bytes)) = txs.get(i) else {
                        return;
                    };
                    match client.post_bytes("/v1/transactions?wait=final&timeout_ms=20000", bytes) {
                        Ok((200, body)) if body["status"] == "committed" && body["id"] == *id => {
                            let h = body["height"].as_u64().unwrap();
                            acked.lock().unwrap().push((id.clone(), h));
                        }
                        other => {
                            if !killed.load(Ordering::SeqCst) {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("tx {i} before the kill: {other:?}"));
                            }
                            return;
                        }
                    }
                }
            })
        })
        .collect();

    // Kill at a random point after 20 acknowledgements.
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let target = 20 + (seed % 16) as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < target {
        assert!(
            failures.lock().unwrap().is_empty(),
            "{:?}",
            failures.lock().unwrap()
        );
        assert!(
            Instant::now() < deadline,
            "only {} of {target} transactions acknowledged within 30 s:\n{}",
            acked.lock().unwrap().len(),
            node.logs()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.store(true, Ordering::SeqCst);
    node.kill9();
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{failures:?}");
    let acked = acked.lock().unwrap().clone();
    let sent = next.load(Ordering::SeqCst).min(TOTAL);
    assert!(acked.len() >= target, "{} < {target}", acked.len());
    assert!(
        acked.len() < TOTAL,
        "every transaction finished before the kill; the crash tested nothing"
    );

    // Restart on the same data: every acknowledged transaction is there.
    drop(node);
    let node = site.start_node("node.toml", Pw::File, "after-kill");
    let client = site.client();
    let status = client.get_json("/v1/status").unwrap();
    let top = acked.iter().map(|(_, h)| *h).max().unwrap();
    assert!(
        height_of(&status) >= top,
        "height {status} < acknowledged {top}"
    );
    for (id, h) in &acked {
        let t = client
            .get_json(&format!("/v1/transactions/{id}"))
            .unwrap_or_else(|e| panic!("acknowledged {id} lost after kill -9: {e}"));
        assert_eq!(t["status"], "committed", "{t}");
        assert_eq!(t["height"], *h, "{t}");
    }
    let (first_id, first_height) = &acked[0];
    let t = site.json(Pw::None, &["query", "tx", first_id]);
    assert_eq!(t["id"], first_id.as_str());
    assert_eq!(t["status"], "committed");
    assert_eq!(t["height"], *first_height);
    // The store is consistent: a receipt for an acknowledged anchor verifies offline.
    let i = txs.iter().position(|(id, _)| id == first_id).unwrap();
    let hash = suite
        .digest(format!("crash document {i}").as_bytes())
        .to_hex();
    site.ok(
        Pw::None,
        &["evidence", "receipt", &hash, "-o", "crash.rcpt"],
    );
    let (report, code) = site.verify("crash.rcpt", "genesis.json", &[]);
    assert_eq!(
        (report["verdict"].as_str(), code),
        (Some("ANCHORED"), 0),
        "{report}"
    );
    // And new transactions commit.
    site.write("after-crash.pdf", b"after the crash\n");
    let receipt = site.json(
        Pw::Env,
        &[
            "evidence",
            "anchor",
            "after-crash.pdf",
            "--key",
            "court.key",
            "--submitter",
            SUBMITTER,
        ],
    );
    committed(&receipt);
    eprintln!(
        "kill -9 after {} acknowledged of {sent} sent; all {} found after restart",
        acked.len(),
        acked.len()
    );
    node.stop();
}
