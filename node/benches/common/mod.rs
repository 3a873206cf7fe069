//! Helpers shared by the node benchmarks: command-line arguments, pre-signed issue transactions,
//! percentiles.
// Each bench target compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};

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
    let suite = chain.suite;
    ids.map(|i| {
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
    })
    .collect()
}

/// The `p` quantile (0..=1) of a sorted, non-empty slice.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
