//! `lichen import` against `lichen dev`: 1,000 CSV rows (and two bad ones) are issued; the first
//! run is killed (SIGKILL) part way, the rerun finishes from the journal, and in the end every
//! good row is one licence on chain, issued once, the bad rows are in the rejects file with
//! their reasons, and every committed licence's holder salt opens its holder commitment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, free_port};
use lichen_client::Client;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::model::holder_commitment;
use serde_json::Value;

const ROWS: usize = 1_000;
const PASSWORD: &str = "lichen-dev";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const IMPORT_TIMEOUT: Duration = Duration::from_secs(300);

/// `lichen dev` in `dir` until dropped.
struct Dev {
    child: Child,
    url: String,
}

impl Dev {
    fn start(dir: &Path) -> Dev {
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .args(["dev", "--dir", "chain", "--port", &free_port().to_string()])
            .args(["--heartbeat-ms", "500"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + START_TIMEOUT;
        let url = loop {
            assert!(Instant::now() < deadline, "lichen dev printed no banner");
            let line = lines.next().expect("lichen dev exited").unwrap();
            if let Some(at) = line.find("serving http://") {
                break line[at + "serving ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_string();
            }
        };
        // Keep reading its output, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Dev { child, url }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn import(dir: &Path, url: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env("LICHEN_PASSWORD", PASSWORD)
        .args([
            "--json",
            "import",
            "rows.csv",
            "--key",
            "chain/keys/market-bureau.key",
        ])
        .args(["--agency", "market-bureau", "--node", url, "--batch", "64"])
        .stdin(Stdio::null());
    c
}

fn done_lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("rows.csv.journal"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"done\""))
        .count()
}

#[test]
fn a_killed_import_resumes_and_issues_every_row_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let dev = Dev::start(dir);

    // 1,000 good rows (documents by hash, and one by file), then two bad ones.
    let mut csv = String::from("id,licence_type,holder_id,document,document_hash,valid_until\n");
    std::fs::write(
        dir.join("licence-0.pdf"),
        b"%PDF-1.7 the first imported licence",
    )
    .unwrap();
    for i in 0..ROWS {
        let hash = Suite::Sm
            .digest(format!("imported licence {i}").as_bytes())
            .to_hex();
        if i == 0 {
            csv.push_str("IMP-00000,business,holder-0,licence-0.pdf,,2099-01-01\n");
        } else {
            csv.push_str(&format!("IMP-{i:05},business,holder-{i},,{hash},\n"));
        }
    }
    csv.push_str(&format!(
        "bad id with spaces,business,holder-x,,{},\n",
        Suite::Sm.digest(b"bad").to_hex()
    ));
    csv.push_str(&format!(
        "IMP-FOOD,food,holder-y,,{},\n",
        Suite::Sm.digest(b"food").to_hex()
    ));
    std::fs::write(dir.join("rows.csv"), csv).unwrap();

    // The first run, killed once a few hundred rows are through.
    let mut first = import(dir, &dev.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + IMPORT_TIMEOUT;
    while done_lines(dir) < ROWS / 4 {
        assert!(Instant::now() < deadline, "the first run made no progress");
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let before = done_lines(dir);
    assert!(
        before < ROWS,
        "killed too late to test resuming ({before} done)"
    );

    // The rerun finishes; exit 4 because two rows were refused.
    let out = import(dir, &dev.url).output().unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(4), "{summary}");
    assert_eq!(summary["committed"], ROWS, "{summary}");
    assert_eq!(summary["refused"], 2, "{summary}");
    assert!(
        summary["done_before"].as_u64().unwrap() >= (ROWS / 4) as u64,
        "{summary}"
    );

    // On chain: exactly the 1,000 licences, each once.
    let client = Client::new(&dev.url);
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = client
            .page(
                "/v1/agencies/market-bureau/licences",
                500,
                cursor.as_deref(),
            )
            .unwrap();
        for item in &page.items {
            let id = item["id"].as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "{id} listed twice");
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: BTreeSet<String> = (0..ROWS).map(|i| format!("IMP-{i:05}")).collect();
    assert_eq!(ids, expected);

    // The bad rows, with reasons; the salts open the holder commitments.
    let rejects = std::fs::read_to_string(dir.join("rows.csv.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 3, "{rejects}");
    assert!(
        rejects.contains("bad id with spaces") && rejects.contains("licence id"),
        "{rejects}"
    );
    assert!(
        rejects.contains("IMP-FOOD") && rejects.contains("not authorised"),
        "{rejects}"
    );
    let salts = std::fs::read_to_string(dir.join("rows.csv.salts.csv")).unwrap();
    assert_eq!(
        salts.lines().count(),
        ROWS + 1,
        "a header and one salt per licence"
    );
    let first_salt = salts.lines().nth(1).unwrap();
    let (id, salt) = first_salt.split_once(',').unwrap();
    let record = client.licence(id).unwrap();
    let salt: [u8; 32] = lichen_views::parse_hex(salt).unwrap().try_into().unwrap();
    let i: usize = id.trim_start_matches("IMP-").parse().unwrap();
    assert_eq!(
        record.licence.holder_commitment,
        holder_commitment(Suite::Sm, &salt, &format!("holder-{i}")).to_hex()
    );
    assert_eq!(
        Hash32::from_hex(&record.licence.document_hash).unwrap(),
        Suite::Sm.digest(
            if i == 0 {
                b"%PDF-1.7 the first imported licence".to_vec()
            } else {
                format!("imported licence {i}").into_bytes()
            }
            .as_slice()
        )
    );

    // A third run has nothing left to do.
    let out = import(dir, &dev.url).output().unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["done_before"], ROWS + 1, "{summary}");
}
