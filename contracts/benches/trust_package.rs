//! Trust packages and compact presentations as the state grows (figures for BENCHMARKS.md):
//!
//! 1. package size, build time (region walk and tree levels) and verify time against the number
//!    of non-active licences (marks), in a state of ten times as many other entries;
//! 2. compact presentation size (a GB/T 36904 record, the proof below the package's levels)
//!    against the number of entries, with the node's automatic level depth and with 16 levels,
//!    next to the full presentation.
//!
//! `cargo bench -p lichen-contracts --bench trust_package` (release; a few minutes, ~3 GB).
//! `LICHEN_BENCH_KEYS_MAX=10000000` adds the 10^7 state (~25 GB of memory: not on a small machine).
//! `LICHEN_BENCH_OUT=DIR` also writes each package and the trust anchor there, for timing the
//! WASM verifier on them (`verifier-wasm/js/bench-package.mjs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::model::{LicenceDraft, LicenceStatus};
use lichen_contracts::presentation::{CompactPresentation, CompactProof, TrustPackage};
use lichen_contracts::revocation::{self, RevocationMark};
use lichen_contracts::smt::{MemoryTreeStore, SparseMerkleTree};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
use lichen_contracts::tx::Payload;

const CHUNK: u64 = 50_000;
const SAMPLES: u64 = 1_000;
const GBT_ID: &str = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S";

fn key(suite: Suite, i: u64) -> Hash32 {
    suite.hash("bench/key", &[&i.to_be_bytes()])
}

/// Fills `store` with keys `from..to` (values of 165 bytes, a licence record's size) and `marks`
/// revocation marks, in chunks, pruning old versions; returns the last version.
fn fill(
    suite: Suite,
    store: &mut MemoryTreeStore,
    version: &mut u64,
    keys: std::ops::Range<u64>,
    marks: std::ops::Range<u64>,
) {
    let mut updates: BTreeMap<Hash32, Option<Vec<u8>>> = BTreeMap::new();
    let flush = |updates: &mut BTreeMap<Hash32, Option<Vec<u8>>>,
                 store: &mut MemoryTreeStore,
                 version: &mut u64| {
        if *version == 0 {
            updates.insert(
                revocation::sentinel_key(),
                Some(revocation::SENTINEL_VALUE.to_vec()),
            );
        }
        let base = version.checked_sub(1);
        let batch = SparseMerkleTree::new(&*store, suite)
            .put_batch(base, *version, updates)
            .unwrap();
        store.write_batch(&batch);
        store.prune(*version);
        *version += 1;
        updates.clear();
    };
    for i in keys {
        updates.insert(key(suite, i), Some(vec![1u8; 165]));
        if updates.len() as u64 >= CHUNK {
            flush(&mut updates, store, version);
        }
    }
    for i in marks {
        let tag = revocation::mark_tag(suite, &format!("LIC-{i:09}"));
        let status = if i % 10 == 0 {
            LicenceStatus::Suspended
        } else {
            LicenceStatus::Revoked
        };
        updates.insert(
            revocation::mark_key(&tag),
            Some(RevocationMark { status }.to_bytes()),
        );
        if updates.len() as u64 >= CHUNK {
            flush(&mut updates, store, version);
        }
    }
    if !updates.is_empty() || *version == 0 {
        flush(&mut updates, store, version);
    }
}

/// A test chain's block-1 header with `state_root`, certified by its genesis validators: a
/// checkpoint whose state is the bench tree.
fn checkpoint(chain: &TestChain, state_root: Hash32) -> lichen_contracts::presentation::Certified {
    let mut certified = chain.certified(1);
    certified.header.state_root = state_root;
    certified.certificate = chain.certify(&certified.header, &chain.genesis.validators, 3);
    certified
}

fn mean_depth(tree: &SparseMerkleTree<'_, MemoryTreeStore>, suite: Suite, version: u64) -> usize {
    let mut total = 0;
    for i in 0..16u32 {
        let k = suite.hash("lichen/depth-sample", &[&i.to_be_bytes()]);
        total += tree.get_with_proof(&k, version).unwrap().1.depth();
    }
    total / 16
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let keys_max: u64 = std::env::var("LICHEN_BENCH_KEYS_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    for suite in [Suite::Sm, Suite::Intl] {
        let mut chain = TestChain::new(suite, 4);
        let tx = chain.signed(
            Payload::IssueLicence(LicenceDraft {
                id: GBT_ID.into(),
                licence_type: "business".into(),
                issuer: "agency-a".into(),
                document_hash: suite.digest(b"licence file"),
                holder_commitment: Hash32([9; 32]),
                valid_from_ms: GENESIS_TIME_MS,
                valid_until_ms: Some(GENESIS_TIME_MS + 86_400_000 * 365 * 5),
            }),
            "agency-a",
        );
        chain.commit(vec![tx], GENESIS_TIME_MS + 1_000).unwrap();
        let full = chain.presentation(GBT_ID);
        let record = full.licence.clone();
        let full_fixed = full.to_bytes().len() - full.proof.to_bytes().len();
        let anchor = chain.trust_anchor();

        println!(
            "{}: trust package against non-active licences",
            suite.name()
        );
        for marks in [1_000u64, 10_000, 100_000] {
            let mut store = MemoryTreeStore::new();
            let mut version = 0;
            fill(suite, &mut store, &mut version, 0..marks * 10, 0..marks);
            let v = version - 1;
            let tree = SparseMerkleTree::new(&store, suite);
            let root = tree.root_hash(v).unwrap();
            let started = Instant::now();
            let region = tree.region(v).unwrap();
            let region_ms = started.elapsed().as_secs_f64() * 1e3;
            let package = TrustPackage::from_region(
                &anchor,
                checkpoint(&chain, root),
                region,
                vec![lichen_contracts::smt::LevelNode::EMPTY],
            )
            .unwrap();
            let bytes = package.to_bytes();
            let started = Instant::now();
            let state =
                lichen_contracts::presentation::verify_package_bytes(&anchor, &bytes).unwrap();
            let verify_ms = started.elapsed().as_secs_f64() * 1e3;
            assert_eq!(state.marks.len() as u64, marks);
            if let Ok(dir) = std::env::var("LICHEN_BENCH_OUT") {
                let name = format!("{dir}/package-{}-{marks}.bin", suite.name());
                std::fs::write(&name, &bytes).unwrap();
                std::fs::write(
                    format!("{dir}/anchor-{}.bin", suite.name()),
                    anchor.to_bytes(),
                )
                .unwrap();
            }
            println!(
                "{}: {marks:>7} marks in {:>9} entries: package {:>9} bytes ({:.1} bytes/mark), region read {region_ms:.0} ms, verified in {verify_ms:.0} ms (no levels)",
                suite.name(),
                marks * 11,
                bytes.len(),
                bytes.len() as f64 / marks as f64,
            );
        }

        println!("{}: compact presentations against state size", suite.name());
        let mut store = MemoryTreeStore::new();
        let mut version = 0;
        let mut filled = 0;
        for target in [10_000u64, 100_000, 1_000_000, 10_000_000] {
            if target > keys_max {
                break;
            }
            fill(suite, &mut store, &mut version, filled..target, 0..0);
            filled = target;
            let v = version - 1;
            let tree = SparseMerkleTree::new(&store, suite);
            let auto = lichen_contracts::smt::levels_for(mean_depth(&tree, suite, v));
            for levels in [auto, 16] {
                let started = Instant::now();
                let cut = tree.levels(v, levels).unwrap();
                let cut_ms = started.elapsed().as_secs_f64() * 1e3;
                let present = cut.iter().filter(|n| n.hash != Hash32::ZERO).count();
                let levels_bytes = if levels == 0 {
                    1
                } else {
                    1 + 2 * (cut.len() / 8).max(1) + 32 * present
                };
                let (mut total, mut max, mut full_total) = (0usize, 0usize, 0usize);
                for s in 0..SAMPLES {
                    let k = key(suite, s * (target / SAMPLES));
                    let (_, proof) = tree.get_with_proof(&k, v).unwrap();
                    let compact = CompactPresentation {
                        checkpoint_height: 1,
                        licence: record.clone(),
                        proof: CompactProof::from_state_proof(&proof, levels).unwrap(),
                    };
                    let len = compact.to_bytes().len();
                    total += len;
                    max = max.max(len);
                    full_total += full_fixed + proof.to_bytes().len();
                }
                println!(
                    "{}: {target:>9} entries, {levels:>2} levels ({levels_bytes:>8} bytes in the package, cut in {cut_ms:.0} ms): compact avg {:.0} bytes (max {max}), full avg {:.0} bytes",
                    suite.name(),
                    total as f64 / SAMPLES as f64,
                    full_total as f64 / SAMPLES as f64,
                );
            }
        }
    }
}
