//! Presentation size as the state grows: the state proof is the only part that grows with the
//! number of entries (about one 32-byte sibling per doubling). Builds trees of 10^4..10^6 keys,
//! measures average inclusion-proof size over sampled keys, and adds the fixed part of a real
//! 4-validator presentation (licence record, header, quorum certificate).
//!
//! `cargo bench -p lichen-contracts --bench sizes` (release; ~1 minute, ~2 GB of memory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::model::LicenceDraft;
use lichen_contracts::smt::{MemoryTreeStore, SparseMerkleTree};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
use lichen_contracts::tx::Payload;

const SAMPLES: u64 = 2_000;
const CHUNK: u64 = 50_000;

fn main() {
    // Skip under `cargo test --benches`-style invocations that pass --test / --list.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    for suite in [Suite::Sm, Suite::Intl] {
        let fixed = fixed_part(suite);
        println!(
            "{}: presentation without its state proof = {fixed} bytes (4 validators, quorum of 3 signatures)",
            suite.name()
        );
        let mut store = MemoryTreeStore::new();
        let mut filled = 0u64;
        let mut version = 0u64;
        for target in [10_000u64, 100_000, 1_000_000] {
            while filled < target {
                let end = (filled + CHUNK).min(target);
                let updates: BTreeMap<Hash32, Option<Vec<u8>>> = (filled..end)
                    .map(|i| {
                        (
                            suite.hash("bench/key", &[&i.to_be_bytes()]),
                            Some(vec![1u8; 165]),
                        )
                    })
                    .collect();
                let base = version.checked_sub(1);
                let batch = SparseMerkleTree::new(&store, suite)
                    .put_batch(base, version, &updates)
                    .expect("update");
                store.write_batch(&batch);
                store.prune(version);
                filled = end;
                version += 1;
            }
            let tree = SparseMerkleTree::new(&store, suite);
            let (mut total, mut max, mut depth) = (0usize, 0usize, 0usize);
            for s in 0..SAMPLES {
                let i = s * (target / SAMPLES);
                let key = suite.hash("bench/key", &[&i.to_be_bytes()]);
                let (_, proof) = tree.get_with_proof(&key, version - 1).expect("proof");
                let len = proof.to_bytes().len();
                total += len;
                max = max.max(len);
                depth += proof.depth();
            }
            let avg = total as f64 / SAMPLES as f64;
            println!(
                "{}: {target:>9} keys: proof avg {avg:.0} bytes (max {max}, avg depth {:.1}) -> presentation ~{:.0} bytes",
                suite.name(),
                depth as f64 / SAMPLES as f64,
                fixed as f64 + avg
            );
        }
    }
}

/// A real presentation's size minus its state proof.
fn fixed_part(suite: Suite) -> usize {
    let mut chain = TestChain::new(suite, 4);
    let tx = chain.signed(
        Payload::IssueLicence(LicenceDraft {
            id: "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S".into(),
            licence_type: "business".into(),
            issuer: "agency-a".into(),
            document_hash: suite.digest(b"licence file"),
            holder_commitment: Hash32([9; 32]),
            valid_from_ms: GENESIS_TIME_MS,
            valid_until_ms: Some(GENESIS_TIME_MS + 86_400_000 * 365 * 5),
        }),
        "agency-a",
    );
    chain
        .commit(vec![tx], GENESIS_TIME_MS + 1_000)
        .expect("block");
    let p = chain
        .presentation("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S");
    p.to_bytes().len() - p.proof.to_bytes().len()
}
