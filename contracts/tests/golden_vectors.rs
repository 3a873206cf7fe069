//! Golden vectors: the canonical bytes of every hashed or signed object, presentations with their
//! expected verdicts, and deliberately broken variants that must fail.
//!
//! `contracts/vectors/golden-{sm,intl}.json` are the reference: an independent implementation
//! (PROTOCOL.md) must reproduce every hash and verdict in them. Two tests:
//! - `committed_vectors_verify` reads the files alone and checks every entry with this crate;
//! - `vectors_are_reproducible` rebuilds them from the test chain and compares, so a change of a
//!   single byte anywhere fails loudly. After an intended format change, regenerate with
//!   `LICHEN_BLESS_VECTORS=1 cargo test -p lichen-contracts --test golden_vectors` and say why
//!   in PROTOCOL.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::block::{BlockHeader, CommitCertificate, Vote, merkle_root};
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, Suite, domain};
use lichen_contracts::model::{Evidence, Licence, LicenceDraft, ValidatorSet, holder_commitment};
use lichen_contracts::presentation::{
    Document, EvidenceReceipt, Policy, Presentation, TrustAnchor, Verdict,
    verify_presentation_bytes, verify_receipt_bytes,
};
use lichen_contracts::smt::{StateProof, value_hash};
use lichen_contracts::state::StateKey;
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction};
use serde_json::{Value, json};

const DAY_MS: u64 = 86_400_000;
const PROOF_AGE_MAX_MS: u64 = 7 * DAY_MS;

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn path(suite: Suite) -> String {
    format!(
        "{}/vectors/golden-{}.json",
        env!("CARGO_MANIFEST_DIR"),
        suite.name()
    )
}

fn flip(bytes: &[u8], index: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[index] ^= mask;
    out
}

/// Offset of `needle` inside `haystack` (to aim a mutation at one field).
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("field present in encoding")
}

fn draft(suite: Suite, id: &str, doc: &[u8], until: Option<u64>) -> LicenceDraft {
    LicenceDraft {
        id: id.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(doc),
        holder_commitment: holder_commitment(suite, &[7u8; 32], "91440300MA5XXXXXXX"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: until,
    }
}

/// Builds the vectors document for one suite from a deterministic test chain.
fn build(suite: Suite) -> Value {
    let mut chain = TestChain::new(suite, 4);
    let anchor = chain.trust_anchor();
    let doc_valid = b"%PDF-1.7 licence SZ-2026-000001 (sample document bytes)".to_vec();
    let doc_revoked = b"%PDF-1.7 licence SZ-2026-000002 (sample document bytes)".to_vec();
    let gbt_id = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S";
    let evidence_doc = b"court filing 2026-0042, exhibit 3".to_vec();
    let t1 = GENESIS_TIME_MS + DAY_MS;
    let issue_valid = chain.signed(
        Payload::IssueLicence(draft(
            suite,
            "SZ-2026-000001",
            &doc_valid,
            Some(GENESIS_TIME_MS + 365 * DAY_MS),
        )),
        "agency-a",
    );
    let issue_revoked = chain.signed(
        Payload::IssueLicence(draft(suite, "SZ-2026-000002", &doc_revoked, None)),
        "agency-a",
    );
    let issue_gbt = chain.signed(
        Payload::IssueLicence(draft(suite, gbt_id, &doc_valid, None)),
        "agency-a",
    );
    let anchor_tx = chain.signed(
        Payload::AnchorEvidence {
            hash: suite.digest(&evidence_doc),
            submitter: "court-1".into(),
            label: "case 2026-0042 exhibit 3".into(),
        },
        "court-1",
    );
    chain
        .commit(
            vec![issue_valid.clone(), issue_revoked, issue_gbt, anchor_tx],
            t1,
        )
        .expect("block 1");
    let revoke = chain.signed(
        Payload::RevokeLicence {
            id: "SZ-2026-000002".into(),
            reason: "obtained by fraud".into(),
        },
        "agency-a",
    );
    let t2 = t1 + 60_000;
    chain.commit(vec![revoke], t2).expect("block 2");
    let now = t2 + DAY_MS;

    // --- single objects ---
    let header = chain.blocks[2].header.clone();
    let certificate = chain.blocks[2].certificate.clone().expect("certificate");
    let vote = certificate.vote(chain.chain_id(), &chain.genesis.hash());
    let presentation = chain.presentation("SZ-2026-000001");
    let revoked = chain.presentation("SZ-2026-000002");
    let gbt = chain.presentation(gbt_id);
    let receipt = chain.receipt(&suite.digest(&evidence_doc));
    let licence_bytes = presentation.licence.to_bytes();
    let licence_key = StateKey::Licence("SZ-2026-000001".into()).hash(suite);
    let absent_key = StateKey::Licence("SZ-2026-999999".into()).hash(suite);
    let (absent_value, absent_proof) =
        lichen_contracts::smt::SparseMerkleTree::new(&chain.store, suite)
            .get_with_proof(&absent_key, chain.height())
            .expect("non-inclusion proof");
    assert!(absent_value.is_none());
    let tx_ids: Vec<Hash32> = chain.blocks[1]
        .txs
        .iter()
        .map(|t| t.witness_hash(suite))
        .collect();
    let header_1 = chain.blocks[1].header.clone();

    // Blocks 3 and 4: the council adds a fifth validator (it signs from block 4 on), then a
    // licence is issued under the new set; its presentation carries one validator-set change.
    let newcomer = lichen_contracts::testkit::test_key(suite, "validator-4");
    let add = chain.council_signed(Payload::AddValidator(lichen_contracts::model::Validator {
        name: "validator-4".into(),
        key: newcomer.public_key(),
        peer_id: b"peer-4".to_vec(),
    }));
    chain.add_validator_key("validator-4", newcomer);
    chain.commit(vec![add], t2 + 60_000).expect("block 3");
    let issue_later = chain.signed(
        Payload::IssueLicence(draft(suite, "SZ-2026-000003", &doc_valid, None)),
        "agency-a",
    );
    chain
        .commit(vec![issue_later], t2 + 120_000)
        .expect("block 4");
    let after_change = chain.presentation("SZ-2026-000003");
    assert_eq!(after_change.certified.set_changes.len(), 1);
    let mut change_dropped = after_change.clone();
    change_dropped.certified.set_changes.clear();

    let objects = json!([
        { "name": "validator_set", "type": "ValidatorSet", "hex": hex(&anchor.validators.to_bytes()),
          "hash_tag": domain::VALIDATOR_SET, "hash": anchor.validators.hash(suite).to_hex() },
        { "name": "trust_anchor", "type": "TrustAnchor", "hex": hex(&anchor.to_bytes()),
          "hash_tag": domain::TRUST_ANCHOR, "hash": anchor.hash().to_hex() },
        { "name": "transaction.issue", "type": "Transaction", "hex": hex(&issue_valid.tx.to_bytes()),
          "hash_tag": domain::TX, "hash": issue_valid.id(suite).to_hex() },
        { "name": "signed_transaction.issue", "type": "SignedTransaction", "hex": hex(&issue_valid.to_bytes()),
          "hash_tag": domain::TX, "hash": issue_valid.id(suite).to_hex() },
        { "name": "block_header.1", "type": "BlockHeader", "hex": hex(&header_1.to_bytes()),
          "hash_tag": domain::HEADER, "hash": header_1.hash(suite).to_hex() },
        { "name": "block_header.2", "type": "BlockHeader", "hex": hex(&header.to_bytes()),
          "hash_tag": domain::HEADER, "hash": header.hash(suite).to_hex() },
        { "name": "vote.commit.2", "type": "Vote", "hex": hex(&vote.to_bytes()),
          "hash_tag": domain::VOTE, "hash": vote.signing_hash(suite).to_hex() },
        { "name": "commit_certificate.2", "type": "CommitCertificate", "hex": hex(&certificate.to_bytes()) },
        { "name": "licence.SZ-2026-000001", "type": "Licence", "hex": hex(&licence_bytes),
          "hash_tag": domain::SMT_VALUE, "hash": value_hash(suite, &licence_bytes).to_hex(),
          "state_key": licence_key.to_hex() },
        { "name": "evidence", "type": "Evidence", "hex": hex(&receipt.evidence.to_bytes()),
          "hash_tag": domain::SMT_VALUE, "hash": value_hash(suite, &receipt.evidence.to_bytes()).to_hex(),
          "state_key": StateKey::Evidence(receipt.evidence.hash).hash(suite).to_hex() },
        { "name": "state_proof.inclusion", "type": "StateProof", "hex": hex(&presentation.proof.to_bytes()),
          "root": header.state_root.to_hex(), "key": licence_key.to_hex(), "value": hex(&licence_bytes) },
        { "name": "state_proof.non_inclusion", "type": "StateProof", "hex": hex(&absent_proof.to_bytes()),
          "root": header.state_root.to_hex(), "key": absent_key.to_hex() },
        { "name": "presentation.SZ-2026-000001", "type": "Presentation", "hex": hex(&presentation.to_bytes()) },
        { "name": "evidence_receipt", "type": "EvidenceReceipt", "hex": hex(&receipt.to_bytes()) },
    ]);

    let hashes = json!([
        { "tag": domain::TX, "input": hex(b"abc"), "hash": suite.hash(domain::TX, &[b"abc"]).to_hex() },
        { "tag": "", "input": hex(b"abc"), "hash": suite.hash("", &[b"abc"]).to_hex(), "note": "empty tag: H(0x00 || input)" },
        { "document": hex(&doc_valid), "hash": suite.digest(&doc_valid).to_hex(), "note": "documents are hashed plainly, no tag" },
        { "holder_salt": hex(&[7u8; 32]), "holder_id": "91440300MA5XXXXXXX", "tag": domain::HOLDER_COMMITMENT,
          "hash": holder_commitment(suite, &[7u8; 32], "91440300MA5XXXXXXX").to_hex() },
        { "tx_root_of": tx_ids.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
          "hash": merkle_root(suite, &tx_ids).to_hex(),
          "note": "the witness hashes H(lichen/tx-witness/v1, signed transaction) of block 1's transactions: equals block_header.1's tx_root" },
        { "state_key": "Licence(\"SZ-2026-000001\")", "kind": 6, "hash": licence_key.to_hex() },
    ]);

    let case = |name: &str,
                bytes: &[u8],
                document: Option<&[u8]>,
                now_ms: u64,
                verdict: Verdict| {
        json!({ "name": name, "hex": hex(bytes), "document": document.map(hex), "now_ms": now_ms,
                "proof_age_max_ms": PROOF_AGE_MAX_MS, "verdict": verdict.name() })
    };
    let p = presentation.to_bytes();
    let presentations = json!([
        case("valid, no document", &p, None, now, Verdict::Valid),
        case(
            "valid, with the document",
            &p,
            Some(&doc_valid),
            now,
            Verdict::Valid
        ),
        case(
            "GB/T 36904 identifier",
            &gbt.to_bytes(),
            Some(&doc_valid),
            now,
            Verdict::Valid
        ),
        case(
            "revoked",
            &revoked.to_bytes(),
            Some(&doc_revoked),
            now,
            Verdict::Revoked
        ),
        case(
            "expired (checked after valid_until)",
            &p,
            None,
            GENESIS_TIME_MS + 400 * DAY_MS,
            Verdict::Expired
        ),
        case(
            "not yet valid (checked before valid_from)",
            &p,
            None,
            GENESIS_TIME_MS - DAY_MS,
            Verdict::NotYetValid
        ),
        case(
            "stale proof (checked 30 days later)",
            &p,
            None,
            t2 + 30 * DAY_MS,
            Verdict::StaleProof
        ),
        case(
            "after a validator-set change (one set change carried)",
            &after_change.to_bytes(),
            Some(&doc_valid),
            now,
            Verdict::Valid
        ),
    ]);

    // --- broken variants: each must fail as stated ---
    let status_at = find(&licence_bytes, b"SZ-2026-000001"); // the record starts at byte 1 of `p`
    let _ = status_at;
    let doc_hash_at = 1 + find(&licence_bytes, suite.digest(&doc_valid).as_bytes());
    let header_bytes = header.to_bytes();
    let header_at = find(&p, &header_bytes);
    let state_root_at = header_at + find(&header_bytes, header.state_root.as_bytes());
    let cert_bytes = presentation.certified.certificate.to_bytes();
    let cert_at = find(&p, &cert_bytes);
    // First signature's bytes: height 8, view 8, hash 32, count 4, index 2, algo 1, then 64 bytes.
    let first_sig_at = cert_at + 8 + 8 + 32 + 4 + 2 + 1;
    let proof_bytes = presentation.proof.to_bytes();
    let proof_at = find(&p, &proof_bytes);
    let last_sibling_at = proof_at + proof_bytes.len() - 65 - 1 - 32; // inside the last sibling
    let mut short = presentation.certified.certificate.clone();
    short.signatures.truncate(anchor.validators.quorum() - 1);
    let mut dup = presentation.certified.certificate.clone();
    dup.signatures[1].index = dup.signatures[0].index;
    let replace_cert = |cert: &CommitCertificate| {
        let mut q = presentation.clone();
        q.certified.certificate = cert.clone();
        q.to_bytes()
    };
    let other_chain = {
        let mut other = TestChain::new(
            if suite == Suite::Sm {
                Suite::Sm
            } else {
                Suite::Intl
            },
            4,
        );
        other.genesis.config.chain_id = "lichen-other".into();
        let mut other = TestChain::from_genesis(
            other.genesis.clone(),
            other.keys,
            validator_names(&other.genesis, suite),
        );
        let tx = other.signed(
            Payload::IssueLicence(draft(suite, "SZ-2026-000001", &doc_valid, None)),
            "agency-a",
        );
        other.commit(vec![tx], t1).expect("other chain block");
        other.presentation("SZ-2026-000001").to_bytes()
    };
    // Same chain id, same keys, another genesis (its time differs): a relaunch or a staging chain.
    let other_genesis = {
        // A fresh test chain holds the same deterministic keys.
        let mut other = TestChain::new(suite, 4);
        assert_eq!(other.genesis.validators, chain.genesis.validators);
        other.genesis.time_ms += 1;
        let genesis = other.genesis.clone();
        let mut other = TestChain::from_genesis(
            genesis.clone(),
            other.keys,
            validator_names(&genesis, suite),
        );
        let tx = other.signed(
            Payload::IssueLicence(draft(suite, "SZ-2026-000001", &doc_valid, None)),
            "agency-a",
        );
        other.commit(vec![tx], t1).expect("other genesis block");
        other.presentation("SZ-2026-000001").to_bytes()
    };
    let broken = |name: &str,
                  bytes: Vec<u8>,
                  document: Option<&[u8]>,
                  verdict: Verdict,
                  failed_check: &str| {
        json!({ "name": name, "hex": hex(&bytes), "document": document.map(hex), "now_ms": now,
                "proof_age_max_ms": PROOF_AGE_MAX_MS, "verdict": verdict.name(), "failed_check": failed_check })
    };
    let mut trailing = p.clone();
    trailing.push(0);
    let broken_presentations = json!([
        broken(
            "document does not match",
            p.clone(),
            Some(b"a different file"),
            Verdict::Tampered,
            "document_hash"
        ),
        broken(
            "record's document hash altered",
            flip(&p, doc_hash_at, 0x01),
            None,
            Verdict::Tampered,
            "state_proof"
        ),
        broken(
            "proof sibling altered",
            flip(&p, last_sibling_at, 0x80),
            None,
            Verdict::Tampered,
            "state_proof"
        ),
        broken(
            "header state root altered",
            flip(&p, state_root_at, 0x01),
            None,
            Verdict::Tampered,
            "quorum"
        ),
        broken(
            "certificate signature altered",
            flip(&p, first_sig_at + 10, 0x01),
            None,
            Verdict::UnknownIssuer,
            "quorum"
        ),
        broken(
            "certificate below quorum",
            replace_cert(&short),
            None,
            Verdict::UnknownIssuer,
            "quorum"
        ),
        broken(
            "certificate repeats a signer",
            replace_cert(&dup),
            None,
            Verdict::UnknownIssuer,
            "quorum"
        ),
        broken(
            "presentation from another chain",
            other_chain,
            None,
            Verdict::UnknownIssuer,
            "chain"
        ),
        broken(
            "presentation from another genesis with the same chain id and keys",
            other_genesis,
            None,
            Verdict::UnknownIssuer,
            "quorum"
        ),
        broken(
            "validator-set change left out",
            change_dropped.to_bytes(),
            None,
            Verdict::UnknownIssuer,
            "validator_set"
        ),
        broken(
            "truncated",
            p[..p.len() - 1].to_vec(),
            None,
            Verdict::Tampered,
            "encoding"
        ),
        broken(
            "trailing byte",
            trailing,
            None,
            Verdict::Tampered,
            "encoding"
        ),
        broken(
            "wrong leading tag",
            flip(&p, 0, 0x02),
            None,
            Verdict::Tampered,
            "encoding"
        ),
    ]);
    let r = receipt.to_bytes();
    let time_at = 1 + 32 + 4 + "court-1".len() + 4 + "case 2026-0042 exhibit 3".len() + 8;
    let receipts = json!([
        { "name": "anchored", "hex": hex(&r), "document": hex(&evidence_doc), "verdict": Verdict::Anchored.name(),
          "anchored_time_ms": receipt.evidence.time_ms },
        { "name": "wrong document", "hex": hex(&r), "document": hex(b"another file"), "verdict": Verdict::Tampered.name(),
          "failed_check": "document_hash" },
        { "name": "anchor time altered", "hex": hex(&flip(&r, time_at + 7, 0x01)), "document": null,
          "verdict": Verdict::Tampered.name(), "failed_check": "state_proof" },
    ]);
    let mut bad_sig = issue_valid.clone();
    let sig_bytes = bad_sig.to_bytes();
    let sig_at = sig_bytes.len() - 64 + 5;
    let bad_sig_bytes = flip(&sig_bytes, sig_at, 0x01);
    bad_sig.tx.nonce ^= 1;
    let broken_objects = json!([
        { "name": "transaction signature altered", "type": "SignedTransaction", "hex": hex(&bad_sig_bytes),
          "expect": "signature does not verify" },
        { "name": "transaction body altered after signing", "type": "SignedTransaction", "hex": hex(&bad_sig.to_bytes()),
          "expect": "signature does not verify" },
        { "name": "inclusion proof against another key", "type": "StateProof", "hex": hex(&presentation.proof.to_bytes()),
          "root": header.state_root.to_hex(), "key": absent_key.to_hex(), "value": hex(&licence_bytes),
          "expect": "proof does not verify" },
        { "name": "non-inclusion claimed for a present key", "type": "StateProof", "hex": hex(&presentation.proof.to_bytes()),
          "root": header.state_root.to_hex(), "key": licence_key.to_hex(), "value": null,
          "expect": "proof does not verify" },
    ]);

    let keystore_secret = lichen_contracts::testkit::test_key(suite, "keystore-vector");
    let sealed = lichen_contracts::crypto::keystore::seal(
        &keystore_secret,
        b"correct horse battery staple",
        [0x11; 16],
        [0x22; 16],
        lichen_contracts::crypto::keystore::KDF_ITERATIONS_MIN,
    )
    .expect("seal");
    let keystore = json!([
        { "name": "sealed key", "hex": hex(&sealed), "password": "correct horse battery staple",
          "secret": hex(keystore_secret.expose_bytes()), "public_key": hex(&keystore_secret.public_key().to_bytes()) },
        { "name": "wrong password", "hex": hex(&sealed), "password": "correct horse battery stapler",
          "expect": "authentication fails" },
        { "name": "ciphertext altered", "hex": hex(&flip(&sealed, 50, 0x01)), "password": "correct horse battery staple",
          "expect": "authentication fails" },
    ]);

    // --- trust packages and compact presentations ---
    // Package A: checkpoint at block 2 (after the revocation, before any set change), 2 levels.
    let package_a = chain.trust_package(2, 2);
    let old_revoked = chain.presentation_at("SZ-2026-000002", 1);
    let compact = chain.compact_presentation("SZ-2026-000001", 2, 2);
    let compact_bytes = compact.to_bytes();
    let wrong_cut = chain
        .compact_presentation("SZ-2026-000001", 2, 1)
        .to_bytes();
    let mut altered_compact = compact.clone();
    match altered_compact
        .proof
        .siblings
        .iter_mut()
        .find(|s| **s != Hash32::ZERO)
    {
        Some(s) => s.0[31] ^= 1,
        None => altered_compact.licence.draft.document_hash.0[0] ^= 1,
    }
    // Blocks 5 and 6: the council removes three of the four genesis validators; block 6 is the
    // checkpoint of package B (3 levels). A forgery by the retired three at height 1, on a fork
    // of the same genesis, verifies against the genesis anchor alone but not with package B.
    let retiring: Vec<_> = anchor.validators.validators[..3]
        .iter()
        .map(|v| v.key.clone())
        .collect();
    let removals: Vec<_> = retiring
        .into_iter()
        .map(|key| chain.council_signed(Payload::RemoveValidator { key }))
        .collect();
    chain.commit(removals, t2 + 180_000).expect("block 5");
    let issue_after = chain.signed(
        Payload::IssueLicence(draft(suite, "SZ-2026-000004", &doc_valid, None)),
        "agency-a",
    );
    chain
        .commit(vec![issue_after], t2 + 240_000)
        .expect("block 6");
    let package_b = chain.trust_package(6, 3);
    let fresh_after = chain.presentation("SZ-2026-000004");
    let forged = {
        let mut fork = TestChain::new(suite, 4);
        let tx = fork.signed(
            Payload::IssueLicence(draft(suite, "FORGED-0001", &doc_valid, None)),
            "agency-a",
        );
        fork.commit(vec![tx], t1).expect("forged block");
        fork.presentation("FORGED-0001")
    };
    assert!(
        forged.certified.certificate.signatures.len() >= 3,
        "a genesis quorum signed the forgery"
    );
    let with_package = |name: &str,
                        package: Option<&str>,
                        bytes: &[u8],
                        document: Option<&[u8]>,
                        verdict: Verdict,
                        failed_check: Option<&str>| {
        json!({ "name": name, "package": package, "hex": hex(bytes), "document": document.map(hex),
                "now_ms": now, "proof_age_max_ms": PROOF_AGE_MAX_MS, "verdict": verdict.name(),
                "failed_check": failed_check })
    };
    let package_info = |name: &str, p: &lichen_contracts::presentation::TrustPackage| {
        let state = p.verify(&anchor).expect("golden package verifies");
        let (suspended, revoked, superseded) = state.counts();
        json!({ "name": name, "hex": hex(&p.to_bytes()), "hash": state.package_hash.to_hex(),
                "checkpoint_height": state.checkpoint_height, "anchor_height": state.anchor.height,
                "levels_depth": state.levels_depth,
                "revocations": { "suspended": suspended, "revoked": revoked, "superseded": superseded } })
    };
    let trust_packages = json!([package_info("A", &package_a), package_info("B", &package_b)]);
    let mut dropped = package_a.clone();
    dropped.marks.clear();
    let mut softened = package_a.clone();
    softened.marks[0].1 = lichen_contracts::model::LicenceStatus::Suspended;
    let mut level = package_a.clone();
    let j = level
        .levels
        .iter()
        .position(|n| n.keys != lichen_contracts::smt::Keys::None)
        .expect("a present level node");
    level.levels[j].hash.0[0] ^= 1;
    let mut sibling = package_a.clone();
    let i = sibling
        .region_siblings
        .iter()
        .position(|s| *s != Hash32::ZERO)
        .expect("a region sibling");
    sibling.region_siblings[i].0[0] ^= 1;
    let mut short = package_a.clone();
    short.checkpoint.certificate.signatures.truncate(2);
    let mut other_genesis = package_a.clone();
    other_genesis.genesis_hash.0[0] ^= 1;
    let mut trailing_package = package_a.to_bytes();
    trailing_package.push(0);
    let broken_package = |name: &str, bytes: Vec<u8>, error: &str| json!({ "name": name, "hex": hex(&bytes), "error": error });
    let broken_trust_packages = json!([
        broken_package("revocation left out", dropped.to_bytes(), "region"),
        broken_package(
            "revocation softened to a suspension",
            softened.to_bytes(),
            "region"
        ),
        broken_package("region sibling altered", sibling.to_bytes(), "region"),
        broken_package("tree level altered", level.to_bytes(), "levels"),
        broken_package(
            "checkpoint certificate below quorum",
            short.to_bytes(),
            "checkpoint"
        ),
        broken_package("another genesis", other_genesis.to_bytes(), "chain"),
        broken_package("trailing byte", trailing_package, "encoding"),
    ]);
    let with_trust_package = json!([
        with_package(
            "exported before its revocation, no package",
            None,
            &old_revoked.to_bytes(),
            None,
            Verdict::Valid,
            None
        ),
        with_package(
            "exported before its revocation, package A",
            Some("A"),
            &old_revoked.to_bytes(),
            None,
            Verdict::Revoked,
            Some("status")
        ),
        with_package(
            "valid, package A",
            Some("A"),
            &p,
            Some(&doc_valid),
            Verdict::Valid,
            None
        ),
        with_package(
            "compact, package A",
            Some("A"),
            &compact_bytes,
            Some(&doc_valid),
            Verdict::Valid,
            None
        ),
        with_package(
            "compact, proof sibling altered",
            Some("A"),
            &altered_compact.to_bytes(),
            None,
            Verdict::Tampered,
            Some("state_proof")
        ),
        with_package(
            "compact cut at another depth",
            Some("A"),
            &wrong_cut,
            None,
            Verdict::UnknownIssuer,
            Some("validator_set")
        ),
        with_package(
            "compact, no package",
            None,
            &compact_bytes,
            None,
            Verdict::UnknownIssuer,
            Some("chain")
        ),
        with_package(
            "compact of checkpoint 2, package B",
            Some("B"),
            &compact_bytes,
            None,
            Verdict::UnknownIssuer,
            Some("validator_set")
        ),
        with_package(
            "forged by retired validators, no package",
            None,
            &forged.to_bytes(),
            None,
            Verdict::Valid,
            None
        ),
        with_package(
            "forged by retired validators, package B",
            Some("B"),
            &forged.to_bytes(),
            None,
            Verdict::UnknownIssuer,
            Some("validator_set")
        ),
        with_package(
            "signed by a set retired before the checkpoint, package B",
            Some("B"),
            &after_change.to_bytes(),
            None,
            Verdict::UnknownIssuer,
            Some("validator_set")
        ),
        with_package(
            "signed by the checkpoint's set, package B",
            Some("B"),
            &fresh_after.to_bytes(),
            Some(&doc_valid),
            Verdict::Valid,
            None
        ),
    ]);

    // --- cases that pin single rules, so that a verifier misreading one fails a vector ---
    // Block 7: the GB/T licence is suspended, SZ-2026-000003 superseded, and a licence valid for
    // one day is issued.
    let t7 = t2 + 300_000;
    let day_licence = {
        let mut d = draft(suite, "SZ-2026-000006", &doc_valid, Some(t7 + DAY_MS));
        d.valid_from_ms = t7;
        d
    };
    let block7 = vec![
        chain.signed(
            Payload::SuspendLicence {
                id: gbt_id.into(),
                reason: "inspection".into(),
            },
            "agency-a",
        ),
        chain.signed(
            Payload::SupersedeLicence {
                old_id: "SZ-2026-000003".into(),
                reason: "renewed".into(),
                new: draft(suite, "SZ-2026-000005", &doc_valid, None),
            },
            "agency-a",
        ),
        chain.signed(Payload::IssueLicence(day_licence), "agency-a"),
    ];
    chain.commit(block7, t7).expect("block 7");
    let suspended = chain.presentation(gbt_id).to_bytes();
    let superseded = chain.presentation("SZ-2026-000003").to_bytes();
    let one_day = chain.presentation("SZ-2026-000006").to_bytes();
    // Certificates of block 2 with all four signatures; with the fourth altered; from a later
    // view than the header's (the vote's view is the certificate's, not the header's).
    let names = validator_names(&chain.genesis, suite);
    let sign_all = |view: u64| {
        let block_hash = header.hash(suite);
        let vote = Vote {
            kind: lichen_contracts::block::VoteKind::Commit,
            chain_id: header.chain_id.clone(),
            genesis_hash: anchor.genesis_hash,
            height: header.height,
            view,
            block_hash,
        };
        let message = vote.signing_hash(suite);
        CommitCertificate {
            height: header.height,
            view,
            block_hash,
            signatures: anchor
                .validators
                .validators
                .iter()
                .enumerate()
                .map(|(i, v)| lichen_contracts::block::IndexedSignature {
                    index: i as u16,
                    signature: chain
                        .key(&names[&v.key.as_bytes().to_vec()])
                        .sign(message.as_bytes()),
                })
                .collect(),
        }
    };
    let all_four = sign_all(header.view);
    let mut fourth_bad = all_four.clone();
    {
        let sig = &mut fourth_bad.signatures[3].signature;
        let mut bytes = *sig.as_bytes();
        // The least significant byte of s (SM2, big-endian) or S (Ed25519, little-endian):
        // the signature stays well-formed, only wrong.
        let at = if suite == Suite::Sm { 63 } else { 32 };
        bytes[at] ^= 0x01;
        *sig = lichen_contracts::crypto::Signature::from_bytes(suite.sig_algo(), &bytes)
            .expect("still in range");
    }
    let later_view = sign_all(header.view + 1);
    let mut later_view_relabelled = all_four.clone();
    later_view_relabelled.view += 1;
    // After the set change of block 3 the set has 5 validators: the quorum is floor(10/3) + 1 = 4,
    // not 2f + 1 = 3.
    let mut three_of_five = after_change.clone();
    three_of_five.certified.certificate.signatures.truncate(3);
    let gbt_header_time = gbt.certified.header.time_ms;
    let rule_cases = [
        case("suspended", &suspended, None, now, Verdict::Suspended),
        case("superseded", &superseded, None, now, Verdict::Superseded),
        case(
            "certificate with every validator's signature (more than a quorum)",
            &replace_cert(&all_four),
            None,
            now,
            Verdict::Valid,
        ),
        case(
            "certificate from a later view than the header's",
            &replace_cert(&later_view),
            None,
            now,
            Verdict::Valid,
        ),
        case(
            "valid from exactly now",
            &gbt.to_bytes(),
            None,
            GENESIS_TIME_MS,
            Verdict::Valid,
        ),
        case(
            "proof exactly as old as allowed",
            &gbt.to_bytes(),
            None,
            gbt_header_time + PROOF_AGE_MAX_MS,
            Verdict::Valid,
        ),
        case(
            "valid until one millisecond from now",
            &one_day,
            None,
            t7 + DAY_MS - 1,
            Verdict::Valid,
        ),
    ];
    let broken_rule_cases = [
        broken(
            "one signature beyond the quorum does not verify (every signature must)",
            replace_cert(&fourth_bad),
            None,
            Verdict::UnknownIssuer,
            "quorum",
        ),
        broken(
            "certificate relabelled with a later view than it was signed in",
            replace_cert(&later_view_relabelled),
            None,
            Verdict::UnknownIssuer,
            "quorum",
        ),
        broken(
            "3 of 5 signatures: 2f + 1, below the quorum floor(2n/3) + 1 = 4",
            three_of_five.to_bytes(),
            None,
            Verdict::UnknownIssuer,
            "quorum",
        ),
    ];
    // Boundaries of checks 9 and 10 (these do not stop the report: later checks still run).
    let boundary_cases = [
        case(
            "valid from one millisecond later",
            &gbt.to_bytes(),
            None,
            GENESIS_TIME_MS - 1,
            Verdict::NotYetValid,
        ),
        case(
            "valid until exactly now (the end is exclusive)",
            &one_day,
            None,
            t7 + DAY_MS,
            Verdict::Expired,
        ),
        case(
            "proof one millisecond older than allowed",
            &gbt.to_bytes(),
            None,
            gbt_header_time + PROOF_AGE_MAX_MS + 1,
            Verdict::StaleProof,
        ),
    ];
    // Deltas: A to B (a new level depth: full levels) and A to C (the checkpoint at block 7, the
    // same 2 levels: changed nodes only). Applied to A they give exactly B and C.
    let package_c = chain.trust_package(7, 2);
    let delta = |name: &str,
                 base: &str,
                 base_package: &lichen_contracts::presentation::TrustPackage,
                 to: &lichen_contracts::presentation::TrustPackage| {
        let d = lichen_contracts::presentation::TrustDelta::between(base_package, to);
        assert_eq!(&d.apply(base_package).expect("applies"), to);
        let state = to.verify(&anchor).expect("result verifies");
        json!({ "name": name, "base": base, "hex": hex(&d.to_bytes()),
                "result_hash": state.package_hash.to_hex(), "checkpoint_height": state.checkpoint_height })
    };
    let trust_deltas = json!([
        delta(
            "A to B: a set change, a new level depth",
            "A",
            &package_a,
            &package_b
        ),
        delta(
            "A to C: a suspension and a supersession, changed level nodes",
            "A",
            &package_a,
            &package_c
        ),
    ]);
    // At a desk: the expected kind and the holder (the golden licences' holder is
    // "91440300MA5XXXXXXX" with the salt 0x07 x 32).
    let desk = |name: &str,
                bytes: &[u8],
                expect: Option<&str>,
                holder: Option<(&str, [u8; 32])>,
                verdict: Verdict,
                failed_checks: &[&str]| {
        json!({ "name": name, "hex": hex(bytes), "now_ms": now, "proof_age_max_ms": PROOF_AGE_MAX_MS,
                "expect": expect, "holder_id": holder.map(|h| h.0), "holder_salt": holder.map(|h| hex(&h.1)),
                "verdict": verdict.name(), "failed_checks": failed_checks })
    };
    let right = ("91440300MA5XXXXXXX", [7u8; 32]);
    let at_desk = json!([
        desk(
            "licence at a licence desk",
            &p,
            Some("licence"),
            None,
            Verdict::Valid,
            &[]
        ),
        desk(
            "evidence receipt at a licence desk",
            &r,
            Some("licence"),
            None,
            Verdict::WrongKind,
            &["kind"]
        ),
        desk(
            "licence at an evidence desk",
            &p,
            Some("evidence"),
            None,
            Verdict::WrongKind,
            &["kind"]
        ),
        desk(
            "evidence receipt at an evidence desk",
            &r,
            Some("evidence"),
            None,
            Verdict::Anchored,
            &[]
        ),
        desk(
            "the holder opens the commitment",
            &p,
            None,
            Some(right),
            Verdict::Valid,
            &[]
        ),
        desk(
            "another holder id",
            &p,
            None,
            Some(("91440300MA5YYYYYYY", [7u8; 32])),
            Verdict::HolderMismatch,
            &["holder"]
        ),
        desk(
            "the right id with another salt",
            &p,
            None,
            Some(("91440300MA5XXXXXXX", [8u8; 32])),
            Verdict::HolderMismatch,
            &["holder"]
        ),
        desk(
            "revoked, presented by its holder",
            &revoked.to_bytes(),
            Some("licence"),
            Some(right),
            Verdict::Revoked,
            &["status"]
        ),
        desk(
            "revoked, presented by someone else",
            &revoked.to_bytes(),
            None,
            Some(("someone-else", [7u8; 32])),
            Verdict::HolderMismatch,
            &["holder", "status"]
        ),
        desk(
            "evidence receipt with a holder asked for",
            &r,
            None,
            Some(right),
            Verdict::HolderMismatch,
            &["holder"],
        ),
        desk(
            "truncated receipt at a licence desk (TAMPERED says more)",
            &r[..r.len() - 1],
            Some("licence"),
            None,
            Verdict::Tampered,
            &["kind", "encoding"],
        ),
    ]);
    let mut presentations = presentations;
    presentations
        .as_array_mut()
        .expect("array")
        .extend(rule_cases.into_iter().chain(boundary_cases));
    let mut broken_presentations = broken_presentations;
    broken_presentations
        .as_array_mut()
        .expect("array")
        .extend(broken_rule_cases);

    json!({
        "about": "Lichen golden vectors (generated by contracts/tests/golden_vectors.rs; see PROTOCOL.md). Hex is lower case.",
        "suite": suite.name(),
        "chain_id": chain.chain_id(),
        "trust_anchor": hex(&anchor.to_bytes()),
        "hashes": hashes,
        "objects": objects,
        "presentations": presentations,
        "broken_presentations": broken_presentations,
        "receipts": receipts,
        "broken_objects": broken_objects,
        "keystore": keystore,
        "trust_packages": trust_packages,
        "broken_trust_packages": broken_trust_packages,
        "with_trust_package": with_trust_package,
        "trust_deltas": trust_deltas,
        "at_desk": at_desk,
    })
}

/// The names of the checks that failed, in report order.
fn failed_checks(report: &lichen_contracts::presentation::Report) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| c.outcome == lichen_contracts::presentation::Outcome::Fail)
        .map(|c| c.id.name())
        .collect()
}

fn validator_names(
    genesis: &lichen_contracts::genesis::Genesis,
    suite: Suite,
) -> std::collections::BTreeMap<Vec<u8>, String> {
    genesis
        .validators
        .validators
        .iter()
        .map(|v| {
            let key = lichen_contracts::testkit::test_key(suite, &v.name);
            assert_eq!(key.public_key(), v.key);
            (v.key.as_bytes().to_vec(), v.name.clone())
        })
        .collect()
}

fn check_file(doc: &Value) {
    let suite = Suite::from_name(doc["suite"].as_str().expect("suite")).expect("known suite");
    let anchor =
        TrustAnchor::from_bytes(&unhex(&doc["trust_anchor"])).expect("trust anchor decodes");
    assert_eq!(anchor.suite, suite);
    for h in doc["hashes"].as_array().expect("hashes") {
        if let (Some(tag), Some(input)) = (h["tag"].as_str(), h.get("input")) {
            assert_eq!(suite.hash(tag, &[&unhex(input)]).to_hex(), h["hash"], "{h}");
        }
        if let Some(document) = h.get("document") {
            assert_eq!(suite.digest(&unhex(document)).to_hex(), h["hash"]);
        }
    }
    for o in doc["objects"].as_array().expect("objects") {
        let bytes = unhex(&o["hex"]);
        let name = o["name"].as_str().expect("name");
        let reencoded = match o["type"].as_str().expect("type") {
            "ValidatorSet" => ValidatorSet::from_bytes(&bytes).map(|v| v.to_bytes()),
            "TrustAnchor" => TrustAnchor::from_bytes(&bytes).map(|v| v.to_bytes()),
            "Transaction" => Transaction::from_bytes(&bytes).map(|v| v.to_bytes()),
            "SignedTransaction" => SignedTransaction::from_bytes(&bytes).map(|v| {
                let verified = lichen_contracts::ledger::verify_signatures(suite, &v);
                assert!(verified.is_ok(), "{name}: signatures verify");
                v.to_bytes()
            }),
            "BlockHeader" => BlockHeader::from_bytes(&bytes).map(|v| v.to_bytes()),
            "Vote" => Vote::from_bytes(&bytes).map(|v| v.to_bytes()),
            "CommitCertificate" => CommitCertificate::from_bytes(&bytes).map(|v| {
                v.verify_signatures(
                    suite,
                    &anchor.chain_id,
                    &anchor.genesis_hash,
                    &anchor.validators,
                )
                .expect("certificate verifies under the anchor's set");
                v.to_bytes()
            }),
            "Licence" => Licence::from_bytes(&bytes).map(|v| v.to_bytes()),
            "Evidence" => Evidence::from_bytes(&bytes).map(|v| v.to_bytes()),
            "StateProof" => StateProof::from_bytes(&bytes).map(|proof| {
                let root = Hash32::from_hex(o["root"].as_str().expect("root")).expect("root hex");
                let key = Hash32::from_hex(o["key"].as_str().expect("key")).expect("key hex");
                let value = o.get("value").map(unhex);
                proof
                    .verify(suite, &root, &key, value.as_deref())
                    .expect("golden proof verifies");
                proof.to_bytes()
            }),
            "Presentation" => Presentation::from_bytes(&bytes).map(|v| v.to_bytes()),
            "EvidenceReceipt" => EvidenceReceipt::from_bytes(&bytes).map(|v| v.to_bytes()),
            other => panic!("unknown object type {other}"),
        }
        .unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
        assert_eq!(
            reencoded, bytes,
            "{name}: decode then encode changes the bytes"
        );
        if let (Some(tag), Some(hash)) = (o["hash_tag"].as_str(), o["hash"].as_str()) {
            let what = if tag == domain::TX && o["type"] == "SignedTransaction" {
                // The id covers the unsigned body only.
                SignedTransaction::from_bytes(&bytes)
                    .expect("decodes")
                    .tx
                    .to_bytes()
            } else {
                bytes.clone()
            };
            assert_eq!(suite.hash(tag, &[&what]).to_hex(), hash, "{name}: hash");
        }
    }
    let run = |case: &Value| {
        let document = case["document"]
            .as_str()
            .map(|d| hex::decode(d).expect("hex"));
        let policy = Policy {
            now_ms: case["now_ms"].as_u64().expect("now"),
            proof_age_max_ms: case["proof_age_max_ms"].as_u64().expect("age"),
        };
        verify_presentation_bytes(
            &anchor,
            &unhex(&case["hex"]),
            document.as_deref().map(Document::Bytes),
            &policy,
        )
    };
    for case in doc["presentations"].as_array().expect("presentations") {
        let report = run(case);
        assert_eq!(
            report.verdict.name(),
            case["verdict"],
            "{}: {report:#?}",
            case["name"]
        );
    }
    for case in doc["broken_presentations"].as_array().expect("broken") {
        let report = run(case);
        assert_eq!(
            report.verdict.name(),
            case["verdict"],
            "{}: {report:#?}",
            case["name"]
        );
        let failed = failed_checks(&report);
        assert_eq!(
            failed,
            vec![case["failed_check"].as_str().expect("check")],
            "{}",
            case["name"]
        );
    }
    for case in doc["receipts"].as_array().expect("receipts") {
        let document = case["document"]
            .as_str()
            .map(|d| hex::decode(d).expect("hex"));
        let report = verify_receipt_bytes(
            &anchor,
            &unhex(&case["hex"]),
            document.as_deref().map(Document::Bytes),
        );
        assert_eq!(
            report.verdict.name(),
            case["verdict"],
            "{}: {report:#?}",
            case["name"]
        );
        if let Some(t) = case.get("anchored_time_ms") {
            assert_eq!(report.status_as_of_ms, t.as_u64());
        }
    }
    for o in doc["broken_objects"].as_array().expect("broken objects") {
        let bytes = unhex(&o["hex"]);
        let name = o["name"].as_str().expect("name");
        match o["type"].as_str().expect("type") {
            "SignedTransaction" => {
                let failed = match SignedTransaction::from_bytes(&bytes) {
                    Err(_) => true,
                    Ok(tx) => lichen_contracts::ledger::verify_signatures(suite, &tx).is_err(),
                };
                assert!(failed, "{name} must fail");
            }
            "StateProof" => {
                let proof = StateProof::from_bytes(&bytes).expect("decodes");
                let root = Hash32::from_hex(o["root"].as_str().expect("root")).expect("hex");
                let key = Hash32::from_hex(o["key"].as_str().expect("key")).expect("hex");
                let value = o["value"].as_str().map(|v| hex::decode(v).expect("hex"));
                assert!(
                    proof.verify(suite, &root, &key, value.as_deref()).is_err(),
                    "{name} must fail"
                );
            }
            other => panic!("unknown broken object type {other}"),
        }
    }
}

fn check_trust_packages(doc: &Value) {
    use lichen_contracts::error::PackageError;
    use lichen_contracts::presentation::{Trust, verify_bytes_with, verify_package_bytes};
    let anchor =
        TrustAnchor::from_bytes(&unhex(&doc["trust_anchor"])).expect("trust anchor decodes");
    let mut states = std::collections::BTreeMap::new();
    for p in doc["trust_packages"].as_array().expect("trust packages") {
        let state = verify_package_bytes(&anchor, &unhex(&p["hex"]))
            .unwrap_or_else(|e| panic!("{}: {e}", p["name"]));
        assert_eq!(state.package_hash.to_hex(), p["hash"]);
        assert_eq!(state.checkpoint_height, p["checkpoint_height"]);
        assert_eq!(state.anchor.height, p["anchor_height"]);
        assert_eq!(state.levels_depth, p["levels_depth"]);
        let (suspended, revoked, superseded) = state.counts();
        assert_eq!(
            json!({ "suspended": suspended, "revoked": revoked, "superseded": superseded }),
            p["revocations"]
        );
        states.insert(p["name"].as_str().expect("name").to_string(), state);
    }
    for p in doc["broken_trust_packages"]
        .as_array()
        .expect("broken packages")
    {
        let error = verify_package_bytes(&anchor, &unhex(&p["hex"]))
            .err()
            .unwrap_or_else(|| panic!("{} must be refused", p["name"]));
        let kind = match error {
            PackageError::Encoding(_) => "encoding",
            PackageError::WrongChain { .. } => "chain",
            PackageError::CheckpointChangesSet { .. }
            | PackageError::Checkpoint(_)
            | PackageError::WrongBase { .. } => "checkpoint",
            PackageError::DuplicateLeaf | PackageError::RegionMismatch { .. } => "region",
            PackageError::LevelsMismatch { .. } => "levels",
        };
        assert_eq!(kind, p["error"], "{}", p["name"]);
    }
    let packages: std::collections::BTreeMap<String, lichen_contracts::presentation::TrustPackage> =
        doc["trust_packages"]
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().expect("name").to_string(),
                    lichen_contracts::presentation::TrustPackage::from_bytes(&unhex(&p["hex"]))
                        .expect("decodes"),
                )
            })
            .collect();
    for d in doc["trust_deltas"].as_array().expect("deltas") {
        let delta = lichen_contracts::presentation::TrustDelta::from_bytes(&unhex(&d["hex"]))
            .expect("delta decodes");
        let base = &packages[d["base"].as_str().expect("base")];
        let state = delta
            .apply(base)
            .and_then(|p| p.verify(&anchor))
            .unwrap_or_else(|e| panic!("{}: {e}", d["name"]));
        assert_eq!(
            state.package_hash.to_hex(),
            d["result_hash"],
            "{}",
            d["name"]
        );
        assert_eq!(state.checkpoint_height, d["checkpoint_height"]);
        // Applied to any other package, it is refused.
        for (name, other) in &packages {
            if name != d["base"].as_str().expect("base") {
                assert!(matches!(
                    delta.apply(other),
                    Err(PackageError::WrongBase { .. })
                ));
            }
        }
    }
    for case in doc["with_trust_package"].as_array().expect("cases") {
        let document = case["document"]
            .as_str()
            .map(|d| hex::decode(d).expect("hex"));
        let package = case["package"].as_str().map(|name| &states[name]);
        let policy = Policy {
            now_ms: case["now_ms"].as_u64().expect("now"),
            proof_age_max_ms: case["proof_age_max_ms"].as_u64().expect("age"),
        };
        let report = verify_bytes_with(
            Trust {
                anchor: &anchor,
                package,
            },
            &unhex(&case["hex"]),
            document.as_deref().map(Document::Bytes),
            &policy,
        );
        assert_eq!(
            report.verdict.name(),
            case["verdict"],
            "{}: {report:#?}",
            case["name"]
        );
        let failed = failed_checks(&report);
        let expected: Vec<&str> = case["failed_check"].as_str().into_iter().collect();
        assert_eq!(failed, expected, "{}", case["name"]);
    }
}

fn check_desk(doc: &Value) {
    use lichen_contracts::presentation::{Desk, Holder, ProofKind, Trust, verify_at_desk};
    let anchor =
        TrustAnchor::from_bytes(&unhex(&doc["trust_anchor"])).expect("trust anchor decodes");
    for case in doc["at_desk"].as_array().expect("desk cases") {
        let salt: Option<[u8; 32]> = case["holder_salt"]
            .as_str()
            .map(|s| hex::decode(s).expect("hex").try_into().expect("32 bytes"));
        let desk = Desk {
            expect: case["expect"].as_str().map(|k| match k {
                "evidence" => ProofKind::Evidence,
                _ => ProofKind::Licence,
            }),
            holder: case["holder_id"]
                .as_str()
                .zip(salt)
                .map(|(id, salt)| Holder { id, salt }),
        };
        let policy = Policy {
            now_ms: case["now_ms"].as_u64().expect("now"),
            proof_age_max_ms: case["proof_age_max_ms"].as_u64().expect("age"),
        };
        let report = verify_at_desk(
            Trust::anchor(&anchor),
            &unhex(&case["hex"]),
            None,
            &policy,
            desk,
        );
        assert_eq!(report.verdict.name(), case["verdict"], "{}", case["name"]);
        let expected: Vec<&str> = case["failed_checks"]
            .as_array()
            .expect("failed checks")
            .iter()
            .map(|c| c.as_str().expect("check"))
            .collect();
        assert_eq!(failed_checks(&report), expected, "{}", case["name"]);
    }
}

fn check_keystore(doc: &Value) {
    use lichen_contracts::crypto::keystore;
    for k in doc["keystore"].as_array().expect("keystore") {
        let file = unhex(&k["hex"]);
        let password = k["password"].as_str().expect("password").as_bytes();
        match k.get("secret") {
            Some(secret) => {
                let key = keystore::open(&file, password).expect("golden key file opens");
                assert_eq!(hex(key.expose_bytes()), secret.as_str().expect("hex"));
                assert_eq!(
                    hex(&key.public_key().to_bytes()),
                    k["public_key"].as_str().expect("hex")
                );
            }
            None => assert_eq!(
                keystore::open(&file, password).err(),
                Some(lichen_contracts::CryptoError::KeystoreAuthentication),
                "{}",
                k["name"]
            ),
        }
    }
}

#[test]
fn committed_vectors_verify() {
    for suite in [Suite::Sm, Suite::Intl] {
        let text = std::fs::read_to_string(path(suite)).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (generate with LICHEN_BLESS_VECTORS=1)",
                path(suite)
            )
        });
        let doc: Value = serde_json::from_str(&text).expect("vectors are JSON");
        check_file(&doc);
        check_keystore(&doc);
        check_trust_packages(&doc);
        check_desk(&doc);
    }
}

#[test]
fn vectors_are_reproducible() {
    for suite in [Suite::Sm, Suite::Intl] {
        let built = build(suite);
        if std::env::var_os("LICHEN_BLESS_VECTORS").is_some() {
            let text = serde_json::to_string_pretty(&built).expect("json") + "\n";
            std::fs::write(path(suite), text).expect("write vectors");
            continue;
        }
        let text = std::fs::read_to_string(path(suite)).expect("committed vectors");
        let committed: Value = serde_json::from_str(&text).expect("json");
        assert!(
            committed == built,
            "contracts/vectors/golden-{}.json differs from what the code produces: a hashed or signed byte changed. \
             If intended, regenerate with LICHEN_BLESS_VECTORS=1 and document the change in PROTOCOL.md",
            suite.name()
        );
    }
}
