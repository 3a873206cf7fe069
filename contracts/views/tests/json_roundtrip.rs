//! JSON views (`lichen_views`): the genesis file round-trips exactly for both suites, every
//! kind of bad input is refused with the path of the offending value, and the output views of
//! licences, reports, blocks, transactions and events carry the documented fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{Hash32, PublicKey, Suite};
use lichen_contracts::genesis::Genesis;
use lichen_contracts::ledger::Event;
use lichen_contracts::model::{
    ChainParams, Council, EntityStatus, LicenceDraft, LicenceStatus, Observer, Submitter,
    Validator, holder_commitment,
};
use lichen_contracts::presentation::{
    Document, Policy, verify_presentation, verify_presentation_bytes,
};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};
use lichen_contracts::tx::Payload;
use lichen_views::{
    JsonError, block_header_to_json, block_to_json, commit_certificate_to_json, event_kind,
    event_to_json, evidence_to_json, genesis_from_json, genesis_from_json_str, genesis_to_json,
    genesis_to_json_string, licence_to_json, parse_public_key, payload_to_json, public_key_string,
    report_to_json, rfc3339_from_ms, signed_transaction_to_json, trust_anchor_from_json_str,
    trust_anchor_to_json_string, validator_set_to_json,
};
use serde_json::{Value, json};

const SUITES: [Suite; 2] = [Suite::Sm, Suite::Intl];
const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;
const DOC: &[u8] = b"%PDF-1.7 Business licence (json test)";
const ID: &str = "SZ-BL-2026-000042";

fn key(suite: Suite, name: &str) -> PublicKey {
    test_key(suite, name).public_key()
}

/// The test chain's genesis, made richer: parameters that all differ (so a swapped field shows),
/// an agency with two keys, a suspended submitter with a non-ASCII name, two observers.
fn rich_genesis(suite: Suite) -> Genesis {
    let mut g = TestChain::new(suite, 4).genesis;
    g.config.params = ChainParams {
        view_timeout_base_ms: 1_500,
        view_timeout_step_ms: 700,
        view_timeout_max_ms: 45_000,
        block_interval_ms: 250,
        block_txs_max: 4_321,
        block_bytes_max: 3_000_000,
        tx_expiry_blocks_max: 777,
    };
    let mut keys = vec![key(suite, "agency-b"), key(suite, "agency-b-2")];
    keys.sort();
    g.agencies[1].keys = keys;
    let mut keys = vec![key(suite, "notary-9a"), key(suite, "notary-9b")];
    keys.sort();
    g.submitters.push(Submitter {
        id: "notary-9".into(),
        name: "第九公证处 Notary Office 9".into(),
        keys,
        status: EntityStatus::Suspended,
    });
    g.observers = vec![
        Observer {
            name: "审计节点 Audit node".into(),
            peer_id: vec![0x00, 0x24, 0x08, 0x01, 0xfe],
        },
        Observer {
            name: "archive-1".into(),
            peer_id: b"obs-peer-1".to_vec(),
        },
    ];
    g.time_ms = GENESIS_TIME_MS + 1_234;
    g
}

fn refuse(v: &Value) -> JsonError {
    match genesis_from_json(v) {
        Ok(_) => panic!("genesis accepted:\n{v:#}"),
        Err(e) => e,
    }
}

fn assert_refused(v: &Value, path: &str, reason_contains: &str) {
    let e = refuse(v);
    assert_eq!(e.path, path, "{e}");
    assert!(
        e.reason.contains(reason_contains),
        "reason {:?} lacks {reason_contains:?}",
        e.reason
    );
    assert_eq!(e.to_string(), format!("{path}: {}", e.reason));
}

fn keys_of(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

// --- genesis: round trip ---

#[test]
fn genesis_round_trips_exactly_for_both_suites() {
    for suite in SUITES {
        let g = rich_genesis(suite);
        let text = genesis_to_json_string(&g);
        let back = genesis_from_json_str(&text).unwrap();
        assert_eq!(back, g, "{suite:?}");
        assert_eq!(back.hash(), g.hash(), "{suite:?}");
        assert_eq!(genesis_to_json_string(&back), text, "{suite:?}");

        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys_of(&v),
            BTreeSet::from([
                "config",
                "time_ms",
                "time",
                "validators",
                "agencies",
                "licence_types",
                "submitters",
                "observers"
            ])
        );
        assert_eq!(v["config"]["suite"], suite.name());
        assert_eq!(v["config"]["chain_id"], "lichen-test");
        assert_eq!(v["config"]["council"]["threshold"], 2);
        assert_eq!(v["time_ms"], GENESIS_TIME_MS + 1_234);
        assert_eq!(v["time"], "2026-01-01T00:00:01.234Z");
        let params = &v["config"]["params"];
        assert_eq!(params["view_timeout_base_ms"], 1_500);
        assert_eq!(params["view_timeout_step_ms"], 700);
        assert_eq!(params["view_timeout_max_ms"], 45_000);
        assert_eq!(params["block_interval_ms"], 250);
        assert_eq!(params["block_txs_max"], 4_321);
        assert_eq!(params["block_bytes_max"], 3_000_000);
        assert_eq!(params["tx_expiry_blocks_max"], 777);

        let prefix = format!("{}:", suite.sig_algo().name());
        let validators = v["validators"].as_array().unwrap();
        assert_eq!(validators.len(), 4);
        for (i, val) in validators.iter().enumerate() {
            let set_member = &g.validators.validators[i];
            let k = val["key"].as_str().unwrap();
            assert!(k.starts_with(&prefix), "{k}");
            assert_eq!(k, public_key_string(&set_member.key));
            assert_eq!(val["peer_id"], hex::encode(&set_member.peer_id));
            assert_eq!(val["name"], set_member.name.as_str());
        }
        assert_eq!(v["agencies"][1]["keys"].as_array().unwrap().len(), 2);
        assert_eq!(v["submitters"][1]["status"], "suspended");
        assert_eq!(v["submitters"][1]["name"], "第九公证处 Notary Office 9");
        assert_eq!(
            v["licence_types"][0]["authorised"],
            json!(["agency-a", "agency-b"])
        );
        assert_eq!(
            v["observers"],
            json!([
                {"name": "审计节点 Audit node", "peer_id": "00240801fe"},
                {"name": "archive-1", "peer_id": hex::encode(b"obs-peer-1")},
            ])
        );
    }
}

#[test]
fn observers_are_optional_on_input_and_always_written() {
    for suite in SUITES {
        let mut v = genesis_to_json(&rich_genesis(suite));
        v.as_object_mut().unwrap().remove("observers");
        let back = genesis_from_json(&v).unwrap();
        let mut expected = rich_genesis(suite);
        expected.observers.clear();
        assert_eq!(back, expected);
        assert_eq!(genesis_to_json(&back)["observers"], json!([]));
        // Upper-case hex is read too.
        let mut v = genesis_to_json(&rich_genesis(suite));
        v["observers"][1]["peer_id"] = json!(hex::encode_upper(b"obs-peer-1"));
        assert_eq!(genesis_from_json(&v).unwrap(), rich_genesis(suite));
    }
}

#[test]
fn observer_refusals_name_their_path() {
    let mut v = sm_genesis_json();
    v["observers"][0]["peerid"] = json!("00");
    assert_refused(&v, "genesis.observers[0].peerid", "unknown field");

    let mut v = sm_genesis_json();
    v["observers"][1].as_object_mut().unwrap().remove("name");
    assert_refused(&v, "genesis.observers[1].name", "missing field");

    let mut v = sm_genesis_json();
    v["observers"][1]["peer_id"] = json!("xyz");
    assert_refused(&v, "genesis.observers[1].peer_id", "bad hex");

    let mut v = sm_genesis_json();
    v["observers"][1]["peer_id"] = json!("");
    assert_refused(&v, "genesis.observers[1].peer_id", "must not be empty");

    let mut v = sm_genesis_json();
    v["observers"][0]["peer_id"] = json!("ab".repeat(65));
    assert_refused(
        &v,
        "genesis.observers[0].peer_id",
        "more than the maximum 64",
    );

    let mut v = sm_genesis_json();
    v["observers"][0]["name"] = json!(" ");
    assert_refused(&v, "genesis.observers[0].name", "must not be blank");

    let mut v = sm_genesis_json();
    v["observers"] = json!({});
    assert_refused(&v, "genesis.observers", "expected an array");

    // The same peer id twice, and a validator's peer id.
    let mut v = sm_genesis_json();
    let first = v["observers"][0].clone();
    v["observers"].as_array_mut().unwrap().push(first);
    assert_refused(
        &v,
        "genesis.observers[2].peer_id",
        "duplicate peer id (same as genesis.observers[0].peer_id)",
    );

    let mut v = sm_genesis_json();
    v["observers"][1]["peer_id"] = v["validators"][3]["peer_id"].clone();
    let name = v["validators"][3]["name"].as_str().unwrap().to_string();
    assert_refused(
        &v,
        "genesis.observers[1].peer_id",
        &format!("peer id already used by validator {name:?}"),
    );
}

#[test]
fn sets_may_be_listed_in_any_order() {
    for suite in SUITES {
        let g = rich_genesis(suite);
        let mut v = genesis_to_json(&g);
        for pointer in [
            "/validators",
            "/agencies/1/keys",
            "/submitters/1/keys",
            "/config/council/members",
            "/licence_types/0/authorised",
        ] {
            let items = v.pointer_mut(pointer).unwrap().as_array_mut().unwrap();
            assert!(items.len() >= 2, "{pointer}");
            items.reverse();
        }
        // Upper-case hex is read too.
        let upper = v["validators"][0]["key"].as_str().unwrap().to_uppercase();
        let upper = upper.replacen(
            &suite.sig_algo().name().to_uppercase(),
            suite.sig_algo().name(),
            1,
        );
        v["validators"][0]["key"] = json!(upper);
        let back = genesis_from_json(&v).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.hash(), g.hash());
        assert_eq!(genesis_to_json(&back), genesis_to_json(&g));
    }
}

#[test]
fn trust_anchor_round_trips() {
    for suite in SUITES {
        let anchor = rich_genesis(suite).trust_anchor();
        let text = trust_anchor_to_json_string(&anchor);
        let back = trust_anchor_from_json_str(&text).unwrap();
        assert_eq!(back, anchor);
        assert_eq!(back.hash(), anchor.hash());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys_of(&v),
            BTreeSet::from(["chain_id", "suite", "genesis_hash", "height", "validators"])
        );
        let mut bad = v.clone();
        bad["hieght"] = json!(0);
        let e = trust_anchor_from_json_str(&bad.to_string()).unwrap_err();
        assert_eq!(e.path, "anchor.hieght");
        let mut bad = v;
        bad["suite"] = json!("rsa");
        let e = trust_anchor_from_json_str(&bad.to_string()).unwrap_err();
        assert_eq!(e.path, "anchor.suite");
    }
}

// --- genesis: refusals ---

fn sm_genesis_json() -> Value {
    let v = genesis_to_json(&rich_genesis(Suite::Sm));
    genesis_from_json(&v).expect("the unmodified genesis is valid");
    v
}

#[test]
fn unknown_fields_are_refused() {
    let mut v = sm_genesis_json();
    v["agencies"][0]["nmae"] = json!("Typo Bureau");
    assert_refused(&v, "genesis.agencies[0].nmae", "unknown field");

    let mut v = sm_genesis_json();
    v["config"]["params"]["block_interval"] = json!(100);
    assert_refused(&v, "genesis.config.params.block_interval", "unknown field");

    let mut v = sm_genesis_json();
    v["validator"] = json!([]);
    assert_refused(&v, "genesis.validator", "unknown field");
}

#[test]
fn missing_fields_are_refused_by_path() {
    let mut v = sm_genesis_json();
    v["agencies"][1].as_object_mut().unwrap().remove("keys");
    assert_refused(&v, "genesis.agencies[1].keys", "missing field");

    let mut v = sm_genesis_json();
    v["config"]["params"]
        .as_object_mut()
        .unwrap()
        .remove("tx_expiry_blocks_max");
    assert_refused(
        &v,
        "genesis.config.params.tx_expiry_blocks_max",
        "missing field",
    );

    let mut v = sm_genesis_json();
    v.as_object_mut().unwrap().remove("time_ms");
    assert_refused(&v, "genesis.time_ms", "missing field");

    // The RFC 3339 companion is optional on input.
    let mut v = sm_genesis_json();
    v.as_object_mut().unwrap().remove("time");
    assert_eq!(genesis_from_json(&v).unwrap(), rich_genesis(Suite::Sm));
}

#[test]
fn bad_hex_is_refused() {
    let mut v = sm_genesis_json();
    v["agencies"][0]["keys"][0] = json!("sm2:zz");
    assert_refused(
        &v,
        "genesis.agencies[0].keys[0]",
        "not a public key: bad hex",
    );

    let mut v = sm_genesis_json();
    v["validators"][2]["peer_id"] = json!("abc");
    assert_refused(&v, "genesis.validators[2].peer_id", "bad hex");
}

#[test]
fn bad_keys_are_refused() {
    let good = sm_genesis_json()["agencies"][0]["keys"][0]
        .as_str()
        .unwrap()
        .to_string();
    let hex_part = good.strip_prefix("sm2:").unwrap();

    let mut v = sm_genesis_json();
    v["config"]["council"]["members"][1] = json!(format!("rsa:{hex_part}"));
    assert_refused(
        &v,
        "genesis.config.council.members[1]",
        "unknown algorithm prefix \"rsa\"",
    );

    let mut v = sm_genesis_json();
    v["submitters"][0]["keys"][0] = json!(hex_part);
    assert_refused(&v, "genesis.submitters[0].keys[0]", "no algorithm prefix");

    // 33 bytes, but not a compressed point.
    let mut v = sm_genesis_json();
    v["agencies"][0]["keys"][0] = json!(format!("sm2:05{}", &hex_part[2..]));
    assert_refused(
        &v,
        "genesis.agencies[0].keys[0]",
        "not a public key: invalid sm2 public key",
    );

    // A valid key of the other suite's algorithm.
    let mut v = sm_genesis_json();
    v["submitters"][1]["keys"][1] = json!(public_key_string(&key(Suite::Intl, "x")));
    assert_refused(&v, "genesis.submitters[1].keys[1]", "ed25519 key");

    // The string form parses back to the same key.
    assert_eq!(public_key_string(&parse_public_key(&good).unwrap()), good);
}

#[test]
fn invalid_values_are_refused_by_validate() {
    let mut v = sm_genesis_json();
    v["agencies"][0]["id"] = json!("agency a");
    assert_refused(&v, "genesis.agencies[0].id", "may contain only");

    let mut v = sm_genesis_json();
    v["config"]["chain_id"] = json!("");
    assert_refused(&v, "genesis.config.chain_id", "must not be empty");

    let mut v = sm_genesis_json();
    v["submitters"][0]["name"] = json!("   ");
    assert_refused(&v, "genesis.submitters[0].name", "must not be blank");

    let mut v = sm_genesis_json();
    v["config"]["council"]["threshold"] = json!(4);
    assert_refused(
        &v,
        "genesis.config.council.threshold",
        "between 1 and the number of members",
    );

    let mut v = sm_genesis_json();
    v["config"]["council"]["threshold"] = json!(70_000);
    assert_refused(&v, "genesis.config.council.threshold", "out of range");

    let mut v = sm_genesis_json();
    v["config"]["params"]["view_timeout_base_ms"] = json!(0);
    assert_refused(&v, "genesis.config.params", "view timeouts");

    let mut v = sm_genesis_json();
    v["time_ms"] = json!("1767225600000");
    assert_refused(&v, "genesis.time_ms", "expected an unsigned integer");

    let mut v = sm_genesis_json();
    v["time_ms"] = json!(-1);
    assert_refused(&v, "genesis.time_ms", "expected an unsigned integer");

    let mut v = sm_genesis_json();
    v["config"]["suite"] = json!("SM");
    assert_refused(&v, "genesis.config.suite", "unknown suite");

    let mut v = sm_genesis_json();
    v["agencies"][0]["status"] = json!("paused");
    assert_refused(&v, "genesis.agencies[0].status", "unknown status");

    let mut v = sm_genesis_json();
    v["validators"] = json!([]);
    assert_refused(&v, "genesis.validators", "at least one validator");
}

#[test]
fn duplicates_are_refused() {
    // The same validator twice.
    let mut v = sm_genesis_json();
    let first = v["validators"][0].clone();
    v["validators"].as_array_mut().unwrap().push(first);
    assert_refused(
        &v,
        "genesis.validators[4].key",
        "duplicate validator key (same as genesis.validators[0].key)",
    );

    // Another key, the same peer id.
    let mut v = sm_genesis_json();
    let mut other = v["validators"][1].clone();
    other["key"] = json!(public_key_string(&key(Suite::Sm, "validator-9")));
    other["name"] = json!("validator-9");
    v["validators"].as_array_mut().unwrap().push(other);
    assert_refused(
        &v,
        "genesis.validators[4].peer_id",
        "same as genesis.validators[1].peer_id",
    );

    let mut v = sm_genesis_json();
    let k = v["agencies"][1]["keys"][0].clone();
    v["agencies"][1]["keys"].as_array_mut().unwrap().push(k);
    assert_refused(
        &v,
        "genesis.agencies[1].keys[2]",
        "duplicate key (same as genesis.agencies[1].keys[0])",
    );

    let mut v = sm_genesis_json();
    let a = v["agencies"][0].clone();
    v["agencies"].as_array_mut().unwrap().push(a);
    assert_refused(
        &v,
        "genesis.agencies[2].id",
        "duplicate agency id \"agency-a\"",
    );

    let mut v = sm_genesis_json();
    v["licence_types"][1]["code"] = json!("business");
    assert_refused(
        &v,
        "genesis.licence_types[1].code",
        "duplicate licence type code",
    );

    let mut v = sm_genesis_json();
    v["submitters"][1]["id"] = json!("court-1");
    assert_refused(&v, "genesis.submitters[1].id", "duplicate submitter id");

    let mut v = sm_genesis_json();
    v["licence_types"][0]["authorised"] = json!(["agency-b", "agency-a", "agency-b"]);
    assert_refused(&v, "genesis.licence_types[0].authorised[2]", "duplicate");
}

#[test]
fn genesis_rules_are_checked_at_load() {
    let mut v = sm_genesis_json();
    v["licence_types"][1]["authorised"] = json!(["agency-a", "agency-z"]);
    assert_refused(
        &v,
        "genesis.licence_types[1].authorised[1]",
        "unknown agency \"agency-z\"",
    );

    // The informational time string must agree with time_ms.
    let mut v = sm_genesis_json();
    v["time"] = json!("2027-01-01T00:00:00.000Z");
    assert_refused(&v, "genesis.time", "edit time_ms");
    let mut v = sm_genesis_json();
    v["time"] = json!("next tuesday");
    assert_refused(&v, "genesis.time", "not an RFC 3339 UTC time");
    // The same instant written without milliseconds is fine.
    let mut v = sm_genesis_json();
    v["time_ms"] = json!(GENESIS_TIME_MS);
    v["time"] = json!("2026-01-01T00:00:00Z");
    assert_eq!(genesis_from_json(&v).unwrap().time_ms, GENESIS_TIME_MS);
}

#[test]
fn malformed_text_is_refused() {
    let text = genesis_to_json_string(&rich_genesis(Suite::Sm));
    let e = genesis_from_json_str(&text[..text.len() / 2]).unwrap_err();
    assert_eq!(e.path, "genesis");
    assert!(e.reason.starts_with("not valid JSON"), "{e}");

    // A repeated key would otherwise silently keep the last value.
    let doubled = text.replacen("\"time_ms\":", "\"time_ms\": 0,\n  \"time_ms\":", 1);
    assert_ne!(doubled, text);
    let e = genesis_from_json_str(&doubled).unwrap_err();
    assert!(e.reason.contains("\"time_ms\" appears twice"), "{e}");

    let e = genesis_from_json_str("[]").unwrap_err();
    assert_eq!(e.to_string(), "genesis: expected an object, found an array");
}

// --- RFC 3339 ---

#[test]
fn rfc3339_dates() {
    assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(
        rfc3339_from_ms(1_700_000_000_000),
        "2023-11-14T22:13:20.000Z"
    );
    assert_eq!(rfc3339_from_ms(GENESIS_TIME_MS), "2026-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339_from_ms(GENESIS_TIME_MS - 1),
        "2025-12-31T23:59:59.999Z"
    );
}

// --- output views ---

/// A chain with licence `ID` issued at height 1 (valid one year) and evidence anchored at 2.
fn chain_with_records(suite: Suite) -> (TestChain, Hash32) {
    let mut c = TestChain::new(suite, 4);
    let draft = LicenceDraft {
        id: ID.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(DOC),
        holder_commitment: holder_commitment(suite, &[7; 32], "91440300MA5JSONTEST"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: Some(GENESIS_TIME_MS + 365 * DAY_MS),
    };
    let tx = c.signed(Payload::IssueLicence(draft), "agency-a");
    c.commit(vec![tx], GENESIS_TIME_MS + MINUTE_MS).unwrap();
    let hash = suite.digest(b"court record 17");
    let tx = c.signed(
        Payload::AnchorEvidence {
            hash,
            submitter: "court-1".into(),
            label: "case 17".into(),
        },
        "court-1",
    );
    c.commit(vec![tx], GENESIS_TIME_MS + 2 * MINUTE_MS).unwrap();
    (c, hash)
}

#[test]
fn licence_output_has_the_flattened_fields() {
    for suite in SUITES {
        let (c, _) = chain_with_records(suite);
        let licence = c.presentation(ID).licence;
        let v = licence_to_json(&licence);
        assert_eq!(
            keys_of(&v),
            BTreeSet::from([
                "id",
                "licence_type",
                "issuer",
                "document_hash",
                "holder_commitment",
                "valid_from_ms",
                "valid_from",
                "valid_until_ms",
                "valid_until",
                "status",
                "status_reason",
                "supersedes",
                "superseded_by",
                "issued_height",
                "issued_time_ms",
                "issued_time",
                "updated_height",
                "updated_time_ms",
                "updated_time",
            ])
        );
        assert_eq!(v["id"], ID);
        assert_eq!(v["licence_type"], "business");
        assert_eq!(v["issuer"], "agency-a");
        assert_eq!(v["document_hash"], suite.digest(DOC).to_hex());
        assert_eq!(v["status"], "active");
        assert_eq!(v["status_reason"], "");
        assert_eq!(v["supersedes"], Value::Null);
        assert_eq!(v["superseded_by"], Value::Null);
        assert_eq!(v["valid_from_ms"], GENESIS_TIME_MS);
        assert_eq!(v["valid_from"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["valid_until_ms"], GENESIS_TIME_MS + 365 * DAY_MS);
        assert_eq!(v["valid_until"], "2027-01-01T00:00:00.000Z");
        assert_eq!(v["issued_height"], 1);
        assert_eq!(v["issued_time_ms"], GENESIS_TIME_MS + MINUTE_MS);
        assert_eq!(v["issued_time"], "2026-01-01T00:01:00.000Z");
        assert_eq!(v["updated_height"], 1);

        // A licence that never expires, superseded and revoked-like fields filled in.
        let mut other = licence.clone();
        other.draft.valid_until_ms = None;
        other.status = LicenceStatus::Superseded;
        other.superseded_by = Some("SZ-BL-2026-000043".into());
        other.status_reason = "renamed".into();
        let v = licence_to_json(&other);
        assert_eq!(v["valid_until_ms"], Value::Null);
        assert_eq!(v["valid_until"], Value::Null);
        assert_eq!(v["status"], "superseded");
        assert_eq!(v["superseded_by"], "SZ-BL-2026-000043");
        assert_eq!(v["status_reason"], "renamed");
    }
}

#[test]
fn report_output_has_verdict_checks_and_time() {
    for suite in SUITES {
        let (c, _) = chain_with_records(suite);
        let p = c.presentation(ID);
        let header_time = p.certified.header.time_ms;
        let policy = Policy {
            now_ms: header_time + MINUTE_MS,
            proof_age_max_ms: DAY_MS,
        };
        let report =
            verify_presentation(&c.trust_anchor(), &p, Some(Document::Bytes(DOC)), &policy);
        let v = report_to_json(&report, &p.to_bytes());
        assert_eq!(
            keys_of(&v),
            BTreeSet::from([
                "kind",
                "verdict",
                "ok",
                "certified",
                "checks",
                "status_as_of_ms",
                "status_as_of",
                "height",
                "licence",
                "evidence",
                "holder_checked",
                "trust_package",
            ])
        );
        assert_eq!(v["trust_package"], Value::Null);
        assert_eq!(v["holder_checked"], false);
        assert_eq!(v["verdict"], "VALID");
        assert_eq!(v["kind"], "presentation");
        assert_eq!(v["ok"], true);
        assert_eq!(v["certified"], true);
        assert_eq!(v["licence"], licence_to_json(&p.licence));
        assert_eq!(v["evidence"], Value::Null);
        assert_eq!(v["status_as_of_ms"], header_time);
        assert_eq!(v["status_as_of"], rfc3339_from_ms(header_time));
        assert_eq!(v["status_as_of"], "2026-01-01T00:02:00.000Z");
        assert_eq!(v["height"], 2);
        let checks = v["checks"].as_array().unwrap();
        assert_eq!(checks.len(), report.checks.len());
        assert_eq!(checks[0]["id"], "encoding");
        for (json_check, check) in checks.iter().zip(&report.checks) {
            assert_eq!(
                keys_of(json_check),
                BTreeSet::from([
                    "id",
                    "outcome",
                    "detail",
                    "title_zh",
                    "title_en",
                    "summary_zh"
                ])
            );
            assert_eq!(json_check["id"], check.id.name());
            assert_eq!(json_check["outcome"], "pass");
            assert_eq!(json_check["detail"], check.detail.as_str());
            assert_eq!(json_check["title_zh"], check.id.title().0);
            assert_eq!(json_check["title_en"], check.id.title().1);
            assert_eq!(json_check["summary_zh"], check.id.summary_zh(check.outcome));
            assert!(!json_check["summary_zh"].as_str().unwrap().is_empty());
        }

        // Nothing certified: null time and height.
        let broken = verify_presentation_bytes(&c.trust_anchor(), b"junk", None, &policy);
        let v = report_to_json(&broken, b"junk");
        assert_eq!(v["verdict"], "TAMPERED");
        assert_eq!(v["ok"], false);
        assert_eq!(v["certified"], false);
        assert_eq!(v["licence"], Value::Null);
        assert_eq!(v["status_as_of_ms"], Value::Null);
        assert_eq!(v["status_as_of"], Value::Null);
        assert_eq!(v["height"], Value::Null);
        assert_eq!(v["checks"][0]["outcome"], "fail");
        assert_eq!(v["checks"][1]["outcome"], "skipped");
    }
}

#[test]
fn block_certificate_and_transaction_output() {
    for suite in SUITES {
        let (c, evidence_hash) = chain_with_records(suite);
        let committed = &c.blocks[1];
        let block = lichen_contracts::block::Block {
            header: committed.header.clone(),
            txs: committed.txs.clone(),
        };
        let v = block_to_json(&block, suite);
        assert_eq!(keys_of(&v), BTreeSet::from(["header", "txs"]));
        let h = &v["header"];
        assert_eq!(h, &block_header_to_json(&block.header, suite));
        assert_eq!(h["hash"], block.header.hash(suite).to_hex());
        assert_eq!(h["height"], 1);
        assert_eq!(h["time"], "2026-01-01T00:01:00.000Z");
        assert_eq!(h["previous_hash"], c.blocks[0].header.hash(suite).to_hex());
        assert_eq!(h["tx_count"], 1);
        assert_eq!(h["proposer"], block.header.proposer);
        assert_eq!(h.as_object().unwrap().len(), 12 + 2);

        let tx = &v["txs"][0];
        assert_eq!(tx, &signed_transaction_to_json(&block.txs[0], suite));
        assert_eq!(tx["id"], block.txs[0].id(suite).to_hex());
        assert_eq!(tx["tx"]["chain_id"], "lichen-test");
        assert_eq!(tx["tx"]["payload"]["kind"], "issue");
        assert_eq!(tx["tx"]["payload"]["id"], ID);
        assert_eq!(
            tx["tx"]["payload"]["valid_from"],
            "2026-01-01T00:00:00.000Z"
        );
        let sig = &tx["signatures"][0];
        assert_eq!(sig["key"], public_key_string(&key(suite, "agency-a")));
        assert_eq!(sig["signature"].as_str().unwrap().len(), 128);

        let cert = committed.certificate.as_ref().unwrap();
        let v = commit_certificate_to_json(cert);
        assert_eq!(v["height"], 1);
        assert_eq!(v["view"], cert.view);
        assert_eq!(v["block_hash"], block.header.hash(suite).to_hex());
        let sigs = v["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 4);
        assert_eq!(sigs[3]["index"], 3);
        assert_eq!(
            sigs[3]["signature"],
            hex::encode(cert.signatures[3].signature.as_bytes())
        );

        let receipt = c.receipt(&evidence_hash);
        let v = evidence_to_json(&receipt.evidence);
        assert_eq!(v["hash"], evidence_hash.to_hex());
        assert_eq!(v["submitter"], "court-1");
        assert_eq!(v["label"], "case 17");
        assert_eq!(v["height"], 2);
        assert_eq!(v["time"], "2026-01-01T00:02:00.000Z");
        assert_eq!(v["tx_id"], c.blocks[2].txs[0].id(suite).to_hex());

        let v = validator_set_to_json(&c.genesis.validators, suite);
        assert_eq!(v["quorum"], 3);
        assert_eq!(v["hash"], c.genesis.validators.hash(suite).to_hex());
        assert_eq!(v["validators"].as_array().unwrap().len(), 4);
    }
}

#[test]
fn every_payload_and_event_has_its_kind_and_fields() {
    let suite = Suite::Sm;
    let g = rich_genesis(suite);
    let draft = LicenceDraft {
        id: ID.into(),
        licence_type: "food".into(),
        issuer: "agency-a".into(),
        document_hash: Hash32([1; 32]),
        holder_commitment: Hash32([2; 32]),
        valid_from_ms: 0,
        valid_until_ms: None,
    };
    let k = key(suite, "k");
    let payloads = vec![
        (Payload::RegisterAgency(g.agencies[1].clone()), "keys"),
        (
            Payload::UpdateAgency {
                id: "agency-a".into(),
                name: None,
                keys: Some(vec![k.clone()]),
            },
            "name",
        ),
        (
            Payload::SetAgencyStatus {
                id: "agency-a".into(),
                status: EntityStatus::Suspended,
            },
            "status",
        ),
        (
            Payload::DefineLicenceType(g.licence_types[0].clone()),
            "authorised",
        ),
        (
            Payload::SetTypeAuthorisation {
                licence_type: "food".into(),
                agency: "agency-b".into(),
                authorised: true,
            },
            "agency",
        ),
        (
            Payload::RegisterSubmitter(g.submitters[1].clone()),
            "status",
        ),
        (
            Payload::UpdateSubmitter {
                id: "court-1".into(),
                keys: None,
                status: Some(EntityStatus::Active),
            },
            "keys",
        ),
        (
            Payload::AddValidator(Validator {
                name: "validator-9".into(),
                key: k.clone(),
                peer_id: b"peer-9".to_vec(),
            }),
            "peer_id",
        ),
        (Payload::RemoveValidator { key: k.clone() }, "key"),
        (
            Payload::UpdateCouncil(Council {
                members: vec![k.clone()],
                threshold: 1,
            }),
            "threshold",
        ),
        (Payload::IssueLicence(draft.clone()), "holder_commitment"),
        (
            Payload::SuspendLicence {
                id: ID.into(),
                reason: "audit".into(),
            },
            "reason",
        ),
        (
            Payload::ReinstateLicence {
                id: ID.into(),
                reason: "cleared".into(),
            },
            "reason",
        ),
        (
            Payload::RevokeLicence {
                id: ID.into(),
                reason: "fraud".into(),
            },
            "reason",
        ),
        (
            Payload::SupersedeLicence {
                old_id: ID.into(),
                reason: "renewal".into(),
                new: draft,
            },
            "new",
        ),
        (
            Payload::AnchorEvidence {
                hash: Hash32([3; 32]),
                submitter: "court-1".into(),
                label: "case".into(),
            },
            "label",
        ),
        (
            Payload::AddObserver(Observer {
                name: "archive-1".into(),
                peer_id: vec![0xab, 0xcd],
            }),
            "peer_id",
        ),
        (
            Payload::RemoveObserver {
                peer_id: vec![0xab, 0xcd],
            },
            "peer_id",
        ),
    ];
    let mut kinds = BTreeSet::new();
    for (p, field) in &payloads {
        let v = payload_to_json(p);
        assert_eq!(v["kind"], p.kind());
        assert!(v.get(*field).is_some(), "{} lacks {field}: {v}", p.kind());
        kinds.insert(p.kind());
    }
    assert_eq!(kinds.len(), 18);
    let v = payload_to_json(&payloads[1].0);
    assert_eq!(v["name"], Value::Null);
    assert_eq!(v["keys"], json!([public_key_string(&k)]));
    let v = payload_to_json(&payloads[14].0);
    assert_eq!(v["new"]["licence_type"], "food");
    assert_eq!(v["new"]["valid_until"], Value::Null);
    let v = payload_to_json(&payloads[15].0);
    assert_eq!(v["hash"], "03".repeat(32));
    assert_eq!(
        payload_to_json(&payloads[16].0),
        json!({"kind": "add-observer", "name": "archive-1", "peer_id": "abcd"})
    );
    assert_eq!(
        payload_to_json(&payloads[17].0),
        json!({"kind": "remove-observer", "peer_id": "abcd"})
    );

    let events = [
        Event::LicenceChanged {
            id: ID.into(),
            status: LicenceStatus::Revoked,
        },
        Event::EvidenceAnchored {
            hash: Hash32([4; 32]),
        },
        Event::AgencyChanged {
            id: "agency-a".into(),
        },
        Event::LicenceTypeChanged {
            code: "food".into(),
        },
        Event::SubmitterChanged {
            id: "court-1".into(),
        },
        Event::ValidatorSetChanged { size: 5 },
        Event::CouncilChanged,
        Event::ObserverAdded {
            peer_id: vec![0xab, 0xcd],
        },
        Event::ObserverRemoved {
            peer_id: vec![0xab, 0xcd],
        },
    ];
    let kinds: BTreeSet<&str> = events.iter().map(event_kind).collect();
    assert_eq!(kinds.len(), events.len());
    for e in &events {
        assert_eq!(event_to_json(e)["kind"], event_kind(e));
    }
    assert_eq!(
        event_to_json(&events[0]),
        json!({"kind": "licence-changed", "id": ID, "status": "revoked"})
    );
    assert_eq!(event_to_json(&events[5])["size"], 5);
    assert_eq!(
        event_to_json(&events[6]),
        json!({"kind": "council-changed"})
    );
    assert_eq!(
        event_to_json(&events[7]),
        json!({"kind": "observer-added", "peer_id": "abcd"})
    );
    assert_eq!(
        event_to_json(&events[8]),
        json!({"kind": "observer-removed", "peer_id": "abcd"})
    );
}
