//! A node that was away while every validator it knew was replaced still syncs: its tip names
//! only the old validator, so the chain's membership alone would keep it from the new one; while
//! it reaches no validator it knows, the peer its operator configured is allowed and dialled
//! whatever its tip says, and the blocks it serves are checked by their certificates, set change
//! by set change. (The cluster test `council_adds_and_removes_validators_on_a_running_chain`
//! checks the other side: a removed validator the others still have in their configuration is
//! not let back in.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use libp2p::{Multiaddr, PeerId, identity};
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{SecretKey, Suite};
use lichen_contracts::model::{Observer, Validator};
use lichen_contracts::testkit::{TestChain, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_node::net::NetworkOptions;
use lichen_node::service::{DataDir, NodeOptions, RunningNode, start};

fn network(keypair: &identity::Keypair, peers: Vec<Multiaddr>) -> NetworkOptions {
    NetworkOptions {
        keypair: keypair.clone(),
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        peers,
    }
}

fn address(node: &RunningNode) -> Multiaddr {
    let net = node.network.as_ref().unwrap();
    net.listen_addrs[0].clone().with_p2p(net.peer_id).unwrap()
}

async fn wait_height(node: &RunningNode, height: u64, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while node.chain.tip().unwrap().height < height {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: stuck at height {} (wanted {height})",
            node.chain.tip().unwrap().height
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Submits `tx` to `node` and waits until it is committed there: its height.
async fn commit(node: &RunningNode, tx: &SignedTransaction) -> u64 {
    let (_, fate) = node.admission.submit(&tx.to_bytes(), true).unwrap();
    let fate = tokio::time::timeout(Duration::from_secs(60), fate.unwrap())
        .await
        .expect("committed within 60 s")
        .unwrap();
    match fate {
        lichen_node::runtime::TxFate::Committed { height, .. } => height,
        other => panic!("not committed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_away_during_a_full_rotation_syncs_from_its_configured_peer() {
    let suite = Suite::Intl;
    let mut chain = TestChain::new(suite, 1);
    let (net_old, net_new, net_late) = (
        identity::Keypair::generate_ed25519(),
        identity::Keypair::generate_ed25519(),
        identity::Keypair::generate_ed25519(),
    );
    let peer = |k: &identity::Keypair| -> PeerId { k.public().to_peer_id() };
    chain.genesis.validators.validators[0].peer_id = peer(&net_old).to_bytes();
    chain.genesis.observers = vec![Observer {
        name: "late".into(),
        peer_id: peer(&net_late).to_bytes(),
    }];
    let genesis = chain.genesis.clone();
    let options = |key: Option<SecretKey>, net: NetworkOptions| {
        let mut o = NodeOptions::observer(
            DataDir::Memory,
            genesis.clone(),
            "127.0.0.1:0".parse().unwrap(),
        );
        o.key = key;
        o.network = Some(net);
        o.heartbeat_ms = 100;
        o
    };

    // The old validator alone; then the council adds the new one...
    let old_key = chain.owned_key("validator-0");
    let old_public = old_key.public_key();
    let old = start(options(Some(old_key), network(&net_old, vec![])))
        .await
        .unwrap();
    wait_height(&old, 1, "the old validator").await;
    let new_key = test_key(suite, "validator-new");
    let add = chain.council_signed(Payload::AddValidator(Validator {
        name: "new".into(),
        key: new_key.public_key(),
        peer_id: peer(&net_new).to_bytes(),
    }));
    commit(&old, &add).await;
    // ...which joins (two validators: both must vote), and the old one is removed.
    let new = start(options(
        Some(new_key),
        network(&net_new, vec![address(&old)]),
    ))
    .await
    .unwrap();
    let remove = chain.council_signed(Payload::RemoveValidator { key: old_public });
    let removed_at = commit(&old, &remove).await;
    wait_height(&new, removed_at + 3, "the new validator, alone").await;
    old.stop().await.unwrap();
    let set = new.chain.next_validators().unwrap();
    assert_eq!(set.validators.len(), 1);
    assert_eq!(set.validators[0].peer_id, peer(&net_new).to_bytes());

    // The late observer starts from genesis, whose only validator is gone: it knows the new one
    // only from its configuration.
    let late = start(options(None, network(&net_late, vec![address(&new)])))
        .await
        .unwrap();
    let target = new.chain.tip().unwrap().height;
    wait_height(&late, target, "the late observer").await;
    assert_eq!(
        late.chain.header(target).unwrap().unwrap().hash(suite),
        new.chain.header(target).unwrap().unwrap().hash(suite)
    );
    late.stop().await.unwrap();
    new.stop().await.unwrap();
}
