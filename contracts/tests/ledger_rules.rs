//! The ledger rules, through the in-memory test chain: one test per refusal a transaction can
//! trigger (each checks the exact `TxError` and that the refused block changed nothing), the happy
//! paths of every operation, validator-set and council changes, replay protection, and encoding
//! properties of transactions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use lichen_contracts::CodecError;
use lichen_contracts::codec::{Decode, Encode};
use lichen_contracts::crypto::{Hash32, PublicKey, SecretKey, SigAlgo, Signature, Suite};
use lichen_contracts::error::ProofError;
use lichen_contracts::genesis::{Genesis, GenesisPlace};
use lichen_contracts::ledger::{Event, TxError};
use lichen_contracts::model::{
    Agency, Council, EntityStatus, Evidence, Licence, LicenceDraft, LicenceStatus, LicenceType,
    Observer, Submitter, VALIDATORS_MAX, Validator, ValidatorSet, holder_commitment,
};
use lichen_contracts::state::StateKey;
use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain, test_key};
use lichen_contracts::tx::{Payload, SignedTransaction, TX_BYTES_MAX, Transaction, TxSignature};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const DAY_MS: u64 = 86_400_000;
/// A valid GB/T 36904 identifier (official vector).
const GBT_ID: &str = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S";

// --- helpers ---

fn chain(suite: Suite) -> TestChain {
    TestChain::new(suite, 4)
}

/// Block times advance one second per height from genesis.
fn next_time(c: &TestChain) -> u64 {
    GENESIS_TIME_MS + (c.height() + 1) * 1_000
}

/// Commits `txs` as the next block, which must be accepted; returns its height.
fn ok(c: &mut TestChain, txs: Vec<SignedTransaction>) -> u64 {
    let time = next_time(c);
    if let Err(e) = c.commit(txs, time) {
        panic!("block refused: {e}");
    }
    c.height()
}

/// Builds the next block's transactions from the chain (for nonces), then commits it.
fn ok_with(c: &mut TestChain, make: impl FnOnce(&mut TestChain) -> Vec<SignedTransaction>) -> u64 {
    let txs = make(c);
    ok(c, txs)
}

/// Commits `txs`, expects transaction `index` of them to be refused, and checks that the refused
/// block changed nothing: same height, same last header, same replay window, and an empty block
/// on top has exactly the previous state root.
fn refused_at(c: &mut TestChain, txs: Vec<SignedTransaction>, index: usize) -> TxError {
    let height = c.height();
    let last = c.blocks.last().unwrap().header.clone();
    let replay = c.replay.clone();
    let time = next_time(c);
    let err = match c.commit(txs, time) {
        Ok(block) => panic!("block {} should have been refused", block.header.height),
        Err(e) => e,
    };
    assert_eq!(err.index, index, "refused transaction: {err}");
    assert!(!err.error.is_internal(), "{err}");
    assert_eq!(c.height(), height, "a refused block must not be committed");
    assert_eq!(c.blocks.last().unwrap().header, last);
    assert_eq!(
        c.replay, replay,
        "a refused block must not touch the replay window"
    );
    let h = ok(c, vec![]);
    assert_eq!(
        c.blocks[h as usize].header.state_root, last.state_root,
        "state changed although the block was refused"
    );
    err.error
}

/// One refused transaction alone in a block.
fn refused(c: &mut TestChain, tx: SignedTransaction) -> TxError {
    refused_at(c, vec![tx], 0)
}

fn draft_with(c: &TestChain, id: &str, licence_type: &str, issuer: &str) -> LicenceDraft {
    LicenceDraft {
        id: id.to_string(),
        licence_type: licence_type.to_string(),
        issuer: issuer.to_string(),
        document_hash: c.suite.digest(format!("licence file {id}").as_bytes()),
        holder_commitment: holder_commitment(c.suite, &[7; 32], "91440300MA5F000000"),
        valid_from_ms: GENESIS_TIME_MS,
        valid_until_ms: Some(GENESIS_TIME_MS + 365 * DAY_MS),
    }
}

/// `issuer` issues a licence of `licence_type`, signed with `signer`'s key.
fn issue_tx(
    c: &mut TestChain,
    id: &str,
    licence_type: &str,
    issuer: &str,
    signer: &str,
) -> SignedTransaction {
    let d = draft_with(c, id, licence_type, issuer);
    c.signed(Payload::IssueLicence(d), signer)
}

/// agency-a issues a `business` licence.
fn issue(c: &mut TestChain, id: &str) -> SignedTransaction {
    issue_tx(c, id, "business", "agency-a", "agency-a")
}

fn reason() -> String {
    "inspection 2026-17".to_string()
}

fn revoke(c: &mut TestChain, id: &str, signer: &str) -> SignedTransaction {
    c.signed(
        Payload::RevokeLicence {
            id: id.into(),
            reason: reason(),
        },
        signer,
    )
}

fn suspend(c: &mut TestChain, id: &str, signer: &str) -> SignedTransaction {
    c.signed(
        Payload::SuspendLicence {
            id: id.into(),
            reason: reason(),
        },
        signer,
    )
}

fn reinstate(c: &mut TestChain, id: &str, signer: &str) -> SignedTransaction {
    c.signed(
        Payload::ReinstateLicence {
            id: id.into(),
            reason: reason(),
        },
        signer,
    )
}

fn supersede(c: &mut TestChain, old: &str, new: LicenceDraft, signer: &str) -> SignedTransaction {
    c.signed(
        Payload::SupersedeLicence {
            old_id: old.into(),
            reason: "reissued after a change of address".into(),
            new,
        },
        signer,
    )
}

fn anchor(c: &mut TestChain, hash: Hash32, submitter: &str, signer: &str) -> SignedTransaction {
    c.signed(
        Payload::AnchorEvidence {
            hash,
            submitter: submitter.into(),
            label: "case (2026) 001".into(),
        },
        signer,
    )
}

fn licence(c: &TestChain, id: &str) -> Licence {
    c.entry(&StateKey::Licence(id.into()))
        .unwrap_or_else(|| panic!("licence {id} not in state"))
}

fn agency_entry(c: &TestChain, id: &str) -> Agency {
    c.entry(&StateKey::Agency(id.into())).unwrap()
}

fn validators(c: &TestChain) -> ValidatorSet {
    c.entry(&StateKey::Validators).unwrap()
}

fn public(c: &TestChain, name: &str) -> PublicKey {
    c.key(name).public_key()
}

/// A key of the algorithm this suite does not use.
fn foreign_key(suite: Suite) -> SecretKey {
    let algo = match suite.sig_algo() {
        SigAlgo::Sm2 => SigAlgo::Ed25519,
        SigAlgo::Ed25519 => SigAlgo::Sm2,
    };
    SecretKey::from_bytes(algo, &[0x42; 32]).unwrap()
}

/// The same signature with one bit of its first half (SM2 r, Ed25519 R) flipped: still a
/// well-formed signature, but not a valid one.
fn tampered(sig: &Signature) -> Signature {
    let mut bytes = *sig.as_bytes();
    bytes[10] ^= 0x01;
    Signature::from_bytes(sig.algo(), &bytes).unwrap()
}

fn new_validator(c: &mut TestChain, name: &str, peer: &str) -> Validator {
    let key = test_key(c.suite, name);
    let v = Validator {
        name: name.into(),
        key: key.public_key(),
        peer_id: peer.as_bytes().to_vec(),
    };
    c.add_validator_key(name, key);
    v
}

fn observer(name: &str, peer: &str) -> Observer {
    Observer {
        name: name.into(),
        peer_id: peer.as_bytes().to_vec(),
    }
}

fn observer_entry(c: &TestChain, peer: &str) -> Option<Observer> {
    c.entry(&StateKey::Observer(peer.as_bytes().to_vec()))
}

// --- refusals, one per TxError variant ---

fn wrong_chain(suite: Suite) {
    let mut c = chain(suite);
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    tx.chain_id = "lichen-other".into();
    let tx = c.sign(tx, &["agency-a"]);
    assert_eq!(
        refused(&mut c, tx),
        TxError::WrongChain {
            expected: "lichen-test".into(),
            found: "lichen-other".into()
        }
    );
}

fn expired(suite: Suite) {
    let mut c = chain(suite);
    ok(&mut c, vec![]);
    ok(&mut c, vec![]);
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    tx.expires_at_height = c.height(); // the next block is one later
    let tx = c.sign(tx, &["agency-a"]);
    assert_eq!(
        refused(&mut c, tx.clone()),
        TxError::Expired {
            expires_at_height: 2,
            height: 3
        }
    );
    // The last height it names is still allowed.
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    tx.expires_at_height = c.height() + 1;
    let tx = c.sign(tx, &["agency-a"]);
    ok(&mut c, vec![tx]);
}

fn expiry_too_far(suite: Suite) {
    let mut c = chain(suite);
    let max_ahead = c.genesis.config.params.tx_expiry_blocks_max;
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    tx.expires_at_height = 1 + max_ahead + 1;
    let tx = c.sign(tx, &["agency-a"]);
    assert_eq!(
        refused(&mut c, tx),
        TxError::ExpiryTooFar {
            expires_at_height: 1 + max_ahead + 1,
            max_height: 1 + max_ahead,
            height: 1,
        }
    );
    // Exactly at the bound is fine.
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    tx.expires_at_height = c.height() + 1 + max_ahead;
    let tx = c.sign(tx, &["agency-a"]);
    ok(&mut c, vec![tx]);
    // u64::MAX does not overflow anything.
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-2", "business", "agency-a",
    )));
    tx.expires_at_height = u64::MAX;
    let tx = c.sign(tx, &["agency-a"]);
    assert!(matches!(refused(&mut c, tx), TxError::ExpiryTooFar { .. }));
}

fn duplicate_in_a_later_block(suite: Suite) {
    let mut c = chain(suite);
    let tx = issue(&mut c, "L-1");
    let id = tx.id(suite);
    ok(&mut c, vec![tx.clone()]);
    assert_eq!(
        refused(&mut c, tx.clone()),
        TxError::Duplicate { tx_id: id }
    );
    // Still refused as a replay several blocks later, within its expiry window.
    for _ in 0..3 {
        ok(&mut c, vec![]);
    }
    assert_eq!(refused(&mut c, tx), TxError::Duplicate { tx_id: id });
    // Replaying a status change (not only an issue) is refused too, even though applying it
    // again would otherwise hit a different rule.
    let s = suspend(&mut c, "L-1", "agency-a");
    let r = reinstate(&mut c, "L-1", "agency-a");
    ok(&mut c, vec![s.clone()]);
    ok(&mut c, vec![r]);
    assert_eq!(
        refused(&mut c, s.clone()),
        TxError::Duplicate { tx_id: s.id(suite) }
    );
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Active);
}

fn duplicate_in_one_block(suite: Suite) {
    let mut c = chain(suite);
    let tx = anchor(&mut c, suite.digest(b"filing"), "court-1", "court-1");
    let id = tx.id(suite);
    let other = issue(&mut c, "L-1");
    assert_eq!(
        refused_at(&mut c, vec![tx.clone(), other, tx], 2),
        TxError::Duplicate { tx_id: id }
    );
}

fn replay_after_expiry_is_expired(suite: Suite) {
    let mut c = chain(suite);
    let mut tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    tx.expires_at_height = 2;
    let tx = c.sign(tx, &["agency-a"]);
    ok(&mut c, vec![tx.clone()]);
    ok(&mut c, vec![]);
    // Height 3: the id has left the replay window, but the expiry refuses the replay.
    assert!(matches!(refused(&mut c, tx), TxError::Expired { .. }));
}

fn unsigned(suite: Suite) {
    let mut c = chain(suite);
    let tx = issue(&mut c, "L-1");
    let tx = SignedTransaction {
        tx: tx.tx,
        signatures: vec![],
    };
    assert_eq!(refused(&mut c, tx), TxError::Unsigned);
}

fn too_many_signatures(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.tx(Payload::SetAgencyStatus {
        id: "agency-b".into(),
        status: EntityStatus::Suspended,
    });
    let signatures: Vec<TxSignature> = (0..33)
        .map(|i| tx.sign(suite, &test_key(suite, &format!("extra-{i}"))))
        .collect();
    let signed = SignedTransaction { tx, signatures };
    assert_eq!(
        refused(&mut c, signed),
        TxError::TooManySignatures { count: 33, max: 32 }
    );
}

fn duplicate_signer(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.tx(Payload::SetAgencyStatus {
        id: "agency-b".into(),
        status: EntityStatus::Suspended,
    });
    // council-0 twice would otherwise meet the 2-of-3 threshold.
    let tx = c.sign(tx, &["council-0", "council-0"]);
    assert_eq!(
        refused(&mut c, tx),
        TxError::DuplicateSigner {
            key: public(&c, "council-0")
        }
    );
    assert_eq!(agency_entry(&c, "agency-b").status, EntityStatus::Active);
}

fn bad_signature(suite: Suite) {
    let mut c = chain(suite);
    // A tampered signature.
    let mut tx = issue(&mut c, "L-1");
    tx.signatures[0].signature = tampered(&tx.signatures[0].signature);
    assert_eq!(refused(&mut c, tx), TxError::BadSignature { index: 0 });
    // The payload changed after signing.
    let mut tx = issue(&mut c, "L-1");
    if let Payload::IssueLicence(d) = &mut tx.tx.payload {
        d.licence_type = "food".into();
    }
    assert_eq!(refused(&mut c, tx), TxError::BadSignature { index: 0 });
    // The nonce changed after signing.
    let mut tx = issue(&mut c, "L-1");
    tx.tx.nonce += 1;
    assert_eq!(refused(&mut c, tx), TxError::BadSignature { index: 0 });
    // A council transaction whose second signature is bad.
    let mut tx = c.council_signed(Payload::SetAgencyStatus {
        id: "agency-b".into(),
        status: EntityStatus::Suspended,
    });
    tx.signatures[1].signature = tampered(&tx.signatures[1].signature);
    assert_eq!(refused(&mut c, tx), TxError::BadSignature { index: 1 });
    // A valid signature by another key than the one named.
    let mut tx = issue(&mut c, "L-1");
    tx.signatures[0].key = public(&c, "agency-b");
    assert_eq!(refused(&mut c, tx), TxError::BadSignature { index: 0 });
    // In a block with good transactions, the bad one is the one reported.
    let good = issue(&mut c, "L-2");
    let mut bad = issue(&mut c, "L-3");
    bad.signatures[0].signature = tampered(&bad.signatures[0].signature);
    let good2 = issue(&mut c, "L-4");
    assert_eq!(
        refused_at(&mut c, vec![good, bad, good2], 1),
        TxError::BadSignature { index: 0 }
    );
}

fn wrong_algorithm(suite: Suite) {
    let mut c = chain(suite);
    let foreign = foreign_key(suite);
    // A transaction signed with the other suite's algorithm.
    let tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    let sig = tx.sign(suite, &foreign);
    let tx = SignedTransaction {
        tx,
        signatures: vec![sig],
    };
    assert_eq!(
        refused(&mut c, tx),
        TxError::WrongAlgorithm {
            key: foreign.public_key(),
            expected: suite.sig_algo(),
            found: foreign.algo(),
        }
    );
    // Registering an agency with such a key.
    let tx = c.council_signed(Payload::RegisterAgency(Agency {
        id: "agency-c".into(),
        name: "Agency C".into(),
        keys: vec![foreign.public_key()],
        status: EntityStatus::Active,
    }));
    assert!(matches!(
        refused(&mut c, tx),
        TxError::WrongAlgorithm { .. }
    ));
    // Adding a validator with such a key.
    let tx = c.council_signed(Payload::AddValidator(Validator {
        name: "validator-x".into(),
        key: foreign.public_key(),
        peer_id: b"peer-x".to_vec(),
    }));
    assert!(matches!(
        refused(&mut c, tx),
        TxError::WrongAlgorithm { .. }
    ));
    // A council with such a key.
    let mut members = vec![public(&c, "council-0"), foreign.public_key()];
    members.sort();
    let tx = c.council_signed(Payload::UpdateCouncil(Council {
        members,
        threshold: 1,
    }));
    assert!(matches!(
        refused(&mut c, tx),
        TxError::WrongAlgorithm { .. }
    ));
}

fn invalid_field(suite: Suite) {
    let mut c = chain(suite);
    // valid_until <= valid_from (impossible to decode, so built in memory).
    for until in [GENESIS_TIME_MS, GENESIS_TIME_MS - 1] {
        let mut d = draft_with(&c, "L-1", "business", "agency-a");
        d.valid_until_ms = Some(until);
        let tx = c.signed(Payload::IssueLicence(d), "agency-a");
        assert!(matches!(
            refused(&mut c, tx),
            TxError::InvalidField(CodecError::InvalidValue {
                field: "validity window",
                ..
            })
        ));
    }
    // A GB/T 36904 id with a wrong check character.
    let bad_id = GBT_ID.replace(".S", ".T");
    let tx = issue(&mut c, &bad_id);
    assert!(matches!(
        refused(&mut c, tx),
        TxError::InvalidField(CodecError::InvalidValue {
            field: "GB/T 36904 licence id",
            ..
        })
    ));
    // A GB/T 36904-prefixed id that is malformed (lower case).
    let tx = issue(&mut c, &GBT_ID.to_lowercase());
    assert!(matches!(
        refused(&mut c, tx),
        TxError::InvalidField(CodecError::InvalidValue { .. })
    ));
    // A licence id outside the identifier alphabet.
    let tx = issue(&mut c, "L 1");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::InvalidField(CodecError::InvalidValue {
            field: "licence id",
            ..
        })
    ));
    // A reason with a control character.
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let tx = c.signed(
        Payload::RevokeLicence {
            id: "L-1".into(),
            reason: "fraud\nforged".into(),
        },
        "agency-a",
    );
    assert!(matches!(
        refused(&mut c, tx),
        TxError::InvalidField(CodecError::InvalidValue {
            field: "reason",
            ..
        })
    ));
    // An evidence label that is too long.
    let tx = c.signed(
        Payload::AnchorEvidence {
            hash: suite.digest(b"x"),
            submitter: "court-1".into(),
            label: "x".repeat(513),
        },
        "court-1",
    );
    assert!(matches!(
        refused(&mut c, tx),
        TxError::InvalidField(CodecError::TooLong {
            field: "evidence label",
            ..
        })
    ));
    // A blank agency name; an agency with no keys.
    let tx = c.council_signed(Payload::RegisterAgency(Agency {
        id: "agency-c".into(),
        name: "  ".into(),
        keys: vec![public(&c, "agency-a")],
        status: EntityStatus::Active,
    }));
    assert!(matches!(refused(&mut c, tx), TxError::InvalidField(_)));
    let tx = c.council_signed(Payload::UpdateAgency {
        id: "agency-a".into(),
        name: None,
        keys: Some(vec![]),
    });
    assert!(matches!(refused(&mut c, tx), TxError::InvalidField(_)));
    // A council threshold above its size.
    let tx = c.council_signed(Payload::UpdateCouncil(Council {
        members: vec![public(&c, "council-0")],
        threshold: 2,
    }));
    assert!(matches!(refused(&mut c, tx), TxError::InvalidField(_)));
    // A validator with an empty peer id or a blank name (impossible to decode).
    let mut v = new_validator(&mut c, "validator-4", "peer-4");
    v.peer_id.clear();
    let tx = c.council_signed(Payload::AddValidator(v.clone()));
    assert!(matches!(refused(&mut c, tx), TxError::InvalidField(_)));
    v.peer_id = b"peer-4".to_vec();
    v.name = String::new();
    let tx = c.council_signed(Payload::AddValidator(v));
    assert!(matches!(refused(&mut c, tx), TxError::InvalidField(_)));
    // An observer with an empty or oversized peer id or a blank name; removing an empty peer id
    // (none of them can be decoded).
    for (name, peer_id) in [
        ("archive-1", vec![]),
        ("archive-1", vec![7; 65]),
        (" \t", b"obs-peer-1".to_vec()),
    ] {
        let tx = c.council_signed(Payload::AddObserver(Observer {
            name: name.into(),
            peer_id,
        }));
        assert!(matches!(refused(&mut c, tx), TxError::InvalidField(_)));
    }
    let tx = c.council_signed(Payload::RemoveObserver { peer_id: vec![] });
    assert!(matches!(
        refused(&mut c, tx),
        TxError::InvalidField(CodecError::InvalidValue {
            field: "peer id",
            ..
        })
    ));
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Active);
}

fn not_council_member(suite: Suite) {
    let mut c = chain(suite);
    let payload = Payload::RegisterAgency(Agency {
        id: "agency-c".into(),
        name: "Agency C".into(),
        keys: vec![public(&c, "agency-a")],
        status: EntityStatus::Active,
    });
    let tx = c.tx(payload.clone());
    let tx = c.sign(tx, &["council-0", "agency-a"]);
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotCouncilMember {
            key: public(&c, "agency-a")
        }
    );
    // An agency alone cannot govern either.
    let tx = c.signed(payload, "agency-a");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::NotCouncilMember { .. }
    ));
    // Nor can validators.
    let tx = c.signed(
        Payload::RemoveValidator {
            key: public(&c, "validator-1"),
        },
        "validator-0",
    );
    assert!(matches!(
        refused(&mut c, tx),
        TxError::NotCouncilMember { .. }
    ));
    assert!(
        c.entry::<Agency>(&StateKey::Agency("agency-c".into()))
            .is_none()
    );
}

fn council_threshold_not_met(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.signed(
        Payload::SetAgencyStatus {
            id: "agency-a".into(),
            status: EntityStatus::Suspended,
        },
        "council-2",
    );
    assert_eq!(
        refused(&mut c, tx),
        TxError::CouncilThresholdNotMet {
            signers: 1,
            threshold: 2
        }
    );
    assert_eq!(agency_entry(&c, "agency-a").status, EntityStatus::Active);
}

fn unknown_agency(suite: Suite) {
    let mut c = chain(suite);
    let tx = issue_tx(&mut c, "L-1", "business", "agency-z", "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::UnknownAgency {
            id: "agency-z".into()
        }
    );
    let tx = c.council_signed(Payload::SetAgencyStatus {
        id: "agency-z".into(),
        status: EntityStatus::Suspended,
    });
    assert!(matches!(refused(&mut c, tx), TxError::UnknownAgency { .. }));
    let tx = c.council_signed(Payload::SetTypeAuthorisation {
        licence_type: "food".into(),
        agency: "agency-z".into(),
        authorised: true,
    });
    assert!(matches!(refused(&mut c, tx), TxError::UnknownAgency { .. }));
    let tx = c.council_signed(Payload::DefineLicenceType(LicenceType {
        code: "pharmacy".into(),
        name: "Pharmacy permit".into(),
        authorised: vec!["agency-z".into()],
    }));
    assert!(matches!(refused(&mut c, tx), TxError::UnknownAgency { .. }));
    let tx = c.council_signed(Payload::UpdateAgency {
        id: "agency-z".into(),
        name: Some("Z".into()),
        keys: None,
    });
    assert!(matches!(refused(&mut c, tx), TxError::UnknownAgency { .. }));
}

fn agency_exists(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::RegisterAgency(Agency {
        id: "agency-a".into(),
        name: "Impostor".into(),
        keys: vec![public(&c, "agency-b")],
        status: EntityStatus::Active,
    }));
    assert_eq!(
        refused(&mut c, tx),
        TxError::AgencyExists {
            id: "agency-a".into()
        }
    );
    assert_eq!(
        agency_entry(&c, "agency-a").name,
        "Market Regulation Bureau A"
    );
}

fn agency_suspended(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let tx = c.council_signed(Payload::SetAgencyStatus {
        id: "agency-a".into(),
        status: EntityStatus::Suspended,
    });
    ok(&mut c, vec![tx]);
    assert_eq!(agency_entry(&c, "agency-a").status, EntityStatus::Suspended);
    let tx = issue(&mut c, "L-2");
    assert_eq!(
        refused(&mut c, tx),
        TxError::AgencySuspended {
            id: "agency-a".into()
        }
    );
    // Nor may it change its existing licences...
    let tx = revoke(&mut c, "L-1", "agency-a");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::AgencySuspended { .. }
    ));
    // ...or supersede them.
    let d = draft_with(&c, "L-2", "business", "agency-a");
    let tx = supersede(&mut c, "L-1", d, "agency-a");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::AgencySuspended { .. }
    ));
    // The council still can.
    let tx = c.council_signed(Payload::SuspendLicence {
        id: "L-1".into(),
        reason: reason(),
    });
    ok(&mut c, vec![tx]);
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Suspended);
    // Reactivated, the agency issues again.
    let tx = c.council_signed(Payload::SetAgencyStatus {
        id: "agency-a".into(),
        status: EntityStatus::Active,
    });
    ok(&mut c, vec![tx]);
    ok_with(&mut c, |c| vec![issue(c, "L-2")]);
    assert_eq!(licence(&c, "L-2").status, LicenceStatus::Active);
}

fn not_agency_key(suite: Suite) {
    let mut c = chain(suite);
    let tx = issue_tx(&mut c, "L-1", "business", "agency-a", "agency-b");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotAgencyKey {
            agency: "agency-a".into(),
            key: public(&c, "agency-b"),
        }
    );
    // The court's key, a council key.
    let tx = issue_tx(&mut c, "L-1", "business", "agency-a", "court-1");
    assert!(matches!(refused(&mut c, tx), TxError::NotAgencyKey { .. }));
    let tx = issue_tx(&mut c, "L-1", "business", "agency-a", "council-0");
    assert!(matches!(refused(&mut c, tx), TxError::NotAgencyKey { .. }));
    // The council cannot issue in an agency's name either.
    let tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    let tx = c.sign(tx, &["council-0", "council-1"]);
    assert!(matches!(refused(&mut c, tx), TxError::NotAgencyKey { .. }));
    // An agency key plus a stranger's.
    let tx = c.tx(Payload::IssueLicence(draft_with(
        &c, "L-1", "business", "agency-a",
    )));
    let tx = c.sign(tx, &["agency-a", "agency-b"]);
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotAgencyKey {
            agency: "agency-a".into(),
            key: public(&c, "agency-b"),
        }
    );
}

fn unknown_licence_type(suite: Suite) {
    let mut c = chain(suite);
    let tx = issue_tx(&mut c, "L-1", "pharmacy", "agency-a", "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::UnknownLicenceType {
            code: "pharmacy".into()
        }
    );
    let tx = c.council_signed(Payload::SetTypeAuthorisation {
        licence_type: "pharmacy".into(),
        agency: "agency-a".into(),
        authorised: true,
    });
    assert!(matches!(
        refused(&mut c, tx),
        TxError::UnknownLicenceType { .. }
    ));
}

fn licence_type_exists(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::DefineLicenceType(LicenceType {
        code: "food".into(),
        name: "Food permit, again".into(),
        authorised: vec!["agency-b".into()],
    }));
    assert_eq!(
        refused(&mut c, tx),
        TxError::LicenceTypeExists {
            code: "food".into()
        }
    );
}

fn not_authorised_for_type(suite: Suite) {
    let mut c = chain(suite);
    let tx = issue_tx(&mut c, "L-1", "food", "agency-b", "agency-b");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotAuthorisedForType {
            agency: "agency-b".into(),
            licence_type: "food".into(),
        }
    );
    // Withdrawn authorisation stops agency-a too.
    let tx = c.council_signed(Payload::SetTypeAuthorisation {
        licence_type: "food".into(),
        agency: "agency-a".into(),
        authorised: false,
    });
    ok(&mut c, vec![tx]);
    let tx = issue_tx(&mut c, "L-1", "food", "agency-a", "agency-a");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::NotAuthorisedForType { .. }
    ));
    // Superseding into a type the agency is not authorised for is refused as well.
    ok_with(&mut c, |c| {
        vec![issue_tx(c, "L-2", "business", "agency-b", "agency-b")]
    });
    let d = draft_with(&c, "L-3", "food", "agency-b");
    let tx = supersede(&mut c, "L-2", d, "agency-b");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::NotAuthorisedForType { .. }
    ));
    assert_eq!(licence(&c, "L-2").status, LicenceStatus::Active);
}

fn licence_exists(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    // Another agency may not take over the id, nor may the issuer reissue it.
    let tx = issue_tx(&mut c, "L-1", "business", "agency-b", "agency-b");
    assert_eq!(
        refused(&mut c, tx),
        TxError::LicenceExists { id: "L-1".into() }
    );
    let tx = issue(&mut c, "L-1");
    assert!(matches!(refused(&mut c, tx), TxError::LicenceExists { .. }));
    // Two issues of one id in one block: the second is refused.
    let a = issue(&mut c, "L-2");
    let b = issue(&mut c, "L-2");
    assert!(matches!(
        refused_at(&mut c, vec![a, b], 1),
        TxError::LicenceExists { .. }
    ));
    // Superseding with an existing id (including the old one itself).
    let d = draft_with(&c, "L-1", "business", "agency-a");
    let tx = supersede(&mut c, "L-1", d, "agency-a");
    assert!(matches!(refused(&mut c, tx), TxError::LicenceExists { .. }));
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Active);
}

fn unknown_licence(suite: Suite) {
    let mut c = chain(suite);
    for tx in [
        revoke(&mut c, "L-404", "agency-a"),
        suspend(&mut c, "L-404", "agency-a"),
        reinstate(&mut c, "L-404", "agency-a"),
    ] {
        assert_eq!(
            refused(&mut c, tx),
            TxError::UnknownLicence { id: "L-404".into() }
        );
    }
    let d = draft_with(&c, "L-2", "business", "agency-a");
    let tx = supersede(&mut c, "L-404", d, "agency-a");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::UnknownLicence { .. }
    ));
}

/// The key requirement: an agency cannot change another agency's licence.
fn not_issuer(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let tx = revoke(&mut c, "L-1", "agency-b");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotIssuer {
            id: "L-1".into(),
            issuer: "agency-a".into()
        }
    );
    for tx in [
        suspend(&mut c, "L-1", "agency-b"),
        revoke(&mut c, "L-1", "court-1"),
        revoke(&mut c, "L-1", "validator-0"),
        // One council member is below the threshold: not the council.
        revoke(&mut c, "L-1", "council-0"),
    ] {
        assert!(matches!(refused(&mut c, tx), TxError::NotIssuer { .. }));
    }
    // The issuer's key together with another agency's key is not the issuer either.
    let tx = c.tx(Payload::RevokeLicence {
        id: "L-1".into(),
        reason: reason(),
    });
    let tx = c.sign(tx, &["agency-a", "agency-b"]);
    assert!(matches!(refused(&mut c, tx), TxError::NotIssuer { .. }));
    // Once suspended by its issuer, another agency cannot reinstate it.
    ok_with(&mut c, |c| vec![suspend(c, "L-1", "agency-a")]);
    let tx = reinstate(&mut c, "L-1", "agency-b");
    assert!(matches!(refused(&mut c, tx), TxError::NotIssuer { .. }));
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Suspended);
    // Every agency's licences are protected the same way.
    ok_with(&mut c, |c| {
        vec![issue_tx(c, "L-B", "business", "agency-b", "agency-b")]
    });
    let tx = revoke(&mut c, "L-B", "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotIssuer {
            id: "L-B".into(),
            issuer: "agency-b".into()
        }
    );
    assert_eq!(licence(&c, "L-B").status, LicenceStatus::Active);
}

fn licence_final(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1"), issue(c, "L-2")]);
    ok_with(&mut c, |c| vec![revoke(c, "L-1", "agency-a")]);
    let revoked = TxError::LicenceFinal {
        id: "L-1".into(),
        status: "revoked",
    };
    // Revoke twice; suspend, reinstate or supersede after revoke; even by the council.
    let tx = revoke(&mut c, "L-1", "agency-a");
    assert_eq!(refused(&mut c, tx), revoked);
    let tx = suspend(&mut c, "L-1", "agency-a");
    assert_eq!(refused(&mut c, tx), revoked);
    let tx = reinstate(&mut c, "L-1", "agency-a");
    assert_eq!(refused(&mut c, tx), revoked);
    let d = draft_with(&c, "L-1b", "business", "agency-a");
    let tx = supersede(&mut c, "L-1", d, "agency-a");
    assert_eq!(refused(&mut c, tx), revoked);
    let tx = c.council_signed(Payload::ReinstateLicence {
        id: "L-1".into(),
        reason: reason(),
    });
    assert_eq!(refused(&mut c, tx), revoked);
    // Reinstate, revoke, suspend or supersede after supersede.
    let d = draft_with(&c, "L-2b", "business", "agency-a");
    ok_with(&mut c, |c| vec![supersede(c, "L-2", d, "agency-a")]);
    let superseded = TxError::LicenceFinal {
        id: "L-2".into(),
        status: "superseded",
    };
    let tx = reinstate(&mut c, "L-2", "agency-a");
    assert_eq!(refused(&mut c, tx), superseded);
    let tx = revoke(&mut c, "L-2", "agency-a");
    assert_eq!(refused(&mut c, tx), superseded);
    let tx = suspend(&mut c, "L-2", "agency-a");
    assert_eq!(refused(&mut c, tx), superseded);
    let d = draft_with(&c, "L-2c", "business", "agency-a");
    let tx = supersede(&mut c, "L-2", d, "agency-a");
    assert_eq!(refused(&mut c, tx), superseded);
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Revoked);
    assert_eq!(licence(&c, "L-2").status, LicenceStatus::Superseded);
    assert_eq!(licence(&c, "L-2b").status, LicenceStatus::Active);
}

fn already_suspended(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let h = ok_with(&mut c, |c| vec![suspend(c, "L-1", "agency-a")]);
    let tx = suspend(&mut c, "L-1", "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::AlreadySuspended { id: "L-1".into() }
    );
    assert_eq!(licence(&c, "L-1").updated_height, h);
}

fn not_suspended(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let tx = reinstate(&mut c, "L-1", "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotSuspended { id: "L-1".into() }
    );
}

fn supersede_by_other_agency(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let d = draft_with(&c, "L-2", "business", "agency-b");
    let tx = supersede(&mut c, "L-1", d, "agency-b");
    assert_eq!(
        refused(&mut c, tx),
        TxError::SupersedeByOtherAgency {
            issuer: "agency-a".into()
        }
    );
    // Naming agency-a as the new issuer but signing as agency-b is not enough.
    let d = draft_with(&c, "L-2", "business", "agency-a");
    let tx = supersede(&mut c, "L-1", d, "agency-b");
    assert!(matches!(refused(&mut c, tx), TxError::NotAgencyKey { .. }));
    assert_eq!(licence(&c, "L-1").status, LicenceStatus::Active);
    assert!(
        c.entry::<Licence>(&StateKey::Licence("L-2".into()))
            .is_none()
    );
}

fn unknown_submitter(suite: Suite) {
    let mut c = chain(suite);
    let tx = anchor(&mut c, suite.digest(b"doc"), "court-9", "court-1");
    assert_eq!(
        refused(&mut c, tx),
        TxError::UnknownSubmitter {
            id: "court-9".into()
        }
    );
    let tx = c.council_signed(Payload::UpdateSubmitter {
        id: "court-9".into(),
        keys: None,
        status: Some(EntityStatus::Suspended),
    });
    assert!(matches!(
        refused(&mut c, tx),
        TxError::UnknownSubmitter { .. }
    ));
}

fn submitter_exists(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::RegisterSubmitter(Submitter {
        id: "court-1".into(),
        name: "Another court".into(),
        keys: vec![public(&c, "agency-a")],
        status: EntityStatus::Active,
    }));
    assert_eq!(
        refused(&mut c, tx),
        TxError::SubmitterExists {
            id: "court-1".into()
        }
    );
}

fn submitter_suspended(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::UpdateSubmitter {
        id: "court-1".into(),
        keys: None,
        status: Some(EntityStatus::Suspended),
    });
    ok(&mut c, vec![tx]);
    let tx = anchor(&mut c, suite.digest(b"doc"), "court-1", "court-1");
    assert_eq!(
        refused(&mut c, tx),
        TxError::SubmitterSuspended {
            id: "court-1".into()
        }
    );
}

fn not_submitter_key(suite: Suite) {
    let mut c = chain(suite);
    let tx = anchor(&mut c, suite.digest(b"doc"), "court-1", "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotSubmitterKey {
            submitter: "court-1".into(),
            key: public(&c, "agency-a"),
        }
    );
    // Two signatures, one of them the court's.
    let tx = c.tx(Payload::AnchorEvidence {
        hash: suite.digest(b"doc"),
        submitter: "court-1".into(),
        label: String::new(),
    });
    let tx = c.sign(tx, &["court-1", "agency-a"]);
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotSubmitterKey {
            submitter: "court-1".into(),
            key: public(&c, "agency-a"),
        }
    );
}

fn evidence_exists(suite: Suite) {
    let mut c = chain(suite);
    let hash = suite.digest(b"contract.pdf");
    let first = anchor(&mut c, hash, "court-1", "court-1");
    let h = ok(&mut c, vec![first]);
    // Anchoring the same hash later (a new transaction) keeps the original time.
    let tx = anchor(&mut c, hash, "court-1", "court-1");
    assert_eq!(refused(&mut c, tx), TxError::EvidenceExists { hash });
    let e: Evidence = c.entry(&StateKey::Evidence(hash)).unwrap();
    assert_eq!(e.height, h);
    // Twice in one block.
    let other = suite.digest(b"other.pdf");
    let a = anchor(&mut c, other, "court-1", "court-1");
    let b = anchor(&mut c, other, "court-1", "court-1");
    assert_eq!(
        refused_at(&mut c, vec![a, b], 1),
        TxError::EvidenceExists { hash: other }
    );
}

fn validator_exists(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::AddValidator(Validator {
        name: "validator-0 again".into(),
        key: public(&c, "validator-0"),
        peer_id: b"peer-new".to_vec(),
    }));
    assert_eq!(
        refused(&mut c, tx),
        TxError::ValidatorExists {
            key: public(&c, "validator-0")
        }
    );
}

fn peer_id_in_use(suite: Suite) {
    let mut c = chain(suite);
    let v = Validator {
        name: "validator-4".into(),
        key: test_key(suite, "validator-4").public_key(),
        peer_id: b"peer-2".to_vec(),
    };
    let tx = c.council_signed(Payload::AddValidator(v));
    assert_eq!(
        refused(&mut c, tx),
        TxError::PeerIdInUse {
            name: "validator-2".into()
        }
    );
}

fn peer_id_used_by_observer(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::AddObserver(observer("archive-1", "obs-peer-1")));
    ok(&mut c, vec![tx]);
    let v = new_validator(&mut c, "validator-4", "obs-peer-1");
    let tx = c.council_signed(Payload::AddValidator(v));
    assert_eq!(
        refused(&mut c, tx),
        TxError::PeerIdUsedByObserver {
            name: "archive-1".into()
        }
    );
    assert_eq!(validators(&c).len(), 4);
    // Also when the observer is added earlier in the same block.
    let v = new_validator(&mut c, "validator-5", "obs-peer-2");
    let add = c.council_signed(Payload::AddObserver(observer("archive-2", "obs-peer-2")));
    let tx = c.council_signed(Payload::AddValidator(v));
    assert_eq!(
        refused_at(&mut c, vec![add, tx], 1),
        TxError::PeerIdUsedByObserver {
            name: "archive-2".into()
        }
    );
}

fn observer_exists(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::AddObserver(observer("archive-1", "obs-peer-1")));
    ok(&mut c, vec![tx]);
    // The same peer id under another name.
    let tx = c.council_signed(Payload::AddObserver(observer("archive-1b", "obs-peer-1")));
    assert_eq!(
        refused(&mut c, tx),
        TxError::ObserverExists {
            peer_id: b"obs-peer-1".to_vec()
        }
    );
    assert_eq!(
        observer_entry(&c, "obs-peer-1"),
        Some(observer("archive-1", "obs-peer-1"))
    );
    // Twice in one block.
    let a = c.council_signed(Payload::AddObserver(observer("archive-2", "obs-peer-2")));
    let b = c.council_signed(Payload::AddObserver(observer("archive-2", "obs-peer-2")));
    assert_eq!(
        refused_at(&mut c, vec![a, b], 1),
        TxError::ObserverExists {
            peer_id: b"obs-peer-2".to_vec()
        }
    );
    assert_eq!(observer_entry(&c, "obs-peer-2"), None);
}

fn observer_peer_id_in_use(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::AddObserver(observer("archive-1", "peer-2")));
    assert_eq!(
        refused(&mut c, tx),
        TxError::PeerIdInUse {
            name: "validator-2".into()
        }
    );
    // A validator added earlier in the same block counts.
    let v = new_validator(&mut c, "validator-4", "peer-4");
    let add = c.council_signed(Payload::AddValidator(v));
    let tx = c.council_signed(Payload::AddObserver(observer("archive-1", "peer-4")));
    assert_eq!(
        refused_at(&mut c, vec![add, tx], 1),
        TxError::PeerIdInUse {
            name: "validator-4".into()
        }
    );
    assert_eq!(observer_entry(&c, "peer-4"), None);
}

fn unknown_observer(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::RemoveObserver {
        peer_id: b"obs-peer-9".to_vec(),
    });
    assert_eq!(
        refused(&mut c, tx),
        TxError::UnknownObserver {
            peer_id: b"obs-peer-9".to_vec()
        }
    );
    // A validator's peer id is not an observer's.
    let tx = c.council_signed(Payload::RemoveObserver {
        peer_id: b"peer-0".to_vec(),
    });
    assert_eq!(
        refused(&mut c, tx),
        TxError::UnknownObserver {
            peer_id: b"peer-0".to_vec()
        }
    );
    // Removed twice in one block.
    ok_with(&mut c, |c| {
        vec![c.council_signed(Payload::AddObserver(observer("archive-1", "obs-peer-1")))]
    });
    let a = c.council_signed(Payload::RemoveObserver {
        peer_id: b"obs-peer-1".to_vec(),
    });
    let b = c.council_signed(Payload::RemoveObserver {
        peer_id: b"obs-peer-1".to_vec(),
    });
    assert_eq!(
        refused_at(&mut c, vec![a, b], 1),
        TxError::UnknownObserver {
            peer_id: b"obs-peer-1".to_vec()
        }
    );
    assert!(observer_entry(&c, "obs-peer-1").is_some());
}

fn observer_ops_need_the_council(suite: Suite) {
    let mut c = chain(suite);
    let add = Payload::AddObserver(observer("archive-1", "obs-peer-1"));
    let tx = c.signed(add.clone(), "council-2");
    assert_eq!(
        refused(&mut c, tx),
        TxError::CouncilThresholdNotMet {
            signers: 1,
            threshold: 2
        }
    );
    let tx = c.signed(add.clone(), "validator-0");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotCouncilMember {
            key: public(&c, "validator-0")
        }
    );
    ok_with(&mut c, |c| vec![c.council_signed(add)]);
    let remove = Payload::RemoveObserver {
        peer_id: b"obs-peer-1".to_vec(),
    };
    let tx = c.signed(remove.clone(), "agency-a");
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotCouncilMember {
            key: public(&c, "agency-a")
        }
    );
    let tx = c.signed(remove, "council-0");
    assert_eq!(
        refused(&mut c, tx),
        TxError::CouncilThresholdNotMet {
            signers: 1,
            threshold: 2
        }
    );
    assert!(observer_entry(&c, "obs-peer-1").is_some());
}

fn unknown_validator(suite: Suite) {
    let mut c = chain(suite);
    let key = test_key(suite, "validator-9").public_key();
    let tx = c.council_signed(Payload::RemoveValidator { key: key.clone() });
    assert_eq!(refused(&mut c, tx), TxError::UnknownValidator { key });
    assert_eq!(validators(&c).len(), 4);
}

fn validator_set_size(suite: Suite) {
    // Removing the last validator.
    let mut c = TestChain::new(suite, 1);
    let tx = c.council_signed(Payload::RemoveValidator {
        key: public(&c, "validator-0"),
    });
    assert_eq!(
        refused(&mut c, tx),
        TxError::ValidatorSetSize {
            size: 0,
            max: VALIDATORS_MAX
        }
    );
    // Growing past the maximum: fill the set to 128 in one block, then add one more.
    let adds: Vec<SignedTransaction> = (1..VALIDATORS_MAX)
        .map(|i| {
            let v = Validator {
                name: format!("extra-{i}"),
                key: test_key(suite, &format!("extra-{i}")).public_key(),
                peer_id: format!("peer-extra-{i}").into_bytes(),
            };
            c.council_signed(Payload::AddValidator(v))
        })
        .collect();
    ok(&mut c, adds);
    assert_eq!(validators(&c).len(), VALIDATORS_MAX);
    let v = Validator {
        name: "one too many".into(),
        key: test_key(suite, "one too many").public_key(),
        peer_id: b"peer-129".to_vec(),
    };
    let tx = c.council_signed(Payload::AddValidator(v));
    assert_eq!(
        refused(&mut c, tx),
        TxError::ValidatorSetSize {
            size: VALIDATORS_MAX + 1,
            max: VALIDATORS_MAX
        }
    );
}

fn unchanged(suite: Suite) {
    let mut c = chain(suite);
    let tx = c.council_signed(Payload::SetAgencyStatus {
        id: "agency-a".into(),
        status: EntityStatus::Active,
    });
    assert_eq!(
        refused(&mut c, tx),
        TxError::Unchanged {
            what: "agency status"
        }
    );
    let council = c.genesis.config.council.clone();
    let tx = c.council_signed(Payload::UpdateCouncil(council));
    assert_eq!(refused(&mut c, tx), TxError::Unchanged { what: "council" });
    for authorised in [true, false] {
        let agency = if authorised { "agency-a" } else { "agency-b" };
        let tx = c.council_signed(Payload::SetTypeAuthorisation {
            licence_type: "food".into(),
            agency: agency.into(),
            authorised,
        });
        assert_eq!(
            refused(&mut c, tx),
            TxError::Unchanged {
                what: "type authorisation"
            }
        );
    }
    let tx = c.council_signed(Payload::UpdateAgency {
        id: "agency-a".into(),
        name: Some("Market Regulation Bureau A".into()),
        keys: None,
    });
    assert_eq!(refused(&mut c, tx), TxError::Unchanged { what: "agency" });
    let tx = c.council_signed(Payload::UpdateSubmitter {
        id: "court-1".into(),
        keys: None,
        status: Some(EntityStatus::Active),
    });
    assert_eq!(
        refused(&mut c, tx),
        TxError::Unchanged { what: "submitter" }
    );
}

// --- happy paths ---

fn licence_lifecycle(suite: Suite) {
    let mut c = chain(suite);
    let d = draft_with(&c, "L-1", "business", "agency-a");
    let tx = c.signed(Payload::IssueLicence(d.clone()), "agency-a");
    let h1 = ok(&mut c, vec![tx]);
    let t1 = c.blocks[h1 as usize].header.time_ms;
    let l = licence(&c, "L-1");
    assert_eq!(l.draft, d);
    assert_eq!(l.status, LicenceStatus::Active);
    assert_eq!(l.status_reason, "");
    assert_eq!((l.issued_height, l.issued_time_ms), (h1, t1));
    assert_eq!((l.updated_height, l.updated_time_ms), (h1, t1));
    assert_eq!(
        (l.supersedes.as_deref(), l.superseded_by.as_deref()),
        (None, None)
    );
    assert_eq!(
        c.blocks[h1 as usize].execution.events,
        vec![vec![Event::LicenceChanged {
            id: "L-1".into(),
            status: LicenceStatus::Active
        }]]
    );

    ok(&mut c, vec![]);
    let steps = [
        (suspend(&mut c, "L-1", "agency-a"), LicenceStatus::Suspended),
        (reinstate(&mut c, "L-1", "agency-a"), LicenceStatus::Active),
        (revoke(&mut c, "L-1", "agency-a"), LicenceStatus::Revoked),
    ];
    for (tx, status) in steps {
        let h = ok(&mut c, vec![tx]);
        let l = licence(&c, "L-1");
        assert_eq!(l.status, status);
        assert_eq!(l.status_reason, reason());
        assert_eq!(l.updated_height, h);
        assert_eq!(l.updated_time_ms, c.blocks[h as usize].header.time_ms);
        assert_eq!((l.issued_height, l.issued_time_ms), (h1, t1));
        assert_eq!(l.draft, d);
        assert_eq!(
            c.blocks[h as usize].execution.events,
            vec![vec![Event::LicenceChanged {
                id: "L-1".into(),
                status
            }]]
        );
    }
}

fn council_may_change_any_licence(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| {
        vec![
            issue(c, "L-A"),
            issue_tx(c, "L-B", "business", "agency-b", "agency-b"),
        ]
    });
    let council = |c: &mut TestChain, payload| {
        let tx = c.tx(payload);
        c.sign(tx, &["council-2", "council-0"])
    };
    let s = council(
        &mut c,
        Payload::SuspendLicence {
            id: "L-B".into(),
            reason: reason(),
        },
    );
    let r = council(
        &mut c,
        Payload::RevokeLicence {
            id: "L-A".into(),
            reason: "court order".into(),
        },
    );
    ok(&mut c, vec![s, r]);
    assert_eq!(licence(&c, "L-A").status, LicenceStatus::Revoked);
    assert_eq!(licence(&c, "L-A").status_reason, "court order");
    assert_eq!(licence(&c, "L-B").status, LicenceStatus::Suspended);
    // The issuer may reinstate what the council suspended.
    ok_with(&mut c, |c| vec![reinstate(c, "L-B", "agency-b")]);
    assert_eq!(licence(&c, "L-B").status, LicenceStatus::Active);
    // All three council members together are fine too.
    let tx = c.tx(Payload::RevokeLicence {
        id: "L-B".into(),
        reason: reason(),
    });
    let tx = c.sign(tx, &["council-0", "council-1", "council-2"]);
    ok(&mut c, vec![tx]);
    assert_eq!(licence(&c, "L-B").status, LicenceStatus::Revoked);
}

fn supersede_links_both_ways(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    // A suspended licence can be superseded as well.
    ok_with(&mut c, |c| vec![suspend(c, "L-1", "agency-a")]);
    let new = draft_with(&c, "L-2", "business", "agency-a");
    let h = ok_with(&mut c, |c| {
        vec![supersede(c, "L-1", new.clone(), "agency-a")]
    });
    let old = licence(&c, "L-1");
    let newer = licence(&c, "L-2");
    assert_eq!(old.status, LicenceStatus::Superseded);
    assert_eq!(old.superseded_by.as_deref(), Some("L-2"));
    assert_eq!(old.updated_height, h);
    assert_eq!(old.status_reason, "reissued after a change of address");
    assert_eq!(newer.status, LicenceStatus::Active);
    assert_eq!(newer.supersedes.as_deref(), Some("L-1"));
    assert_eq!(newer.superseded_by, None);
    assert_eq!(newer.draft, new);
    assert_eq!((newer.issued_height, newer.updated_height), (h, h));
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![vec![
            Event::LicenceChanged {
                id: "L-2".into(),
                status: LicenceStatus::Active
            },
            Event::LicenceChanged {
                id: "L-1".into(),
                status: LicenceStatus::Superseded
            },
        ]]
    );
    // The chain continues: the new licence can itself be superseded.
    let third = draft_with(&c, "L-3", "food", "agency-a");
    ok_with(&mut c, |c| vec![supersede(c, "L-2", third, "agency-a")]);
    assert_eq!(licence(&c, "L-2").superseded_by.as_deref(), Some("L-3"));
    assert_eq!(licence(&c, "L-2").supersedes.as_deref(), Some("L-1"));
    assert_eq!(licence(&c, "L-3").supersedes.as_deref(), Some("L-2"));
}

fn evidence_anchor_records_block(suite: Suite) {
    let mut c = chain(suite);
    ok(&mut c, vec![]);
    let hash = suite.digest(b"judgment (2026) 17.pdf");
    let tx = anchor(&mut c, hash, "court-1", "court-1");
    let tx_id = tx.id(suite);
    let h = ok(&mut c, vec![tx]);
    let e: Evidence = c.entry(&StateKey::Evidence(hash)).unwrap();
    assert_eq!(
        e,
        Evidence {
            hash,
            submitter: "court-1".into(),
            label: "case (2026) 001".into(),
            height: h,
            time_ms: c.blocks[h as usize].header.time_ms,
            tx_id,
        }
    );
    assert_eq!(c.blocks[h as usize].execution.tx_ids, vec![tx_id]);
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![vec![Event::EvidenceAnchored { hash }]]
    );
}

fn gbt36904_id_accepted(suite: Suite) {
    let mut c = chain(suite);
    ok_with(&mut c, |c| vec![issue(c, GBT_ID)]);
    assert_eq!(licence(&c, GBT_ID).draft.id, GBT_ID);
    ok_with(&mut c, |c| vec![revoke(c, GBT_ID, "agency-a")]);
    assert_eq!(licence(&c, GBT_ID).status, LicenceStatus::Revoked);
}

fn governance_registers_then_agency_issues(suite: Suite) {
    let mut c = chain(suite);
    let key = test_key(suite, "agency-c");
    let agency = Agency {
        id: "agency-c".into(),
        name: "Drug Administration C".into(),
        keys: vec![key.public_key()],
        status: EntityStatus::Active,
    };
    c.keys.insert("agency-c".into(), key);
    let reg = c.council_signed(Payload::RegisterAgency(agency.clone()));
    let def = c.council_signed(Payload::DefineLicenceType(LicenceType {
        code: "pharmacy".into(),
        name: "Pharmacy permit".into(),
        authorised: vec![],
    }));
    let auth = c.council_signed(Payload::SetTypeAuthorisation {
        licence_type: "pharmacy".into(),
        agency: "agency-c".into(),
        authorised: true,
    });
    // All in one block: each sees the writes of the ones before.
    let h = ok(&mut c, vec![reg, def, auth]);
    assert_eq!(agency_entry(&c, "agency-c"), agency);
    let t: LicenceType = c.entry(&StateKey::LicenceType("pharmacy".into())).unwrap();
    assert_eq!(t.authorised, vec!["agency-c".to_string()]);
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![
            vec![Event::AgencyChanged {
                id: "agency-c".into()
            }],
            vec![Event::LicenceTypeChanged {
                code: "pharmacy".into()
            }],
            vec![Event::LicenceTypeChanged {
                code: "pharmacy".into()
            }],
        ]
    );
    ok_with(&mut c, |c| {
        vec![issue_tx(c, "P-1", "pharmacy", "agency-c", "agency-c")]
    });
    assert_eq!(licence(&c, "P-1").draft.issuer, "agency-c");
    // Other agencies are still not authorised for it.
    let tx = issue_tx(&mut c, "P-2", "pharmacy", "agency-a", "agency-a");
    assert!(matches!(
        refused(&mut c, tx),
        TxError::NotAuthorisedForType { .. }
    ));

    // Key rotation: the old key stops working, the new one works.
    let rotated = test_key(suite, "agency-c rotated");
    let tx = c.council_signed(Payload::UpdateAgency {
        id: "agency-c".into(),
        name: Some("Drug Administration C (renamed)".into()),
        keys: Some(vec![rotated.public_key()]),
    });
    c.keys.insert("agency-c rotated".into(), rotated);
    ok(&mut c, vec![tx]);
    assert_eq!(
        agency_entry(&c, "agency-c").name,
        "Drug Administration C (renamed)"
    );
    let tx = issue_tx(&mut c, "P-3", "pharmacy", "agency-c", "agency-c");
    assert!(matches!(refused(&mut c, tx), TxError::NotAgencyKey { .. }));
    let tx = revoke(&mut c, "P-1", "agency-c");
    assert!(matches!(refused(&mut c, tx), TxError::NotIssuer { .. }));
    ok_with(&mut c, |c| {
        vec![issue_tx(
            c,
            "P-3",
            "pharmacy",
            "agency-c",
            "agency-c rotated",
        )]
    });
    ok_with(&mut c, |c| vec![revoke(c, "P-1", "agency-c rotated")]);
    assert_eq!(licence(&c, "P-1").status, LicenceStatus::Revoked);

    // A new submitter anchors evidence; a key update for it.
    let court = test_key(suite, "court-2");
    let tx = c.council_signed(Payload::RegisterSubmitter(Submitter {
        id: "court-2".into(),
        name: "Notary Office 2".into(),
        keys: vec![court.public_key()],
        status: EntityStatus::Active,
    }));
    c.keys.insert("court-2".into(), court);
    ok(&mut c, vec![tx]);
    ok_with(&mut c, |c| {
        vec![anchor(c, suite.digest(b"deed"), "court-2", "court-2")]
    });
    let e: Evidence = c.entry(&StateKey::Evidence(suite.digest(b"deed"))).unwrap();
    assert_eq!(e.submitter, "court-2");
}

fn add_validator_effective_next_block(suite: Suite) {
    let mut c = chain(suite);
    let chain_id = c.chain_id().to_string();
    let genesis_hash = c.genesis.hash();
    let old_set = validators(&c);
    let v = new_validator(&mut c, "validator-4", "peer-4");
    let tx = c.council_signed(Payload::AddValidator(v.clone()));
    let h = ok(&mut c, vec![tx]);
    let new_set = validators(&c);
    assert_eq!(new_set.len(), 5);
    assert!(new_set.index_of(&v.key).is_some());
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![vec![Event::ValidatorSetChanged { size: 5 }]]
    );
    // The carrying block is signed by the old set and announces the new one.
    let block = &c.blocks[h as usize];
    assert!(block.header.changes_validator_set());
    assert_eq!(block.header.validator_set_hash, old_set.hash(suite));
    assert_eq!(block.header.next_validator_set_hash, new_set.hash(suite));
    let cert = block.certificate.as_ref().unwrap();
    assert_eq!(cert.signatures.len(), 4);
    cert.verify(suite, &chain_id, &genesis_hash, &block.header, &old_set)
        .unwrap();
    // The next block is signed by the new set, including the new validator.
    let h2 = ok(&mut c, vec![]);
    let block = &c.blocks[h2 as usize];
    assert!(!block.header.changes_validator_set());
    assert_eq!(block.header.validator_set_hash, new_set.hash(suite));
    let cert = block.certificate.as_ref().unwrap();
    assert_eq!(cert.signatures.len(), 5);
    let index = new_set.index_of(&v.key).unwrap() as u16;
    assert!(cert.signatures.iter().any(|s| s.index == index));
    cert.verify(suite, &chain_id, &genesis_hash, &block.header, &new_set)
        .unwrap();
    assert!(matches!(
        cert.verify(suite, &chain_id, &genesis_hash, &block.header, &old_set),
        Err(ProofError::ValidatorSetMismatch { .. })
    ));
    // The quorum grew: 3 of 5 is not enough, 4 is.
    assert_eq!(new_set.quorum(), 4);
    let short = c.certify(&block.header, &new_set, 3);
    assert!(matches!(
        short.verify(suite, &chain_id, &genesis_hash, &block.header, &new_set),
        Err(ProofError::NoQuorum {
            signers: 3,
            quorum: 4,
            set_size: 5
        })
    ));
    c.certify(&block.header, &new_set, 4)
        .verify(suite, &chain_id, &genesis_hash, &block.header, &new_set)
        .unwrap();
}

fn remove_validator_effective_next_block(suite: Suite) {
    let mut c = chain(suite);
    let chain_id = c.chain_id().to_string();
    let genesis_hash = c.genesis.hash();
    let old_set = validators(&c);
    let gone = public(&c, "validator-0");
    let tx = c.council_signed(Payload::RemoveValidator { key: gone.clone() });
    let h = ok(&mut c, vec![tx]);
    let new_set = validators(&c);
    assert_eq!(new_set.len(), 3);
    assert_eq!(new_set.index_of(&gone), None);
    let block = &c.blocks[h as usize];
    assert!(block.header.changes_validator_set());
    assert_eq!(block.header.validator_set_hash, old_set.hash(suite));
    block
        .certificate
        .as_ref()
        .unwrap()
        .verify(suite, &chain_id, &genesis_hash, &block.header, &old_set)
        .unwrap();
    let h2 = ok(&mut c, vec![]);
    let block = &c.blocks[h2 as usize];
    assert_eq!(block.header.validator_set_hash, new_set.hash(suite));
    let cert = block.certificate.as_ref().unwrap();
    assert_eq!(cert.signatures.len(), 3);
    cert.verify(suite, &chain_id, &genesis_hash, &block.header, &new_set)
        .unwrap();
    // Removing it again: unknown.
    let tx = c.council_signed(Payload::RemoveValidator { key: gone.clone() });
    assert_eq!(refused(&mut c, tx), TxError::UnknownValidator { key: gone });
    // Its peer id is free again for a new validator.
    let v = new_validator(&mut c, "validator-5", "peer-0");
    ok_with(&mut c, |c| vec![c.council_signed(Payload::AddValidator(v))]);
    assert_eq!(validators(&c).len(), 4);
}

fn observers_added_and_removed(suite: Suite) {
    let mut c = chain(suite);
    let set = validators(&c);
    let a = observer("archive-1", "obs-peer-1");
    let b = Observer {
        name: "审计节点 Audit node".into(),
        peer_id: vec![0x00, 0x24, 0x08, 0x01, 0xff],
    };
    let h = ok_with(&mut c, |c| {
        vec![
            c.council_signed(Payload::AddObserver(a.clone())),
            c.council_signed(Payload::AddObserver(b.clone())),
        ]
    });
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![
            vec![Event::ObserverAdded {
                peer_id: a.peer_id.clone()
            }],
            vec![Event::ObserverAdded {
                peer_id: b.peer_id.clone()
            }],
        ]
    );
    assert_eq!(observer_entry(&c, "obs-peer-1"), Some(a.clone()));
    assert_eq!(
        c.entry::<Observer>(&StateKey::Observer(b.peer_id.clone())),
        Some(b.clone())
    );
    // Observers do not vote: the validator set is untouched.
    assert!(!c.blocks[h as usize].header.changes_validator_set());
    assert_eq!(validators(&c), set);
    // Removal deletes the entry; the peer id is then free for a validator.
    let h = ok_with(&mut c, |c| {
        vec![c.council_signed(Payload::RemoveObserver {
            peer_id: a.peer_id.clone(),
        })]
    });
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![vec![Event::ObserverRemoved {
            peer_id: a.peer_id.clone()
        }]]
    );
    assert_eq!(observer_entry(&c, "obs-peer-1"), None);
    assert_eq!(
        c.entry::<Observer>(&StateKey::Observer(b.peer_id.clone())),
        Some(b.clone())
    );
    let v = new_validator(&mut c, "validator-4", "obs-peer-1");
    ok_with(&mut c, |c| vec![c.council_signed(Payload::AddValidator(v))]);
    assert_eq!(validators(&c).len(), 5);
    // Added and removed in one block: nothing is left; the state root is the one before.
    let root = c.blocks.last().unwrap().header.state_root;
    ok_with(&mut c, |c| {
        vec![
            c.council_signed(Payload::AddObserver(observer("archive-3", "obs-peer-3"))),
            c.council_signed(Payload::RemoveObserver {
                peer_id: b"obs-peer-3".to_vec(),
            }),
        ]
    });
    assert_eq!(observer_entry(&c, "obs-peer-3"), None);
    assert_eq!(c.blocks.last().unwrap().header.state_root, root);
}

/// The test chain's genesis with `observers`.
fn genesis_with(suite: Suite, observers: Vec<Observer>) -> Genesis {
    let mut g = chain(suite).genesis;
    g.observers = observers;
    g
}

fn genesis_observers(suite: Suite) {
    let a = observer("archive-1", "obs-peer-1");
    let b = observer("archive-2", "obs-peer-2");
    let g = genesis_with(suite, vec![a.clone(), b.clone()]);
    // The encoding ends with the observers, after the submitters; it round-trips.
    let bytes = g.to_bytes();
    assert_eq!(Genesis::from_bytes(&bytes), Ok(g.clone()));
    let plain = chain(suite).genesis;
    let mut tail = 2u32.to_be_bytes().to_vec();
    tail.extend(a.to_bytes());
    tail.extend(b.to_bytes());
    let plain_bytes = plain.to_bytes();
    assert_eq!(plain_bytes[plain_bytes.len() - 4..], [0, 0, 0, 0]);
    assert_eq!(
        bytes[..plain_bytes.len() - 4],
        plain_bytes[..plain_bytes.len() - 4]
    );
    assert_eq!(bytes[plain_bytes.len() - 4..], tail[..]);
    assert_ne!(g.hash(), plain.hash());
    // The genesis state holds them, under kind 8, and the chain starts from it.
    let writes = g.state_writes().unwrap();
    assert_eq!(writes.len(), plain.state_writes().unwrap().len() + 2);
    assert_eq!(
        writes.get(&StateKey::Observer(a.peer_id.clone()).hash(suite)),
        Some(&Some(a.to_bytes()))
    );
    let keys = chain(suite).keys;
    let names = g
        .validators
        .validators
        .iter()
        .map(|v| (v.key.as_bytes().to_vec(), v.name.clone()))
        .collect();
    let mut c = TestChain::from_genesis(g, keys, names);
    assert_eq!(observer_entry(&c, "obs-peer-2"), Some(b));
    // The council removes a genesis observer like any other.
    ok_with(&mut c, |c| {
        vec![c.council_signed(Payload::RemoveObserver {
            peer_id: a.peer_id.clone(),
        })]
    });
    assert_eq!(observer_entry(&c, "obs-peer-1"), None);
}

fn genesis_observer_refusals(suite: Suite) {
    // A peer id listed twice.
    let g = genesis_with(
        suite,
        vec![
            observer("archive-1", "obs-peer-1"),
            observer("archive-2", "obs-peer-1"),
        ],
    );
    assert_eq!(
        g.state_writes(),
        Err(TxError::ObserverExists {
            peer_id: b"obs-peer-1".to_vec()
        })
    );
    // A genesis validator's peer id.
    let g = genesis_with(suite, vec![observer("archive-1", "peer-3")]);
    assert_eq!(
        g.state_writes(),
        Err(TxError::PeerIdInUse {
            name: "validator-3".into()
        })
    );
    // An invalid observer.
    let g = genesis_with(suite, vec![observer("", "obs-peer-1")]);
    assert!(matches!(g.state_writes(), Err(TxError::InvalidField(_))));
}

/// `Genesis::validate` names the entry that breaks a rule and, for a repeat, the first entry.
fn genesis_errors_name_the_entry(suite: Suite) {
    let g = genesis_with(
        suite,
        vec![
            observer("archive-1", "obs-peer-1"),
            observer("archive-2", "obs-peer-2"),
            observer("archive-3", "obs-peer-1"),
        ],
    );
    let e = g.validate().unwrap_err();
    assert_eq!(e.place, GenesisPlace::Observer { index: 2 });
    assert_eq!(e.same_as, Some(0));
    assert_eq!(Err(e.error), g.state_writes().map(|_| ()));

    let mut g = chain(suite).genesis;
    let copy = g.agencies[0].clone();
    g.agencies.push(copy.clone());
    let e = g.validate().unwrap_err();
    let last = g.agencies.len() - 1;
    assert_eq!(e.place, GenesisPlace::Agency { index: last });
    assert_eq!(e.same_as, Some(0));
    assert_eq!(e.error, TxError::AgencyExists { id: copy.id });

    let mut g = chain(suite).genesis;
    g.licence_types[0].authorised.push("no-such-agency".into());
    let e = g.validate().unwrap_err();
    let agency = g.licence_types[0].authorised.len() - 1;
    assert_eq!(e.place, GenesisPlace::Authorised { index: 0, agency });
    assert_eq!(e.same_as, None);
    assert_eq!(
        e.error,
        TxError::UnknownAgency {
            id: "no-such-agency".into()
        }
    );
    assert!(chain(suite).genesis.validate().is_ok());
}

fn update_council_rotates_keys(suite: Suite) {
    let mut c = chain(suite);
    let mut members = Vec::new();
    for i in 3..6 {
        let name = format!("council-{i}");
        let key = test_key(suite, &name);
        members.push(key.public_key());
        c.keys.insert(name, key);
    }
    members.sort();
    let council = Council {
        members,
        threshold: 2,
    };
    let h = ok_with(&mut c, |c| {
        vec![c.council_signed(Payload::UpdateCouncil(council.clone()))]
    });
    assert_eq!(
        c.blocks[h as usize].execution.events,
        vec![vec![Event::CouncilChanged]]
    );
    let config: lichen_contracts::model::ChainConfig = c.entry(&StateKey::Config).unwrap();
    assert_eq!(config.council, council);
    // The old council can no longer govern.
    let payload = Payload::SetAgencyStatus {
        id: "agency-b".into(),
        status: EntityStatus::Suspended,
    };
    let tx = c.council_signed(payload.clone());
    assert_eq!(
        refused(&mut c, tx),
        TxError::NotCouncilMember {
            key: public(&c, "council-0")
        }
    );
    // Nor revoke licences as the council.
    ok_with(&mut c, |c| vec![issue(c, "L-1")]);
    let tx = c.council_signed(Payload::RevokeLicence {
        id: "L-1".into(),
        reason: reason(),
    });
    assert!(matches!(refused(&mut c, tx), TxError::NotIssuer { .. }));
    // The new one can.
    let tx = c.tx(payload);
    let tx = c.sign(tx, &["council-4", "council-5"]);
    ok(&mut c, vec![tx]);
    assert_eq!(agency_entry(&c, "agency-b").status, EntityStatus::Suspended);
    // In one block, a council change takes effect for the transactions after it.
    let back = Council {
        members: c.genesis.config.council.members.clone(),
        threshold: 2,
    };
    let tx = c.tx(Payload::UpdateCouncil(back));
    let change = c.sign(tx, &["council-3", "council-4"]);
    let tx = c.tx(Payload::SetAgencyStatus {
        id: "agency-b".into(),
        status: EntityStatus::Active,
    });
    let stale = c.sign(tx, &["council-3", "council-4"]);
    assert!(matches!(
        refused_at(&mut c, vec![change.clone(), stale], 1),
        TxError::NotCouncilMember { .. }
    ));
    let tx = c.council_signed(Payload::SetAgencyStatus {
        id: "agency-b".into(),
        status: EntityStatus::Active,
    });
    ok(&mut c, vec![change, tx]);
    assert_eq!(agency_entry(&c, "agency-b").status, EntityStatus::Active);
}

fn ids_differ_by_nonce(suite: Suite) {
    let c = chain(suite);
    let tx = Transaction {
        chain_id: c.chain_id().into(),
        nonce: 1,
        expires_at_height: 10,
        payload: Payload::RevokeLicence {
            id: "L-1".into(),
            reason: reason(),
        },
    };
    let mut other = tx.clone();
    other.nonce = 2;
    assert_ne!(tx.id(suite), other.id(suite));
    let mut other = tx.clone();
    other.expires_at_height = 11;
    assert_ne!(tx.id(suite), other.id(suite));
    let mut other = tx.clone();
    other.chain_id = "lichen-other".into();
    assert_ne!(tx.id(suite), other.id(suite));
    // Signatures are not part of the id.
    let a = c.sign(tx.clone(), &["agency-a"]);
    let b = c.sign(tx.clone(), &["agency-b"]);
    assert_eq!(a.id(suite), b.id(suite));
    assert_eq!(a.id(suite), tx.id(suite));
}

fn many_in_flight_in_one_block(suite: Suite) {
    let mut c = chain(suite);
    let n = 50;
    let txs: Vec<SignedTransaction> = (0..n)
        .map(|i| issue(&mut c, &format!("BULK-{i:04}")))
        .collect();
    let nonces: std::collections::BTreeSet<u64> = txs.iter().map(|t| t.tx.nonce).collect();
    assert_eq!(nonces.len(), n);
    let h = ok(&mut c, txs);
    assert_eq!(c.blocks[h as usize].header.tx_count as usize, n);
    for i in 0..n {
        assert_eq!(licence(&c, &format!("BULK-{i:04}")).issued_height, h);
    }
    // Identical payloads with different nonces are different transactions: the same suspend and
    // reinstate, twice each, in one block.
    let mut txs = Vec::new();
    for _ in 0..2 {
        txs.push(suspend(&mut c, "BULK-0000", "agency-a"));
        txs.push(reinstate(&mut c, "BULK-0000", "agency-a"));
    }
    ok(&mut c, txs);
    assert_eq!(licence(&c, "BULK-0000").status, LicenceStatus::Active);
}

macro_rules! suite_tests {
    (sm_and_intl: [$($both:ident),* $(,)?], sm_only: [$($sm:ident),* $(,)?] $(,)?) => {
        mod sm {
            use lichen_contracts::crypto::Suite;
            $( #[test] fn $both() { super::$both(Suite::Sm); } )*
            $( #[test] fn $sm() { super::$sm(Suite::Sm); } )*
        }
        mod intl {
            use lichen_contracts::crypto::Suite;
            $( #[test] fn $both() { super::$both(Suite::Intl); } )*
        }
    };
}

suite_tests! {
    sm_and_intl: [
        // Refusals (the whole set runs on both suites: it is cheap).
        wrong_chain,
        expired,
        expiry_too_far,
        duplicate_in_a_later_block,
        duplicate_in_one_block,
        replay_after_expiry_is_expired,
        unsigned,
        too_many_signatures,
        duplicate_signer,
        bad_signature,
        wrong_algorithm,
        invalid_field,
        not_council_member,
        council_threshold_not_met,
        unknown_agency,
        agency_exists,
        agency_suspended,
        not_agency_key,
        unknown_licence_type,
        licence_type_exists,
        not_authorised_for_type,
        licence_exists,
        unknown_licence,
        not_issuer,
        licence_final,
        already_suspended,
        not_suspended,
        supersede_by_other_agency,
        unknown_submitter,
        submitter_exists,
        submitter_suspended,
        not_submitter_key,
        evidence_exists,
        validator_exists,
        peer_id_in_use,
        peer_id_used_by_observer,
        observer_exists,
        observer_peer_id_in_use,
        unknown_observer,
        observer_ops_need_the_council,
        genesis_observer_refusals,
        genesis_errors_name_the_entry,
        unknown_validator,
        unchanged,
        // Happy paths.
        licence_lifecycle,
        council_may_change_any_licence,
        supersede_links_both_ways,
        evidence_anchor_records_block,
        gbt36904_id_accepted,
        governance_registers_then_agency_issues,
        add_validator_effective_next_block,
        remove_validator_effective_next_block,
        observers_added_and_removed,
        genesis_observers,
        update_council_rotates_keys,
        ids_differ_by_nonce,
        many_in_flight_in_one_block,
    ],
    sm_only: [
        // 128 validators: the slowest rule test, so one suite only.
        validator_set_size,
    ],
}

// --- encoding properties ---

/// Public keys of both algorithms, to draw from.
static KEYS: LazyLock<Vec<SecretKey>> = LazyLock::new(|| {
    (0..6)
        .flat_map(|i| {
            [
                test_key(Suite::Sm, &format!("prop-{i}")),
                test_key(Suite::Intl, &format!("prop-{i}")),
            ]
        })
        .collect()
});

fn public_keys() -> Vec<PublicKey> {
    KEYS.iter().map(SecretKey::public_key).collect()
}

fn arb_key() -> impl Strategy<Value = PublicKey> {
    prop::sample::select(public_keys())
}

/// 1..=4 distinct keys, sorted (as entities and councils require).
fn arb_keys() -> impl Strategy<Value = Vec<PublicKey>> {
    prop::sample::subsequence(public_keys(), 1..=4).prop_map(|mut keys| {
        keys.sort();
        keys
    })
}

fn arb_id() -> impl Strategy<Value = String> {
    "[a-z0-9][A-Za-z0-9._:/-]{0,40}"
}

fn arb_licence_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][A-Za-z0-9._:/-]{0,100}".boxed(),
        Just(GBT_ID.to_string()).boxed(),
    ]
}

fn arb_name() -> impl Strategy<Value = String> {
    "[A-Za-z\u{4e00}-\u{4e80}][A-Za-z \u{4e00}-\u{4e80}]{0,30}"
}

/// Free text without control characters (reasons, labels).
fn arb_text() -> impl Strategy<Value = String> {
    "\\PC{0,40}"
}

fn arb_hash() -> impl Strategy<Value = Hash32> {
    any::<[u8; 32]>().prop_map(Hash32)
}

fn arb_status() -> impl Strategy<Value = EntityStatus> {
    prop_oneof![Just(EntityStatus::Active), Just(EntityStatus::Suspended)]
}

fn arb_draft() -> impl Strategy<Value = LicenceDraft> {
    (
        arb_licence_id(),
        arb_id(),
        arb_id(),
        arb_hash(),
        arb_hash(),
        0..u64::MAX / 2,
        prop::option::of(1..u64::MAX / 2),
    )
        .prop_map(
            |(id, licence_type, issuer, document_hash, holder_commitment, from, len)| {
                LicenceDraft {
                    id,
                    licence_type,
                    issuer,
                    document_hash,
                    holder_commitment,
                    valid_from_ms: from,
                    valid_until_ms: len.map(|len| from + len),
                }
            },
        )
}

/// 1..=64 bytes, as peer ids are.
fn arb_peer_id() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..=64)
}

fn arb_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (arb_id(), arb_name(), arb_keys(), arb_status()).prop_map(|(id, name, keys, status)| {
            Payload::RegisterAgency(Agency {
                id,
                name,
                keys,
                status,
            })
        }),
        (
            arb_id(),
            prop::option::of(arb_name()),
            prop::option::of(arb_keys())
        )
            .prop_map(|(id, name, keys)| Payload::UpdateAgency { id, name, keys }),
        (arb_id(), arb_status()).prop_map(|(id, status)| Payload::SetAgencyStatus { id, status }),
        (
            arb_id(),
            arb_name(),
            prop::collection::btree_set(arb_id(), 0..4)
        )
            .prop_map(
                |(code, name, authorised)| Payload::DefineLicenceType(LicenceType {
                    code,
                    name,
                    authorised: authorised.into_iter().collect(),
                })
            ),
        (arb_id(), arb_id(), any::<bool>()).prop_map(|(licence_type, agency, authorised)| {
            Payload::SetTypeAuthorisation {
                licence_type,
                agency,
                authorised,
            }
        }),
        (
            arb_id(),
            prop::option::of(arb_keys()),
            prop::option::of(arb_status())
        )
            .prop_map(|(id, keys, status)| Payload::UpdateSubmitter { id, keys, status }),
        (
            arb_name(),
            arb_key(),
            prop::collection::vec(any::<u8>(), 1..=64)
        )
            .prop_map(|(name, key, peer_id)| Payload::AddValidator(Validator {
                name,
                key,
                peer_id
            })),
        arb_key().prop_map(|key| Payload::RemoveValidator { key }),
        (arb_name(), arb_peer_id())
            .prop_map(|(name, peer_id)| Payload::AddObserver(Observer { name, peer_id })),
        arb_peer_id().prop_map(|peer_id| Payload::RemoveObserver { peer_id }),
        arb_keys()
            .prop_flat_map(|members| {
                let n = members.len() as u16;
                (Just(members), 1..=n)
            })
            .prop_map(|(members, threshold)| Payload::UpdateCouncil(Council {
                members,
                threshold
            })),
        arb_draft().prop_map(Payload::IssueLicence),
        (arb_licence_id(), arb_text())
            .prop_map(|(id, reason)| Payload::SuspendLicence { id, reason }),
        (arb_licence_id(), arb_text())
            .prop_map(|(id, reason)| Payload::RevokeLicence { id, reason }),
        (arb_licence_id(), arb_text(), arb_draft()).prop_map(|(old_id, reason, new)| {
            Payload::SupersedeLicence {
                old_id,
                reason,
                new,
            }
        }),
        (arb_hash(), arb_id(), arb_text()).prop_map(|(hash, submitter, label)| {
            Payload::AnchorEvidence {
                hash,
                submitter,
                label,
            }
        }),
    ]
}

fn arb_transaction() -> impl Strategy<Value = Transaction> {
    (
        "[a-z][a-z0-9-]{0,30}",
        any::<u64>(),
        any::<u64>(),
        arb_payload(),
    )
        .prop_map(
            |(chain_id, nonce, expires_at_height, payload)| Transaction {
                chain_id,
                nonce,
                expires_at_height,
                payload,
            },
        )
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/ledger_rules.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Every payload and transaction decodes back to itself, and the id is the hash of exactly
    /// those bytes.
    #[test]
    fn transactions_round_trip(tx in arb_transaction()) {
        let bytes = tx.payload.to_bytes();
        prop_assert_eq!(Payload::from_bytes(&bytes), Ok(tx.payload.clone()));
        prop_assert_eq!(bytes[0], tx.payload.tag());
        let bytes = tx.to_bytes();
        prop_assert_eq!(Transaction::from_bytes(&bytes), Ok(tx.clone()));
        let back = Transaction::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.id(Suite::Sm), tx.id(Suite::Sm));
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    /// A signed transaction survives the wire; any truncation and any trailing byte is refused.
    #[test]
    fn signed_transactions_from_wire(
        tx in arb_transaction(),
        signers in prop::sample::subsequence((0..12usize).collect::<Vec<_>>(), 0..=3),
        trailing in prop::collection::vec(any::<u8>(), 1..4),
    ) {
        let signatures = signers
            .iter()
            .map(|&i| {
                let key = &KEYS[i];
                let suite = if key.algo() == SigAlgo::Sm2 { Suite::Sm } else { Suite::Intl };
                tx.sign(suite, key)
            })
            .collect();
        let signed = SignedTransaction { tx, signatures };
        let bytes = signed.to_bytes();
        prop_assert_eq!(SignedTransaction::from_wire(&bytes), Ok(signed.clone()));
        for len in 0..bytes.len() {
            prop_assert!(
                SignedTransaction::from_wire(&bytes[..len]).is_err(),
                "a {}-byte prefix of {} bytes decoded", len, bytes.len()
            );
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&trailing);
        prop_assert_eq!(
            SignedTransaction::from_wire(&longer),
            Err(CodecError::TrailingBytes { count: trailing.len() })
        );
    }
}

#[test]
fn from_wire_refuses_oversized_input() {
    let bytes = vec![0u8; TX_BYTES_MAX + 1];
    assert_eq!(
        SignedTransaction::from_wire(&bytes),
        Err(CodecError::TooLong {
            field: "transaction",
            len: TX_BYTES_MAX + 1,
            max: TX_BYTES_MAX
        })
    );
}

#[test]
fn decoding_refuses_what_the_rules_refuse() {
    // A draft with an empty validity window cannot even be decoded.
    let c = chain(Suite::Sm);
    let mut d = draft_with(&c, "L-1", "business", "agency-a");
    d.valid_until_ms = Some(d.valid_from_ms);
    assert!(matches!(
        LicenceDraft::from_bytes(&d.to_bytes()),
        Err(CodecError::InvalidValue {
            field: "validity window",
            ..
        })
    ));
    // Nor a reason with a control character.
    let p = Payload::RevokeLicence {
        id: "L-1".into(),
        reason: "a\u{7}b".into(),
    };
    assert!(Payload::from_bytes(&p.to_bytes()).is_err());
    // Nor an observer, or an observer removal, with an empty or oversized peer id.
    for peer_id in [vec![], vec![1; 65]] {
        let o = Observer {
            name: "archive-1".into(),
            peer_id: peer_id.clone(),
        };
        assert!(Observer::from_bytes(&o.to_bytes()).is_err());
        assert!(Payload::from_bytes(&Payload::AddObserver(o).to_bytes()).is_err());
        let p = Payload::RemoveObserver { peer_id };
        assert!(Payload::from_bytes(&p.to_bytes()).is_err());
    }
    // Nor an unknown payload tag.
    assert_eq!(
        Payload::from_bytes(&[99]),
        Err(CodecError::InvalidTag {
            what: "payload",
            tag: 99
        })
    );
}

#[test]
fn observer_encodings_are_exact() {
    let o = Observer {
        name: "ob".into(),
        peer_id: vec![0xaa, 0xbb, 0xcc],
    };
    // name string, then peer_id bytes.
    let expected = [0, 0, 0, 2, b'o', b'b', 0, 0, 0, 3, 0xaa, 0xbb, 0xcc];
    assert_eq!(o.to_bytes(), expected);
    assert_eq!(Observer::from_bytes(&expected), Ok(o.clone()));
    let add = Payload::AddObserver(o);
    assert_eq!(add.tag(), 11);
    assert_eq!(add.kind(), "add-observer");
    assert!(add.is_council_operation());
    assert_eq!(add.to_bytes(), [&[11u8][..], &expected].concat());
    let remove = Payload::RemoveObserver {
        peer_id: vec![0xaa, 0xbb, 0xcc],
    };
    assert_eq!(remove.tag(), 12);
    assert_eq!(remove.kind(), "remove-observer");
    assert!(remove.is_council_operation());
    assert_eq!(remove.to_bytes(), [12, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc]);
    assert_eq!(Payload::from_bytes(&remove.to_bytes()), Ok(remove));
    // State key kind 8: H("lichen/state-key/v1", 8 || u32 len || peer id).
    for suite in [Suite::Sm, Suite::Intl] {
        let key = StateKey::Observer(vec![0xaa, 0xbb, 0xcc]);
        assert_eq!(key.kind(), 8);
        assert_eq!(
            key.hash(suite),
            suite.hash("lichen/state-key/v1", &[&[8, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc]])
        );
    }
}

/// `check_authority` (what a node's admission asks) refuses exactly what `apply_tx` refuses as
/// unauthorised, and lets pass what `apply_tx` refuses for other reasons, which may change
/// before the transaction's block (an issue stops before the type and the licence are read).
#[test]
fn check_authority_refuses_only_who_signed() {
    use lichen_contracts::exec::VersionedState;
    use lichen_contracts::ledger::{BlockContext, apply_tx, check_authority, verify_signatures};
    for suite in [Suite::Intl, Suite::Sm] {
        let mut c = chain(suite);
        ok_with(&mut c, |c| vec![issue(c, "L-1")]);
        // Unauthorised: both refuse, with the same error.
        let unauthorised = [
            issue_tx(&mut c, "L-2", "business", "agency-a", "agency-b"),
            issue_tx(&mut c, "L-2", "business", "agency-x", "agency-a"),
            c.signed(
                Payload::SetAgencyStatus {
                    id: "agency-b".into(),
                    status: EntityStatus::Suspended,
                },
                "agency-a",
            ),
        ];
        // Refused for other reasons (an existing id, an unknown or unauthorised type): the
        // authority check lets them pass.
        let otherwise_refused = [
            issue(&mut c, "L-1"),
            issue_tx(&mut c, "L-3", "no-such-type", "agency-a", "agency-a"),
            issue_tx(&mut c, "L-3", "food", "agency-b", "agency-b"),
        ];
        let fresh = issue(&mut c, "L-4");

        let state = VersionedState::new(&c.store, suite, c.height());
        let ctx = BlockContext {
            height: c.height() + 1,
            time_ms: next_time(&c),
        };
        let both = |tx: &SignedTransaction| {
            let verified = verify_signatures(suite, tx).unwrap();
            let full = apply_tx(suite, &state, &c.replay, verified, &ctx).err();
            let verified = verify_signatures(suite, tx).unwrap();
            (full, check_authority(suite, &state, verified, &ctx).err())
        };
        for tx in &unauthorised {
            let (full, authority) = both(tx);
            assert!(
                full.as_ref().is_some_and(TxError::is_unauthorised),
                "{full:?}"
            );
            assert_eq!(authority, full);
        }
        for tx in &otherwise_refused {
            let (full, authority) = both(tx);
            assert!(
                full.as_ref().is_some_and(|e| !e.is_unauthorised()),
                "{full:?}"
            );
            assert_eq!(authority, None);
        }
        // A valid issue passes both.
        assert_eq!(both(&fresh), (None, None));
    }
}
