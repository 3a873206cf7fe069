//! Properties of the state tree: proofs on a 10,000-key tree, proof tampering, independence of
//! insertion order and batching, deletes, versions and pruning, stored node encodings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::OnceLock;

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::error::StorageError;
use lichen_contracts::smt::{
    Child, Children, MemoryTreeStore, Node, SparseMerkleTree, StateProof, leaf_hash, node_hash,
    value_hash,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const SUITE: Suite = Suite::Sm;
type Updates = BTreeMap<Hash32, Option<Vec<u8>>>;

fn key(seed: u64, i: u64) -> Hash32 {
    let mut input = [0u8; 16];
    input[..8].copy_from_slice(&seed.to_be_bytes());
    input[8..].copy_from_slice(&i.to_be_bytes());
    Suite::Intl.digest(&input)
}

fn value(i: u64, round: u64) -> Vec<u8> {
    format!("value {i} of round {round}").into_bytes()
}

/// The binary definition, straight, over `(key, value)` sorted by key.
fn reference_root(entries: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
    match entries {
        [] => Hash32::ZERO,
        [(k, vh)] => leaf_hash(SUITE, k, vh),
        _ => {
            let split = entries.partition_point(|(k, _)| !k.bit(depth));
            node_hash(
                SUITE,
                &reference_root(&entries[..split], depth + 1),
                &reference_root(&entries[split..], depth + 1),
            )
        }
    }
}

fn reference(map: &BTreeMap<Hash32, Vec<u8>>) -> Hash32 {
    let entries: Vec<_> = map
        .iter()
        .map(|(k, v)| (*k, value_hash(SUITE, v)))
        .collect();
    reference_root(&entries, 0)
}

/// Applies `updates` as the version after `latest`, returning the new version and root.
fn apply(store: &mut MemoryTreeStore, latest: Option<u64>, updates: &Updates) -> (u64, Hash32) {
    let version = latest.map_or(0, |v| v + 1);
    let batch = SparseMerkleTree::new(&*store, SUITE)
        .put_batch(latest, version, updates)
        .unwrap();
    store.write_batch(&batch);
    (version, batch.root_hash)
}

fn apply_to(map: &mut BTreeMap<Hash32, Vec<u8>>, updates: &Updates) {
    for (k, v) in updates {
        match v {
            Some(v) => map.insert(*k, v.clone()),
            None => map.remove(k),
        };
    }
}

/// 10,000 keys written in 4 batches of 2,500 (versions 0..=3), plus encoded proofs for a sample.
struct BigTree {
    store: MemoryTreeStore,
    /// Expected contents per version.
    contents: Vec<BTreeMap<Hash32, Vec<u8>>>,
    roots: Vec<Hash32>,
    /// (key, value, encoded proof) at the last version.
    present: Vec<(Hash32, Vec<u8>, Vec<u8>)>,
    /// (key, encoded proof) at the last version.
    absent: Vec<(Hash32, Vec<u8>)>,
}

const BIG_KEYS: u64 = 10_000;
const BIG_BATCHES: u64 = 4;
const SAMPLE: u64 = 500;

fn big() -> &'static BigTree {
    static BIG: OnceLock<BigTree> = OnceLock::new();
    BIG.get_or_init(|| {
        let mut store = MemoryTreeStore::new();
        let mut latest = None;
        let mut map = BTreeMap::new();
        let (mut contents, mut roots) = (Vec::new(), Vec::new());
        let per_batch = BIG_KEYS / BIG_BATCHES;
        for b in 0..BIG_BATCHES {
            let mut updates: Updates = (b * per_batch..(b + 1) * per_batch)
                .map(|i| (key(1, i), Some(value(i, 0))))
                .collect();
            // Later batches also overwrite some earlier keys.
            for i in (0..b * per_batch).step_by(97) {
                updates.insert(key(1, i), Some(value(i, b)));
            }
            let (version, root) = apply(&mut store, latest, &updates);
            latest = Some(version);
            apply_to(&mut map, &updates);
            contents.push(map.clone());
            roots.push(root);
        }
        let version = latest.unwrap();
        let tree = SparseMerkleTree::new(&store, SUITE);
        let step = BIG_KEYS / SAMPLE;
        let present = (0..SAMPLE)
            .map(|s| {
                let k = key(1, s * step + s % step);
                let (v, proof) = tree.get_with_proof(&k, version).unwrap();
                (k, v.unwrap(), proof.to_bytes())
            })
            .collect();
        let absent = (0..SAMPLE)
            .map(|s| {
                let k = key(2, s);
                let (v, proof) = tree.get_with_proof(&k, version).unwrap();
                assert_eq!(v, None);
                (k, proof.to_bytes())
            })
            .collect();
        BigTree {
            store,
            contents,
            roots,
            present,
            absent,
        }
    })
}

#[test]
fn big_tree_proves_present_and_absent_keys() {
    let big = big();
    let last = big.roots.len() - 1;
    let root = big.roots[last];
    assert_eq!(big.contents[last].len() as u64, BIG_KEYS);
    assert_eq!(root, reference(&big.contents[last]));
    let tree = SparseMerkleTree::new(&big.store, SUITE);
    assert_eq!(tree.root_hash(last as u64).unwrap(), root);
    for (k, v, bytes) in &big.present {
        assert_eq!(big.contents[last].get(k), Some(v));
        let proof = StateProof::from_bytes(bytes).unwrap();
        proof.verify(SUITE, &root, k, Some(v)).unwrap();
        assert!(proof.verify(SUITE, &root, k, None).is_err());
    }
    for (k, bytes) in &big.absent {
        let proof = StateProof::from_bytes(bytes).unwrap();
        proof.verify(SUITE, &root, k, None).unwrap();
        assert!(proof.verify(SUITE, &root, k, Some(b"")).is_err());
    }
    let size = |proofs: &mut dyn Iterator<Item = usize>| {
        let sizes: Vec<usize> = proofs.collect();
        (
            sizes.iter().sum::<usize>() as f64 / sizes.len() as f64,
            sizes.iter().max().copied(),
        )
    };
    let (present_avg, present_max) = size(&mut big.present.iter().map(|p| p.2.len()));
    let (absent_avg, absent_max) = size(&mut big.absent.iter().map(|p| p.1.len()));
    println!(
        "10,000 keys: inclusion proof {present_avg:.1} bytes on average (max {present_max:?}), \
         non-inclusion {absent_avg:.1} (max {absent_max:?}); {} nodes stored",
        big.store.node_count()
    );
    // ~log2(10,000) = 13.3 siblings of 32 bytes, plus the leaf.
    assert!(present_avg < 600.0 && absent_avg < 600.0);
}

#[test]
fn big_tree_old_versions_read_until_pruned() {
    let big = big();
    let mut store = big.store.clone();
    let probe: Vec<Hash32> = (0..200).map(|i| key(1, i * 47)).collect();
    let check = |store: &MemoryTreeStore, version: usize| {
        let tree = SparseMerkleTree::new(store, SUITE);
        let root = tree.root_hash(version as u64).unwrap();
        assert_eq!(root, big.roots[version]);
        for k in &probe {
            let expected = big.contents[version].get(k);
            let (v, proof) = tree.get_with_proof(k, version as u64).unwrap();
            assert_eq!(v.as_ref(), expected);
            proof
                .verify(SUITE, &root, k, expected.map(Vec::as_slice))
                .unwrap();
        }
    };
    for version in 0..big.roots.len() {
        check(&store, version);
    }
    store.prune(2);
    for version in 0..2u64 {
        let tree = SparseMerkleTree::new(&store, SUITE);
        assert_eq!(
            tree.root_hash(version),
            Err(StorageError::MissingNode { version })
        );
        assert!(matches!(
            tree.get_with_proof(&probe[0], version),
            Err(StorageError::MissingNode { .. })
        ));
    }
    for version in 2..big.roots.len() {
        check(&store, version);
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Relative to the package root, where `cargo test` runs.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/smt_props.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Flipping any bit of an encoded proof makes it undecodable or unverifiable; so do a wrong
    /// value and a wrong key.
    #[test]
    fn tampered_proofs_fail(
        which in 0..(2 * SAMPLE as usize),
        position in any::<prop::sample::Index>(),
        bit in 0..8u8,
        key_bit in 0..256usize,
    ) {
        let big = big();
        let root = *big.roots.last().unwrap();
        let (k, claimed, bytes) = if which < SAMPLE as usize {
            let (k, v, bytes) = &big.present[which];
            (*k, Some(v.as_slice()), bytes)
        } else {
            let (k, bytes) = &big.absent[which - SAMPLE as usize];
            (*k, None, bytes)
        };
        let proof = StateProof::from_bytes(bytes).unwrap();
        prop_assert!(proof.verify(SUITE, &root, &k, claimed).is_ok());

        let mut flipped = bytes.clone();
        flipped[position.index(bytes.len())] ^= 1 << bit;
        if let Ok(tampered) = StateProof::from_bytes(&flipped) {
            prop_assert!(tampered.verify(SUITE, &root, &k, claimed).is_err());
        }

        // Another value.
        let other_value = match claimed {
            Some(v) => { let mut v = v.to_vec(); v.push(0); Some(v) }
            None => Some(b"anything".to_vec()),
        };
        prop_assert!(proof.verify(SUITE, &root, &k, other_value.as_deref()).is_err());
        if claimed.is_some() {
            prop_assert!(proof.verify(SUITE, &root, &k, None).is_err());
        }

        // Another key: never proves a value; proves absence only where it still shares the
        // proof's path (the flipped bit is below the terminal), which is then the truth.
        let mut other_key = k;
        other_key.0[key_bit / 8] ^= 0x80 >> (key_bit % 8);
        prop_assert!(proof.verify(SUITE, &root, &other_key, claimed).is_err()
            || claimed.is_none() && key_bit >= proof.depth());
        if key_bit < proof.depth() {
            prop_assert!(proof.verify(SUITE, &root, &other_key, None).is_err());
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// The root is a function of the final key/value set: not of the order of the updates, how
    /// they were cut into batches, or values and keys that came and went on the way.
    #[test]
    fn root_is_independent_of_order_and_batching(
        (n, order) in (50..300usize).prop_flat_map(|n| (Just(n), Just((0..n).collect::<Vec<_>>()).prop_shuffle())),
        seed in any::<u64>(),
        mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        transient in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let keys: Vec<Hash32> = (0..n as u64).map(|i| key(seed, i)).collect();
        let final_map: BTreeMap<Hash32, Vec<u8>> =
            keys.iter().enumerate().map(|(i, k)| (*k, value(i as u64, 9))).collect();

        // All at once.
        let all: Updates = final_map.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
        let (_, one_shot) = apply(&mut MemoryTreeStore::new(), None, &all);
        prop_assert_eq!(one_shot, reference(&final_map));

        // Shuffled, cut into batches, with detours.
        let mut bounds: Vec<usize> = cuts.iter_mut().map(|c| c.index(n + 1)).collect();
        bounds.push(0);
        bounds.push(n);
        bounds.sort_unstable();
        let mut store = MemoryTreeStore::new();
        let mut latest = None;
        let mut detours: Vec<Updates> = Vec::new();
        let batches = bounds.len() - 1;
        for (b, w) in bounds.windows(2).enumerate() {
            let mut batch: Updates = order[w[0]..w[1]]
                .iter()
                .map(|&i| (keys[i], Some(value(i as u64, 9))))
                .collect();
            // A transient key and a wrong value for a later key, repaired by a later batch.
            let mut repair = Updates::new();
            for (j, t) in transient.iter().enumerate().filter(|(j, _)| j % batches == b) {
                let ghost = key(seed ^ 0xdead, j as u64);
                batch.insert(ghost, Some(b"ghost".to_vec()));
                repair.insert(ghost, None);
                let i = order[t.index(n)];
                if let Entry::Vacant(slot) = batch.entry(keys[i]) {
                    slot.insert(Some(b"wrong".to_vec()));
                    repair.insert(keys[i], Some(value(i as u64, 9)));
                }
            }
            let (v, _) = apply(&mut store, latest, &batch);
            latest = Some(v);
            detours.push(repair);
        }
        for repair in detours {
            let (v, _) = apply(&mut store, latest, &repair);
            latest = Some(v);
        }
        let tree = SparseMerkleTree::new(&store, SUITE);
        prop_assert_eq!(tree.root_hash(latest.unwrap()).unwrap(), one_shot);
    }

    /// Deleting what was added, and restoring what was overwritten, gives back the earlier root.
    #[test]
    fn deletes_return_to_earlier_roots(
        seed in any::<u64>(),
        base_n in 0..150u64,
        extra_n in 1..150u64,
        overwrite in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        split in any::<prop::sample::Index>(),
    ) {
        let base: Updates = (0..base_n).map(|i| (key(seed, i), Some(value(i, 0)))).collect();
        let mut store = MemoryTreeStore::new();
        let (v0, root0) = apply(&mut store, None, &base);

        let mut change: Updates =
            (0..extra_n).map(|i| (key(seed, 1000 + i), Some(value(i, 1)))).collect();
        let mut undo: Updates = change.keys().map(|k| (*k, None)).collect();
        if base_n > 0 {
            for o in &overwrite {
                let i = o.index(base_n as usize) as u64;
                change.insert(key(seed, i), Some(value(i, 2)));
                undo.insert(key(seed, i), Some(value(i, 0)));
            }
        }
        let (v1, root1) = apply(&mut store, Some(v0), &change);
        prop_assert_ne!(root1, root0);

        // Undo in two batches.
        let cut = split.index(undo.len() + 1);
        let first: Updates = undo.iter().take(cut).map(|(k, v)| (*k, v.clone())).collect();
        let second: Updates = undo.iter().skip(cut).map(|(k, v)| (*k, v.clone())).collect();
        let (v2, _) = apply(&mut store, Some(v1), &first);
        let (_, root3) = apply(&mut store, Some(v2), &second);
        prop_assert_eq!(root3, root0);
    }

    /// Every version stays readable, with correct values and proofs, until it is pruned; after
    /// pruning, earlier versions report `MissingNode` and later ones still read.
    #[test]
    fn versions_read_until_pruned(
        seed in any::<u64>(),
        rounds in prop::collection::vec(prop::collection::vec((0..120u64, 0..4u8), 1..60), 2..7),
        keep in any::<prop::sample::Index>(),
    ) {
        let mut store = MemoryTreeStore::new();
        let mut latest = None;
        let mut map = BTreeMap::new();
        let mut contents = Vec::new();
        for (r, round) in rounds.iter().enumerate() {
            let updates: Updates = round
                .iter()
                .map(|&(i, op)| (key(seed, i), (op != 0).then(|| value(i, r as u64 + u64::from(op)))))
                .collect();
            let (v, root) = apply(&mut store, latest, &updates);
            latest = Some(v);
            apply_to(&mut map, &updates);
            prop_assert_eq!(root, reference(&map));
            contents.push(map.clone());
        }
        let check = |store: &MemoryTreeStore, version: usize| -> Result<(), TestCaseError> {
            let tree = SparseMerkleTree::new(store, SUITE);
            let root = tree.root_hash(version as u64).unwrap();
            prop_assert_eq!(root, reference(&contents[version]));
            for i in 0..120 {
                let k = key(seed, i);
                let expected = contents[version].get(&k);
                let (v, proof) = tree.get_with_proof(&k, version as u64).unwrap();
                prop_assert_eq!(v.as_ref(), expected);
                let plain = tree.get(&k, version as u64).unwrap();
                prop_assert_eq!(plain.as_ref(), expected);
                prop_assert!(proof.verify(SUITE, &root, &k, expected.map(Vec::as_slice)).is_ok());
            }
            Ok(())
        };
        for version in 0..contents.len() {
            check(&store, version)?;
        }
        let oldest_kept = keep.index(contents.len()) as u64;
        store.prune(oldest_kept);
        for version in 0..oldest_kept {
            let tree = SparseMerkleTree::new(&store, SUITE);
            prop_assert_eq!(tree.root_hash(version), Err(StorageError::MissingNode { version }));
        }
        for version in oldest_kept as usize..contents.len() {
            check(&store, version)?;
        }
    }

    /// Any internal node round-trips through the compact form, and its first-form bytes (fixed
    /// versions, a byte per is_leaf: what stores written before hold) decode to the same node.
    #[test]
    fn internal_nodes_round_trip_in_both_forms(
        slots in prop::collection::vec(
            prop::option::of((any::<u64>(), any::<[u8; 32]>(), any::<bool>())),
            16,
        ),
    ) {
        let mut children: Children = [None; 16];
        for (slot, c) in children.iter_mut().zip(&slots) {
            *slot = c.map(|(version, hash, is_leaf)| Child { version, hash: Hash32(hash), is_leaf });
        }
        let present: Vec<&Child> = children.iter().flatten().collect();
        let valid = match present.as_slice() {
            [] => false,
            [only] => !only.is_leaf,
            _ => true,
        };
        let node = Node::Internal { children };
        let compact = node.to_bytes();
        let mut fixed = vec![1u8];
        let bitmap = children.iter().enumerate().filter(|(_, c)| c.is_some()).fold(0u16, |a, (n, _)| a | (1 << n));
        fixed.extend_from_slice(&bitmap.to_be_bytes());
        for c in &present {
            fixed.extend_from_slice(&c.version.to_be_bytes());
            fixed.extend_from_slice(&c.hash.0);
            fixed.push(u8::from(c.is_leaf));
        }
        if valid {
            prop_assert_eq!(Node::from_bytes(&compact).unwrap(), node.clone());
            prop_assert_eq!(Node::from_bytes(&fixed).unwrap(), node);
        } else {
            prop_assert!(Node::from_bytes(&compact).is_err());
            prop_assert!(Node::from_bytes(&fixed).is_err());
        }
    }
}
