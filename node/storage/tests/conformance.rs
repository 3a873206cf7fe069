//! Conformance of the two `KvStore` backends (`MemoryKv`, `FjallKv`) and of the `ChainStore` on
//! each: the same generic tests run against both (see `conformance!` at the bottom), a proptest
//! drives both backends and a model with the same random batches, and the fjall store is reopened
//! from its directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;

use lichen_contracts::block::Block;
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::error::StorageError;
use lichen_contracts::model::{Agency, EntityStatus, LicenceStatus, Observer};
use lichen_contracts::smt::{MemoryTreeStore, SparseMerkleTree, TreeUpdateBatch};
use lichen_contracts::state::{StateKey, StateKind};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_storage::{
    BlockCommit, ChainStore, FjallKv, KvStore, LicenceHistoryEntry, MemoryKv, StoreError,
    StoredTip, TxLocation, WriteBatch, layout,
};
use proptest::prelude::*;
use tempfile::TempDir;

use common::*;

// --- fixtures ---

/// Makes fresh, empty stores of one backend.
trait Fixture: Default {
    type Kv: KvStore;
    fn make(&self) -> Self::Kv;
}

#[derive(Default)]
struct Memory;

impl Fixture for Memory {
    type Kv = MemoryKv;
    fn make(&self) -> MemoryKv {
        MemoryKv::new()
    }
}

/// Each store in its own directory under one temporary root (removed with the fixture).
struct Disk {
    root: TempDir,
    next: Cell<u32>,
}

impl Default for Disk {
    fn default() -> Self {
        Disk {
            root: tempfile::tempdir().unwrap(),
            next: Cell::new(0),
        }
    }
}

impl Fixture for Disk {
    type Kv = FjallKv;
    fn make(&self) -> FjallKv {
        let n = self.next.get();
        self.next.set(n + 1);
        open_disk(&self.root.path().join(format!("db-{n}")))
    }
}

fn put(kv: &impl KvStore, k: &[u8], v: &[u8]) {
    let mut b = WriteBatch::new();
    b.put(k, v);
    kv.apply(b).unwrap();
}

fn del(kv: &impl KvStore, k: &[u8]) {
    let mut b = WriteBatch::new();
    b.delete(k);
    kv.apply(b).unwrap();
}

type Rows = Vec<(Vec<u8>, Vec<u8>)>;

fn rows(pairs: &[(&[u8], &[u8])]) -> Rows {
    pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// What `scan` must return, computed from a model by filtering (not by range).
fn model_scan(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    start: &[u8],
    end: &[u8],
    limit: usize,
    reverse: bool,
) -> Rows {
    let mut all: Rows = model
        .iter()
        .filter(|(k, _)| start <= k.as_slice() && k.as_slice() < end)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if reverse {
        all.reverse();
    }
    all.truncate(limit);
    all
}

// --- KV semantics ---

fn kv_get_put_delete<K: KvStore>(make: impl Fn() -> K) {
    let kv = make();
    assert_eq!(kv.get(b"a").unwrap(), None);
    put(&kv, b"a", b"1");
    assert_eq!(kv.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(kv.get(b"a\0").unwrap(), None, "no prefix matching");
    assert_eq!(kv.get(b"").unwrap(), None);
    put(&kv, b"a", b"22");
    assert_eq!(kv.get(b"a").unwrap(), Some(b"22".to_vec()), "overwrite");
    // Empty values are values (the chain store writes them for its index keys).
    put(&kv, b"empty", b"");
    assert_eq!(kv.get(b"empty").unwrap(), Some(Vec::new()));
    // A large value (state-tree leaves hold up to 64 KiB).
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    put(&kv, b"big", &big);
    assert_eq!(kv.get(b"big").unwrap(), Some(big));
    del(&kv, b"a");
    assert_eq!(kv.get(b"a").unwrap(), None);
    del(&kv, b"never-written");
    assert_eq!(kv.get(b"never-written").unwrap(), None);
    del(&kv, b"empty");
    assert_eq!(kv.get(b"empty").unwrap(), None);
    // An empty batch is fine and changes nothing.
    kv.apply(WriteBatch::new()).unwrap();
    kv.flush().unwrap();
    assert_eq!(
        kv.scan(b"", &[0xff], 10, false).unwrap().len(),
        1,
        "only `big` is left"
    );
}

fn kv_batch_later_op_wins<K: KvStore>(make: impl Fn() -> K) {
    let kv = make();
    put(&kv, b"d", b"old");
    put(&kv, b"e", b"old");
    let mut b = WriteBatch::new();
    b.put(b"a".to_vec(), b"1".to_vec());
    b.put(b"a".to_vec(), b"2".to_vec()); // put, put: the second
    b.put(b"b".to_vec(), b"1".to_vec());
    b.delete(b"b".to_vec()); // put, delete: gone
    b.delete(b"c".to_vec());
    b.put(b"c".to_vec(), b"3".to_vec()); // delete, put: there
    b.delete(b"d".to_vec()); // delete of an existing key
    b.put(b"e".to_vec(), b"x".to_vec());
    b.delete(b"e".to_vec());
    b.put(b"e".to_vec(), b"new".to_vec()); // the last of three
    assert_eq!(b.len(), 5, "one operation per key");
    assert!(!b.is_empty());
    kv.apply(b).unwrap();
    assert_eq!(kv.get(b"a").unwrap(), Some(b"2".to_vec()));
    assert_eq!(kv.get(b"b").unwrap(), None);
    assert_eq!(kv.get(b"c").unwrap(), Some(b"3".to_vec()));
    assert_eq!(kv.get(b"d").unwrap(), None);
    assert_eq!(kv.get(b"e").unwrap(), Some(b"new".to_vec()));
    assert_eq!(
        kv.scan(b"", b"z", usize::MAX, false).unwrap(),
        rows(&[(b"a", b"2"), (b"c", b"3"), (b"e", b"new")])
    );
}

/// Keys around the interesting boundaries: the empty key, 0x00 and 0xff bytes, prefixes.
const BOUNDARY_KEYS: [&[u8]; 11] = [
    b"",
    b"\x00",
    b"\x00\x00",
    b"\x01",
    b"\x01\x00",
    b"\x01\x01",
    b"\x01\xff",
    b"\x01\xff\xff",
    b"\x02",
    b"\xff",
    b"\xff\x00",
];

fn fill_boundary<K: KvStore>(kv: &K) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut model = BTreeMap::new();
    let mut b = WriteBatch::new();
    for (i, k) in BOUNDARY_KEYS.iter().enumerate() {
        let v = vec![i as u8; i];
        b.put(*k, v.clone());
        model.insert(k.to_vec(), v);
    }
    kv.apply(b).unwrap();
    model
}

fn kv_scan_bounds<K: KvStore>(make: impl Fn() -> K) {
    let kv = make();
    let model = fill_boundary(&kv);
    let keys = |r: Rows| r.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    // start inclusive, end exclusive.
    assert_eq!(
        keys(kv.scan(b"\x01", b"\x01\xff", 100, false).unwrap()),
        vec![b"\x01".to_vec(), b"\x01\x00".to_vec(), b"\x01\x01".to_vec()]
    );
    // A key range that is the prefix `01`: [01, 02).
    assert_eq!(
        keys(kv.scan(b"\x01", b"\x02", 100, false).unwrap()),
        vec![
            b"\x01".to_vec(),
            b"\x01\x00".to_vec(),
            b"\x01\x01".to_vec(),
            b"\x01\xff".to_vec(),
            b"\x01\xff\xff".to_vec()
        ]
    );
    // The empty key is the smallest key; [0xff] excludes itself and what follows.
    assert_eq!(
        keys(kv.scan(b"", b"\x00", 100, false).unwrap()),
        vec![b"".to_vec()]
    );
    assert_eq!(
        kv.scan(b"", b"\xff", 100, false).unwrap().len(),
        BOUNDARY_KEYS.len() - 2
    );
    // start == end and start > end give nothing, in both directions.
    for reverse in [false, true] {
        assert_eq!(kv.scan(b"\x01", b"\x01", 100, reverse).unwrap(), vec![]);
        assert_eq!(kv.scan(b"\x02", b"\x01", 100, reverse).unwrap(), vec![]);
        assert_eq!(kv.scan(b"\xff\x00", b"", 100, reverse).unwrap(), vec![]);
    }
    // Values come with their keys.
    assert_eq!(
        kv.scan(b"\x02", b"\x03", 100, false).unwrap(),
        vec![(b"\x02".to_vec(), vec![8u8; 8])]
    );
    // Every pair of bounds (also keys that are not stored), against the model.
    let mut bounds: Vec<Vec<u8>> = BOUNDARY_KEYS.iter().map(|k| k.to_vec()).collect();
    bounds.extend([b"\x00\x01".to_vec(), b"\x01\x80".to_vec(), vec![0xff; 3]]);
    for start in &bounds {
        for end in &bounds {
            for limit in [0, 1, 2, 5, usize::MAX] {
                for reverse in [false, true] {
                    assert_eq!(
                        kv.scan(start, end, limit, reverse).unwrap(),
                        model_scan(&model, start, end, limit, reverse),
                        "scan({start:?}, {end:?}, {limit}, {reverse})"
                    );
                }
            }
        }
    }
}

fn kv_scan_limit_and_reverse<K: KvStore>(make: impl Fn() -> K) {
    let kv = make();
    let mut b = WriteBatch::new();
    for i in 0u16..300 {
        b.put(i.to_be_bytes(), i.to_le_bytes());
    }
    kv.apply(b).unwrap();
    let key = |i: u16| i.to_be_bytes().to_vec();
    let forward = kv.scan(&key(10), &key(20), 3, false).unwrap();
    assert_eq!(
        forward.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        vec![key(10), key(11), key(12)],
        "the first `limit` keys from start"
    );
    let backward = kv.scan(&key(10), &key(20), 3, true).unwrap();
    assert_eq!(
        backward.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        vec![key(19), key(18), key(17)],
        "the last `limit` keys below end, descending"
    );
    assert_eq!(backward[0].1, 19u16.to_le_bytes().to_vec());
    assert_eq!(kv.scan(&key(10), &key(20), 0, false).unwrap(), vec![]);
    assert_eq!(kv.scan(&key(10), &key(20), 0, true).unwrap(), vec![]);
    // Limits larger than the range.
    assert_eq!(kv.scan(&key(10), &key(20), 1000, false).unwrap().len(), 10);
    let all_rev = kv.scan(&[], &[0xff, 0xff], usize::MAX, true).unwrap();
    assert_eq!(all_rev.len(), 300);
    assert!(all_rev.windows(2).all(|w| w[0].0 > w[1].0), "descending");
    let all = kv.scan(&[], &[0xff, 0xff], usize::MAX, false).unwrap();
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "ascending");
    assert_eq!(all.into_iter().rev().collect::<Vec<_>>(), all_rev);
}

fn kv_delete_then_scan<K: KvStore>(make: impl Fn() -> K) {
    let kv = make();
    let mut model = fill_boundary(&kv);
    // Delete the first, a middle and the last key, and keys that were never there.
    let mut b = WriteBatch::new();
    for k in [&b""[..], b"\x01\x01", b"\xff\x00", b"\x03", b"\x01\x02"] {
        b.delete(k);
        model.remove(k);
    }
    kv.apply(b).unwrap();
    for reverse in [false, true] {
        for limit in [1, 3, usize::MAX] {
            assert_eq!(
                kv.scan(b"", &[0xff, 0xff], limit, reverse).unwrap(),
                model_scan(&model, b"", &[0xff, 0xff], limit, reverse)
            );
        }
        assert_eq!(
            kv.scan(b"\x01\x01", b"\x01\x02", 10, reverse).unwrap(),
            vec![],
            "a range holding only a deleted key is empty"
        );
    }
    // Delete everything in one batch: every scan is empty.
    let mut b = WriteBatch::new();
    for k in model.keys() {
        b.delete(k.clone());
    }
    kv.apply(b).unwrap();
    assert_eq!(
        kv.scan(b"", &[0xff, 0xff], usize::MAX, false).unwrap(),
        vec![]
    );
    assert_eq!(
        kv.scan(b"", &[0xff, 0xff], usize::MAX, true).unwrap(),
        vec![]
    );
    // And the keys can come back.
    put(&kv, b"\x01", b"again");
    assert_eq!(
        kv.scan(b"", &[0xff, 0xff], usize::MAX, true).unwrap(),
        rows(&[(b"\x01", b"again")])
    );
}

// --- the same random batches on both backends ---

#[derive(Clone, Debug)]
enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Short keys over a few byte values, so that batches collide and keys are prefixes of others.
fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(0u8), Just(1), Just(0x7f), Just(0xff)],
        0..4,
    )
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (key_strategy(), prop::collection::vec(any::<u8>(), 0..6))
            .prop_map(|(k, v)| Op::Put(k, v)),
        1 => key_strategy().prop_map(Op::Delete),
    ]
}

type Query = (Vec<u8>, Vec<u8>, usize, bool);

fn query_strategy() -> impl Strategy<Value = Query> {
    (key_strategy(), key_strategy(), 0usize..6, any::<bool>())
}

/// Above every key the strategy makes (at most 3 bytes).
const ALL_END: [u8; 4] = [0xff; 4];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn backends_agree_on_random_batches(
        batches in prop::collection::vec(prop::collection::vec(op_strategy(), 0..12), 1..8),
        queries in prop::collection::vec(query_strategy(), 1..12),
        gets in prop::collection::vec(key_strategy(), 1..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let disk = open_disk(dir.path());
        let memory = MemoryKv::new();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for ops in batches {
            let mut batch = WriteBatch::new();
            for op in ops {
                match op {
                    Op::Put(k, v) => {
                        batch.put(k.clone(), v.clone());
                        model.insert(k, v);
                    }
                    Op::Delete(k) => {
                        batch.delete(k.clone());
                        model.remove(&k);
                    }
                }
            }
            disk.apply(batch.clone()).unwrap();
            memory.apply(batch).unwrap();
            for reverse in [false, true] {
                let expected = model_scan(&model, &[], &ALL_END, usize::MAX, reverse);
                prop_assert_eq!(&disk.scan(&[], &ALL_END, usize::MAX, reverse).unwrap(), &expected);
                prop_assert_eq!(&memory.scan(&[], &ALL_END, usize::MAX, reverse).unwrap(), &expected);
            }
        }
        for (start, end, limit, reverse) in &queries {
            let expected = model_scan(&model, start, end, *limit, *reverse);
            prop_assert_eq!(&disk.scan(start, end, *limit, *reverse).unwrap(), &expected);
            prop_assert_eq!(&memory.scan(start, end, *limit, *reverse).unwrap(), &expected);
        }
        for k in &gets {
            let expected = model.get(k).cloned();
            prop_assert_eq!(&disk.get(k).unwrap(), &expected);
            prop_assert_eq!(&memory.get(k).unwrap(), &expected);
        }
    }
}

// --- chain store ---

fn chain(suite: Suite) -> TestChain {
    TestChain::new(suite, 4)
}

fn initialised<K: KvStore>(kv: K, c: &TestChain) -> ChainStore<K> {
    let store = ChainStore::new(kv);
    store.init_genesis(&c.genesis).unwrap();
    store
}

fn chain_genesis<K: KvStore>(make: impl Fn() -> K) {
    let c = chain(Suite::Intl);
    let suite = c.suite;
    let store = ChainStore::new(make());
    assert!(matches!(store.tip(), Err(StoreError::NotInitialised)));
    assert!(matches!(store.genesis(), Err(StoreError::NotInitialised)));
    assert_eq!(store.block(0).unwrap(), None);

    let tip = store.init_genesis(&c.genesis).unwrap();
    let header = c.genesis.header(c.blocks[0].header.state_root);
    assert_eq!(header, c.blocks[0].header);
    assert_eq!(
        tip,
        StoredTip {
            height: 0,
            hash: header.hash(suite)
        }
    );
    assert_eq!(store.tip().unwrap(), tip);
    assert_eq!(
        store.block(0).unwrap(),
        Some(Block {
            header: header.clone(),
            txs: vec![]
        })
    );
    assert_eq!(store.header(0).unwrap(), Some(header.clone()));
    assert_eq!(store.certificate(0).unwrap(), None, "block 0 has none");
    assert_eq!(store.block(1).unwrap(), None);
    assert_eq!(store.genesis().unwrap(), c.genesis);
    assert_eq!(store.signing_set(1).unwrap(), c.genesis.validators);
    assert_eq!(store.set_changes(u64::MAX).unwrap(), vec![]);
    assert_eq!(
        count_prefix(store.kv(), layout::TX),
        0,
        "no transaction yet"
    );
    assert_eq!(store.pruned_below().unwrap(), 0);
    assert_eq!(store.consensus_state().unwrap(), None);
    let tree = SparseMerkleTree::new(&store, suite);
    assert_eq!(tree.root_hash(0).unwrap(), header.state_root);
    // The genesis state is readable with proofs.
    let key = StateKey::Agency("agency-a".into()).hash(suite);
    let (value, proof) = tree.get_with_proof(&key, 0).unwrap();
    assert!(value.is_some());
    proof
        .verify(suite, &header.state_root, &key, value.as_deref())
        .unwrap();

    // Idempotent: the same genesis again returns the tip and writes nothing.
    let before = dump(store.kv());
    assert_eq!(store.init_genesis(&c.genesis).unwrap(), tip);
    assert_eq!(dump(store.kv()), before);
}

fn chain_wrong_genesis<K: KvStore>(make: impl Fn() -> K) {
    let c = chain(Suite::Intl);
    let store = initialised(make(), &c);
    let before = dump(store.kv());
    let mut renamed = c.genesis.clone();
    renamed.config.chain_id = "lichen-other".into();
    let mut five = c.genesis.clone();
    five.validators = TestChain::new(Suite::Intl, 5).genesis.validators;
    let sm = chain(Suite::Sm).genesis;
    for (other, expected_id) in [
        (&renamed, "lichen-other"),
        (&five, "lichen-test"),
        (&sm, "lichen-test"),
    ] {
        match store.init_genesis(other) {
            Err(StoreError::WrongGenesis { expected, found }) => {
                assert!(expected.contains(expected_id), "{expected}");
                assert!(
                    expected.contains(&other.hash().to_string()),
                    "{expected} names the given genesis"
                );
                assert!(
                    found.contains(&c.genesis.hash().to_string()),
                    "{found} names the stored genesis"
                );
            }
            other => panic!("expected WrongGenesis, got {other:?}"),
        }
        assert_eq!(dump(store.kv()), before, "a wrong genesis changes nothing");
    }
    assert_eq!(store.genesis().unwrap(), c.genesis);

    // An invalid genesis on an empty store is refused and writes nothing.
    let empty = ChainStore::new(make());
    let mut duplicate = c.genesis.clone();
    duplicate.agencies.push(duplicate.agencies[0].clone());
    assert!(matches!(
        empty.init_genesis(&duplicate),
        Err(StoreError::InvalidGenesis { .. })
    ));
    assert_eq!(dump(empty.kv()), vec![]);

    // A store written by a version whose genesis had no `observers` (the same bytes without the
    // final empty list) holds another genesis, named as unreadable, not a corrupt store.
    let old = make();
    let bytes = c.genesis.to_bytes();
    let mut batch = WriteBatch::new();
    batch.put(
        [&[layout::META][..], layout::META_GENESIS].concat(),
        &bytes[..bytes.len() - 4],
    );
    old.apply(batch).unwrap();
    match ChainStore::new(old).init_genesis(&c.genesis) {
        Err(StoreError::WrongGenesis { found, .. }) => {
            assert!(found.contains("cannot read"), "{found}");
        }
        other => panic!("expected WrongGenesis, got {other:?}"),
    }
}

fn chain_not_next<K: KvStore>(make: impl Fn() -> K) {
    let mut c = chain(Suite::Intl);
    let store = initialised(make(), &c);
    // Blocks 1 and 2 prepared against a second store that does take them.
    let reference = initialised(MemoryKv::new(), &c);
    let tx = issue(&mut c, "L-1", "agency-a");
    let b1 = commit_next(&mut c, &reference, vec![tx], 0);
    let tx = suspend(&mut c, "L-1", "agency-a");
    let b2 = commit_next(&mut c, &reference, vec![tx], 0);

    let before = dump(store.kv());
    let not_next = |r: Result<StoredTip, StoreError>, height: u64, tip: u64| match r {
        Err(StoreError::NotNext { height: h, tip: t }) => {
            assert_eq!((h, t), (height, tip));
        }
        other => panic!("expected NotNext({height}, {tip}), got {other:?}"),
    };
    not_next(store.commit_block(b2.as_commit(0)), 2, 0);
    assert_eq!(dump(store.kv()), before, "a refused block changes nothing");

    // A genesis-height block is not next either.
    let mut zero = Block {
        header: b1.block.header.clone(),
        txs: b1.block.txs.clone(),
    };
    zero.header.height = 0;
    not_next(
        store.commit_block(BlockCommit {
            block: &zero,
            ..b1.as_commit(0)
        }),
        0,
        0,
    );
    assert_eq!(dump(store.kv()), before);

    // Block 1 goes in; then 1 again and 3 are refused, 2 goes in.
    store.commit_block(b1.as_commit(0)).unwrap();
    let after_one = dump(store.kv());
    not_next(store.commit_block(b1.as_commit(0)), 1, 1);
    let mut three = b2.block.clone();
    three.header.height = 3;
    not_next(
        store.commit_block(BlockCommit {
            block: &three,
            ..b2.as_commit(0)
        }),
        3,
        1,
    );
    assert_eq!(dump(store.kv()), after_one);
    store.commit_block(b2.as_commit(0)).unwrap();
    assert_eq!(store.tip().unwrap().height, 2);
    assert_eq!(dump(store.kv()), dump(reference.kv()));

    // A store without a genesis refuses blocks and stays empty.
    let empty = ChainStore::new(make());
    assert!(matches!(
        empty.commit_block(b1.as_commit(0)),
        Err(StoreError::NotInitialised)
    ));
    assert_eq!(dump(empty.kv()), vec![]);
}

fn loc(height: u64, index: u32) -> TxLocation {
    TxLocation { height, index }
}

fn tx_id(c: &TestChain, height: u64, index: usize) -> Hash32 {
    c.blocks[height as usize].txs[index].id(c.suite)
}

/// Blocks 1-5 with licences, evidence and a validator added by the council in block 3.
fn build_history<K: KvStore>(c: &mut TestChain, store: &ChainStore<K>) {
    let txs = vec![
        issue(c, "L-1", "agency-a"),
        issue(c, "L-10", "agency-a"),
        issue(c, "L-2", "agency-b"),
        anchor(c, "e1"),
    ];
    commit_next(c, store, txs, 0);
    let txs = vec![suspend(c, "L-1", "agency-a"), issue(c, "L-3", "agency-a")];
    commit_next(c, store, txs, 0);
    let txs = vec![
        reinstate(c, "L-1", "agency-a"),
        add_validator(c, "validator-4"),
    ];
    let b3 = commit_next(c, store, txs, 0);
    assert!(b3.new_validators.is_some(), "block 3 changes the set");
    let txs = vec![
        revoke(c, "L-1", "agency-a"),
        supersede(c, "L-3", "L-4", "agency-a"),
        anchor(c, "e2"),
    ];
    commit_next(c, store, txs, 0);
    let txs = vec![issue(c, "L-5", "agency-b")];
    commit_next(c, store, txs, 0);
}

fn check_history<K: KvStore>(c: &TestChain, store: &ChainStore<K>) {
    let suite = c.suite;
    let tip = c.height();
    assert_eq!(tip, 5);
    assert_eq!(
        store.tip().unwrap(),
        StoredTip {
            height: tip,
            hash: c.blocks[tip as usize].header.hash(suite)
        }
    );

    // Blocks, certificates, tx index.
    for h in 0..=tip {
        let b = &c.blocks[h as usize];
        assert_eq!(
            store.block(h).unwrap(),
            Some(Block {
                header: b.header.clone(),
                txs: b.txs.clone()
            })
        );
        assert_eq!(store.certificate(h).unwrap(), b.certificate);
        if let Some(cert) = store.certificate(h).unwrap() {
            cert.verify(
                suite,
                c.chain_id(),
                &c.genesis.hash(),
                &b.header,
                &store.signing_set(h).unwrap(),
            )
            .unwrap_or_else(|e| panic!("certificate {h}: {e}"));
        }
        for (i, tx) in b.txs.iter().enumerate() {
            assert_eq!(
                store.tx_location(&tx.id(suite)).unwrap(),
                Some(loc(h, i as u32))
            );
        }
        assert_eq!(
            SparseMerkleTree::new(store, suite).root_hash(h).unwrap(),
            b.header.state_root
        );
    }
    assert_eq!(store.block(tip + 1).unwrap(), None);
    assert_eq!(store.certificate(tip + 1).unwrap(), None);
    assert_eq!(store.tx_location(&Hash32([7; 32])).unwrap(), None);

    // Licence history: oldest first, with the transaction of each change.
    let history = |id: &str| store.licence_history(id).unwrap();
    let entry = |h: u64, i: usize, status| LicenceHistoryEntry {
        location: loc(h, i as u32),
        tx_id: tx_id(c, h, i),
        status,
    };
    use LicenceStatus::*;
    assert_eq!(
        history("L-1"),
        vec![
            entry(1, 0, Active),
            entry(2, 0, Suspended),
            entry(3, 0, Active),
            entry(4, 0, Revoked)
        ]
    );
    assert_eq!(history("L-10"), vec![entry(1, 1, Active)], "not L-1's");
    assert_eq!(history("L-2"), vec![entry(1, 2, Active)]);
    assert_eq!(
        history("L-3"),
        vec![entry(2, 1, Active), entry(4, 1, Superseded)]
    );
    assert_eq!(history("L-4"), vec![entry(4, 1, Active)]);
    assert_eq!(history("L-"), vec![]);
    assert_eq!(history("L-100"), vec![]);

    // Agency index: newest first.
    let page = |agency: &str, before, limit| store.agency_licences(agency, before, limit).unwrap();
    let ids =
        |rows: Vec<(TxLocation, String)>| rows.into_iter().map(|(_, id)| id).collect::<Vec<_>>();
    assert_eq!(
        ids(page("agency-a", None, 100)),
        vec!["L-4", "L-3", "L-10", "L-1"]
    );
    let first = page("agency-a", None, 2);
    assert_eq!(ids(first.clone()), vec!["L-4", "L-3"]);
    assert_eq!(first[1].0, loc(2, 1), "where L-3 was issued");
    // The next page starts before the last one's location, and the pages together are the
    // whole listing.
    assert_eq!(
        ids(page("agency-a", Some(first[1].0), 2)),
        vec!["L-10", "L-1"]
    );
    assert_eq!(
        ids(page("agency-a", Some(loc(1, 0)), 2)),
        Vec::<String>::new()
    );
    assert_eq!(ids(page("agency-a", None, 0)), Vec::<String>::new());
    assert_eq!(ids(page("agency-b", None, 100)), vec!["L-5", "L-2"]);
    assert_eq!(ids(page("agency", None, 100)), Vec::<String>::new());
    assert_eq!(ids(page("agency-c", None, 100)), Vec::<String>::new());

    // Evidence index.
    assert_eq!(
        store
            .evidence_location(&evidence_hash(suite, "e1"))
            .unwrap(),
        Some(loc(1, 3))
    );
    assert_eq!(
        store
            .evidence_location(&evidence_hash(suite, "e2"))
            .unwrap(),
        Some(loc(4, 2))
    );
    assert_eq!(
        store
            .evidence_location(&evidence_hash(suite, "e3"))
            .unwrap(),
        None
    );

    // Validator sets: 4 sign blocks 1-3, 5 from block 4 on.
    for h in 1..=tip {
        assert_eq!(store.signing_set(h).unwrap(), c.signing_sets[h as usize]);
    }
    assert_eq!(store.signing_set(tip + 1).unwrap(), next_set(c));
    assert_eq!(store.signing_set(3).unwrap().len(), 4);
    assert_eq!(store.signing_set(4).unwrap().len(), 5);
    assert_eq!(store.signing_set(u64::MAX).unwrap().len(), 5);
    let five = store.signing_set(4).unwrap();
    assert_eq!(
        store.set_changes(u64::MAX).unwrap(),
        vec![(3, five.clone())]
    );
    assert_eq!(store.set_changes(4).unwrap(), vec![(3, five.clone())]);
    assert_eq!(store.set_changes(3).unwrap(), vec![]);
    assert_eq!(store.set_changes(0).unwrap(), vec![]);
    // The same changes the test chain puts in a presentation.
    let certified = c.certified(tip);
    let from_store = store.set_changes(tip).unwrap();
    assert_eq!(from_store.len(), certified.set_changes.len());
    for ((h, set), change) in from_store.iter().zip(&certified.set_changes) {
        assert_eq!(*h, change.header.height);
        assert_eq!(*set, change.next_validators);
        assert_eq!(store.header(*h).unwrap().as_ref(), Some(&change.header));
    }

    // A licence read with a proof from the store matches the chain and verifies.
    let key = StateKey::Licence("L-1".into()).hash(suite);
    let (value, proof) = SparseMerkleTree::new(store, suite)
        .get_with_proof(&key, tip)
        .unwrap();
    let expected = SparseMerkleTree::new(&c.store, suite)
        .get(&key, tip)
        .unwrap();
    assert!(expected.is_some());
    assert_eq!(value, expected);
    let root = store.header(tip).unwrap().unwrap().state_root;
    proof.verify(suite, &root, &key, value.as_deref()).unwrap();
}

fn chain_indexes<K: KvStore>(make: impl Fn() -> K) {
    let mut c = chain(Suite::Intl);
    let store = initialised(make(), &c);
    build_history(&mut c, &store);
    check_history(&c, &store);
}

fn observer(name: &str, peer_id: &[u8]) -> Observer {
    Observer {
        name: name.into(),
        peer_id: peer_id.to_vec(),
    }
}

/// The entity index (prefix `k`): agencies, licence types and submitters by id, observers by
/// peer id (raw bytes, not UTF-8 here), written at genesis and on every change; removing an
/// observer drops its entry, also when the same block re-adds or had added it.
fn chain_entity_index<K: KvStore>(make: impl Fn() -> K) {
    let base = chain(Suite::Intl);
    let mut genesis = base.genesis.clone();
    let (a, b) = (b"\xff\x00peer-a".as_slice(), b"peer-b".as_slice());
    genesis.observers = vec![observer("archive-b", b), observer("archive-a", a)];
    let names = genesis
        .validators
        .validators
        .iter()
        .map(|v| (v.key.as_bytes().to_vec(), v.name.clone()))
        .collect();
    let mut c = TestChain::from_genesis(genesis, base.keys, names);
    let store = initialised(make(), &c);
    let peers = |store: &ChainStore<K>| store.observer_peer_ids().unwrap();
    let all = |kind| store.entity_ids(kind, None, usize::MAX).unwrap();
    assert_eq!(all(StateKind::Agency), vec!["agency-a", "agency-b"]);
    assert_eq!(all(StateKind::LicenceType), vec!["business", "food"]);
    assert_eq!(all(StateKind::Submitter), vec!["court-1"]);
    // Pages: after the cursor, exclusive; a cursor that is a prefix of an id is before it.
    let page = |after, limit| store.entity_ids(StateKind::Agency, after, limit).unwrap();
    assert_eq!(page(None, 1), vec!["agency-a"]);
    assert_eq!(page(Some("agency-a"), 1), vec!["agency-b"]);
    assert_eq!(page(Some("agency-b"), 1), Vec::<String>::new());
    assert_eq!(page(Some("agency"), 5), vec!["agency-a", "agency-b"]);
    assert_eq!(page(Some("zzz"), 5), Vec::<String>::new());
    assert_eq!(peers(&store), vec![b.to_vec(), a.to_vec()], "byte order");
    assert_eq!(
        store.entity_raw_ids(StateKind::Observer, 1).unwrap(),
        vec![b.to_vec()]
    );
    assert!(
        matches!(
            store.entity_ids(StateKind::Observer, None, 10),
            Err(StoreError::Corrupt { .. })
        ),
        "a peer id that is not UTF-8 is not a string id"
    );

    // Block 1: a new agency and observer; a genesis observer removed.
    let txs = vec![
        c.council_signed(Payload::RegisterAgency(Agency {
            id: "agency-c".into(),
            name: "Agency C".into(),
            keys: vec![c.key("agency-a").public_key()],
            status: EntityStatus::Active,
        })),
        c.council_signed(Payload::AddObserver(observer("archive-c", b"peer-c"))),
        c.council_signed(Payload::RemoveObserver {
            peer_id: a.to_vec(),
        }),
    ];
    commit_next(&mut c, &store, txs, 0);
    assert_eq!(
        store
            .entity_ids(StateKind::Agency, None, usize::MAX)
            .unwrap(),
        vec!["agency-a", "agency-b", "agency-c"]
    );
    assert_eq!(peers(&store), vec![b.to_vec(), b"peer-c".to_vec()]);

    // Block 2: one added and removed (gone), one removed and re-added (kept).
    let txs = vec![
        c.council_signed(Payload::AddObserver(observer("archive-d", b"peer-d"))),
        c.council_signed(Payload::RemoveObserver {
            peer_id: b"peer-d".to_vec(),
        }),
        c.council_signed(Payload::RemoveObserver {
            peer_id: b.to_vec(),
        }),
        c.council_signed(Payload::AddObserver(observer("archive-b2", b))),
    ];
    commit_next(&mut c, &store, txs, 0);
    assert_eq!(peers(&store), vec![b.to_vec(), b"peer-c".to_vec()]);

    // Block 3: every observer removed.
    let txs = vec![
        c.council_signed(Payload::RemoveObserver {
            peer_id: b.to_vec(),
        }),
        c.council_signed(Payload::RemoveObserver {
            peer_id: b"peer-c".to_vec(),
        }),
    ];
    commit_next(&mut c, &store, txs, 0);
    assert_eq!(peers(&store), Vec::<Vec<u8>>::new());
    assert_eq!(
        count_prefix(store.kv(), layout::ENTITY),
        3 + 2 + 1,
        "agencies, licence types, submitters"
    );
}

/// A transaction with an explicit expiry height.
fn expiring(c: &mut TestChain, id: &str, expires_at_height: u64) -> SignedTransaction {
    let d = draft(c, id, "business", "agency-a");
    let mut tx = c.tx(lichen_contracts::tx::Payload::IssueLicence(d));
    tx.expires_at_height = expires_at_height;
    c.sign(tx, &["agency-a"])
}

/// What the ledger's replay check asks of the store: yes for every id of the replay window (the
/// reference chain's in-memory `ReplayWindow`) and every other committed id that has not
/// expired, no for any id never committed; a transaction resubmitted once its expiry has passed
/// is refused as expired before the question is asked, so the answers the ledger acts on are the
/// window's. The same after the store is opened again (its filter of committed ids starts empty
/// and sends the questions to the index).
fn chain_replay_window<K: KvStore>(make: impl Fn() -> K) {
    use lichen_contracts::exec::{VersionedState, execute_block};
    use lichen_contracts::ledger::{BlockContext, TxError};
    use lichen_contracts::replay::ReplayLookup;
    let mut c = chain(Suite::Intl);
    let suite = c.suite;
    // Shared, so that a second store can open the same keys.
    let store = initialised(std::sync::Arc::new(make()), &c);
    // Each committed id with its expiry.
    let mut committed: Vec<(Hash32, u64)> = Vec::new();
    let answers_match =
        |c: &TestChain, store: &ChainStore<std::sync::Arc<K>>, committed: &[(Hash32, u64)]| {
            for (id, expiry) in committed {
                if *expiry > c.height() {
                    assert!(
                        ReplayLookup::contains(store, id, *expiry).unwrap(),
                        "{id} committed"
                    );
                }
            }
            for (id, expiry) in c.replay.entries() {
                assert!(
                    ReplayLookup::contains(store, id, expiry).unwrap(),
                    "{id} in the window"
                );
            }
            let never = suite.digest(b"never submitted");
            for expiry in c.height() + 1..c.height() + 200 {
                assert!(!ReplayLookup::contains(store, &never, expiry).unwrap());
            }
            // One index answers: no key of the earlier replay-window index is written.
            for prefix in layout::LEGACY_PREFIXES {
                assert_eq!(count_prefix(store.kv(), prefix), 0);
            }
        };
    // What a block at the next height makes of `tx` against the store.
    let resubmitted =
        |c: &TestChain, store: &ChainStore<std::sync::Arc<K>>, tx: &SignedTransaction| {
            let ctx = BlockContext {
                height: c.height() + 1,
                time_ms: next_time(c),
            };
            let state = VersionedState::new(store, suite, c.height());
            execute_block(suite, &state, store, std::slice::from_ref(tx), &ctx)
                .map(|_| ())
                .map_err(|e| e.error)
        };
    // Block 1: expiries 1 (its own height), 2, 3 and the default (101).
    let txs = vec![
        expiring(&mut c, "R-1", 1),
        expiring(&mut c, "R-2", 2),
        expiring(&mut c, "R-3", 3),
        issue(&mut c, "R-101", "agency-a"),
    ];
    commit_next(&mut c, &store, txs.clone(), 0);
    committed.extend((0..4).map(|i| (tx_id(&c, 1, i), txs[i].tx.expires_at_height)));
    answers_match(&c, &store, &committed);
    assert!(matches!(
        resubmitted(&c, &store, &txs[0]),
        Err(TxError::Expired { .. })
    ));
    for tx in &txs[1..] {
        assert!(matches!(
            resubmitted(&c, &store, tx),
            Err(TxError::Duplicate { .. })
        ));
    }
    // Block 2: R-2 expires; a new tx with expiry 2 is in its own block only.
    let txs_2 = vec![expiring(&mut c, "R-2b", 2)];
    commit_next(&mut c, &store, txs_2, 0);
    committed.push((tx_id(&c, 2, 0), 2));
    answers_match(&c, &store, &committed);
    assert!(matches!(
        resubmitted(&c, &store, &txs[1]),
        Err(TxError::Expired { .. })
    ));
    // Block 3 (empty): R-3 expires; R-101 is still refused as a replay.
    commit_next(&mut c, &store, vec![], 0);
    answers_match(&c, &store, &committed);
    assert!(matches!(
        resubmitted(&c, &store, &txs[2]),
        Err(TxError::Expired { .. })
    ));
    assert!(matches!(
        resubmitted(&c, &store, &txs[3]),
        Err(TxError::Duplicate { .. })
    ));
    // The tx index keeps everything.
    for (i, (id, _)) in committed[..4].iter().enumerate() {
        assert_eq!(store.tx_location(id).unwrap(), Some(loc(1, i as u32)));
    }
    // Opened again: the same answers, from the index.
    let reopened = ChainStore::new(store.kv().clone());
    answers_match(&c, &reopened, &committed);
    assert!(matches!(
        resubmitted(&c, &reopened, &txs[3]),
        Err(TxError::Duplicate { .. })
    ));
    // Warmed from the stored blocks (all three in the window): the same answers, the filter
    // covering every block.
    let warmed = reopened.warm_recent_ids(|| false).unwrap();
    assert_eq!((warmed.blocks, warmed.txs), (3, 5));
    assert_eq!(warmed.covered_above, Some(0));
    assert_eq!(reopened.recent_ids_cover_above(), Some(0));
    answers_match(&c, &reopened, &committed);
    assert!(matches!(
        resubmitted(&c, &reopened, &txs[3]),
        Err(TxError::Duplicate { .. })
    ));
    // A block of the window missing (a store restored without it): the warming stops short
    // and the filter covers only what it noted itself (nothing below the tip).
    let mut batch = WriteBatch::new();
    let mut block_2 = vec![layout::BLOCK];
    block_2.extend_from_slice(&2u64.to_be_bytes());
    batch.delete(block_2);
    store.kv().apply(batch).unwrap();
    let gapped = ChainStore::new(store.kv().clone());
    let warmed = gapped.warm_recent_ids(|| false).unwrap();
    assert_eq!((warmed.blocks, warmed.covered_above), (1, None));
    assert_eq!(gapped.recent_ids_cover_above(), Some(3));
    answers_match(&c, &gapped, &committed);
    // Asked to stop: nothing noted, nothing covered below the tip.
    let stopped = ChainStore::new(store.kv().clone());
    let warmed = stopped.warm_recent_ids(|| true).unwrap();
    assert_eq!((warmed.blocks, warmed.covered_above), (0, None));
    assert_eq!(stopped.recent_ids_cover_above(), Some(3));
}

/// A store in the layout before version 2 (a second replay-window index under `r` and `x`, the
/// stale-node index one key per node, no layout mark) is brought to this layout when opened,
/// whatever the number of its keys, and nothing else changes; a store of a later layout is
/// refused.
fn chain_upgrades_an_earlier_layout<K: KvStore>(make: impl Fn() -> K) {
    let mut c = chain(Suite::Intl);
    let store = initialised(make(), &c);
    for i in 0..3 {
        let txs = vec![issue(&mut c, &format!("L-{i}"), "agency-a")];
        commit_next(&mut c, &store, txs, 0);
    }
    assert_eq!(
        store.layout().unwrap(),
        layout::LAYOUT_VERSION,
        "a new store is marked"
    );
    let stale = stale_lists(store.kv());
    assert!(
        stale.values().map(Vec::len).sum::<usize>() > 3,
        "nodes went stale"
    );
    let others = |kv: &K| -> Vec<(Vec<u8>, Vec<u8>)> {
        let layout_key = [&[layout::META][..], layout::META_LAYOUT].concat();
        dump(kv)
            .into_iter()
            .filter(|(k, _)| k[0] != layout::STALE && k != &layout_key)
            .collect()
    };
    let before = others(store.kv());
    // Written as the earlier layout wrote them.
    let mut batch = WriteBatch::new();
    batch.delete([&[layout::META][..], layout::META_LAYOUT].concat());
    let mut legacy = 0;
    for (version, keys) in &stale {
        let mut list_key = vec![layout::STALE];
        list_key.extend_from_slice(&version.to_be_bytes());
        batch.delete(list_key.clone());
        for node_key in keys {
            batch.put([&list_key[..], &node_key.to_bytes()].concat(), vec![]);
            legacy += 1;
        }
    }
    let replay_keys = ChainStore::<K>::LEGACY_KEYS_PER_BATCH_MAX + 7;
    for i in 0..replay_keys as u32 {
        let prefix = layout::LEGACY_PREFIXES[i as usize % 2];
        batch.put(
            [&[prefix][..], &i.to_be_bytes()].concat(),
            i.to_be_bytes().to_vec(),
        );
    }
    store.kv().apply(batch).unwrap();
    assert_eq!(store.layout().unwrap(), 1, "no mark: the first layout");
    assert_eq!(
        store.upgrade_legacy_keys().unwrap(),
        legacy + replay_keys,
        "every key of the earlier layout"
    );
    let sorted = |lists: &std::collections::BTreeMap<u64, Vec<_>>| {
        let mut lists = lists.clone();
        lists.values_mut().for_each(|l| l.sort());
        lists
    };
    assert_eq!(sorted(&stale_lists(store.kv())), sorted(&stale));
    assert_eq!(others(store.kv()), before, "every other key is as it was");
    assert_eq!(store.layout().unwrap(), layout::LAYOUT_VERSION);
    assert_eq!(store.upgrade_legacy_keys().unwrap(), 0, "upgraded once");
    // Pruning reads the regrouped lists.
    let txs = vec![issue(&mut c, "L-9", "agency-a")];
    commit_next(&mut c, &store, txs, 4);
    assert!(
        stale_lists(store.kv()).keys().all(|&v| v >= 4),
        "versions below 4 pruned"
    );
    // A layout this version does not know.
    let mut batch = WriteBatch::new();
    batch.put(
        [&[layout::META][..], layout::META_LAYOUT].concat(),
        (layout::LAYOUT_VERSION + 1).to_be_bytes().to_vec(),
    );
    store.kv().apply(batch).unwrap();
    assert!(matches!(
        store.upgrade_legacy_keys(),
        Err(StoreError::NewerLayout { found, .. }) if found == layout::LAYOUT_VERSION + 1
    ));
}

fn chain_pruning<K: KvStore>(make: impl Fn() -> K) {
    let mut c = chain(Suite::Intl);
    let suite = c.suite;
    let store = initialised(make(), &c);
    // The same tree updates, pruned by the reference in-memory tree store.
    let mut mirror = MemoryTreeStore::new();
    let genesis_tree = SparseMerkleTree::new(&mirror, suite)
        .put_batch(None, 0, &c.genesis.state_writes().unwrap())
        .unwrap();
    mirror.write_batch(&genesis_tree);

    let watched = StateKey::Licence("P-1".into()).hash(suite);
    let absent = StateKey::Licence("P-404".into()).hash(suite);
    // keep_versions_from by height (index): the last three versions, then standing still, then
    // jumping to the last three and to the last two.
    let keeps = [0, 0, 0, 1, 2, 3, 4, 4, 4, 7, 9];
    let mut pruned_below = 0;
    for (h, keep) in keeps.iter().copied().enumerate().skip(1) {
        let h = h as u64;
        let mut txs = vec![issue(&mut c, &format!("P-{}", h + 1), "agency-b")];
        txs.push(match h {
            1 => issue(&mut c, "P-1", "agency-a"),
            h if h % 2 == 0 => suspend(&mut c, "P-1", "agency-a"),
            _ => reinstate(&mut c, "P-1", "agency-a"),
        });
        let b = commit_next(&mut c, &store, txs, keep);
        mirror.write_batch(&b.tree);
        mirror.prune(keep);
        pruned_below = pruned_below.max(keep);
        assert_eq!(store.pruned_below().unwrap(), pruned_below, "at {h}");
        assert_eq!(
            count_prefix(store.kv(), layout::NODE),
            mirror.node_count(),
            "nodes at {h}"
        );
        assert_eq!(
            stale_lists(store.kv())
                .values()
                .map(Vec::len)
                .sum::<usize>(),
            mirror.stale_count(),
            "stale index at {h}"
        );

        let tree = SparseMerkleTree::new(&store, suite);
        let reference = SparseMerkleTree::new(&c.store, suite);
        for v in 0..=h {
            if v >= pruned_below {
                let root = store.header(v).unwrap().unwrap().state_root;
                assert_eq!(tree.root_hash(v).unwrap(), root, "kept version {v} at {h}");
                for key in [&watched, &absent] {
                    let (value, proof) = tree.get_with_proof(key, v).unwrap();
                    assert_eq!(value, reference.get(key, v).unwrap(), "{v} at {h}");
                    proof.verify(suite, &root, key, value.as_deref()).unwrap();
                }
            } else {
                assert!(
                    matches!(tree.root_hash(v), Err(StorageError::MissingNode { version }) if version == v),
                    "pruned version {v} at {h}"
                );
                assert!(
                    matches!(
                        tree.get_with_proof(&watched, v),
                        Err(StorageError::MissingNode { .. })
                    ),
                    "pruned version {v} at {h}"
                );
            }
        }
    }
    assert_eq!(pruned_below, 9);
    assert_eq!(store.pruned_below().unwrap(), 9);
    // Blocks and headers of pruned versions stay.
    assert!(store.block(1).unwrap().is_some());
}

fn chain_consensus_state<K: KvStore>(make: impl Fn() -> K) {
    let c = chain(Suite::Intl);
    let store = initialised(make(), &c);
    assert_eq!(store.consensus_state().unwrap(), None);
    store.put_consensus_state(b"view 3, prepared").unwrap();
    assert_eq!(
        store.consensus_state().unwrap(),
        Some(b"view 3, prepared".to_vec())
    );
    store.put_consensus_state(b"view 4").unwrap();
    assert_eq!(store.consensus_state().unwrap(), Some(b"view 4".to_vec()));
    store.put_consensus_state(&[]).unwrap();
    assert_eq!(store.consensus_state().unwrap(), Some(vec![]));
    // It is not chain data.
    assert_eq!(store.tip().unwrap().height, 0);
}

macro_rules! conformance {
    ($module:ident, $fixture:ty) => {
        mod $module {
            use super::*;

            conformance!(@tests $fixture;
                kv_get_put_delete,
                kv_batch_later_op_wins,
                kv_scan_bounds,
                kv_scan_limit_and_reverse,
                kv_delete_then_scan,
                chain_genesis,
                chain_wrong_genesis,
                chain_not_next,
                chain_indexes,
                chain_entity_index,
                chain_replay_window,
                chain_upgrades_an_earlier_layout,
                chain_pruning,
                chain_consensus_state,
            );
        }
    };
    (@tests $fixture:ty; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let fixture = <$fixture>::default();
                super::$test(|| fixture.make());
            }
        )*
    };
}

conformance!(memory, Memory);
conformance!(fjall, Disk);

// --- one backend only ---

/// The SM suite end to end (the chain store hashes headers and tx ids with the chain's suite).
#[test]
fn chain_indexes_sm_suite() {
    let mut c = chain(Suite::Sm);
    let store = initialised(MemoryKv::new(), &c);
    build_history(&mut c, &store);
    check_history(&c, &store);
}

/// More stale nodes than one block prunes: pruning catches up over the next blocks, and
/// `pruned_below` advances only when it has.
#[test]
fn pruning_catches_up_over_blocks() {
    use lichen_storage::layout::NODE;
    let c = chain(Suite::Intl);
    let suite = c.suite;
    let store = initialised(MemoryKv::new(), &c);
    let mut mirror = MemoryTreeStore::new();
    mirror.write_batch(
        &SparseMerkleTree::new(&mirror, suite)
            .put_batch(None, 0, &c.genesis.state_writes().unwrap())
            .unwrap(),
    );
    // Synthetic blocks: the store does not re-execute, it writes what it is given.
    let genesis_block = store.block(0).unwrap().unwrap();
    let mut commit = |height: u64, writes: &BTreeMap<Hash32, Option<Vec<u8>>>, keep: u64| {
        let tree: TreeUpdateBatch = SparseMerkleTree::new(&store, suite)
            .put_batch(Some(height - 1), height, writes)
            .unwrap();
        let mut block = genesis_block.clone();
        block.header.height = height;
        block.header.state_root = tree.root_hash;
        let certificate = lichen_contracts::block::CommitCertificate {
            height,
            view: 0,
            block_hash: block.header.hash(suite),
            signatures: vec![],
        };
        store
            .commit_block(BlockCommit {
                block: &block,
                certificate: &certificate,
                tree: &tree,
                events: &[],
                tx_ids: &[],
                new_validators: None,
                keep_versions_from: keep,
            })
            .unwrap();
        mirror.write_batch(&tree);
    };
    const KEYS: u32 = 18_000;
    let writes = |round: u8| -> BTreeMap<Hash32, Option<Vec<u8>>> {
        (0..KEYS)
            .map(|i| {
                let key = suite.digest(&i.to_be_bytes());
                (key, Some(vec![round; 3]))
            })
            .collect()
    };
    for round in 1..=4u8 {
        commit(u64::from(round), &writes(round), 0);
    }
    // Whole versions go, oldest first, while their nodes fit in the per-block maximum (the first
    // whatever its size).
    let lists = stale_lists(store.kv());
    let stale_total: usize = lists.values().map(Vec::len).sum();
    assert!(
        stale_total > PRUNE_NODES_PER_BLOCK_MAX,
        "the test needs more stale nodes ({stale_total}) than one block prunes"
    );
    let mut fits = 0;
    let first_left = lists
        .iter()
        .find(|(_, nodes)| {
            fits += nodes.len();
            fits > PRUNE_NODES_PER_BLOCK_MAX
        })
        .map(|(&v, _)| v)
        .expect("a version left");
    assert!(first_left > 1 && first_left <= 4);
    // Block 5 may prune everything stale since <= 4, but only the per-block maximum goes
    // (block 5 itself makes its predecessor's root stale).
    commit(5, &BTreeMap::new(), 4);
    assert_eq!(store.pruned_below().unwrap(), 0, "not caught up yet");
    let left = stale_lists(store.kv());
    assert_eq!(
        left.keys().copied().collect::<Vec<_>>(),
        (first_left..=5).collect::<Vec<_>>()
    );
    // The oldest go first: version 1 is gone, version 4 is whole.
    let tree = SparseMerkleTree::new(&store, suite);
    assert!(matches!(
        tree.root_hash(1),
        Err(StorageError::MissingNode { version: 1 })
    ));
    let probe = suite.digest(&7u32.to_be_bytes());
    assert_eq!(tree.get(&probe, 4).unwrap(), Some(vec![4; 3]));
    // Block 6, same keep: catches up.
    commit(6, &BTreeMap::new(), 4);
    assert_eq!(store.pruned_below().unwrap(), 4);
    mirror.prune(4);
    assert_eq!(count_prefix(store.kv(), NODE), mirror.node_count());
    assert_eq!(
        stale_lists(store.kv())
            .values()
            .map(Vec::len)
            .sum::<usize>(),
        mirror.stale_count()
    );
    let tree = SparseMerkleTree::new(&store, suite);
    assert!(matches!(
        tree.root_hash(3),
        Err(StorageError::MissingNode { version: 3 })
    ));
    for v in 4..=6 {
        assert_eq!(
            tree.root_hash(v).unwrap(),
            store.header(v).unwrap().unwrap().state_root
        );
        assert_eq!(tree.get(&probe, v).unwrap(), Some(vec![4; 3]));
    }
}

/// `lichen_storage::chain::PRUNE_NODES_PER_BLOCK_MAX` (documented, not exported).
const PRUNE_NODES_PER_BLOCK_MAX: usize = 50_000;

/// Everything survives closing and reopening the data directory.
#[test]
fn disk_reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = chain(Suite::Intl);
    let (tip, everything) = {
        let store = initialised(open_disk(dir.path()), &c);
        build_history(&mut c, &store);
        store.put_consensus_state(b"height 6 view 2").unwrap();
        (store.tip().unwrap(), dump(store.kv()))
    };
    let store = ChainStore::new(open_disk(dir.path()));
    assert_eq!(store.tip().unwrap(), tip);
    assert_eq!(dump(store.kv()), everything, "every key and value is back");
    check_history(&c, &store);
    assert_eq!(
        store.consensus_state().unwrap(),
        Some(b"height 6 view 2".to_vec())
    );
    for (id, expiry) in c.replay.entries() {
        use lichen_contracts::replay::ReplayLookup;
        assert!(ReplayLookup::contains(&store, id, expiry).unwrap());
    }
    // Opening with the same genesis is a no-op; another genesis is refused.
    assert_eq!(store.init_genesis(&c.genesis).unwrap(), tip);
    let mut other = c.genesis.clone();
    other.config.chain_id = "lichen-other".into();
    assert!(matches!(
        store.init_genesis(&other),
        Err(StoreError::WrongGenesis { .. })
    ));
    // And the chain goes on from the reopened store.
    let txs = vec![suspend(&mut c, "L-2", "agency-b")];
    commit_next(&mut c, &store, txs, 0);
    assert_eq!(store.tip().unwrap().height, 6);
    drop(store);
    let store = ChainStore::new(open_disk(dir.path()));
    assert_eq!(store.tip().unwrap().height, 6);
    assert_eq!(
        store
            .licence_history("L-2")
            .unwrap()
            .iter()
            .map(|e| e.status)
            .collect::<Vec<_>>(),
        vec![LicenceStatus::Active, LicenceStatus::Suspended]
    );
}

/// A data directory that sled wrote (Lichen before fjall) is refused with a clear error, not
/// read as an empty store (the node would start the chain again beside the old data).
#[test]
fn a_sled_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conf"), b"segment_size: 524288\n").unwrap();
    std::fs::write(dir.path().join("db"), [0u8; 64]).unwrap();
    match FjallKv::open(dir.path(), lichen_storage::CACHE_BYTES_DEFAULT) {
        Err(StoreError::Backend { operation, reason }) => {
            assert_eq!(operation, "open");
            assert!(reason.contains("written by sled"), "{reason}");
        }
        Ok(_) => panic!("a sled directory opened as an empty store"),
        Err(e) => panic!("unexpected error {e}"),
    }
    assert!(
        !dir.path().join("lock").exists(),
        "nothing written beside sled's files"
    );
}

/// The store locks its directory: a second store on the same data directory is refused while
/// the first is open, and opens once it is closed.
#[test]
fn disk_directory_is_locked_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let first = open_disk(dir.path());
    put(&first, b"k", b"v");
    first.flush().unwrap();
    match FjallKv::open(dir.path(), lichen_storage::CACHE_BYTES_DEFAULT) {
        Err(StoreError::Backend { operation, reason }) => {
            assert_eq!(operation, "open");
            assert!(
                reason.contains(&dir.path().display().to_string()),
                "{reason}"
            );
        }
        Ok(_) => panic!("a second store opened the same directory"),
        Err(e) => panic!("unexpected error {e}"),
    }
    drop(first);
    let again = open_disk(dir.path());
    assert_eq!(again.get(b"k").unwrap(), Some(b"v".to_vec()));
}

/// A reader never sees part of a batch: while one thread applies batches that set 100 keys to
/// the same counter, scans from another see all 100 keys with one value (fjall's plain reads
/// see a batch half-applied; `FjallKv` keeps reads out while a batch goes in).
fn batches_are_atomic_to_readers(kv: std::sync::Arc<impl KvStore + 'static>) {
    const KEYS: u8 = 100;
    // Every batch leaves 100 more versions for a scan to skip until compaction: more batches
    // only make each scan slower (a debug build under the whole workspace's tests took minutes).
    const BATCHES: u32 = 100;
    let writer = {
        let kv = kv.clone();
        std::thread::spawn(move || {
            for n in 1..=BATCHES {
                let mut b = WriteBatch::new();
                for k in 0..KEYS {
                    b.put(vec![b'k', k], n.to_be_bytes().to_vec());
                }
                kv.apply(b).unwrap();
            }
        })
    };
    let mut scans = 0u32;
    while !writer.is_finished() || scans == 0 {
        let entries = kv.scan(b"k", b"l", usize::MAX, false).unwrap();
        if !entries.is_empty() {
            assert_eq!(
                entries.len(),
                usize::from(KEYS),
                "a scan saw part of a batch"
            );
            assert!(
                entries.iter().all(|e| e.1 == entries[0].1),
                "a scan saw two batches' values"
            );
        }
        scans += 1;
        // Leave the writer room between scans (readers exclude it while they read).
        std::thread::yield_now();
    }
    writer.join().unwrap();
}

#[test]
fn batches_are_atomic_to_readers_in_memory() {
    batches_are_atomic_to_readers(std::sync::Arc::new(MemoryKv::new()));
}

#[test]
fn batches_are_atomic_to_readers_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    batches_are_atomic_to_readers(std::sync::Arc::new(open_disk(dir.path())));
}

/// The engine's gauges (`GET /metrics`) follow what it does: written bytes wait in the memtables
/// until a flush to a table. A store in memory has no engine.
#[test]
fn disk_store_reports_what_waits_in_its_memtables() {
    assert_eq!(MemoryKv::new().engine_stats(), None);
    let dir = tempfile::tempdir().unwrap();
    let kv = open_disk(dir.path());
    let empty = kv.engine_stats().unwrap();
    assert_eq!((empty.memtable_bytes, empty.tables), (0, 0), "{empty:?}");
    let value = vec![7u8; 1_000];
    for i in 0..1_000u32 {
        put(&kv, &i.to_be_bytes(), &value);
    }
    let written = kv.engine_stats().unwrap();
    assert!(
        written.memtable_bytes >= 1_000 * 1_000,
        "a megabyte written: {written:?}"
    );
    assert_eq!(written.tables, 0, "nothing flushed yet: {written:?}");
}
