//! Contracts benchmarks: state-tree updates, proof build and verify, signature verification and
//! whole-presentation verification, for both suites.
//!
//! `cargo bench -p lichen-contracts --bench contracts` (release). Figures go to BENCHMARKS.md with
//! the machine they ran on; none of them is asserted anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite, verify_batch};
use lichen_contracts::presentation::{Policy, verify_presentation_bytes};
use lichen_contracts::smt::{MemoryTreeStore, SparseMerkleTree};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};

/// Keys in the tree the update and proof benchmarks run against.
const TREE_KEYS: u64 = 100_000;
/// Keys changed per update batch (one block's worth of issues).
const BATCH_KEYS: u64 = 1_000;

fn key(suite: Suite, i: u64) -> Hash32 {
    suite.hash("bench/key", &[&i.to_be_bytes()])
}

fn filled_tree(suite: Suite) -> MemoryTreeStore {
    let mut store = MemoryTreeStore::new();
    // One version per chunk of 10,000 keys: version == chunk.
    for version in 0..TREE_KEYS / 10_000 {
        let updates: BTreeMap<Hash32, Option<Vec<u8>>> = (version * 10_000..(version + 1) * 10_000)
            .map(|i| (key(suite, i), Some(vec![7u8; 160])))
            .collect();
        let base = version.checked_sub(1);
        let batch = SparseMerkleTree::new(&store, suite)
            .put_batch(base, version, &updates)
            .expect("fill");
        store.write_batch(&batch);
    }
    store
}

fn smt(c: &mut Criterion) {
    for suite in [Suite::Sm, Suite::Intl] {
        let store = filled_tree(suite);
        let version = TREE_KEYS / 10_000 - 1;
        let mut group = c.benchmark_group(format!("smt/{}", suite.name()));
        group.throughput(Throughput::Elements(BATCH_KEYS));
        let mut next = TREE_KEYS;
        group.bench_function("put_batch 1000 new keys into 100k", |b| {
            b.iter_batched(
                || {
                    let updates: BTreeMap<Hash32, Option<Vec<u8>>> = (next..next + BATCH_KEYS)
                        .map(|i| (key(suite, i), Some(vec![9u8; 160])))
                        .collect();
                    next += BATCH_KEYS;
                    updates
                },
                |updates| {
                    SparseMerkleTree::new(&store, suite)
                        .put_batch(Some(version), version + 1, &updates)
                        .expect("update")
                },
                BatchSize::SmallInput,
            )
        });
        group.throughput(Throughput::Elements(1));
        let tree = SparseMerkleTree::new(&store, suite);
        let root = tree.root_hash(version).expect("root");
        let mut i = 0u64;
        group.bench_function("get_with_proof (100k keys)", |b| {
            b.iter(|| {
                i = (i + 7919) % TREE_KEYS;
                black_box(tree.get_with_proof(&key(suite, i), version).expect("proof"))
            })
        });
        let k = key(suite, 42);
        let (value, proof) = tree.get_with_proof(&k, version).expect("proof");
        let value = value.expect("present");
        eprintln!(
            "smt/{}: proof of a present key in {TREE_KEYS} keys = {} bytes ({} siblings)",
            suite.name(),
            proof.to_bytes().len(),
            proof.depth()
        );
        group.bench_function("proof verify (100k keys)", |b| {
            b.iter(|| {
                proof
                    .verify(suite, &root, &k, Some(&value))
                    .expect("verifies")
            })
        });
        group.finish();
    }
}

fn signatures(c: &mut Criterion) {
    for suite in [Suite::Sm, Suite::Intl] {
        let keys: Vec<_> = (0..64)
            .map(|i| test_key(suite, &format!("bench-{i}")))
            .collect();
        let msg = [0x5au8; 32];
        let sigs: Vec<_> = keys
            .iter()
            .map(|k| (k.public_key(), k.sign(&msg)))
            .collect();
        let mut group = c.benchmark_group(format!("sig/{}", suite.name()));
        group.bench_function("sign", |b| b.iter(|| black_box(keys[0].sign(&msg))));
        group.bench_function("verify one", |b| {
            b.iter(|| sigs[0].0.verify(&msg, &sigs[0].1).expect("verifies"))
        });
        let vk = sigs[0].0.to_verifying_key();
        group.bench_function("verify one, parsed key", |b| {
            b.iter(|| vk.verify(&msg, &sigs[0].1).expect("verifies"))
        });
        if suite == Suite::Sm {
            // The other SM2 implementation at hand (libsm, a dev-dependency used as the tests'
            // oracle): its verification uses precomputed tables for the generator. Measured for
            // issue 15's choice of SM2 verification; not used by the node.
            let ctx = libsm::sm2::signature::SigCtx::new();
            let pk = ctx
                .load_pubkey(sigs[0].0.as_bytes())
                .expect("libsm reads the key");
            let rs = sigs[0].1.as_bytes();
            let theirs = libsm::sm2::signature::Signature::new(&rs[..32], &rs[32..]);
            assert!(ctx.verify(&msg, &pk, &theirs).expect("libsm verifies"));
            group.bench_function("verify one, libsm", |b| {
                b.iter(|| black_box(ctx.verify(&msg, &pk, &theirs).expect("libsm verifies")))
            });
        }
        group.throughput(Throughput::Elements(64));
        group.bench_function("verify_batch 64", |b| {
            let items: Vec<_> = sigs.iter().map(|(k, s)| (k, msg.as_slice(), s)).collect();
            b.iter(|| verify_batch(&items).expect("verifies"))
        });
        group.finish();
    }
}

fn presentation(c: &mut Criterion) {
    for suite in [Suite::Sm, Suite::Intl] {
        let mut chain = TestChain::new(suite, 4);
        let issue = chain.signed(
            lichen_contracts::tx::Payload::IssueLicence(lichen_contracts::model::LicenceDraft {
                id: "BENCH-1".into(),
                licence_type: "business".into(),
                issuer: "agency-a".into(),
                document_hash: suite.digest(b"doc"),
                holder_commitment: Hash32([1; 32]),
                valid_from_ms: GENESIS_TIME_MS,
                valid_until_ms: None,
            }),
            "agency-a",
        );
        chain
            .commit(vec![issue], GENESIS_TIME_MS + 1_000)
            .expect("block");
        let bytes = chain.presentation("BENCH-1").to_bytes();
        let anchor = chain.trust_anchor();
        let policy = Policy {
            now_ms: GENESIS_TIME_MS + 2_000,
            proof_age_max_ms: 86_400_000,
        };
        eprintln!(
            "presentation/{}: {} bytes (4 validators, a quorum of 3 signatures)",
            suite.name(),
            bytes.len()
        );
        c.bench_function(
            &format!("presentation/{}/verify (4 validators)", suite.name()),
            |b| b.iter(|| black_box(verify_presentation_bytes(&anchor, &bytes, None, &policy))),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = smt, signatures, presentation
}
criterion_main!(benches);
