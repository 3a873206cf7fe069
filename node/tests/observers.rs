//! Observers on an in-process single node: listed in genesis, added and removed by council
//! transactions, read back with `Chain::observers()`, and kept across a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use lichen_client::{Client, ClientError};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::Suite;
use lichen_contracts::model::Observer;
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_node::service::DataDir;

mod common;
use common::TestNode;

/// A council transaction signed by `signers`.
fn council(chain: &TestChain, payload: Payload, nonce: u64, signers: &[&str]) -> SignedTransaction {
    common::signed(chain, payload, nonce, signers)
}

fn observers(node: &TestNode) -> Vec<Observer> {
    node.running().chain.observers().unwrap()
}

const COUNCIL: &[&str] = &["council-0", "council-1"];

/// Submits and waits for finality; the committed height.
fn commit(client: &Client, tx: &SignedTransaction) -> u64 {
    let (status, body) = client
        .post_bytes("/v1/transactions?wait=final", &tx.to_bytes())
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "committed");
    body["height"].as_u64().unwrap()
}

fn refused(client: &Client, tx: &SignedTransaction, reason: &str) {
    let err = client
        .post_bytes("/v1/transactions?wait=final", &tx.to_bytes())
        .unwrap_err();
    match err {
        ClientError::Api {
            status: 422,
            ref code,
            ref message,
            ..
        } if code == "tx_refused" => assert!(message.contains(reason), "{message}"),
        other => panic!("expected a refusal ({reason}), got {other}"),
    }
}

fn observer(name: &str, peer_id: &[u8]) -> Observer {
    Observer {
        name: name.into(),
        peer_id: peer_id.to_vec(),
    }
}

/// A one-validator chain whose genesis lists `observers`.
fn chain_with(suite: Suite, observers: Vec<Observer>) -> TestChain {
    let base = TestChain::new(suite, 1);
    let mut genesis = base.genesis.clone();
    genesis.observers = observers;
    let names: BTreeMap<Vec<u8>, String> = genesis
        .validators
        .validators
        .iter()
        .map(|v| (v.key.as_bytes().to_vec(), v.name.clone()))
        .collect();
    TestChain::from_genesis(genesis, base.keys, names)
}

#[test]
fn council_adds_and_removes_observers() {
    let suite = Suite::Intl;
    // A libp2p-shaped peer id (identity multihash prefix) and a short one.
    let genesis_peer = [&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20][..], &[0xab; 32]].concat();
    let from_genesis = observer("archive-0", &genesis_peer);
    let chain = chain_with(suite, vec![from_genesis.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start_with(&chain, DataDir::Disk(dir.path().to_path_buf()), |_| {});
    let c = &node.client;
    assert_eq!(observers(&node), vec![from_genesis.clone()]);

    // Added by a council threshold.
    let added = observer("audit-1", b"peer-audit-1");
    let h = commit(
        c,
        &council(&chain, Payload::AddObserver(added.clone()), 1, COUNCIL),
    );
    assert!(h >= 1);
    assert_eq!(
        observers(&node),
        vec![from_genesis.clone(), added.clone()],
        "in peer-id byte order"
    );
    let q = c
        .get_json(&format!(
            "/v1/transactions/{}",
            council(&chain, Payload::AddObserver(added.clone()), 1, COUNCIL).id(suite)
        ))
        .unwrap();
    assert_eq!(q["status"], "committed");

    // Refusals: a repeated peer id, the validator's peer id, one council signature, an unknown
    // removal.
    refused(
        c,
        &council(
            &chain,
            Payload::AddObserver(observer("again", b"peer-audit-1")),
            2,
            COUNCIL,
        ),
        "already an observer",
    );
    let validator_peer = chain.genesis.validators.validators[0].peer_id.clone();
    refused(
        c,
        &council(
            &chain,
            Payload::AddObserver(observer("v", &validator_peer)),
            3,
            COUNCIL,
        ),
        "already used by validator",
    );
    refused(
        c,
        &council(
            &chain,
            Payload::AddObserver(observer("audit-2", b"peer-audit-2")),
            4,
            &["council-0"],
        ),
        "threshold",
    );
    refused(
        c,
        &council(
            &chain,
            Payload::RemoveObserver {
                peer_id: b"peer-nobody".to_vec(),
            },
            5,
            COUNCIL,
        ),
        "not an observer",
    );
    assert_eq!(observers(&node), vec![from_genesis.clone(), added.clone()]);

    // The genesis observer is removed like any other.
    commit(
        c,
        &council(
            &chain,
            Payload::RemoveObserver {
                peer_id: genesis_peer.clone(),
            },
            6,
            COUNCIL,
        ),
    );
    assert_eq!(observers(&node), vec![added.clone()]);

    // Kept across a restart on the same data.
    node.stop();
    let node = TestNode::start_with(&chain, DataDir::Disk(dir.path().to_path_buf()), |_| {});
    assert_eq!(observers(&node), vec![added.clone()]);
    commit(
        &node.client,
        &council(
            &chain,
            Payload::RemoveObserver {
                peer_id: added.peer_id.clone(),
            },
            7,
            COUNCIL,
        ),
    );
    assert_eq!(observers(&node), vec![]);
}
