//! Batch updates: one recursive pass over the sorted updates, partitioned by nibble, touching each
//! changed path once.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::crypto::{Hash32, Suite};
use crate::error::{CodecError, StorageError};

use super::node::{Child, Children, internal_hash};
use super::tree::{check_depth, corrupt, load_child};
use super::{
    NibblePath, Node, NodeKey, StaleNodeIndex, TreeReader, TreeUpdateBatch, VALUE_LEN_MAX,
    key_nibble, leaf_hash, value_hash,
};

/// One update: the key and its new value (`None`: delete). Slices of these are sorted by key.
type Update<'u> = (Hash32, Option<&'u [u8]>);

/// A leaf in flight.
struct LeafData {
    key: Hash32,
    value: Vec<u8>,
    /// The leaf hash.
    hash: Hash32,
    /// Where the leaf is stored in the base version, if it is unchanged from there. Placing it
    /// anywhere else moves it: a new copy is written and this one becomes stale.
    origin: Option<NodeKey>,
}

/// What is at a position of the base tree, opened because updates reach it.
#[allow(clippy::large_enum_variant)] // one per level of the recursion, moved once
enum Existing {
    Empty,
    Leaf(LeafData),
    Internal {
        key: NodeKey,
        hash: Hash32,
        children: Children,
    },
}

/// The new content of a position, not yet placed in a parent.
enum Sub {
    Empty,
    /// A single leaf: the parent stores it in the slot (or, at the root, as the root).
    Leaf(LeafData),
    /// A node already stored: an internal node (new or unchanged) or an untouched leaf child that
    /// stays where it is.
    Stored(Child),
}

struct Updater<'r, R: ?Sized> {
    reader: &'r R,
    suite: Suite,
    version: u64,
    new_nodes: BTreeMap<NodeKey, Node>,
    stale_nodes: Vec<StaleNodeIndex>,
}

pub(super) fn put_batch<R: TreeReader + ?Sized>(
    reader: &R,
    suite: Suite,
    base: Option<u64>,
    version: u64,
    updates: &BTreeMap<Hash32, Option<Vec<u8>>>,
) -> Result<TreeUpdateBatch, StorageError> {
    if let Some(base) = base {
        assert!(
            version > base,
            "state tree version {version} does not follow base version {base}"
        );
    }
    let mut list: Vec<Update<'_>> = Vec::with_capacity(updates.len());
    for (key, value) in updates {
        if let Some(v) = value
            && v.len() > VALUE_LEN_MAX
        {
            return Err(StorageError::Corrupt(CodecError::TooLong {
                field: "smt value",
                len: v.len(),
                max: VALUE_LEN_MAX,
            }));
        }
        list.push((*key, value.as_deref()));
    }

    let mut up = Updater {
        reader,
        suite,
        version,
        new_nodes: BTreeMap::new(),
        stale_nodes: Vec::new(),
    };

    let existing = match base {
        None => Existing::Empty,
        Some(base) => {
            let key = NodeKey::root(base);
            let node = reader
                .get_node(&key)?
                .ok_or(StorageError::MissingNode { version: base })?;
            match Arc::unwrap_or_clone(node) {
                Node::Null => {
                    up.stale(key);
                    Existing::Empty
                }
                Node::Leaf {
                    key: leaf_key,
                    value,
                } => Existing::Leaf(LeafData {
                    key: leaf_key,
                    hash: leaf_hash(suite, &leaf_key, &value_hash(suite, &value)),
                    value,
                    origin: Some(key),
                }),
                Node::Internal { children } => Existing::Internal {
                    key,
                    hash: internal_hash(suite, &children),
                    children,
                },
            }
        }
    };

    // An unchanged base root must still be copied to the new version.
    let base_root_children = match &existing {
        Existing::Internal { children, .. } => Some(*children),
        _ => None,
    };
    let sub = if list.is_empty() {
        match existing {
            Existing::Empty => Sub::Empty,
            Existing::Leaf(leaf) => Sub::Leaf(leaf),
            Existing::Internal { key, hash, .. } => Sub::Stored(Child {
                version: key.version,
                hash,
                is_leaf: false,
            }),
        }
    } else {
        up.update(NibblePath::root(), existing, &list)?
    };

    let root_key = NodeKey::root(version);
    let root_hash = match sub {
        Sub::Empty => {
            up.new_nodes.insert(root_key, Node::Null);
            Hash32::ZERO
        }
        Sub::Leaf(leaf) => {
            if let Some(origin) = leaf.origin {
                up.stale(origin);
            }
            up.new_nodes.insert(
                root_key,
                Node::Leaf {
                    key: leaf.key,
                    value: leaf.value,
                },
            );
            leaf.hash
        }
        Sub::Stored(child) => {
            assert!(
                !child.is_leaf,
                "a lone leaf reached the root as a stored child"
            );
            if child.version != version {
                // Nothing below the root changed: copy the base root.
                let children = base_root_children
                    .unwrap_or_else(|| panic!("unchanged root without a base root"));
                up.stale(NodeKey::root(child.version));
                up.new_nodes.insert(root_key, Node::Internal { children });
            }
            child.hash
        }
    };

    Ok(TreeUpdateBatch {
        root_hash,
        new_nodes: up.new_nodes,
        stale_nodes: up.stale_nodes,
    })
}

impl<R: TreeReader + ?Sized> Updater<'_, R> {
    fn stale(&mut self, node_key: NodeKey) {
        self.stale_nodes.push(StaleNodeIndex {
            stale_since_version: self.version,
            node_key,
        });
    }

    fn new_leaf(&self, key: Hash32, value: &[u8]) -> LeafData {
        LeafData {
            key,
            hash: leaf_hash(self.suite, &key, &value_hash(self.suite, value)),
            value: value.to_vec(),
            origin: None,
        }
    }

    /// Applies `updates` (non-empty, sorted, all under `path`) to what is at `path`.
    fn update(
        &mut self,
        path: NibblePath,
        existing: Existing,
        updates: &[Update<'_>],
    ) -> Result<Sub, StorageError> {
        match existing {
            Existing::Empty => {
                let mut inserts = updates.iter().filter_map(|(k, v)| v.map(|v| (k, v)));
                match (inserts.next(), inserts.next()) {
                    (None, _) => Ok(Sub::Empty),
                    (Some((key, value)), None) => Ok(Sub::Leaf(self.new_leaf(*key, value))),
                    _ => self.split(path, None, [None; 16], None, updates),
                }
            }
            Existing::Leaf(leaf) => {
                let others = updates.iter().any(|(k, v)| *k != leaf.key && v.is_some());
                if others {
                    // Two or more keys end up here: the leaf moves down (and is updated there).
                    return self.split(path, None, [None; 16], Some(leaf), updates);
                }
                let own = updates
                    .binary_search_by(|(k, _)| k.cmp(&leaf.key))
                    .ok()
                    .and_then(|i| updates.get(i));
                match own {
                    None => Ok(Sub::Leaf(leaf)),
                    Some((_, Some(v))) if *v == leaf.value.as_slice() => Ok(Sub::Leaf(leaf)),
                    Some((key, new_value)) => {
                        if let Some(origin) = leaf.origin {
                            self.stale(origin);
                        }
                        Ok(match new_value {
                            Some(v) => Sub::Leaf(self.new_leaf(*key, v)),
                            None => Sub::Empty,
                        })
                    }
                }
            }
            Existing::Internal {
                key,
                hash,
                children,
            } => self.split(path, Some((key, hash)), children, None, updates),
        }
    }

    /// Builds the content of `path` from its 16 slots: the stored `children` of the internal node
    /// `old` (if any) or a base `leaf` being pushed down, with `updates` applied per nibble.
    fn split(
        &mut self,
        path: NibblePath,
        old: Option<(NodeKey, Hash32)>,
        children: Children,
        leaf: Option<LeafData>,
        updates: &[Update<'_>],
    ) -> Result<Sub, StorageError> {
        check_depth(&path)?;
        let depth = path.len();
        let mut subs: [Sub; 16] = core::array::from_fn(|n| match children[n] {
            Some(child) => Sub::Stored(child),
            None => Sub::Empty,
        });
        if let Some(leaf) = leaf {
            let n = usize::from(key_nibble(&leaf.key, depth));
            subs[n] = Sub::Leaf(leaf);
        }

        let mut rest = updates;
        for (n, sub) in subs.iter_mut().enumerate() {
            // Keys sharing `path` are sorted by their nibble at `depth`.
            let end = rest.partition_point(|(k, _)| usize::from(key_nibble(k, depth)) <= n);
            let (mine, tail) = rest.split_at(end);
            rest = tail;
            if mine.is_empty() {
                continue;
            }
            let child_path = path.child(n as u8);
            let existing = match core::mem::replace(sub, Sub::Empty) {
                Sub::Empty => Existing::Empty,
                Sub::Leaf(leaf) => Existing::Leaf(leaf),
                Sub::Stored(child) => self.open(child_path, &child)?,
            };
            *sub = self.update(child_path, existing, mine)?;
        }
        debug_assert!(rest.is_empty(), "updates outside the subtree");

        let mut occupied = subs
            .iter()
            .enumerate()
            .filter(|(_, s)| !matches!(s, Sub::Empty));
        let lone = match (occupied.next(), occupied.next()) {
            (None, _) => {
                if let Some((key, _)) = old {
                    self.stale(key);
                }
                return Ok(Sub::Empty);
            }
            (Some((n, Sub::Leaf(_))), None) => Some(n),
            (Some((n, Sub::Stored(child))), None) if child.is_leaf => Some(n),
            _ => None,
        };
        if let Some(n) = lone {
            // A single leaf left: it collapses into the parent's slot.
            if let Some((key, _)) = old {
                self.stale(key);
            }
            return match core::mem::replace(&mut subs[n], Sub::Empty) {
                Sub::Leaf(leaf) => Ok(Sub::Leaf(leaf)),
                Sub::Stored(child) => match self.open(path.child(n as u8), &child)? {
                    Existing::Leaf(leaf) => Ok(Sub::Leaf(leaf)),
                    _ => Err(corrupt("leaf child opened as another kind")),
                },
                Sub::Empty => Ok(Sub::Empty),
            };
        }

        let mut new_children: Children = [None; 16];
        for (n, sub) in subs.into_iter().enumerate() {
            new_children[n] = self.place(path.child(n as u8), sub);
        }
        if let Some((key, hash)) = old {
            if new_children == children {
                // Every update was a no-op here: keep the stored node.
                return Ok(Sub::Stored(Child {
                    version: key.version,
                    hash,
                    is_leaf: false,
                }));
            }
            self.stale(key);
        }
        let hash = internal_hash(self.suite, &new_children);
        self.new_nodes.insert(
            NodeKey::new(self.version, path),
            Node::Internal {
                children: new_children,
            },
        );
        Ok(Sub::Stored(Child {
            version: self.version,
            hash,
            is_leaf: false,
        }))
    }

    /// Puts `sub` into the slot at `path`, writing a leaf that is new or moved.
    fn place(&mut self, path: NibblePath, sub: Sub) -> Option<Child> {
        match sub {
            Sub::Empty => None,
            Sub::Stored(child) => Some(child),
            Sub::Leaf(leaf) => {
                if let Some(origin) = leaf.origin {
                    if origin.path == path {
                        return Some(Child {
                            version: origin.version,
                            hash: leaf.hash,
                            is_leaf: true,
                        });
                    }
                    self.stale(origin);
                }
                self.new_nodes.insert(
                    NodeKey::new(self.version, path),
                    Node::Leaf {
                        key: leaf.key,
                        value: leaf.value,
                    },
                );
                Some(Child {
                    version: self.version,
                    hash: leaf.hash,
                    is_leaf: true,
                })
            }
        }
    }

    /// Loads the stored child at `path`.
    fn open(&self, path: NibblePath, child: &Child) -> Result<Existing, StorageError> {
        match load_child(self.reader, path, child)? {
            Node::Leaf { key, value } => Ok(Existing::Leaf(LeafData {
                key,
                value,
                hash: child.hash,
                origin: Some(NodeKey::new(child.version, path)),
            })),
            Node::Internal { children } => Ok(Existing::Internal {
                key: NodeKey::new(child.version, path),
                hash: child.hash,
                children,
            }),
            Node::Null => Err(corrupt("null node below the root")),
        }
    }
}
