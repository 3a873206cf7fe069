//! A whole node in-process on 127.0.0.1 (memory storage; disk where a restart is tested): submit,
//! finality, queries, proofs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_client::ClientError;
use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, Suite};
use lichen_contracts::model::LicenceDraft;
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_node::service::DataDir;

mod common;
use common::TestNode;

fn sign(chain: &TestChain, payload: Payload, nonce: u64, signer: &str) -> SignedTransaction {
    common::signed(chain, payload, nonce, &[signer])
}

fn draft(suite: Suite, id: &str) -> LicenceDraft {
    common::draft(suite, id)
}

#[test]
fn issue_wait_final_query_present_verify() {
    for suite in [Suite::Intl, Suite::Sm] {
        let chain = TestChain::new(suite, 1);
        let node = TestNode::start(&chain);
        let c = &node.client;
        let tx = sign(
            &chain,
            Payload::IssueLicence(draft(suite, "L-1")),
            1,
            "agency-a",
        );
        let (status, body) = c
            .post_bytes("/v1/transactions?wait=final", &tx.to_bytes())
            .unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "committed");
        assert_eq!(body["id"], tx.id(suite).to_hex());
        let height = body["height"].as_u64().unwrap();
        assert!(height >= 1);

        let licence = c.get_json("/v1/licences/L-1").unwrap();
        assert_eq!(licence["licence"]["status"], "active");
        assert_eq!(licence["history"].as_array().unwrap().len(), 1);

        let q = c
            .get_json(&format!("/v1/transactions/{}", tx.id(suite)))
            .unwrap();
        assert_eq!(q["status"], "committed");
        assert_eq!(q["height"].as_u64(), Some(height));

        let p = c.get_bytes("/v1/licences/L-1/presentation").unwrap();
        let (status, report) = c.post_bytes("/v1/verify", &p).unwrap();
        assert_eq!(status, 200);
        assert_eq!(report["verdict"], "VALID", "{report}");
        // Again, now that its certificate verified (the handler verifies it on the async
        // worker): the same report, also as JSON; a copy with a flipped proof byte, whose
        // certificate is the remembered one, is still caught.
        // (Compared without the check details: the freshness line says how many ms ago.)
        let outcomes = |r: &serde_json::Value| {
            let checks = r["checks"].as_array().unwrap().iter();
            let checks: Vec<_> = checks
                .map(|c| (c["id"].clone(), c["outcome"].clone()))
                .collect();
            (r["verdict"].clone(), checks, r["licence"].clone())
        };
        let (_, again) = c.post_bytes("/v1/verify", &p).unwrap();
        assert_eq!(outcomes(&again), outcomes(&report));
        let (_, as_json) = c
            .post_json(
                "/v1/verify",
                &serde_json::json!({ "presentation": lichen_contracts::hex::encode(&p) }),
            )
            .unwrap();
        assert_eq!(outcomes(&as_json), outcomes(&report));
        let mut flipped = p.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let (_, tampered) = c.post_bytes("/v1/verify", &flipped).unwrap();
        assert_ne!(tampered["verdict"], "VALID", "{tampered}");

        // The same transaction again is refused as already committed; a forged one as forged.
        let err = c
            .post_bytes("/v1/transactions", &tx.to_bytes())
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Api { status: 409, ref code, .. } if code == "already_committed"),
            "{err}"
        );
        let mut forged = tx.clone();
        forged.tx.nonce = 99;
        let err = c
            .post_bytes("/v1/transactions", &forged.to_bytes())
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Api { status: 422, ref code, .. } if code == "bad_signature"),
            "{err}"
        );

        // Revoke, then the presentation says so.
        let revoke = sign(
            &chain,
            Payload::RevokeLicence {
                id: "L-1".into(),
                reason: "test".into(),
            },
            2,
            "agency-a",
        );
        let (status, _) = c
            .post_bytes("/v1/transactions?wait=final", &revoke.to_bytes())
            .unwrap();
        assert_eq!(status, 200);
        let p = c.get_bytes("/v1/licences/L-1/presentation").unwrap();
        let (_, report) = c.post_bytes("/v1/verify", &p).unwrap();
        assert_eq!(report["verdict"], "REVOKED", "{report}");

        // A rule refusal (revoking again) is reported with its reason.
        let again = sign(
            &chain,
            Payload::RevokeLicence {
                id: "L-1".into(),
                reason: "twice".into(),
            },
            3,
            "agency-a",
        );
        let err = c
            .post_bytes("/v1/transactions?wait=final", &again.to_bytes())
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Api { status: 422, ref code, .. } if code == "tx_refused"),
            "{err}"
        );

        let hash = Hash32([9; 32]);
        let anchor = sign(
            &chain,
            Payload::AnchorEvidence {
                hash,
                submitter: "court-1".into(),
                label: "exhibit".into(),
            },
            4,
            "court-1",
        );
        let (status, _) = c
            .post_bytes("/v1/transactions?wait=final", &anchor.to_bytes())
            .unwrap();
        assert_eq!(status, 200);
        let receipt = c.receipt(&hash.to_hex()).unwrap();
        let (_, report) = c.post_bytes("/v1/verify", &receipt).unwrap();
        assert_eq!(report["verdict"], "ANCHORED", "{report}");
    }
}

#[test]
fn presentations_at_recent_heights_within_the_kept_window() {
    let suite = Suite::Intl;
    let chain = TestChain::new(suite, 1);
    let node = TestNode::start_with(&chain, DataDir::Memory, |o| {
        o.state_versions_kept = 3;
        // Empty blocks often, to push height 1 out of the window below.
        o.heartbeat_ms = 100;
    });
    let c = &node.client;
    let issue = sign(
        &chain,
        Payload::IssueLicence(draft(suite, "L-7")),
        1,
        "agency-a",
    );
    let (_, body) = c
        .post_bytes("/v1/transactions?wait=final", &issue.to_bytes())
        .unwrap();
    let issued_at = body["height"].as_u64().unwrap();
    let revoke = sign(
        &chain,
        Payload::RevokeLicence {
            id: "L-7".into(),
            reason: "test".into(),
        },
        2,
        "agency-a",
    );
    let (_, body) = c
        .post_bytes("/v1/transactions?wait=final", &revoke.to_bytes())
        .unwrap();
    let revoked_at = body["height"].as_u64().unwrap();
    // At the issuing height the record was active: that presentation still verifies VALID.
    let p = c
        .get_bytes(&format!("/v1/licences/L-7/presentation?height={issued_at}"))
        .unwrap();
    let (_, report) = c.post_bytes("/v1/verify", &p).unwrap();
    assert_eq!(report["verdict"], "VALID", "{report}");
    assert_eq!(report["height"].as_u64(), Some(issued_at));
    let p = c
        .get_bytes(&format!(
            "/v1/licences/L-7/presentation?height={revoked_at}"
        ))
        .unwrap();
    let (_, report) = c.post_bytes("/v1/verify", &p).unwrap();
    assert_eq!(report["verdict"], "REVOKED", "{report}");
    // Heights outside what exists or is kept get specific errors.
    let err = c
        .get_bytes("/v1/licences/L-7/presentation?height=0")
        .unwrap_err();
    assert!(matches!(err, ClientError::Api { status: 409, .. }), "{err}");
    let err = c
        .get_bytes("/v1/licences/L-7/presentation?height=999999")
        .unwrap_err();
    assert!(matches!(err, ClientError::Api { status: 404, .. }), "{err}");
    // Empty blocks keep coming (a heartbeat every 100 ms): wait until height 1 falls out of the
    // 3-version window and its state is pruned.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match c.get_bytes(&format!("/v1/licences/L-7/presentation?height={issued_at}")) {
            Err(ClientError::Api {
                status: 410, code, ..
            }) => {
                assert_eq!(code, "pruned");
                break;
            }
            Ok(_) => {}
            Err(other) => panic!("{other}"),
        }
        assert!(std::time::Instant::now() < deadline, "state never pruned");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Admission refuses what no registered entity may send (here: evidence anchored by a key that
/// is no submitter's, or in the name of a submitter with another key), checked against committed
/// state; a transaction that only depends on one still pending (revoking a licence issued a
/// moment ago) is admitted, and commits after it.
#[test]
fn admission_refuses_unauthorised_signers_but_not_pending_dependencies() {
    use lichen_contracts::crypto::SecretKey;
    use lichen_contracts::tx::{SignedTransaction, Transaction};
    let suite = Suite::Intl;
    let chain = TestChain::new(suite, 1);
    let node = TestNode::start(&chain);
    let c = &node.client;

    let stranger = SecretKey::from_bytes(suite.sig_algo(), &[0x42; 32]).unwrap();
    let anchor = |submitter: &str, nonce: u64| Transaction {
        chain_id: chain.chain_id().to_string(),
        nonce,
        expires_at_height: 100,
        payload: Payload::AnchorEvidence {
            hash: Hash32([nonce as u8; 32]),
            submitter: submitter.into(),
            label: String::new(),
        },
    };
    for (tx, code) in [
        (anchor("nobody", 1), "tx_refused"),
        (anchor("court-1", 2), "tx_refused"),
    ] {
        let signed = SignedTransaction {
            signatures: vec![tx.sign(suite, &stranger)],
            tx,
        };
        let err = c
            .post_bytes("/v1/transactions", &signed.to_bytes())
            .unwrap_err();
        match err {
            ClientError::Api {
                status,
                code: got,
                message,
                ..
            } => {
                assert_eq!((status, got.as_str()), (422, code), "{message}");
                assert!(
                    message.contains("not registered") || message.contains("not a key of"),
                    "{message}"
                );
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(c.status().unwrap().mempool.transactions, 0);

    // Issue and, before it commits, revoke: both admitted; both commit.
    let issue = sign(
        &chain,
        Payload::IssueLicence(draft(suite, "L-9")),
        3,
        "agency-a",
    );
    let revoke = sign(
        &chain,
        Payload::RevokeLicence {
            id: "L-9".into(),
            reason: "test".into(),
        },
        4,
        "agency-a",
    );
    let (status, body) = c.post_bytes("/v1/transactions", &issue.to_bytes()).unwrap();
    assert_eq!(status, 202, "{body}");
    let (status, body) = c
        .post_bytes("/v1/transactions?wait=final", &revoke.to_bytes())
        .unwrap();
    assert_eq!(
        (status, &body["status"]),
        (200, &serde_json::json!("committed")),
        "{body}"
    );
    let licence = c.get_json("/v1/licences/L-9").unwrap();
    assert_eq!(licence["licence"]["status"], "revoked");
    node.stop();
}

/// An idle chain sleeps: it makes no block before its heartbeat and changes no view for want of
/// one, and is ready meanwhile; a transaction is still ordered at once.
#[test]
fn an_idle_chain_waits_for_its_heartbeat_without_view_changes() {
    let suite = Suite::Intl;
    let chain = TestChain::new(suite, 1);
    let node = TestNode::start_with(&chain, DataDir::Memory, |o| o.heartbeat_ms = 60_000);
    let c = &node.client;
    let timeout_ms = chain.genesis.config.params.view_timeout_ms(0);
    // Longer than two view timeouts, far shorter than the heartbeat.
    let wakeups_before = node.running().status.driver_wakeups();
    std::thread::sleep(std::time::Duration::from_millis(2 * timeout_ms + 500));
    let status = c.status().unwrap();
    assert_eq!((status.height, status.view), (0, 0), "{status:?}");
    // Ready, although the genesis was written months before (the testkit's time): before the
    // first block the tip's age counts from this node's start, not from the ceremony.
    let ready = c.get_json("/ready").unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["height"].as_u64()),
        (Some("ready"), Some(0)),
        "{ready}"
    );
    // Idle means asleep: the driver woke for its timers only (a node without a network once
    // spun on its closed input queue, hundreds of thousands of times a second).
    let wakeups = node.running().status.driver_wakeups() - wakeups_before;
    assert!(wakeups < 20, "the idle driver woke {wakeups} times");
    let issue = sign(
        &chain,
        Payload::IssueLicence(draft(suite, "L-IDLE")),
        1,
        "agency-a",
    );
    let (status, body) = c
        .post_bytes("/v1/transactions?wait=final", &issue.to_bytes())
        .unwrap();
    assert_eq!((status, body["height"].as_u64()), (200, Some(1)), "{body}");
    assert_eq!(c.status().unwrap().view, 0);
    node.stop();
}

/// A node whose consensus or network task has ended says so on `/health` (503 `task_stopped`,
/// naming the task), while it still answers queries.
#[test]
fn health_reports_a_stopped_task() {
    let chain = TestChain::new(Suite::Intl, 1);
    let node = TestNode::start(&chain);
    let c = &node.client;
    assert_eq!(c.health().unwrap().status, "ok");
    node.running()
        .status
        .set_stopped("network", "the network task failed: test".into());
    match c.health().unwrap_err() {
        ClientError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((status, code.as_str()), (503, "task_stopped"));
            assert!(message.contains("network task"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(c.status().is_ok());
    node.stop();
}

/// A copy of a council transaction with fewer signatures than the threshold (same id: the id
/// leaves signatures out) is refused at admission, so it cannot take the place of the real one
/// in the pool; the real one then commits.
#[test]
fn an_under_signed_copy_cannot_take_the_real_transactions_place() {
    use lichen_contracts::model::EntityStatus;
    let suite = Suite::Intl;
    let chain = TestChain::new(suite, 1);
    let node = TestNode::start(&chain);
    let c = &node.client;
    let real = common::signed(
        &chain,
        Payload::SetAgencyStatus {
            id: "agency-b".into(),
            status: EntityStatus::Suspended,
        },
        1,
        &["council-0", "council-1"],
    );
    let mut copy = real.clone();
    copy.signatures.truncate(1);
    assert_eq!(copy.id(suite), real.id(suite));
    match c
        .post_bytes("/v1/transactions", &copy.to_bytes())
        .unwrap_err()
    {
        ClientError::Api {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((status, code.as_str()), (422, "tx_refused"), "{message}");
            assert!(message.contains("threshold"), "{message}");
        }
        other => panic!("{other}"),
    }
    let (status, body) = c
        .post_bytes("/v1/transactions?wait=final", &real.to_bytes())
        .unwrap();
    assert_eq!(
        (status, &body["status"]),
        (200, &serde_json::json!("committed")),
        "{body}"
    );
    node.stop();
}

/// `POST /v1/transactions/batch`: one result per transaction, in order; a bad transaction is
/// refused on its own line and the others go in; a batch that does not decode, an empty one or
/// one over the limit is refused whole and admits nothing.
#[test]
fn a_batch_admits_each_transaction_on_its_own_merits() {
    use lichen_client::encode_batch;
    let suite = Suite::Sm;
    let chain = TestChain::new(suite, 1);
    let node = TestNode::start(&chain);
    let c = &node.client;
    let good: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            sign(
                &chain,
                Payload::IssueLicence(draft(suite, &format!("B-{i}"))),
                10 + i,
                "agency-a",
            )
            .to_bytes()
        })
        .collect();
    let mut forged = good[1].clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x01; // the signature's last byte
    let junk = vec![0xff, 0x00, 0x01];
    let batch: Vec<&[u8]> = vec![&good[0], &forged, &junk, &good[1], &good[2], &good[0]];
    let answer = c.submit_batch(&batch).unwrap();
    let statuses: Vec<(&str, Option<&str>)> = answer
        .results
        .iter()
        .map(|r| (r.status.as_str(), r.error.as_ref().map(|e| e.code.as_str())))
        .collect();
    assert_eq!(
        statuses,
        [
            ("pending", None),
            ("refused", Some("bad_signature")),
            ("refused", Some("malformed_tx")),
            ("pending", None),
            ("pending", None),
            ("pending", None),
        ]
    );
    assert_eq!(answer.results[0].duplicate, Some(false));
    assert_eq!(
        answer.results[5].duplicate,
        Some(true),
        "the same bytes again"
    );
    assert_eq!(answer.results[2].id, None, "junk has no id");
    let id0 = SignedTransaction::from_wire(&good[0]).unwrap().id(suite);
    assert_eq!(answer.results[0].id.as_deref(), Some(id0.to_hex().as_str()));

    // The same as JSON; all three are duplicates by now, or already committed.
    let hex: Vec<String> = good
        .iter()
        .map(|t| lichen_contracts::hex::encode(t))
        .collect();
    let (status, body) = c
        .post_json("/v1/transactions/batch", &serde_json::json!({ "txs": hex }))
        .unwrap();
    assert_eq!(status, 200, "{body}");
    for r in body["results"].as_array().unwrap() {
        let code = r["error"]["code"].as_str();
        assert!(
            r["status"] == "pending" || code == Some("already_committed"),
            "{r}"
        );
    }

    // Refused whole: nothing new in the pool.
    let before = c.status().unwrap().mempool.transactions;
    let refused = |body: Vec<u8>, code: &str| {
        let err = c.post_bytes("/v1/transactions/batch", &body).unwrap_err();
        match err {
            ClientError::Api {
                status, code: got, ..
            } => assert_eq!((status, got.as_str()), (400, code)),
            other => panic!("{other}"),
        }
    };
    let fresh = sign(
        &chain,
        Payload::IssueLicence(draft(suite, "B-9")),
        20,
        "agency-a",
    )
    .to_bytes();
    let mut trailing = encode_batch(&[&fresh]);
    trailing.push(0);
    refused(trailing, "malformed_batch");
    let mut short = encode_batch(&[&fresh]);
    short.truncate(short.len() - 1);
    refused(short, "malformed_batch");
    refused(encode_batch(&[]), "empty_batch");
    let many: Vec<&[u8]> = vec![&fresh; 257];
    refused(encode_batch(&many), "malformed_batch");
    assert!(c.status().unwrap().mempool.transactions <= before);
    assert!(
        c.get_json(&format!(
            "/v1/transactions/{}",
            SignedTransaction::from_wire(&fresh).unwrap().id(suite)
        ))
        .is_err(),
        "the refused batches admitted nothing"
    );
    node.stop();
}

/// A node opened again on its data warms its filter of committed ids from the stored blocks
/// (`lichen_committed_ids_covered_above` falls from the tip to 0 on a short chain), and a
/// transaction committed before the restart is still refused as a replay.
#[test]
fn a_restarted_node_warms_its_committed_ids_and_still_refuses_replays() {
    let suite = Suite::Intl;
    let chain = TestChain::new(suite, 1);
    let dir = tempfile::tempdir().unwrap();
    let data = || DataDir::Disk(dir.path().to_path_buf());
    let node = TestNode::start_with(&chain, data(), |_| {});
    let tx = sign(
        &chain,
        Payload::IssueLicence(draft(suite, "L-1")),
        1,
        "agency-a",
    );
    let (status, body) = node
        .client
        .post_bytes("/v1/transactions?wait=final", &tx.to_bytes())
        .unwrap();
    assert_eq!((status, &body["status"]), (200, &"committed".into()));
    node.stop();

    let node = TestNode::start_with(&chain, data(), |_| {});
    let covered_above = || {
        let text = String::from_utf8(node.client.get_bytes("/metrics").unwrap()).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("lichen_committed_ids_covered_above "))
            .map(|v| v.parse::<i64>().unwrap())
            .expect("the gauge is exported")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while covered_above() != 0 {
        assert!(std::time::Instant::now() < deadline, "never warmed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    match node
        .client
        .post_bytes("/v1/transactions", &tx.to_bytes())
        .unwrap_err()
    {
        ClientError::Api { status, code, .. } => {
            assert_eq!((status, code.as_str()), (409, "already_committed"))
        }
        other => panic!("{other}"),
    }
    node.stop();
}
