//! The golden vectors through this crate's native path and its JSON views: the same verdicts and
//! failing checks `contracts/tests/golden_vectors.rs` asserts, in the shape the JavaScript API
//! returns (`verifier-wasm/js/test/` runs the same files through the WASM build).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::codec::Decode;
use lichen_contracts::presentation::TrustAnchor;
use lichen_contracts::presentation::{Document, Policy};
use lichen_verifier_wasm::verify_with;
use lichen_views::{
    DecodeError, decoded_presentation_to_json, report_to_json, trust_anchor_summary_to_json,
};
use serde_json::Value;

fn unhex(v: &Value) -> Vec<u8> {
    lichen_contracts::hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn load(suite: &str) -> Value {
    let path = format!(
        "{}/../contracts/vectors/golden-{suite}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("golden file")).expect("JSON")
}

fn run(anchor: &[u8], case: &Value) -> Value {
    let bytes = unhex(&case["hex"]);
    let document = case["document"].as_str().map(|_| unhex(&case["document"]));
    let policy = Policy {
        // Receipts carry no policy; any time will do.
        now_ms: case["now_ms"].as_u64().unwrap_or(0),
        proof_age_max_ms: case["proof_age_max_ms"].as_u64().unwrap_or(0),
    };
    let report = verify_with(
        anchor,
        &bytes,
        document.as_deref().map(Document::Bytes),
        &policy,
    )
    .expect("the golden anchor decodes");
    report_to_json(&report, &bytes)
}

fn failed(report: &Value) -> Vec<&str> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| c["id"].as_str().expect("id"))
        .collect()
}

#[test]
fn golden_vectors_give_the_expected_reports() {
    for suite in ["sm", "intl"] {
        let doc = load(suite);
        let anchor = unhex(&doc["trust_anchor"]);
        for case in doc["presentations"].as_array().expect("presentations") {
            let report = run(&anchor, case);
            assert_eq!(
                report["verdict"], case["verdict"],
                "{suite}: {}",
                case["name"]
            );
            assert_eq!(report["kind"], "presentation");
            assert_eq!(report["certified"], true);
            assert_eq!(report["ok"], case["verdict"] == "VALID");
            assert_eq!(report["checks"].as_array().expect("checks").len(), 10);
            assert!(report["licence"]["id"].is_string());
            assert!(report["status_as_of"].is_string());
        }
        for case in doc["broken_presentations"].as_array().expect("broken") {
            let report = run(&anchor, case);
            let name = &case["name"];
            assert_eq!(report["verdict"], case["verdict"], "{suite}: {name}");
            assert_eq!(
                failed(&report),
                vec![case["failed_check"].as_str().expect("check")]
            );
            assert_eq!(report["ok"], false);
        }
        for case in doc["receipts"].as_array().expect("receipts") {
            let report = run(&anchor, case);
            assert_eq!(
                report["verdict"], case["verdict"],
                "{suite}: {}",
                case["name"]
            );
            assert_eq!(report["kind"], "receipt");
            if let Some(t) = case.get("anchored_time_ms") {
                assert_eq!(&report["status_as_of_ms"], t);
                assert_eq!(report["evidence"]["time_ms"], *t);
            } else {
                assert_eq!(
                    failed(&report),
                    vec![case["failed_check"].as_str().expect("check")]
                );
            }
        }
    }
}

#[test]
fn golden_trust_packages_give_the_expected_reports() {
    for suite in ["sm", "intl"] {
        let doc = load(suite);
        let anchor = unhex(&doc["trust_anchor"]);
        let package = |name: &str| {
            doc["trust_packages"]
                .as_array()
                .expect("packages")
                .iter()
                .find(|p| p["name"] == name)
                .map(|p| unhex(&p["hex"]))
                .expect("named package")
        };
        for p in doc["trust_packages"].as_array().expect("packages") {
            let state = lichen_verifier_wasm::load_package(&anchor, &unhex(&p["hex"])).unwrap();
            assert_eq!(state.checkpoint_height, p["checkpoint_height"]);
        }
        for p in doc["broken_trust_packages"].as_array().expect("broken") {
            let e = lichen_verifier_wasm::load_package(&anchor, &unhex(&p["hex"])).unwrap_err();
            assert!(
                e.to_string().starts_with("trust package cannot be used"),
                "{e}"
            );
        }
        for case in doc["with_trust_package"].as_array().expect("cases") {
            let bytes = unhex(&case["hex"]);
            let document = case["document"].as_str().map(|_| unhex(&case["document"]));
            let policy = Policy {
                now_ms: case["now_ms"].as_u64().unwrap(),
                proof_age_max_ms: case["proof_age_max_ms"].as_u64().unwrap(),
            };
            let pkg = case["package"].as_str().map(package);
            let report = lichen_verifier_wasm::verify_with_package(
                &anchor,
                pkg.as_deref(),
                &bytes,
                document.as_deref().map(Document::Bytes),
                &policy,
            )
            .unwrap();
            let report = report_to_json(&report, &bytes);
            let name = &case["name"];
            assert_eq!(report["verdict"], case["verdict"], "{suite}: {name}");
            let expected: Vec<&str> = case["failed_check"].as_str().into_iter().collect();
            assert_eq!(failed(&report), expected, "{suite}: {name}");
            assert_eq!(report["trust_package"].is_null(), pkg.is_none());
        }
    }
}

#[test]
fn decodes_presentations_and_anchors_for_display() {
    let doc = load("intl");
    let p = unhex(&doc["presentations"][0]["hex"]);
    let d = decoded_presentation_to_json(&p).expect("decodes");
    assert_eq!(d["kind"], "presentation");
    assert_eq!(d["licence"]["id"], "SZ-2026-000001");
    assert_eq!(d["licence"]["status"], "active");
    assert_eq!(d["block"]["height"], 2);
    assert_eq!(d["sizes"]["total"], p.len());
    let parts = ["record", "proof", "header", "certificate", "set_changes"];
    let sum: u64 = parts
        .iter()
        .map(|k| d["sizes"][k].as_u64().expect("n"))
        .sum();
    assert_eq!(
        sum + 1,
        p.len() as u64,
        "the parts and the tag byte make the whole"
    );
    let r = unhex(&doc["receipts"][0]["hex"]);
    let d = decoded_presentation_to_json(&r).expect("decodes");
    assert_eq!(d["kind"], "receipt");
    assert_eq!(d["evidence"]["submitter"], "court-1");
    assert!(matches!(
        decoded_presentation_to_json(&p[..p.len() - 1]),
        Err(DecodeError { .. })
    ));

    let anchor = unhex(&doc["trust_anchor"]);
    let a = trust_anchor_summary_to_json(&TrustAnchor::from_bytes(&anchor).expect("anchor"));
    assert_eq!(a["chain_id"], "lichen-test");
    assert_eq!(a["suite"], "intl");
    assert_eq!(a["quorum"], 3);
    let fingerprint = doc["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["name"] == "trust_anchor")
        .expect("anchor object")["hash"]
        .clone();
    assert_eq!(a["fingerprint"], fingerprint);
    assert!(TrustAnchor::from_bytes(&anchor[1..]).is_err());
}

/// A genesis file as the scanner loads it: the anchor it makes is the chain's own, its names come
/// along, and a file that is not a valid genesis is refused with the reason.
#[test]
fn a_genesis_file_gives_the_anchor_and_the_names() {
    use lichen_contracts::codec::Encode;
    use lichen_contracts::crypto::Suite;
    use lichen_contracts::testkit::TestChain;
    use lichen_verifier_wasm::{VerifierError, trust_from_genesis};
    for suite in [Suite::Sm, Suite::Intl] {
        let chain = TestChain::new(suite, 4);
        let text = lichen_views::genesis_to_json_string(&chain.genesis);
        let (anchor, names) = trust_from_genesis(&text).unwrap();
        assert_eq!(anchor.to_bytes(), chain.trust_anchor().to_bytes());
        for a in &chain.genesis.agencies {
            assert_eq!(names["agencies"][&a.id], Value::String(a.name.clone()));
        }
        for t in &chain.genesis.licence_types {
            assert_eq!(
                names["licence_types"][&t.code],
                Value::String(t.name.clone())
            );
        }
        let broken = text.replacen("\"observers\"", "\"observer\"", 1);
        let err = trust_from_genesis(&broken).unwrap_err();
        assert!(matches!(err, VerifierError::Genesis(_)), "{err}");
        assert!(
            err.to_string().starts_with("genesis file is not valid"),
            "{err}"
        );
    }
}
