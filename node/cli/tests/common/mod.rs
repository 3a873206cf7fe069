//! What the tests of the real `lichen` binary share: the binary, ports, running it, and evidence
//! transactions signed in-process for load.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{SecretKey, Suite};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction, TxSignature};

pub const BIN: &str = env!("CARGO_BIN_EXE_lichen");

#[path = "../../../tests/common/ports.rs"]
mod ports;
#[allow(unused_imports)] // some test binaries start no node
pub use ports::free_port;

/// Runs `lichen args` in `dir` with no standard input and `env` set: its exit code, stdout and
/// stderr. `LICHEN_NODE` is cleared unless `env` sets it.
pub fn lichen_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(BIN);
    command.current_dir(dir).env_remove("LICHEN_NODE");
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `count` evidence anchors by `submitter`, signed with `key` for `chain_id`, expiring
/// `expiry_ahead` blocks after `height`, with nonces no earlier run used: (id hex, bytes) each.
pub fn evidence_txs(
    suite: Suite,
    chain_id: &str,
    key: &SecretKey,
    submitter: &str,
    tag: &str,
    count: u64,
    expires_at_height: u64,
) -> Vec<(String, Vec<u8>)> {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    (0..count)
        .map(|i| {
            let tx = Transaction {
                chain_id: chain_id.to_string(),
                nonce: seed.wrapping_add(i),
                expires_at_height,
                payload: Payload::AnchorEvidence {
                    hash: suite.digest(format!("{tag} document {i}").as_bytes()),
                    submitter: submitter.to_string(),
                    label: format!("{tag} {i}"),
                },
            };
            let id = tx.id(suite);
            let signed = SignedTransaction {
                tx,
                signatures: vec![TxSignature {
                    key: key.public_key(),
                    signature: key.sign(id.as_bytes()),
                }],
            };
            (id.to_hex(), signed.to_bytes())
        })
        .collect()
}
