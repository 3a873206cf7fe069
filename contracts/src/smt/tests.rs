#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::codec::{Decode, Encode};
use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, ProofError, StorageError};

type Updates = BTreeMap<Hash32, Option<Vec<u8>>>;

/// The binary definition, straight: `entries` sorted by key, `(key, value_hash)`.
fn reference_root(suite: Suite, entries: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
    match entries {
        [] => Hash32::ZERO,
        [(key, vh)] => leaf_hash(suite, key, vh),
        _ => {
            assert!(depth < 256, "duplicate keys");
            let split = entries.partition_point(|(k, _)| !k.bit(depth));
            node_hash(
                suite,
                &reference_root(suite, &entries[..split], depth + 1),
                &reference_root(suite, &entries[split..], depth + 1),
            )
        }
    }
}

fn reference_of(suite: Suite, map: &BTreeMap<Hash32, Vec<u8>>) -> Hash32 {
    let entries: Vec<(Hash32, Hash32)> = map
        .iter()
        .map(|(k, v)| (*k, value_hash(suite, v)))
        .collect();
    reference_root(suite, &entries, 0)
}

/// splitmix64: deterministic test randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hash(&mut self) -> Hash32 {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        Hash32(out)
    }

    fn value(&mut self) -> Vec<u8> {
        let len = self.below(40) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn key_with_bits(bits: &[(usize, bool)]) -> Hash32 {
    let mut k = Hash32::ZERO;
    for &(i, set) in bits {
        if set {
            k.0[i / 8] |= 0x80 >> (i % 8);
        } else {
            k.0[i / 8] &= !(0x80 >> (i % 8));
        }
    }
    k
}

/// A store plus the expected contents of each version.
struct Harness {
    suite: Suite,
    store: MemoryTreeStore,
    latest: Option<u64>,
    expected: BTreeMap<u64, BTreeMap<Hash32, Vec<u8>>>,
}

impl Harness {
    fn new(suite: Suite) -> Self {
        Harness {
            suite,
            store: MemoryTreeStore::new(),
            latest: None,
            expected: BTreeMap::new(),
        }
    }

    fn apply(&mut self, updates: &Updates) -> TreeUpdateBatch {
        let version = self.latest.map_or(0, |v| v + 1);
        let batch = SparseMerkleTree::new(&self.store, self.suite)
            .put_batch(self.latest, version, updates)
            .unwrap();
        // Stale nodes are distinct, exist, and belong to earlier versions.
        let unique: BTreeSet<_> = batch.stale_nodes.iter().collect();
        assert_eq!(
            unique.len(),
            batch.stale_nodes.len(),
            "duplicate stale nodes"
        );
        for stale in &batch.stale_nodes {
            assert_eq!(stale.stale_since_version, version);
            assert!(stale.node_key.version < version);
            assert!(self.store.get_node(&stale.node_key).unwrap().is_some());
        }
        assert!(batch.new_nodes.keys().all(|k| k.version == version));
        assert!(batch.new_nodes.contains_key(&NodeKey::root(version)));
        self.store.write_batch(&batch);
        let mut map = self
            .latest
            .map(|v| self.expected[&v].clone())
            .unwrap_or_default();
        for (k, v) in updates {
            match v {
                Some(v) => map.insert(*k, v.clone()),
                None => map.remove(k),
            };
        }
        assert_eq!(
            batch.root_hash,
            reference_of(self.suite, &map),
            "root vs reference"
        );
        self.expected.insert(version, map);
        self.latest = Some(version);
        batch
    }

    fn tree(&self) -> SparseMerkleTree<'_, MemoryTreeStore> {
        SparseMerkleTree::new(&self.store, self.suite)
    }

    /// Every expected key reads back with a valid inclusion proof; `absent` keys prove absence.
    fn check_version(&self, version: u64, absent: &[Hash32]) {
        let tree = self.tree();
        let root = tree.root_hash(version).unwrap();
        let map = &self.expected[&version];
        assert_eq!(root, reference_of(self.suite, map));
        for (k, v) in map {
            assert_eq!(tree.get(k, version).unwrap().as_ref(), Some(v));
            let (value, proof) = tree.get_with_proof(k, version).unwrap();
            assert_eq!(value.as_ref(), Some(v));
            proof.verify(self.suite, &root, k, Some(v)).unwrap();
            let decoded = StateProof::from_bytes(&proof.to_bytes()).unwrap();
            assert_eq!(decoded, proof);
        }
        for k in absent.iter().filter(|k| !map.contains_key(k)) {
            assert_eq!(tree.get(k, version).unwrap(), None);
            let (value, proof) = tree.get_with_proof(k, version).unwrap();
            assert_eq!(value, None);
            proof.verify(self.suite, &root, k, None).unwrap();
        }
    }

    /// (path, hash) of every node reachable from the root of `version`: the storage shape with
    /// versions left out.
    fn shape(&self, version: u64) -> Vec<(NibblePath, Hash32, bool)> {
        let mut out = Vec::new();
        let root = self
            .store
            .get_node(&NodeKey::root(version))
            .unwrap()
            .unwrap();
        let mut todo = vec![(NibblePath::root(), root)];
        while let Some((path, node)) = todo.pop() {
            out.push((
                path,
                node.hash(self.suite),
                matches!(*node, Node::Leaf { .. }),
            ));
            if let Node::Internal { children } = &*node {
                for (n, child) in children.iter().enumerate() {
                    if let Some(child) = child {
                        let child_path = path.child(n as u8);
                        let node = self
                            .store
                            .get_node(&NodeKey::new(child.version, child_path))
                            .unwrap()
                            .unwrap();
                        assert_eq!(node.hash(self.suite), child.hash);
                        assert_eq!(matches!(*node, Node::Leaf { .. }), child.is_leaf);
                        todo.push((child_path, node));
                    }
                }
            }
        }
        out.sort();
        out
    }
}

fn puts(pairs: &[(Hash32, &[u8])]) -> Updates {
    pairs.iter().map(|(k, v)| (*k, Some(v.to_vec()))).collect()
}

#[test]
fn empty_tree_root_is_zero_and_stored_as_null() {
    let mut h = Harness::new(Suite::Sm);
    let batch = h.apply(&Updates::new());
    assert_eq!(batch.root_hash, Hash32::ZERO);
    assert_eq!(batch.new_nodes.len(), 1);
    assert_eq!(batch.new_nodes[&NodeKey::root(0)], Node::Null);
    let tree = h.tree();
    assert_eq!(tree.root_hash(0).unwrap(), Hash32::ZERO);
    let key = Hash32([7; 32]);
    assert_eq!(tree.get(&key, 0).unwrap(), None);
    let (value, proof) = tree.get_with_proof(&key, 0).unwrap();
    assert_eq!(value, None);
    assert_eq!(proof, StateProof::default());
    assert_eq!(proof.to_bytes(), vec![0, 0, 0]);
    proof.verify(Suite::Sm, &Hash32::ZERO, &key, None).unwrap();
    assert_eq!(
        proof.verify(Suite::Sm, &Hash32::ZERO, &key, Some(b"x")),
        Err(ProofError::UnexpectedAbsence { key })
    );
    // Deleting from an empty tree keeps it empty.
    let batch = h.apply(&[(key, None)].into_iter().collect());
    assert_eq!(batch.root_hash, Hash32::ZERO);
    assert_eq!(batch.stale_nodes.len(), 1);
}

#[test]
fn one_key_root_is_its_leaf_hash() {
    for suite in [Suite::Sm, Suite::Intl] {
        let mut h = Harness::new(suite);
        let key = Hash32([0xab; 32]);
        let batch = h.apply(&puts(&[(key, b"hello")]));
        let expected = leaf_hash(suite, &key, &value_hash(suite, b"hello"));
        assert_eq!(batch.root_hash, expected);
        assert_eq!(
            batch.new_nodes[&NodeKey::root(0)],
            Node::Leaf {
                key,
                value: b"hello".to_vec()
            }
        );
        let (value, proof) = h.tree().get_with_proof(&key, 0).unwrap();
        assert_eq!(value.as_deref(), Some(&b"hello"[..]));
        assert_eq!(proof.depth(), 0);
        proof
            .verify(suite, &expected, &key, Some(b"hello"))
            .unwrap();
        // Any other key is absent, proved by the same lone leaf.
        let other = Hash32([0x01; 32]);
        let (value, proof) = h.tree().get_with_proof(&other, 0).unwrap();
        assert_eq!(value, None);
        proof.verify(suite, &expected, &other, None).unwrap();
        h.check_version(0, &[other]);
    }
}

#[test]
fn two_keys_differing_in_bit_0_hash_as_node_of_leaves() {
    let suite = Suite::Sm;
    let a = key_with_bits(&[(5, true), (200, true)]); // bit 0 = 0
    let b = key_with_bits(&[(0, true), (5, true)]); // bit 0 = 1
    let mut h = Harness::new(suite);
    let batch = h.apply(&puts(&[(a, b"A"), (b, b"B")]));
    let la = leaf_hash(suite, &a, &value_hash(suite, b"A"));
    let lb = leaf_hash(suite, &b, &value_hash(suite, b"B"));
    assert_eq!(batch.root_hash, node_hash(suite, &la, &lb));
    // Radix 16: one internal root with two leaf children (nibbles 0x0 and 0x8).
    let Node::Internal { children } = &batch.new_nodes[&NodeKey::root(0)] else {
        panic!("root is not internal");
    };
    assert_eq!(children.iter().flatten().count(), 2);
    assert!(children[0].unwrap().is_leaf && children[8].unwrap().is_leaf);
    let (_, proof) = h.tree().get_with_proof(&a, 0).unwrap();
    assert_eq!(proof.siblings, vec![lb]);
    h.check_version(0, &[key_with_bits(&[(1, true)]), key_with_bits(&[])]);
}

#[test]
fn keys_sharing_long_prefixes_match_the_reference() {
    let suite = Suite::Intl;
    let base = [(3usize, true), (77, true), (130, true), (199, true)];
    let with = |extra: &[(usize, bool)]| {
        let mut bits = base.to_vec();
        bits.extend_from_slice(extra);
        key_with_bits(&bits)
    };
    // Keys that agree on their first 255, 254, 200, 64, 63, 4 and 3 bits.
    let keys = [
        with(&[]),
        with(&[(255, true)]),
        with(&[(254, true)]),
        with(&[(200, true)]),
        with(&[(64, true)]),
        with(&[(63, true)]),
        with(&[(4, true)]),
        with(&[(3, false)]),
    ];
    let mut h = Harness::new(suite);
    // Insert one at a time, then remove one at a time; every step is checked against the
    // reference by `apply`.
    for (i, key) in keys.iter().enumerate() {
        h.apply(&puts(&[(*key, &[i as u8][..])]));
        h.check_version(
            h.latest.unwrap(),
            &[with(&[(100, true)]), with(&[(253, true)])],
        );
    }
    let full = h.latest.unwrap();
    // The two deepest keys: 255 siblings, the last the other's leaf.
    let (_, proof) = h.tree().get_with_proof(&keys[0], full).unwrap();
    assert_eq!(proof.depth(), 256);
    assert_eq!(proof.to_bytes().len(), 2 + 32 + 7 * 32 + 65);
    for key in keys.iter().rev() {
        h.apply(&[(*key, None)].into_iter().collect());
        h.check_version(h.latest.unwrap(), &keys);
    }
    assert_eq!(h.tree().root_hash(h.latest.unwrap()).unwrap(), Hash32::ZERO);
    // All at once gives the same root as one by one.
    let mut all = Harness::new(suite);
    let updates: Updates = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, Some(vec![i as u8])))
        .collect();
    let batch = all.apply(&updates);
    assert_eq!(batch.root_hash, h.tree().root_hash(full).unwrap());
    assert_eq!(all.shape(0), h.shape(full));
}

#[test]
fn random_sets_match_the_reference() {
    let mut rng = Rng(42);
    for suite in [Suite::Sm, Suite::Intl] {
        for round in 0..6 {
            let mut h = Harness::new(suite);
            let mut keys: Vec<Hash32> = Vec::new();
            for _ in 0..8 {
                let mut updates = Updates::new();
                for _ in 0..rng.below(60) {
                    let roll = rng.below(10);
                    if roll < 6 || keys.is_empty() {
                        let k = rng.hash();
                        keys.push(k);
                        updates.insert(k, Some(rng.value()));
                    } else if roll < 8 {
                        let k = keys[rng.below(keys.len() as u64) as usize];
                        updates.insert(k, Some(rng.value()));
                    } else {
                        let k = keys[rng.below(keys.len() as u64) as usize];
                        updates.insert(k, None);
                    }
                }
                // A few keys that share a 1-3 byte prefix with an existing one.
                if let Some(k) = keys.last().copied() {
                    let mut near = rng.hash();
                    let shared = 1 + round % 3;
                    near.0[..shared].copy_from_slice(&k.0[..shared]);
                    keys.push(near);
                    updates.insert(near, Some(rng.value()));
                }
                h.apply(&updates);
            }
            let absent: Vec<Hash32> = (0..20).map(|_| rng.hash()).collect();
            for version in 0..=h.latest.unwrap() {
                h.check_version(version, &absent);
            }
        }
    }
}

#[test]
fn deleting_restores_the_root_and_the_stored_shape() {
    let mut rng = Rng(7);
    let suite = Suite::Sm;
    let mut h = Harness::new(suite);
    let first: Updates = (0..300).map(|_| (rng.hash(), Some(rng.value()))).collect();
    let root0 = h.apply(&first).root_hash;
    let mut second: Updates = (0..100).map(|_| (rng.hash(), Some(rng.value()))).collect();
    // Keys that sit right next to existing ones, so that leaves move down and back up.
    for k in first.keys().take(50) {
        let mut near = *k;
        near.0[31] ^= 1;
        second.insert(near, Some(b"near".to_vec()));
    }
    let root1 = h.apply(&second).root_hash;
    assert_ne!(root0, root1);
    let undo: Updates = second.keys().map(|k| (*k, None)).collect();
    let root2 = h.apply(&undo).root_hash;
    assert_eq!(root2, root0);
    assert_eq!(h.shape(2), h.shape(0));
    h.check_version(1, &[]);
}

#[test]
fn no_op_batches_write_only_a_root() {
    let mut rng = Rng(9);
    let mut h = Harness::new(Suite::Intl);
    let initial: Updates = (0..500).map(|_| (rng.hash(), Some(rng.value()))).collect();
    let root = h.apply(&initial).root_hash;
    let empty = h.apply(&Updates::new());
    assert_eq!(empty.root_hash, root);
    assert_eq!(empty.new_nodes.len(), 1);
    assert_eq!(
        empty.stale_nodes,
        vec![StaleNodeIndex {
            stale_since_version: 1,
            node_key: NodeKey::root(0)
        }]
    );
    // Same values again, and deletes of absent keys.
    let mut noop: Updates = initial
        .iter()
        .take(40)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    for _ in 0..40 {
        noop.insert(rng.hash(), None);
    }
    let batch = h.apply(&noop);
    assert_eq!(batch.root_hash, root);
    assert_eq!(batch.new_nodes.len(), 1);
    assert_eq!(batch.stale_nodes.len(), 1);
    h.check_version(2, &[]);
}

#[test]
fn one_update_writes_one_path() {
    let mut rng = Rng(11);
    let mut h = Harness::new(Suite::Sm);
    let initial: Updates = (0..4000).map(|_| (rng.hash(), Some(rng.value()))).collect();
    h.apply(&initial);
    let key = *initial.keys().nth(1234).unwrap();
    let batch = h.apply(&[(key, Some(b"changed".to_vec()))].into_iter().collect());
    // 4000 keys: about 3 internal levels, plus the leaf.
    assert!(
        batch.new_nodes.len() <= 6,
        "{} nodes",
        batch.new_nodes.len()
    );
    assert_eq!(batch.new_nodes.len(), batch.stale_nodes.len());
    let insert = h.apply(&[(rng.hash(), Some(b"new".to_vec()))].into_iter().collect());
    assert!(
        insert.new_nodes.len() <= 7,
        "{} nodes",
        insert.new_nodes.len()
    );
}

#[test]
fn pruning_keeps_later_versions() {
    let mut rng = Rng(3);
    let mut h = Harness::new(Suite::Sm);
    let mut keys = Vec::new();
    for _ in 0..6 {
        let mut updates = Updates::new();
        for _ in 0..50 {
            let k = rng.hash();
            keys.push(k);
            updates.insert(k, Some(rng.value()));
        }
        for _ in 0..20 {
            let k = keys[rng.below(keys.len() as u64) as usize];
            updates.insert(
                k,
                if rng.below(2) == 0 {
                    None
                } else {
                    Some(rng.value())
                },
            );
        }
        h.apply(&updates);
    }
    let before = h.store.node_count();
    let deleted = h.store.prune(3);
    assert!(deleted > 0);
    assert_eq!(h.store.node_count(), before - deleted);
    for version in 0..3 {
        assert_eq!(
            h.tree().root_hash(version),
            Err(StorageError::MissingNode { version })
        );
        assert!(matches!(
            h.tree().get(&keys[0], version),
            Err(StorageError::MissingNode { .. })
        ));
    }
    for version in 3..6 {
        h.check_version(version, &keys[..10]);
    }
    // Pruning everything but the latest leaves exactly the latest tree.
    h.store.prune(5);
    assert_eq!(h.store.stale_count(), 0);
    assert_eq!(h.store.node_count(), h.shape(5).len());
    h.check_version(5, &keys[..10]);
}

#[test]
fn missing_versions_and_nodes_are_reported() {
    let h = Harness::new(Suite::Sm);
    let tree = h.tree();
    assert_eq!(
        tree.root_hash(4),
        Err(StorageError::MissingNode { version: 4 })
    );
    assert_eq!(
        tree.put_batch(Some(4), 5, &Updates::new()),
        Err(StorageError::MissingNode { version: 4 })
    );
    // A child the root points at is gone.
    let mut h = Harness::new(Suite::Sm);
    let a = key_with_bits(&[]);
    let b = key_with_bits(&[(0, true)]);
    h.apply(&puts(&[(a, b"a"), (b, b"b")]));
    let mut store = MemoryTreeStore::new();
    let mut batch = SparseMerkleTree::new(&h.store, Suite::Sm)
        .put_batch(None, 9, &puts(&[(a, b"a"), (b, b"b")]))
        .unwrap();
    batch.new_nodes.retain(|k, _| k.path.is_empty());
    store.write_batch(&batch);
    let tree = SparseMerkleTree::new(&store, Suite::Sm);
    assert_eq!(
        tree.get(&a, 9),
        Err(StorageError::MissingNode { version: 9 })
    );
    assert!(tree.get_with_proof(&b, 9).is_err());
    assert!(tree.put_batch(Some(9), 10, &puts(&[(a, b"x")])).is_err());
}

#[test]
fn values_longer_than_the_maximum_are_refused() {
    let h = Harness::new(Suite::Sm);
    let ok = puts(&[(Hash32([1; 32]), &vec![0u8; VALUE_LEN_MAX][..])]);
    assert!(h.tree().put_batch(None, 0, &ok).is_ok());
    let long = puts(&[(Hash32([1; 32]), &vec![0u8; VALUE_LEN_MAX + 1][..])]);
    assert!(matches!(
        h.tree().put_batch(None, 0, &long),
        Err(StorageError::Corrupt(CodecError::TooLong { .. }))
    ));
}

#[test]
fn node_keys_encode_in_their_sort_order() {
    let mut rng = Rng(5);
    let mut keys: Vec<NodeKey> = (0..300)
        .map(|_| {
            let len = rng.below(65) as usize;
            NodeKey::new(rng.below(4), NibblePath::from_key(&rng.hash(), len))
        })
        .collect();
    keys.push(NodeKey::root(0));
    keys.push(NodeKey::root(u64::MAX));
    let mut by_value = keys.clone();
    by_value.sort();
    let mut by_bytes = keys.clone();
    by_bytes.sort_by_key(|k| k.to_bytes());
    assert_eq!(by_value, by_bytes);
    for key in &keys {
        assert_eq!(NodeKey::from_bytes(&key.to_bytes()).unwrap(), *key);
    }
    let path = NibblePath::root().child(0xa).child(0xb).child(0xc);
    assert_eq!(
        NodeKey::new(0x0102, path).to_bytes(),
        vec![0, 0, 0, 0, 0, 0, 1, 2, 3, 0xab, 0xc0]
    );
    assert_eq!(alloc::format!("{path:?}"), "NibblePath(abc)");
    // Non-zero padding nibble, too long a path.
    assert!(NodeKey::from_bytes(&[0, 0, 0, 0, 0, 0, 1, 2, 3, 0xab, 0xc1]).is_err());
    let mut long = vec![0u8; 8];
    long.push(65);
    long.extend_from_slice(&[0; 33]);
    assert!(NodeKey::from_bytes(&long).is_err());
}

#[test]
fn nodes_round_trip_and_refuse_non_canonical_bytes() {
    let leaf_child = Child {
        version: 3,
        hash: Hash32([1; 32]),
        is_leaf: true,
    };
    let inner_child = Child {
        version: 2,
        hash: Hash32([2; 32]),
        is_leaf: false,
    };
    let mut children: Children = [None; 16];
    children[1] = Some(leaf_child);
    children[15] = Some(inner_child);
    let nodes = [
        Node::Null,
        Node::Leaf {
            key: Hash32([9; 32]),
            value: b"v".to_vec(),
        },
        Node::Internal { children },
    ];
    for node in &nodes {
        assert_eq!(Node::from_bytes(&node.to_bytes()).unwrap(), *node);
    }
    // The compact form: tag 3, present and leaf bitmaps, then per slot LEB128 version ‖ hash.
    let bytes = nodes[2].to_bytes();
    assert_eq!(
        bytes,
        [
            &[3, 0x80, 0x02, 0x00, 0x02, 3][..],
            &[1; 32],
            &[2],
            &[2; 32]
        ]
        .concat()
    );
    // The first form (fixed versions, a byte per is_leaf) is still read: stores written before
    // the compact form.
    let fixed = [
        &[1, 0x80, 0x02][..],
        &[0, 0, 0, 0, 0, 0, 0, 3],
        &[1; 32],
        &[1],
        &[0, 0, 0, 0, 0, 0, 0, 2],
        &[2; 32],
        &[0],
    ]
    .concat();
    assert_eq!(Node::from_bytes(&fixed).unwrap(), nodes[2]);
    // Versions of every size round-trip, in 1 to 10 LEB128 bytes.
    for (version, len) in [
        (0, 1),
        (127, 1),
        (128, 2),
        (16_383, 2),
        (16_384, 3),
        (u64::MAX, 10),
    ] {
        let mut c = children;
        c[1] = Some(Child {
            version,
            ..leaf_child
        });
        let node = Node::Internal { children: c };
        let b = node.to_bytes();
        assert_eq!(b.len(), 5 + len + 32 + 1 + 32, "version {version}");
        assert_eq!(Node::from_bytes(&b).unwrap(), node);
    }
    // A leaf bit for an empty slot; a non-minimal version (0 as two bytes); a version past 64
    // bits; an 11-byte version.
    let mut leaf_bit_empty = bytes.clone();
    leaf_bit_empty[4] |= 0x01;
    assert!(Node::from_bytes(&leaf_bit_empty).is_err());
    let with_version = |v: &[u8]| {
        [
            &[3, 0x80, 0x02, 0x00, 0x02][..],
            v,
            &[1; 32],
            &[2],
            &[2; 32],
        ]
        .concat()
    };
    assert!(Node::from_bytes(&with_version(&[3])).is_ok());
    assert!(Node::from_bytes(&with_version(&[0x83, 0x00])).is_err());
    let mut past_64 = vec![0xff; 9];
    past_64.push(0x02);
    assert!(Node::from_bytes(&with_version(&past_64)).is_err());
    let mut eleven = vec![0x80; 10];
    eleven.push(0x01);
    assert!(Node::from_bytes(&with_version(&eleven)).is_err());
    assert_eq!(
        nodes[1].to_bytes()[..],
        [&[2][..], &[9; 32], &[0, 0, 0, 1, b'v']].concat()
    );
    // An internal node with one leaf child, or none, is not canonical.
    let mut lone: Children = [None; 16];
    lone[4] = Some(leaf_child);
    assert!(Node::from_bytes(&Node::Internal { children: lone }.to_bytes()).is_err());
    assert!(
        Node::from_bytes(
            &Node::Internal {
                children: [None; 16]
            }
            .to_bytes()
        )
        .is_err()
    );
    // A single internal child is fine.
    lone[4] = Some(inner_child);
    assert!(Node::from_bytes(&Node::Internal { children: lone }.to_bytes()).is_ok());
    // Bad tag, bad bool (first form), trailing byte, oversized value.
    assert!(Node::from_bytes(&[4]).is_err());
    let mut bad_bool = fixed.clone();
    *bad_bool.last_mut().unwrap() = 2;
    assert!(Node::from_bytes(&bad_bool).is_err());
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(Node::from_bytes(&trailing).is_err());
    assert!(Node::from_bytes(&[0, 0]).is_err());
    let mut big = vec![2u8];
    big.extend_from_slice(&[0; 32]);
    big.extend_from_slice(&((VALUE_LEN_MAX + 1) as u32).to_be_bytes());
    assert!(matches!(
        Node::from_bytes(&big),
        Err(CodecError::TooLong { .. })
    ));
    let stale = StaleNodeIndex {
        stale_since_version: 7,
        node_key: NodeKey::new(5, NibblePath::root().child(3)),
    };
    assert_eq!(
        stale.to_bytes(),
        vec![0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0x30]
    );
    assert_eq!(
        StaleNodeIndex::from_bytes(&stale.to_bytes()).unwrap(),
        stale
    );
}

#[test]
fn proofs_encode_compactly_and_decode_strictly() {
    let s = |b: u8| Hash32([b; 32]);
    let proof = StateProof {
        siblings: vec![
            s(1),
            Hash32::ZERO,
            Hash32::ZERO,
            s(4),
            s(5),
            Hash32::ZERO,
            s(7),
            s(8),
            s(9),
        ],
        terminal: Some(ProofLeaf {
            key: s(10),
            value_hash: s(11),
        }),
    };
    let bytes = proof.to_bytes();
    let mut expected = vec![0, 9, 0b1001_1011, 0b1000_0000];
    for b in [1, 4, 5, 7, 8, 9] {
        expected.extend_from_slice(&[b; 32]);
    }
    expected.push(1);
    expected.extend_from_slice(&[10; 32]);
    expected.extend_from_slice(&[11; 32]);
    assert_eq!(bytes, expected);
    assert_eq!(StateProof::from_bytes(&bytes).unwrap(), proof);

    // Bits beyond the depth.
    let mut bad = bytes.clone();
    bad[3] |= 0x01;
    assert!(matches!(
        StateProof::from_bytes(&bad),
        Err(CodecError::InvalidValue { .. })
    ));
    // A present sibling that is all zeros.
    let zero_sibling = StateProof {
        siblings: vec![s(1)],
        terminal: None,
    };
    let mut bad = zero_sibling.to_bytes();
    bad[3..35].copy_from_slice(&[0; 32]);
    assert!(matches!(
        StateProof::from_bytes(&bad),
        Err(CodecError::InvalidValue { .. })
    ));
    // Trailing bytes, truncation, unknown terminal tag, depth over 256.
    let mut bad = bytes.clone();
    bad.push(0);
    assert!(StateProof::from_bytes(&bad).is_err());
    assert!(StateProof::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    assert!(StateProof::from_bytes(&[0, 0, 2]).is_err());
    let mut deep = vec![0x01, 0x01];
    deep.extend_from_slice(&[0; 33]);
    deep.push(0);
    assert!(matches!(
        StateProof::from_bytes(&deep),
        Err(CodecError::TooLong { .. })
    ));
    // Depth 256 of zeros is the longest accepted.
    let mut max = vec![0x01, 0x00];
    max.extend_from_slice(&[0; 32]);
    max.push(0);
    assert_eq!(StateProof::from_bytes(&max).unwrap().depth(), 256);
}

#[test]
fn verification_names_what_is_wrong() {
    let suite = Suite::Sm;
    let mut h = Harness::new(suite);
    let a = key_with_bits(&[(9, true)]);
    let b = key_with_bits(&[(0, true)]);
    let c = key_with_bits(&[(0, true), (2, true)]);
    h.apply(&puts(&[(a, b"a"), (b, b"b"), (c, b"c")]));
    let tree = h.tree();
    let root = tree.root_hash(0).unwrap();
    let (_, proof_a) = tree.get_with_proof(&a, 0).unwrap();
    proof_a.verify(suite, &root, &a, Some(b"a")).unwrap();
    assert_eq!(
        proof_a.verify(suite, &root, &a, Some(b"x")),
        Err(ProofError::ValueMismatch)
    );
    assert_eq!(
        proof_a.verify(suite, &root, &a, None),
        Err(ProofError::UnexpectedPresence { key: a })
    );
    assert!(matches!(
        proof_a.verify(suite, &Hash32([1; 32]), &a, Some(b"a")),
        Err(ProofError::RootMismatch { .. })
    ));
    assert!(matches!(
        proof_a.verify(Suite::Intl, &root, &a, Some(b"a")),
        Err(ProofError::RootMismatch { .. })
    ));
    // A key whose path ends at a's leaf (shares bit 0 with it): a's leaf proves it absent.
    let d = key_with_bits(&[(100, true)]);
    let (value, proof_d) = tree.get_with_proof(&d, 0).unwrap();
    assert_eq!(value, None);
    assert_eq!(proof_d, proof_a);
    proof_d.verify(suite, &root, &d, None).unwrap();
    assert_eq!(
        proof_d.verify(suite, &root, &d, Some(b"a")),
        Err(ProofError::UnexpectedAbsence { key: d })
    );
    // Used for a key off the leaf's path.
    assert_eq!(
        proof_a.verify(suite, &root, &b, None),
        Err(ProofError::LeafOffPath { key: b })
    );
    // b and c both start 0b10: the subtree 0b11 is empty.
    let e = key_with_bits(&[(0, true), (1, true)]);
    let (_, proof_e) = tree.get_with_proof(&e, 0).unwrap();
    assert_eq!(proof_e.terminal, None);
    proof_e.verify(suite, &root, &e, None).unwrap();
    assert_eq!(
        proof_e.verify(suite, &root, &e, Some(b"")),
        Err(ProofError::UnexpectedAbsence { key: e })
    );
    let too_deep = StateProof {
        siblings: vec![Hash32::ZERO; 257],
        terminal: None,
    };
    assert_eq!(
        too_deep.verify(suite, &root, &e, None),
        Err(ProofError::TooDeep { len: 257 })
    );
    // verify_value_hash agrees with verify.
    proof_a
        .verify_value_hash(suite, &root, &a, Some(&value_hash(suite, b"a")))
        .unwrap();
}

/// Pinned roots and proof bytes for PROTOCOL.md: changing any of them is a protocol change.
/// Keys `0x11 * 32 -> "one"`, `0x12 * 32 -> "two"`, `0xf0 * 32 -> "three"`; the proof is for
/// `0x11 * 32` (depth 7: siblings `leaf(0xf0..)`, five `ZERO`s, `leaf(0x12..)`).
#[test]
fn golden_vectors() {
    let k1 = Hash32([0x11; 32]);
    let k2 = Hash32([0x12; 32]);
    let k3 = Hash32([0xf0; 32]);
    for (suite, expected_root, expected_proof) in [
        (Suite::Sm, GOLDEN_SM.0, GOLDEN_SM.1),
        (Suite::Intl, GOLDEN_INTL.0, GOLDEN_INTL.1),
    ] {
        let mut h = Harness::new(suite);
        h.apply(&puts(&[(k1, b"one"), (k2, b"two"), (k3, b"three")]));
        let root = h.tree().root_hash(0).unwrap();
        let (_, proof) = h.tree().get_with_proof(&k1, 0).unwrap();
        let bytes = proof.to_bytes();
        std::println!("{suite:?} root {root}");
        std::println!("{suite:?} proof(k1) {}", crate::hex::encode(&bytes));
        assert_eq!(root.to_hex(), expected_root);
        assert_eq!(crate::hex::encode(&bytes), expected_proof);
    }
}

// Cross-checked with an independent Python implementation of the module documentation.
const GOLDEN_SM: (&str, &str) = (
    "363fe063dced034c808f41e6447abbe48bf60c63b53b0d5a5790504d3668967f",
    "000782531bbe8002779f3a0bcce34a34d7dcf2e6da1cf20d41bb4f35b2611d97bcb42180c796f557e25ef9a6adfd560ab1d0402f959a3745cd91a896b15d57efc53740011111111111111111111111111111111111111111111111111111111111111111bea8d54a91fbaf5587f83a664239b9aee4594425ff03a805632c3c96ec173ba4",
);
const GOLDEN_INTL: (&str, &str) = (
    "aab7f42dcb8023c073210de2b6fa3f4b02284becd3ef137ee84838da0d09d9a1",
    "000782738986c21816ee808f11053156d7c1ab8a2fa163417b078f0e51cc7fb6e3dff155b09098a1fce58a49aa9f0da75670de925da858660da29be785eb69d9c69383011111111111111111111111111111111111111111111111111111111111111111fb573c6b92cec62bd1250108179f5fc0da7187f4e33efda952299b56f9fcc000",
);
