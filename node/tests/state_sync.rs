//! State sync end to end: a node's data directory started from another node's latest certified
//! checkpoint over the HTTP API (`state_sync::sync_data_dir`, what `lichen node sync` runs), then
//! run as a node that goes on from there; and a source that lies, refused with nothing kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use lichen_client::Client;
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::Suite;
use lichen_contracts::error::RestoreError;
use lichen_contracts::state::StateKind;
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_node::chain::Chain;
use lichen_node::service::DataDir;
use lichen_node::state_sync::{
    ApiPaths, SnapshotChunks, SnapshotSource, StateSyncError, sync_data_dir,
};

mod common;
use common::TestNode;

/// A node's API as the source, as `lichen node sync` reads it; `tamper` may change an answer
/// (by the path it answers).
fn api<'a>(
    client: &'a Client,
    mut tamper: impl FnMut(&str, Vec<u8>) -> Vec<u8> + 'a,
) -> impl SnapshotSource + 'a {
    ApiPaths(move |path: &str, limit| {
        let bytes = client
            .get_bytes_up_to(path, limit)
            .map_err(|e| e.to_string())?;
        Ok(tamper(path, bytes))
    })
}

fn honest(client: &Client) -> impl SnapshotSource + '_ {
    api(client, |_, bytes| bytes)
}

fn commit(client: &Client, tx: &SignedTransaction) -> u64 {
    let (status, body) = client
        .post_bytes("/v1/transactions?wait=final", &tx.to_bytes())
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body["height"].as_u64().unwrap()
}

fn issue(chain: &TestChain, id: &str, nonce: u64) -> SignedTransaction {
    common::signed(
        chain,
        Payload::IssueLicence(common::draft(chain.genesis.suite(), id)),
        nonce,
        &["agency-a"],
    )
}

fn verdict(client: &Client, id: &str) -> String {
    let p = client.presentation(id).unwrap();
    let (status, report) = client.post_bytes("/v1/verify", &p).unwrap();
    assert_eq!(status, 200, "{report}");
    report["verdict"].as_str().unwrap().to_string()
}

/// Nothing of a failed sync is left: no data directory contents, no staging directory.
fn nothing_kept(dir: &Path) {
    let empty = std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());
    assert!(
        empty,
        "{} holds something after a failed sync",
        dir.display()
    );
    let staging = format!("{}.state-sync", dir.display());
    assert!(!Path::new(&staging).exists(), "{staging} was left behind");
}

#[test]
fn a_node_joins_from_a_checkpoint_and_goes_on() {
    for suite in [Suite::Intl, Suite::Sm] {
        let chain = TestChain::new(suite, 1);
        let source = TestNode::start(&chain);
        let c = &source.client;
        let mut txs = Vec::new();
        for i in 0..12u64 {
            let tx = issue(&chain, &format!("L-{i}"), i + 1);
            commit(c, &tx);
            txs.push(tx);
        }
        let revoke = common::signed(
            &chain,
            Payload::RevokeLicence {
                id: "L-3".into(),
                reason: "test".into(),
            },
            100,
            &["agency-a"],
        );
        let revoked_at = commit(c, &revoke);

        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let mut seen = Vec::new();
        let report = sync_data_dir(&dir, &chain.genesis, 8 << 20, &mut honest(c), &mut |p| {
            seen.push(p.chunks_done)
        })
        .unwrap();
        assert!(
            report.tip.height >= revoked_at,
            "the checkpoint is the latest"
        );
        assert_eq!(
            seen.last().copied(),
            Some(report.chunks),
            "progress reaches the end"
        );
        let source_tip = source.running().chain.tip().unwrap();
        let source_header = source
            .running()
            .chain
            .header(report.tip.height)
            .unwrap()
            .unwrap();
        assert_eq!(report.tip.hash, source_header.hash(suite));
        assert!(report.tip.height <= source_tip.height);

        // The synced store, opened as a node would: its state is the source's at the
        // checkpoint, entity for entity; the replay window holds the recent transactions.
        {
            let synced = Chain::open_dir(&dir, chain.genesis.clone(), 16, 8 << 20).unwrap();
            assert_eq!(synced.tip().unwrap(), report.tip);
            assert_eq!(
                synced.tip_header().unwrap().state_root,
                source_header.state_root
            );
            for kind in [
                StateKind::Agency,
                StateKind::LicenceType,
                StateKind::Submitter,
            ] {
                assert_eq!(
                    synced.entity_ids(kind, None, usize::MAX).unwrap(),
                    source
                        .running()
                        .chain
                        .entity_ids(kind, None, usize::MAX)
                        .unwrap(),
                    "{kind:?}"
                );
            }
            assert!(synced.tx_location(&revoke.id(suite)).unwrap().is_some());
            // Blocks before the window are not here (the chain is short, so block 1 is).
            assert!(synced.block(report.tip.height).unwrap().is_some());
        }

        // Run it as the chain's validator (the source stopped): it proves what it restored,
        // refuses a replay, and commits new blocks on top of the checkpoint.
        source.stop();
        let node = TestNode::start_with(&chain, DataDir::Disk(dir.clone()), |_| {});
        let n = &node.client;
        assert_eq!(verdict(n, "L-0"), "VALID");
        assert_eq!(verdict(n, "L-3"), "REVOKED");
        let err = n
            .post_bytes("/v1/transactions?wait=final", &txs[5].to_bytes())
            .unwrap_err();
        assert!(
            err.to_string().contains("already"),
            "a replay is refused: {err}"
        );
        let height = commit(n, &issue(&chain, "L-NEW", 200));
        assert!(height > report.tip.height);
        assert_eq!(verdict(n, "L-NEW"), "VALID");
        assert_eq!(verdict(n, "L-0"), "VALID");
        // State from before the checkpoint is not kept here: asked for, it says so.
        let err = n
            .get_bytes(&format!(
                "/v1/licences/L-0/presentation?height={}",
                report.tip.height - 1
            ))
            .unwrap_err();
        assert!(err.to_string().contains("no longer kept"), "{err}");
        node.stop();
    }
}

#[test]
fn a_lying_source_is_refused_and_nothing_is_kept() {
    let suite = Suite::Intl;
    let chain = TestChain::new(suite, 1);
    let source = TestNode::start(&chain);
    let c = &source.client;
    for i in 0..6u64 {
        commit(c, &issue(&chain, &format!("L-{i}"), i + 1));
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let no_progress = &mut |_: &lichen_node::state_sync::Progress| {};

    // A changed state value: the chunk no longer hashes to its certified level node.
    let mut changed = api(c, |path, bytes| {
        if !path.contains("/chunks") {
            return bytes;
        }
        let mut answer = SnapshotChunks::from_bytes(&bytes).unwrap();
        let chunk = answer.chunks.iter_mut().find(|c| !c.is_empty()).unwrap();
        chunk[0].1.push(0);
        answer.to_bytes()
    });
    let err = sync_data_dir(&dir, &chain.genesis, 8 << 20, &mut changed, no_progress).unwrap_err();
    assert!(
        matches!(
            err,
            StateSyncError::Chunk(RestoreError::ChunkMismatch { .. })
        ),
        "{err}"
    );
    nothing_kept(&dir);

    // A leaf left out.
    let mut dropped = api(c, |path, bytes| {
        if !path.contains("/chunks") {
            return bytes;
        }
        let mut answer = SnapshotChunks::from_bytes(&bytes).unwrap();
        answer
            .chunks
            .iter_mut()
            .find(|c| !c.is_empty())
            .unwrap()
            .pop();
        answer.to_bytes()
    });
    let err = sync_data_dir(&dir, &chain.genesis, 8 << 20, &mut dropped, no_progress).unwrap_err();
    assert!(matches!(err, StateSyncError::Chunk(_)), "{err}");
    nothing_kept(&dir);

    // A package of another chain (a different genesis).
    let mut other = chain.genesis.clone();
    other.config.chain_id = "another-chain".into();
    let err = sync_data_dir(&dir, &other, 8 << 20, &mut honest(c), no_progress).unwrap_err();
    assert!(matches!(err, StateSyncError::Package(_)), "{err}");
    nothing_kept(&dir);

    // A block with a transaction removed: its tx root no longer matches its header.
    let mut block = api(c, |path, bytes| {
        if !path.contains("/v1/blocks?") {
            return bytes;
        }
        let mut blocks = lichen_node::net::wire::decode_blocks(&bytes).unwrap();
        if let Some(b) = blocks.iter_mut().find(|b| !b.block.txs.is_empty()) {
            b.block.txs.pop();
        }
        lichen_node::net::wire::encode_blocks(&blocks)
    });
    let err = sync_data_dir(&dir, &chain.genesis, 8 << 20, &mut block, no_progress).unwrap_err();
    assert!(matches!(err, StateSyncError::Block { .. }), "{err}");
    nothing_kept(&dir);

    // Garbage where chunks belong.
    let mut garbage = api(c, |path, bytes| {
        if path.contains("/chunks") {
            vec![1, 2, 3]
        } else {
            bytes
        }
    });
    let err = sync_data_dir(&dir, &chain.genesis, 8 << 20, &mut garbage, no_progress).unwrap_err();
    assert!(matches!(err, StateSyncError::Malformed { .. }), "{err}");
    nothing_kept(&dir);

    // A data directory that holds something is never written over.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), b"mine").unwrap();
    let err =
        sync_data_dir(&dir, &chain.genesis, 8 << 20, &mut honest(c), no_progress).unwrap_err();
    assert!(matches!(err, StateSyncError::DataDir { .. }), "{err}");
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"mine");
}

#[test]
fn the_chunk_endpoint_refuses_what_it_cannot_serve() {
    let chain = TestChain::new(Suite::Intl, 1);
    let node = TestNode::start_with(&chain, DataDir::Memory, |o| o.state_versions_kept = 2);
    let c = &node.client;
    for i in 0..6u64 {
        commit(c, &issue(&chain, &format!("L-{i}"), i + 1));
    }
    let tip = node.running().chain.tip().unwrap().height;
    let code = |path: &str| match c.get_bytes(path).unwrap_err() {
        lichen_client::ClientError::Api { status, code, .. } => (status, code),
        other => panic!("{other}"),
    };
    assert_eq!(
        code(&format!(
            "/v1/snapshot/{tip}/chunks?depth=17&first=0&count=1"
        )),
        (400, "bad_chunks".into())
    );
    assert_eq!(
        code(&format!(
            "/v1/snapshot/{tip}/chunks?depth=2&first=3&count=2"
        )),
        (400, "bad_chunks".into())
    );
    assert_eq!(
        code(&format!(
            "/v1/snapshot/{tip}/chunks?depth=2&first=0&count=0"
        )),
        (400, "bad_chunks".into())
    );
    assert_eq!(
        code(&format!("/v1/snapshot/{tip}/chunks?depth=2")),
        (400, "bad_query".into())
    );
    assert_eq!(
        code(&format!(
            "/v1/snapshot/{}/chunks?depth=2&first=0&count=1",
            tip + 5
        )),
        (404, "not_found".into())
    );
    // Two versions kept: the state of block 1 is gone.
    assert_eq!(
        code("/v1/snapshot/1/chunks?depth=2&first=0&count=1"),
        (410, "pruned".into())
    );
    assert_eq!(code("/v1/blocks?from=0&count=1"), (400, "bad_query".into()));
    // The tip's chunks, all four, in one answer.
    let answer = SnapshotChunks::from_bytes(
        &c.get_bytes(&format!(
            "/v1/snapshot/{tip}/chunks?depth=2&first=0&count=4"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(answer.chunks.len(), 4);
    assert!(answer.chunks.iter().map(Vec::len).sum::<usize>() > 6);
}
