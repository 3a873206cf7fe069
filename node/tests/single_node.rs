//! A whole node in-process on 127.0.0.1 (memory storage): submit, finality, queries, proofs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::model::{LicenceDraft, holder_commitment};
use lichen_contracts::testkit::TestChain;
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};
use lichen_node::client::{Client, ClientError};
use lichen_node::service::{DataDir, NodeOptions, RunningNode, start};

struct TestNode {
    rt: tokio::runtime::Runtime,
    node: Option<RunningNode>,
    client: Client,
}

impl TestNode {
    fn start(chain: &TestChain) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let options = NodeOptions::new(
            DataDir::Memory,
            chain.genesis.clone(),
            {
                let k = chain.key("validator-0");
                SecretKey::from_bytes(k.algo(), k.expose_bytes()).unwrap()
            },
            "127.0.0.1:0".parse().unwrap(),
        );
        let node = rt.block_on(start(options)).unwrap();
        let client = Client::new(&format!("http://{}", node.http_addr));
        TestNode {
            rt,
            node: Some(node),
            client,
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let _ = self.rt.block_on(node.stop());
        }
    }
}

fn sign(chain: &TestChain, payload: Payload, nonce: u64, signer: &str) -> SignedTransaction {
    let tx = Transaction {
        chain_id: chain.chain_id().to_string(),
        nonce,
        expires_at_height: 100,
        payload,
    };
    chain.sign(tx, &[signer])
}

fn draft(suite: Suite, id: &str) -> LicenceDraft {
    LicenceDraft {
        id: id.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(b"licence file"),
        holder_commitment: holder_commitment(suite, &[7; 32], "holder"),
        valid_from_ms: 0,
        valid_until_ms: None,
    }
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
        let receipt = c
            .get_bytes(&format!("/v1/evidence/{hash}/receipt"))
            .unwrap();
        let (_, report) = c.post_bytes("/v1/verify", &receipt).unwrap();
        assert_eq!(report["verdict"], "ANCHORED", "{report}");
    }
}
