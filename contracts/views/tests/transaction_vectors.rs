//! `contracts/vectors/transactions-{sm,intl}.json`: one signed transaction of every payload kind,
//! given as the JSON a client writes, with the canonical bytes, the id and the signed bytes every
//! client must produce from it (the WASM package, the Python client and this crate), and inputs
//! every client must refuse. This test checks the committed files from their bytes, checks that
//! the code reproduces them byte for byte, and regenerates them with `LICHEN_BLESS_VECTORS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, SecretKey, Suite};
use lichen_contracts::model::*;
use lichen_contracts::testkit::{GENESIS_TIME_MS, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};
use lichen_views::{
    PAYLOAD_KINDS, hex_string, public_key_string, transaction_from_json, transaction_to_json,
};
use serde_json::{Value, json};

const CHAIN_ID: &str = "lichen-test";
const DAY_MS: u64 = 86_400_000;
const COUNCIL: [&str; 2] = ["council-0", "council-1"];
const GBT_ID: &str = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S";

fn path(suite: Suite) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(format!("transactions-{}.json", suite.name()))
}

fn key(suite: Suite, name: &str) -> lichen_contracts::crypto::PublicKey {
    test_key(suite, name).public_key()
}

fn draft(suite: Suite, id: &str, until: Option<u64>) -> LicenceDraft {
    LicenceDraft {
        id: id.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(b"%PDF-1.7 licence of the transaction vectors"),
        holder_commitment: holder_commitment(suite, &[7; 32], "91440300MA5FXXXX1X"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: until,
    }
}

/// Every payload kind with the names of its signers.
fn cases(suite: Suite) -> Vec<(Payload, Vec<&'static str>)> {
    let council = || COUNCIL.to_vec();
    let mut keys = vec![key(suite, "agency-c"), key(suite, "agency-c-2")];
    keys.sort();
    vec![
        (
            Payload::RegisterAgency(Agency {
                id: "agency-c".into(),
                name: "Transport Bureau C（交通运输局）".into(),
                keys: keys.clone(),
                status: EntityStatus::Active,
            }),
            council(),
        ),
        (
            Payload::UpdateAgency {
                id: "agency-c".into(),
                name: Some("Transport Bureau C".into()),
                keys: Some(vec![key(suite, "agency-c-3")]),
            },
            council(),
        ),
        (
            Payload::SetAgencyStatus {
                id: "agency-b".into(),
                status: EntityStatus::Suspended,
            },
            council(),
        ),
        (
            Payload::DefineLicenceType(LicenceType {
                code: "transport".into(),
                name: "Road transport permit".into(),
                authorised: vec!["agency-a".into(), "agency-c".into()],
            }),
            council(),
        ),
        (
            Payload::SetTypeAuthorisation {
                licence_type: "food".into(),
                agency: "agency-b".into(),
                authorised: true,
            },
            council(),
        ),
        (
            Payload::RegisterSubmitter(Submitter {
                id: "notary-1".into(),
                name: "Notary Office 1".into(),
                keys: vec![key(suite, "notary-1")],
                status: EntityStatus::Active,
            }),
            council(),
        ),
        (
            Payload::UpdateSubmitter {
                id: "notary-1".into(),
                keys: None,
                status: Some(EntityStatus::Suspended),
            },
            council(),
        ),
        (
            Payload::AddValidator(Validator {
                name: "validator-4".into(),
                key: key(suite, "validator-4"),
                peer_id: b"peer-4".to_vec(),
            }),
            council(),
        ),
        (
            Payload::RemoveValidator {
                key: key(suite, "validator-3"),
            },
            council(),
        ),
        (
            Payload::UpdateCouncil(Council {
                members: {
                    let mut m = vec![key(suite, "council-0"), key(suite, "council-2")];
                    m.sort();
                    m
                },
                threshold: 2,
            }),
            council(),
        ),
        (
            Payload::AddObserver(Observer {
                name: "observer-1".into(),
                peer_id: b"peer-observer-1".to_vec(),
            }),
            council(),
        ),
        (
            Payload::RemoveObserver {
                peer_id: b"peer-observer-1".to_vec(),
            },
            council(),
        ),
        (
            Payload::IssueLicence(draft(suite, GBT_ID, Some(GENESIS_TIME_MS + 365 * DAY_MS))),
            vec!["agency-a"],
        ),
        (
            Payload::SuspendLicence {
                id: GBT_ID.into(),
                reason: "under inspection".into(),
            },
            vec!["agency-a"],
        ),
        (
            Payload::ReinstateLicence {
                id: GBT_ID.into(),
                reason: "".into(),
            },
            council(),
        ),
        (
            Payload::RevokeLicence {
                id: GBT_ID.into(),
                reason: "吊销：违法经营".into(),
            },
            vec!["agency-a"],
        ),
        (
            Payload::SupersedeLicence {
                old_id: "SZ-BL-2026-000001".into(),
                reason: "renewed".into(),
                new: draft(suite, "SZ-BL-2026-000002", None),
            },
            vec!["agency-a"],
        ),
        (
            Payload::AnchorEvidence {
                hash: suite.digest(b"contract of sale, signed 2026-03-01"),
                submitter: "court-1".into(),
                label: "case (2026) 0042".into(),
            },
            vec!["court-1"],
        ),
    ]
}

/// Inputs every client must refuse, each with why.
fn refused(suite: Suite) -> Vec<(&'static str, Value)> {
    let base = |payload: Value| json!({"chain_id": CHAIN_ID, "nonce": 1, "expires_at_height": 100, "payload": payload});
    let issue = |patch: &dyn Fn(&mut Value)| {
        let mut d = transaction_to_json(&Transaction {
            chain_id: CHAIN_ID.into(),
            nonce: 1,
            expires_at_height: 100,
            payload: Payload::IssueLicence(draft(suite, GBT_ID, None)),
        });
        patch(&mut d["payload"]);
        d
    };
    let other_algo = match suite {
        Suite::Sm => Suite::Intl,
        Suite::Intl => Suite::Sm,
    };
    vec![
        (
            "a GB/T 36904 licence id whose check character is wrong",
            issue(&|p| p["id"] = json!(GBT_ID.replace(".S", ".T"))),
        ),
        (
            "valid_until_ms not after valid_from_ms",
            issue(&|p| p["valid_until_ms"] = p["valid_from_ms"].clone()),
        ),
        (
            "a licence type code with a space",
            issue(&|p| p["licence_type"] = json!("business licence")),
        ),
        (
            "a document hash of 31 bytes",
            issue(&|p| p["document_hash"] = json!("ab".repeat(31))),
        ),
        (
            "an unknown payload kind",
            base(json!({"kind": "mint", "id": "x"})),
        ),
        (
            "a reason with a control character",
            base(json!({"kind": "revoke", "id": "SZ-1", "reason": "line\nbreak"})),
        ),
        (
            "a chain id with a space",
            json!({"chain_id": "lichen test", "nonce": 1, "expires_at_height": 100,
                   "payload": {"kind": "revoke", "id": "SZ-1", "reason": ""}}),
        ),
        (
            "a key of the other suite's algorithm",
            base(json!({"kind": "remove-validator",
                        "key": public_key_string(&key(other_algo, "validator-3"))})),
        ),
        (
            "a negative nonce",
            json!({"chain_id": CHAIN_ID, "nonce": -1, "expires_at_height": 100,
                   "payload": {"kind": "revoke", "id": "SZ-1", "reason": ""}}),
        ),
        (
            "a revoke of a licence id with a space",
            base(json!({"kind": "revoke", "id": "SZ 1", "reason": ""})),
        ),
        (
            "evidence anchored by an empty submitter id",
            base(
                json!({"kind": "anchor-evidence", "hash": "ab".repeat(32), "submitter": "",
                        "label": ""}),
            ),
        ),
        (
            "an unknown field",
            base(json!({"kind": "revoke", "id": "SZ-1", "reason": "", "note": "x"})),
        ),
    ]
}

fn build(suite: Suite) -> Value {
    let mut names: Vec<&str> = Vec::new();
    let mut transactions = Vec::new();
    for (i, (payload, signers)) in cases(suite).into_iter().enumerate() {
        assert_eq!(payload.kind(), PAYLOAD_KINDS[i], "cases in tag order");
        let tx = Transaction {
            chain_id: CHAIN_ID.into(),
            nonce: 1000 + i as u64,
            expires_at_height: 100,
            payload,
        };
        let keys: Vec<SecretKey> = signers.iter().map(|n| test_key(suite, n)).collect();
        let signed = SignedTransaction {
            signatures: keys.iter().map(|k| tx.sign(suite, k)).collect(),
            tx: tx.clone(),
        };
        for n in &signers {
            if !names.contains(n) {
                names.push(n);
            }
        }
        transactions.push(json!({
            "kind": tx.payload.kind(),
            "tag": tx.payload.tag(),
            "json": transaction_to_json(&tx),
            "signers": signers,
            "transaction_hex": hex_string(&tx.to_bytes()),
            "id": tx.id(suite).to_hex(),
            "signed_hex": hex_string(&signed.to_bytes()),
        }));
    }
    names.sort();
    let keys: Vec<Value> = names
        .iter()
        .map(|n| {
            let k = test_key(suite, n);
            json!({
                "name": n,
                "secret": hex_string(k.expose_bytes()),
                "public_key": public_key_string(&k.public_key()),
            })
        })
        .collect();
    let refused: Vec<Value> = refused(suite)
        .into_iter()
        .map(|(why, json)| json!({"why": why, "json": json}))
        .collect();
    json!({
        "about": "One transaction of every payload kind (PROTOCOL.md, Transactions) as the JSON a client \
                  writes, its canonical Transaction bytes, its id H(\"lichen/tx/v1\", Transaction) and the \
                  SignedTransaction with one signature per signer, in the order listed (SM2 signatures are \
                  deterministic, so they are byte-exact); then inputs every client must refuse. The secrets \
                  are test keys (H(\"lichen/testkit/key\", name || u32 c)): never use them on a real chain.",
        "suite": suite.name(),
        "chain_id": CHAIN_ID,
        "keys": keys,
        "transactions": transactions,
        "refused": refused,
    })
}

/// Checks a committed file from its bytes: each JSON input builds the stated transaction bytes,
/// id and signed bytes, and each refused input is refused.
fn check(suite: Suite, doc: &Value) {
    let secret = |name: &str| -> SecretKey {
        let k = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap();
        let bytes: [u8; 32] = hex::decode(k["secret"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let key = SecretKey::from_bytes(suite.sig_algo(), &bytes).unwrap();
        assert_eq!(public_key_string(&key.public_key()), k["public_key"]);
        key
    };
    let txs = doc["transactions"].as_array().unwrap();
    let kinds: Vec<&str> = txs.iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, PAYLOAD_KINDS, "every payload kind, in tag order");
    for t in txs {
        let tx = transaction_from_json(&t["json"], Some(suite.sig_algo())).unwrap();
        assert_eq!(
            hex_string(&tx.to_bytes()),
            t["transaction_hex"],
            "{}",
            t["kind"]
        );
        assert_eq!(tx.id(suite).to_hex(), t["id"]);
        let signatures = t["signers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| tx.sign(suite, &secret(n.as_str().unwrap())))
            .collect();
        let signed = SignedTransaction { tx, signatures };
        assert_eq!(hex_string(&signed.to_bytes()), t["signed_hex"]);
        // The signed bytes decode, and every signature verifies over the id.
        let decoded =
            SignedTransaction::from_bytes(&hex::decode(t["signed_hex"].as_str().unwrap()).unwrap())
                .unwrap();
        let id = Hash32::from_hex(t["id"].as_str().unwrap()).unwrap();
        for s in &decoded.signatures {
            s.key.verify(id.as_bytes(), &s.signature).unwrap();
        }
    }
    for r in doc["refused"].as_array().unwrap() {
        let result = transaction_from_json(&r["json"], Some(suite.sig_algo()));
        assert!(result.is_err(), "{} was accepted", r["why"]);
    }
}

#[test]
fn transaction_vectors_are_reproducible_and_hold() {
    for suite in [Suite::Sm, Suite::Intl] {
        let built = build(suite);
        check(suite, &built);
        if std::env::var_os("LICHEN_BLESS_VECTORS").is_some() {
            let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
            std::fs::write(path(suite), text).unwrap();
            continue;
        }
        let text = std::fs::read_to_string(path(suite)).unwrap();
        let committed: Value = serde_json::from_str(&text).unwrap();
        check(suite, &committed);
        assert!(
            committed == built,
            "contracts/vectors/transactions-{}.json differs from what the code produces: a hashed or \
             signed byte changed. If intended, regenerate with LICHEN_BLESS_VECTORS=1 and document \
             the change in PROTOCOL.md",
            suite.name()
        );
    }
}

#[test]
fn a_transaction_read_back_from_its_view_is_the_same_transaction() {
    for suite in [Suite::Sm, Suite::Intl] {
        for (i, (payload, _)) in cases(suite).into_iter().enumerate() {
            let tx = Transaction {
                chain_id: CHAIN_ID.into(),
                nonce: i as u64,
                expires_at_height: u64::MAX,
                payload,
            };
            let back = transaction_from_json(&transaction_to_json(&tx), Some(suite.sig_algo()));
            assert_eq!(back.as_ref().ok(), Some(&tx), "{:?}", back.as_ref().err());
            assert_eq!(Transaction::from_bytes(&tx.to_bytes()).unwrap(), tx);
        }
    }
}

#[test]
fn refusals_name_the_field() {
    let suite = Suite::Sm;
    let at = |why: &str| -> String {
        let (_, json) = refused(suite).into_iter().find(|(w, _)| *w == why).unwrap();
        transaction_from_json(&json, Some(suite.sig_algo()))
            .unwrap_err()
            .to_string()
    };
    let cases = [
        (
            "a GB/T 36904 licence id whose check character is wrong",
            "tx.payload.id",
        ),
        (
            "valid_until_ms not after valid_from_ms",
            "tx.payload.valid_until_ms",
        ),
        (
            "a licence type code with a space",
            "tx.payload.licence_type",
        ),
        ("a document hash of 31 bytes", "tx.payload.document_hash"),
        ("an unknown payload kind", "tx.payload.kind"),
        ("a chain id with a space", "tx.chain_id"),
        ("a key of the other suite's algorithm", "tx.payload.key"),
        ("a negative nonce", "tx.nonce"),
        ("an unknown field", "tx.payload.note"),
        ("a revoke of a licence id with a space", "tx.payload.id"),
        (
            "evidence anchored by an empty submitter id",
            "tx.payload.submitter",
        ),
        ("a reason with a control character", "tx.payload.reason"),
    ];
    for (why, path) in cases {
        let message = at(why);
        assert!(
            message.starts_with(&format!("{path}: ")),
            "{why}: {message}"
        );
    }
    // Optional fields may be left out or null; a companion time must agree with its _ms field.
    let minimal = json!({"chain_id": CHAIN_ID, "nonce": 1, "expires_at_height": 9,
        "payload": {"kind": "update-submitter", "id": "court-1", "status": "suspended"}});
    let tx = transaction_from_json(&minimal, None).unwrap();
    assert!(matches!(
        tx.payload,
        Payload::UpdateSubmitter { keys: None, .. }
    ));
    let mut wrong_time = transaction_to_json(&Transaction {
        chain_id: CHAIN_ID.into(),
        nonce: 1,
        expires_at_height: 9,
        payload: Payload::IssueLicence(draft(suite, "SZ-1", Some(GENESIS_TIME_MS + DAY_MS))),
    });
    wrong_time["payload"]["valid_until"] = json!("2030-01-01T00:00:00.000Z");
    let message = transaction_from_json(&wrong_time, None)
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("tx.payload.valid_until: "), "{message}");
}
