//! The node's record of validator-set changes: a block that adds and removes the same validator
//! writes the set back unchanged, and must not be recorded as a set change (presentations built
//! after it would carry a change that changes nothing and fail verification).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use lichen_contracts::crypto::Suite;
use lichen_contracts::model::{LicenceDraft, Validator, holder_commitment};
use lichen_contracts::presentation::{Policy, Verdict, verify_presentation};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction};
use lichen_node::chain::Chain;
use lichen_storage::MemoryKv;

fn commit(chain: &Chain, tc: &TestChain, txs: &[SignedTransaction], now_ms: u64) -> u64 {
    let built = chain
        .build(0, 0, now_ms, txs, std::time::Duration::from_secs(60))
        .unwrap();
    assert!(built.refused.is_empty(), "{:?}", built.refused);
    assert_eq!(built.block.txs.len(), txs.len());
    let set = chain.next_validators().unwrap();
    let certificate = tc.certify(&built.block.header, &set, set.len());
    chain.commit(&built.block, &certificate, now_ms).unwrap();
    built.block.header.height
}

fn add_and_remove_in_one_block(suite: Suite) {
    let mut tc = TestChain::new(suite, 4);
    let chain = Chain::open(Arc::new(MemoryKv::new()), tc.genesis.clone(), 100).unwrap();
    let key = test_key(suite, "validator-transient");
    let validator = Validator {
        name: "transient".into(),
        key: key.public_key(),
        peer_id: b"peer-transient".to_vec(),
    };
    let add = tc.council_signed(Payload::AddValidator(validator));
    let remove = tc.council_signed(Payload::RemoveValidator {
        key: key.public_key(),
    });
    let mut now = GENESIS_TIME_MS + 1_000;
    let h = commit(&chain, &tc, &[add, remove], now);
    let header = chain.header(h).unwrap().unwrap();
    assert_eq!(header.validator_set_hash, header.next_validator_set_hash);
    assert!(!header.changes_validator_set());
    let draft = LicenceDraft {
        id: "LIC-AFTER".into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: suite.digest(b"doc"),
        holder_commitment: holder_commitment(suite, &[1; 32], "holder"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: None,
    };
    let issue = tc.signed(Payload::IssueLicence(draft), "agency-a");
    now += 1_000;
    commit(&chain, &tc, &[issue], now);
    let p = chain.presentation("LIC-AFTER", None).unwrap();
    assert!(p.certified.set_changes.is_empty());
    let policy = Policy {
        now_ms: now + 1_000,
        proof_age_max_ms: 60_000,
    };
    let r = verify_presentation(chain.trust_anchor(), &p, None, &policy);
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    // The package's checkpoint set is the genesis set, in force since genesis.
    let package = chain.trust_package(now).unwrap();
    assert_eq!(package.state.anchor.height, 0);
    assert_eq!(package.state.set_changes, 0);
}

#[test]
fn add_and_remove_in_one_block_sm() {
    add_and_remove_in_one_block(Suite::Sm);
}

#[test]
fn add_and_remove_in_one_block_intl() {
    add_and_remove_in_one_block(Suite::Intl);
}

/// A block's transactions are chosen within the build budget: with none left, the block still
/// takes one (so the chain moves), and with time enough it takes them all.
#[test]
fn build_takes_transactions_within_its_budget() {
    let mut tc = TestChain::new(Suite::Intl, 1);
    let chain = Chain::open(Arc::new(MemoryKv::new()), tc.genesis.clone(), 100).unwrap();
    let txs: Vec<SignedTransaction> = (0..50)
        .map(|i| {
            let draft = common::draft(Suite::Intl, &format!("BUDGET-{i:04}"));
            tc.signed(Payload::IssueLicence(draft), "agency-a")
        })
        .collect();
    let now = GENESIS_TIME_MS + 1_000;
    let spent = chain
        .build(0, 0, now, &txs, std::time::Duration::ZERO)
        .unwrap();
    assert_eq!(spent.block.txs.len(), 1);
    assert!(spent.refused.is_empty());
    let ample = chain
        .build(0, 0, now, &txs, std::time::Duration::from_secs(60))
        .unwrap();
    assert_eq!(ample.block.txs.len(), txs.len());
}
