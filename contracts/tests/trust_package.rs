//! Trust packages and compact presentations (PROTOCOL.md, "Trust packages"): revocations reach an
//! offline verifier, validators retired before a checkpoint cannot forge, a package of another
//! genesis or an incomplete revocation list is refused, compact presentations verify only with
//! their checkpoint's package.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{PublicKey, Suite};
use lichen_contracts::error::PackageError;
use lichen_contracts::model::{LicenceDraft, LicenceStatus, Validator, holder_commitment};
use lichen_contracts::presentation::{
    CheckId, Document, Outcome, Policy, Report, Trust, TrustPackage, TrustState, Verdict,
    verify_bytes_with, verify_package_bytes,
};
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction};

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 24 * 60 * MINUTE_MS;
const DOC: &[u8] = b"%PDF-1.7 licence (trust package test)";

fn commit(c: &mut TestChain, txs: Vec<SignedTransaction>) -> u64 {
    let time = c.blocks.last().unwrap().header.time_ms + MINUTE_MS;
    c.commit(txs, time)
        .unwrap_or_else(|e| panic!("block refused: {e}"));
    c.height()
}

fn draft(c: &TestChain, id: &str) -> LicenceDraft {
    LicenceDraft {
        id: id.into(),
        licence_type: "business".into(),
        issuer: "agency-a".into(),
        document_hash: c.suite.digest(DOC),
        holder_commitment: holder_commitment(c.suite, &[9; 32], "91440300MA5EXAMPLE"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: None,
    }
}

fn issue(c: &mut TestChain, id: &str) -> u64 {
    let tx = c.signed(Payload::IssueLicence(draft(c, id)), "agency-a");
    commit(c, vec![tx])
}

fn status_tx(c: &mut TestChain, id: &str, payload: fn(String, String) -> Payload) -> u64 {
    let tx = c.signed(payload(id.into(), "test".into()), "agency-a");
    commit(c, vec![tx])
}

fn revoke(id: String, reason: String) -> Payload {
    Payload::RevokeLicence { id, reason }
}
fn suspend(id: String, reason: String) -> Payload {
    Payload::SuspendLicence { id, reason }
}
fn reinstate(id: String, reason: String) -> Payload {
    Payload::ReinstateLicence { id, reason }
}

fn add_validator(c: &mut TestChain, name: &str) -> u64 {
    let key = test_key(c.suite, name);
    let v = Validator {
        name: name.into(),
        key: key.public_key(),
        peer_id: format!("peer-{name}").into_bytes(),
    };
    c.add_validator_key(name, key);
    let tx = c.council_signed(Payload::AddValidator(v));
    commit(c, vec![tx])
}

fn remove_validator(c: &mut TestChain, key: PublicKey) -> u64 {
    let tx = c.council_signed(Payload::RemoveValidator { key });
    commit(c, vec![tx])
}

fn policy(c: &TestChain) -> Policy {
    Policy {
        now_ms: c.blocks.last().unwrap().header.time_ms + MINUTE_MS,
        proof_age_max_ms: DAY_MS,
    }
}

/// Tree levels the tests' packages carry (the test chains are small).
const LEVELS: u8 = 3;

fn package_state(c: &TestChain, height: u64) -> TrustState {
    package_state_with(c, height, LEVELS)
}

fn package_state_with(c: &TestChain, height: u64, levels: u8) -> TrustState {
    let bytes = c.trust_package(height, levels).to_bytes();
    verify_package_bytes(&c.trust_anchor(), &bytes).unwrap_or_else(|e| panic!("package: {e}"))
}

fn check(c: &TestChain, package: Option<&TrustState>, bytes: &[u8], policy: &Policy) -> Report {
    let anchor = c.trust_anchor();
    verify_bytes_with(
        Trust {
            anchor: &anchor,
            package,
        },
        bytes,
        Some(Document::Bytes(DOC)),
        policy,
    )
}

fn outcome(r: &Report, id: CheckId) -> Outcome {
    r.check(id).unwrap().outcome
}

fn revocations_reach_an_old_presentation(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    for id in ["LIC-R", "LIC-S", "LIC-T"] {
        issue(&mut c, id);
    }
    let old: Vec<Vec<u8>> = ["LIC-R", "LIC-S", "LIC-T"]
        .iter()
        .map(|id| c.presentation(id).to_bytes())
        .collect();
    status_tx(&mut c, "LIC-R", revoke);
    status_tx(&mut c, "LIC-S", suspend);
    let supersede = c.signed(
        Payload::SupersedeLicence {
            old_id: "LIC-T".into(),
            reason: "renewed".into(),
            new: draft(&c, "LIC-T2"),
        },
        "agency-a",
    );
    let checkpoint = commit(&mut c, vec![supersede]);
    let p = policy(&c);
    // Without a package the old presentations still say VALID, within their proof age.
    for bytes in &old {
        assert_eq!(check(&c, None, bytes, &p).verdict, Verdict::Valid);
    }
    let state = package_state(&c, checkpoint);
    assert_eq!(state.counts(), (1, 1, 1));
    let expected = [Verdict::Revoked, Verdict::Suspended, Verdict::Superseded];
    for (bytes, verdict) in old.iter().zip(expected) {
        let r = check(&c, Some(&state), bytes, &p);
        assert_eq!(r.verdict, verdict, "{r:#?}");
        assert_eq!(outcome(&r, CheckId::Status), Outcome::Fail);
        assert!(
            r.check(CheckId::Status)
                .unwrap()
                .detail
                .contains("trust package")
        );
        assert_eq!(r.status_as_of_ms, Some(state.checkpoint_time_ms));
        assert_eq!(r.trust_package.unwrap().checkpoint_height, checkpoint);
    }
    // Reinstated after the checkpoint: a package at a later checkpoint says active again.
    status_tx(&mut c, "LIC-S", reinstate);
    let later = commit(&mut c, vec![]);
    let state = package_state(&c, later);
    assert_eq!(state.counts(), (0, 1, 1));
    let r = check(&c, Some(&state), &old[1], &policy(&c));
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    // A package makes an old presentation's status fresh: as of the checkpoint.
    let mut much_later = policy(&c);
    much_later.now_ms = state.checkpoint_time_ms + DAY_MS / 2;
    let mut stale = much_later;
    stale.now_ms = c.blocks[1].header.time_ms + 2 * DAY_MS;
    assert_eq!(
        check(&c, None, &old[1], &stale).verdict,
        Verdict::StaleProof
    );
    assert_eq!(
        check(&c, Some(&state), &old[1], &much_later).verdict,
        Verdict::Valid
    );
}

/// Validators retired before a package's checkpoint forge a presentation at a height their set
/// still signed: the genesis anchor alone accepts it, the package refuses it.
fn retired_validators_cannot_forge(suite: Suite, genesis_validators: usize) {
    let mut c = TestChain::new(suite, genesis_validators);
    let retiring: Vec<PublicKey> = c
        .genesis
        .validators
        .validators
        .iter()
        .map(|v| v.key.clone())
        .take(genesis_validators.max(2) - 1)
        .collect();
    // The same genesis, forked at block 0 by the validators about to retire (the test chain
    // holds every key; the forgery needs only the genesis set's signatures).
    let mut fork = TestChain::new(suite, genesis_validators);
    assert_eq!(fork.genesis.hash(), c.genesis.hash());
    issue(&mut fork, "FORGED-1");
    let forged = fork.presentation("FORGED-1").to_bytes();
    for name in ["validator-new-1", "validator-new-2", "validator-new-3"] {
        add_validator(&mut c, name);
    }
    let mut last_change = 0;
    for key in retiring {
        last_change = remove_validator(&mut c, key);
    }
    let checkpoint = commit(&mut c, vec![]);
    let state = package_state(&c, checkpoint);
    assert_eq!(state.anchor.height, last_change);
    let p = Policy {
        now_ms: fork.blocks[1].header.time_ms + MINUTE_MS,
        proof_age_max_ms: DAY_MS,
    };
    assert_eq!(check(&c, None, &forged, &p).verdict, Verdict::Valid);
    let r = check(&c, Some(&state), &forged, &p);
    assert_eq!(r.verdict, Verdict::UnknownIssuer, "{r:#?}");
    assert_eq!(outcome(&r, CheckId::ValidatorSet), Outcome::Fail);
    assert!(
        r.check(CheckId::ValidatorSet)
            .unwrap()
            .detail
            .contains("retired")
    );
    // A genuine presentation signed by the checkpoint's set still verifies.
    issue(&mut c, "REAL-1");
    let real = c.presentation("REAL-1").to_bytes();
    let r = check(&c, Some(&state), &real, &policy(&c));
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
}

fn bad_packages_are_refused(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    issue(&mut c, "LIC-1");
    issue(&mut c, "LIC-2");
    status_tx(&mut c, "LIC-1", revoke);
    status_tx(&mut c, "LIC-2", suspend);
    let h = commit(&mut c, vec![]);
    let anchor = c.trust_anchor();
    let good = c.trust_package(h, LEVELS);
    good.verify(&anchor).unwrap();
    assert_eq!(TrustPackage::from_bytes(&good.to_bytes()).unwrap(), good);
    // Leaving out a revocation, or softening one, breaks the region.
    let mut dropped = good.clone();
    dropped.marks.remove(0);
    assert!(matches!(
        dropped.verify(&anchor),
        Err(PackageError::RegionMismatch { .. })
    ));
    let mut softened = good.clone();
    softened.marks[0].1 = match softened.marks[0].1 {
        LicenceStatus::Revoked => LicenceStatus::Suspended,
        _ => LicenceStatus::Revoked,
    };
    assert!(matches!(
        softened.verify(&anchor),
        Err(PackageError::RegionMismatch { .. })
    ));
    // A sibling altered, a certificate short of a quorum, another genesis.
    let mut sibling = good.clone();
    let i = sibling
        .region_siblings
        .iter()
        .position(|s| *s != lichen_contracts::crypto::Hash32::ZERO)
        .unwrap();
    sibling.region_siblings[i].0[0] ^= 1;
    assert!(matches!(
        sibling.verify(&anchor),
        Err(PackageError::RegionMismatch { .. })
    ));
    let mut short = good.clone();
    short.checkpoint.certificate.signatures.truncate(2);
    assert!(matches!(
        short.verify(&anchor),
        Err(PackageError::Checkpoint(_))
    ));
    let mut other = anchor.clone();
    other.genesis_hash.0[0] ^= 1;
    assert!(matches!(
        good.verify(&other),
        Err(PackageError::WrongChain { .. })
    ));
    // A tree level altered, or marked empty.
    let j = good
        .levels
        .iter()
        .position(|n| n.keys == lichen_contracts::smt::Keys::Many)
        .unwrap();
    let mut level = good.clone();
    level.levels[j].hash.0[0] ^= 1;
    assert!(matches!(
        level.verify(&anchor),
        Err(PackageError::LevelsMismatch { .. })
    ));
    let mut level = good.clone();
    level.levels[j].keys = lichen_contracts::smt::Keys::None;
    assert!(matches!(
        level.verify(&anchor),
        Err(PackageError::LevelsMismatch { .. })
    ));
    // Marks out of order do not decode.
    let mut unsorted = good.clone();
    unsorted.marks.swap(0, 1);
    assert!(matches!(
        verify_package_bytes(&anchor, &unsorted.to_bytes()),
        Err(PackageError::Encoding(_))
    ));
    // A checkpoint that changes the set is refused.
    let changed = add_validator(&mut c, "validator-9");
    assert!(matches!(
        c.trust_package(changed, LEVELS).verify(&anchor),
        Err(PackageError::CheckpointChangesSet { .. })
    ));
}

fn compact_presentations(suite: Suite) {
    let mut c = TestChain::new(suite, 4);
    for i in 0..40 {
        issue(&mut c, &format!("SZ-BL-2026-{i:06}"));
    }
    let id = "SZ-BL-2026-000007";
    let checkpoint = commit(&mut c, vec![]);
    let full = c.presentation(id).to_bytes();
    for levels in [0u8, 2, 5, 9] {
        let state = package_state_with(&c, checkpoint, levels);
        let compact = c.compact_presentation(id, checkpoint, levels).to_bytes();
        assert!(
            compact.len() <= 500,
            "compact presentation is {} bytes",
            compact.len()
        );
        assert!(compact.len() < full.len() / 2);
        let r = check(&c, Some(&state), &compact, &policy(&c));
        assert_eq!(r.verdict, Verdict::Valid, "levels {levels}: {r:#?}");
        assert!(r.checks.iter().all(|c| c.outcome == Outcome::Pass));
        // Every licence of the checkpoint proves, whatever its depth against the cut.
        for i in 0..40 {
            let other = c
                .compact_presentation(&format!("SZ-BL-2026-{i:06}"), checkpoint, levels)
                .to_bytes();
            assert_eq!(
                check(&c, Some(&state), &other, &policy(&c)).verdict,
                Verdict::Valid
            );
        }
        // Cut at another depth than the package's: refused with the reason.
        let other_cut = c
            .compact_presentation(id, checkpoint, if levels == 0 { 1 } else { levels - 1 })
            .to_bytes();
        let r = check(&c, Some(&state), &other_cut, &policy(&c));
        assert_eq!(r.verdict, Verdict::UnknownIssuer);
        assert!(
            r.check(CheckId::ValidatorSet)
                .unwrap()
                .detail
                .contains("levels")
        );
        // An altered record does not prove.
        let mut altered = compact.clone();
        let at = 20;
        altered[at] ^= 1;
        assert_ne!(
            check(&c, Some(&state), &altered, &policy(&c)).verdict,
            Verdict::Valid
        );
        // Another licence's record with this licence's proof does not prove.
        // (Where both are alone under their level node the proofs are equal and empty, and
        // the swap is simply the other licence's own compact presentation.)
        let mut swapped = c.compact_presentation(id, checkpoint, levels);
        let other = c.compact_presentation("SZ-BL-2026-000008", checkpoint, levels);
        if other.proof != swapped.proof {
            swapped.licence = other.licence;
            let r = check(&c, Some(&state), &swapped.to_bytes(), &policy(&c));
            assert_eq!(r.verdict, Verdict::Tampered);
            assert_eq!(outcome(&r, CheckId::StateProof), Outcome::Fail);
        }
    }
    let state = package_state(&c, checkpoint);
    let compact = c.compact_presentation(id, checkpoint, LEVELS).to_bytes();
    // Without a package, or with one of another checkpoint, it cannot be checked.
    let r = check(&c, None, &compact, &policy(&c));
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert_eq!(outcome(&r, CheckId::Chain), Outcome::Fail);
    let newer = commit(&mut c, vec![]);
    let newer_state = package_state(&c, newer);
    let r = check(&c, Some(&newer_state), &compact, &policy(&c));
    assert_eq!(r.verdict, Verdict::UnknownIssuer);
    assert!(
        r.check(CheckId::ValidatorSet)
            .unwrap()
            .detail
            .contains("older")
    );
    let _ = state;
}

/// A delta from an old package to a new one is small, leads to exactly the new package, and is
/// no more trusted than the pieces it carries.
fn deltas_lead_to_the_new_package(suite: Suite) {
    use lichen_contracts::presentation::TrustDelta;
    let mut c = TestChain::new(suite, 4);
    for i in 0..60 {
        issue(&mut c, &format!("LIC-{i:03}"));
    }
    for i in 0..20 {
        status_tx(&mut c, &format!("LIC-{i:03}"), revoke);
    }
    status_tx(&mut c, "LIC-020", suspend);
    let base_height = commit(&mut c, vec![]);
    let anchor = c.trust_anchor();
    let base = c.trust_package(base_height, LEVELS);
    // Since the base: one more revocation, a reinstatement, new licences, a set change.
    status_tx(&mut c, "LIC-030", revoke);
    status_tx(&mut c, "LIC-020", reinstate);
    issue(&mut c, "LIC-NEW");
    add_validator(&mut c, "validator-late");
    let new_height = commit(&mut c, vec![]);
    let new = c.trust_package(new_height, LEVELS);
    let delta = TrustDelta::between(&base, &new);
    assert_eq!(delta.mark_changes.len(), 2);
    assert_eq!(delta.set_changes.len(), 1);
    let bytes = delta.to_bytes();
    assert_eq!(TrustDelta::from_bytes(&bytes).unwrap(), delta);
    assert!(
        bytes.len() < new.to_bytes().len(),
        "{} vs {}",
        bytes.len(),
        new.to_bytes().len()
    );
    let applied = delta.apply(&base).unwrap();
    assert_eq!(applied, new);
    let state = applied.verify(&anchor).unwrap();
    assert_eq!(state.checkpoint_height, new_height);
    assert_eq!(state.counts(), (0, 21, 0));
    // Applied to another base it is refused with both heights.
    let other = c.trust_package(new_height, LEVELS);
    assert!(matches!(
        delta.apply(&other),
        Err(PackageError::WrongBase { .. })
    ));
    // A delta that hides a revocation, or alters a level, gives a package that does not verify.
    let mut hiding = delta.clone();
    hiding
        .mark_changes
        .retain(|(_, s)| *s != Some(LicenceStatus::Revoked));
    assert!(matches!(
        hiding.apply(&base).unwrap().verify(&anchor),
        Err(PackageError::RegionMismatch { .. })
    ));
    let mut level = delta.clone();
    if let lichen_contracts::presentation::LevelsUpdate::Changed(changes) = &mut level.levels {
        let (_, node) = changes.first_mut().expect("a level changed");
        node.hash.0[0] ^= 1;
    }
    assert!(matches!(
        level.apply(&base).unwrap().verify(&anchor),
        Err(PackageError::LevelsMismatch { .. })
    ));
}

macro_rules! suites {
    ($($name:ident),* $(,)?) => {
        mod sm { $( #[test] fn $name() { super::$name(lichen_contracts::crypto::Suite::Sm); } )* }
        mod intl { $( #[test] fn $name() { super::$name(lichen_contracts::crypto::Suite::Intl); } )* }
    };
}

suites!(
    revocations_reach_an_old_presentation,
    bad_packages_are_refused,
    compact_presentations,
    three_of_four_retired,
    a_single_genesis_validator_retired,
    deltas_lead_to_the_new_package,
);

fn three_of_four_retired(suite: Suite) {
    retired_validators_cannot_forge(suite, 4);
}

fn a_single_genesis_validator_retired(suite: Suite) {
    retired_validators_cannot_forge(suite, 1);
}
