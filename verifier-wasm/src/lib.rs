//! The offline verifier as the scanner calls it: bytes in, a report out. Native and WASM run the
//! very same `contracts` code (`presentation::verify_bytes`, the dispatcher the node's
//! `POST /v1/verify` and `lichen verify` use).
//!
//! - Native Rust: [`verify`] and [`verify_with`] return a [`Report`]; `lichen_views` (shared with
//!   the node's API and the CLI) turns reports, presentations and trust anchors into the JSON the
//!   JavaScript functions return.
//! - JavaScript: the `#[wasm_bindgen]` functions in [`bindings`] (`verify`,
//!   `verifyWithDocumentHash`, `decodePresentation`, `trustAnchorInfo`), built by
//!   `scripts/build-wasm.sh` into `verifier-wasm/pkg/{web,node}/`.
//!
//! No `unsafe` here: what `#[wasm_bindgen]` generates for the JS boundary lives in wasm-bindgen's
//! own macro expansion, which `forbid(unsafe_code)` accepts (checked on wasm32 and native).
#![forbid(unsafe_code)]

pub mod bindings;
pub mod signing;
pub mod signing_bindings;

use lichen_contracts::codec::Decode;
use lichen_contracts::crypto::Hash32;
use lichen_contracts::presentation::{
    Desk, Document, Policy, Report, Trust, TrustAnchor, TrustState, verify_at_desk,
    verify_package_bytes,
};

/// Why the verifier could not even start: a bad trust anchor or a malformed argument is the
/// caller's problem, not a verdict about the presentation (a malformed presentation *is* a
/// verdict: TAMPERED, with the `encoding` check failed).
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error("trust anchor is not valid: {0}")]
    TrustAnchor(#[from] lichen_contracts::CodecError),
    #[error("document hash is not valid: {0}")]
    DocumentHash(&'static str),
    #[error("{what} must be a whole number of milliseconds from 0 to 2^53 - 1, not {value}")]
    Millis { what: &'static str, value: f64 },
    #[error(transparent)]
    Undecodable(#[from] lichen_views::DecodeError),
    #[error("trust package cannot be used: {0}")]
    TrustPackage(#[from] lichen_contracts::PackageError),
    #[error("{0}")]
    Desk(&'static str),
    #[error("genesis file is not valid: {0}")]
    Genesis(#[from] lichen_views::JsonError),
    /// Names the field: `tx.payload.id: ...`.
    #[error("{0}")]
    Transaction(lichen_views::JsonError),
    #[error("bytes do not decode: {0}")]
    Encoding(lichen_contracts::CodecError),
    #[error("key: {0}")]
    Key(lichen_contracts::CryptoError),
    #[error("a {key} key cannot sign for a chain of suite {suite}")]
    KeySuite {
        key: &'static str,
        suite: &'static str,
    },
    #[error("{0}")]
    Argument(&'static str),
}

/// Verifies a presentation (or an evidence receipt, told apart by its leading tag) against the
/// encoded trust anchor at `now_ms`, allowing proofs up to `proof_age_max_ms` old, optionally
/// against the document's bytes.
pub fn verify(
    trust_anchor: &[u8],
    presentation: &[u8],
    document: Option<&[u8]>,
    now_ms: u64,
    proof_age_max_ms: u64,
) -> Result<Report, VerifierError> {
    verify_with(
        trust_anchor,
        presentation,
        document.map(Document::Bytes),
        &Policy {
            now_ms,
            proof_age_max_ms,
        },
    )
}

/// [`verify`] with the document given as bytes or as its hash.
pub fn verify_with(
    trust_anchor: &[u8],
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Result<Report, VerifierError> {
    verify_with_package(trust_anchor, None, bytes, document, policy)
}

/// Checks an encoded trust package (`GET /v1/trust-package`, `lichen trust-package export`)
/// against the encoded trust anchor.
pub fn load_package(trust_anchor: &[u8], package: &[u8]) -> Result<TrustState, VerifierError> {
    let anchor = TrustAnchor::from_bytes(trust_anchor)?;
    Ok(verify_package_bytes(&anchor, package)?)
}

/// Applies a delta to a package and returns the updated package's bytes once they verify
/// against the anchor (the base needs no check of its own: the result is checked whole).
pub fn apply_delta(
    trust_anchor: &[u8],
    package: &[u8],
    delta: &[u8],
) -> Result<Vec<u8>, VerifierError> {
    use lichen_contracts::codec::Encode;
    use lichen_contracts::presentation::TrustPackage;
    let anchor = TrustAnchor::from_bytes(trust_anchor)?;
    let base =
        TrustPackage::from_bytes(package).map_err(lichen_contracts::PackageError::Encoding)?;
    let delta = lichen_contracts::presentation::decode_delta_bytes(delta)?;
    let updated = delta.apply(&base)?;
    updated.verify(&anchor)?;
    Ok(updated.to_bytes())
}

/// [`verify_with`] also trusting a package (checked against the anchor first; a package that
/// does not verify is the caller's error, not a verdict).
pub fn verify_with_package(
    trust_anchor: &[u8],
    package: Option<&[u8]>,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Result<Report, VerifierError> {
    verify_at_desk_with(
        trust_anchor,
        package,
        bytes,
        document,
        policy,
        Desk::default(),
    )
}

/// [`verify_with_package`] at a desk: the kind of proof it accepts and the holder to check.
pub fn verify_at_desk_with(
    trust_anchor: &[u8],
    package: Option<&[u8]>,
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
    desk: Desk<'_>,
) -> Result<Report, VerifierError> {
    let anchor = TrustAnchor::from_bytes(trust_anchor)?;
    let state = package
        .map(|p| checked_package(trust_anchor, &anchor, p))
        .transpose()?;
    let trust = Trust {
        anchor: &anchor,
        package: state.as_deref(),
    };
    Ok(verify_at_desk(trust, bytes, document, policy, desk))
}

/// The last package checked, with the anchor it was checked against: a scanner verifies many
/// presentations with one package, and checking a package of 10^5 revocations takes ~0.2-0.3 s
/// in WASM (BENCHMARKS.md), so it is checked once, not per scan.
struct CheckedPackage {
    anchor: Vec<u8>,
    package: Vec<u8>,
    state: std::rc::Rc<TrustState>,
}

thread_local! {
    static LAST_PACKAGE: std::cell::RefCell<Option<CheckedPackage>> =
        const { std::cell::RefCell::new(None) };
}

/// `package` verified against the anchor, from the cache when it is the same bytes as last time.
fn checked_package(
    anchor_bytes: &[u8],
    anchor: &TrustAnchor,
    package: &[u8],
) -> Result<std::rc::Rc<TrustState>, VerifierError> {
    let cached = LAST_PACKAGE.with_borrow(|last| {
        last.as_ref()
            .filter(|c| c.anchor == anchor_bytes && c.package == package)
            .map(|c| c.state.clone())
    });
    if let Some(state) = cached {
        return Ok(state);
    }
    let state = std::rc::Rc::new(verify_package_bytes(anchor, package)?);
    LAST_PACKAGE.set(Some(CheckedPackage {
        anchor: anchor_bytes.to_vec(),
        package: package.to_vec(),
        state: state.clone(),
    }));
    Ok(state)
}

/// The trust anchor a genesis file (its JSON text, as `lichen genesis init` writes it) makes,
/// and the display names it declares: `{agencies, licence_types, submitters}`, each an object of
/// id to name. The names are as trusted as the anchor (both come from the same file) but say
/// nothing of entities added later by governance.
pub fn trust_from_genesis(text: &str) -> Result<(TrustAnchor, serde_json::Value), VerifierError> {
    let genesis = lichen_views::genesis_from_json_str(text)?;
    let names = |pairs: Vec<(&String, &String)>| {
        pairs
            .into_iter()
            .map(|(id, name)| (id.clone(), serde_json::Value::String(name.clone())))
            .collect::<serde_json::Map<_, _>>()
    };
    let directory = serde_json::json!({
        "agencies": names(genesis.agencies.iter().map(|a| (&a.id, &a.name)).collect()),
        "licence_types": names(genesis.licence_types.iter().map(|t| (&t.code, &t.name)).collect()),
        "submitters": names(genesis.submitters.iter().map(|s| (&s.id, &s.name)).collect()),
    });
    Ok((genesis.trust_anchor(), directory))
}

/// A document hash from 64 hex digits (either case).
pub fn document_hash_from_hex(text: &str) -> Result<Hash32, VerifierError> {
    if text.len() != 64 {
        return Err(VerifierError::DocumentHash(
            "expected 64 hex digits (a 32-byte hash)",
        ));
    }
    Hash32::from_hex(text).ok_or(VerifierError::DocumentHash(
        "expected 64 hex digits (a 32-byte hash); found a non-hex character",
    ))
}

/// A document hash from its 32 raw bytes.
pub fn document_hash_from_bytes(bytes: &[u8]) -> Result<Hash32, VerifierError> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash32)
        .map_err(|_| VerifierError::DocumentHash("expected 32 bytes"))
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const JS_SAFE_INTEGER_MAX: u64 = (1 << 53) - 1;

/// A time or duration in milliseconds from a JavaScript number: finite, whole, 0..=2^53 - 1.
pub fn millis(what: &'static str, value: f64) -> Result<u64, VerifierError> {
    let ok = value.is_finite()
        && value >= 0.0
        && value.fract() == 0.0
        && value <= JS_SAFE_INTEGER_MAX as f64;
    if ok {
        Ok(value as u64)
    } else {
        Err(VerifierError::Millis { what, value })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;
    use lichen_contracts::codec::Encode;
    use lichen_contracts::crypto::Suite;
    use lichen_contracts::model::LicenceDraft;
    use lichen_contracts::presentation::Verdict;
    use lichen_contracts::testkit::{GENESIS_TIME_MS, TestChain};
    use lichen_contracts::tx::Payload;

    #[test]
    fn verifies_from_bytes_and_refuses_a_bad_anchor() {
        let mut chain = TestChain::new(Suite::Intl, 4);
        let tx = chain.signed(
            Payload::IssueLicence(LicenceDraft {
                id: "W-1".into(),
                licence_type: "business".into(),
                issuer: "agency-a".into(),
                document_hash: Suite::Intl.digest(b"file"),
                holder_commitment: Hash32([3; 32]),
                valid_from_ms: GENESIS_TIME_MS,
                valid_until_ms: None,
            }),
            "agency-a",
        );
        chain.commit(vec![tx], GENESIS_TIME_MS + 1).expect("block");
        let anchor = chain.trust_anchor().to_bytes();
        let p = chain.presentation("W-1").to_bytes();
        let now = GENESIS_TIME_MS + 10;
        let report = verify(&anchor, &p, Some(b"file"), now, 1_000).expect("anchor ok");
        assert_eq!(report.verdict, Verdict::Valid);
        let report = verify(&anchor, &p, Some(b"other"), now, 1_000).expect("anchor ok");
        assert_eq!(report.verdict, Verdict::Tampered);
        assert!(matches!(
            verify(&anchor[1..], &p, None, now, 1_000),
            Err(VerifierError::TrustAnchor(_))
        ));
        let policy = Policy {
            now_ms: now,
            proof_age_max_ms: 1_000,
        };
        let by_hash = Document::Hash(Suite::Intl.digest(b"file"));
        let report = verify_with(&anchor, &p, Some(by_hash), &policy).expect("anchor ok");
        assert_eq!(report.verdict, Verdict::Valid);
    }

    #[test]
    fn parses_arguments_strictly() {
        let hex = "AB".repeat(32);
        assert_eq!(
            document_hash_from_hex(&hex).expect("hex"),
            Hash32([0xab; 32])
        );
        assert!(document_hash_from_hex(&hex[2..]).is_err());
        assert!(document_hash_from_hex(&"zz".repeat(32)).is_err());
        assert!(document_hash_from_bytes(&[1; 31]).is_err());
        assert_eq!(
            document_hash_from_bytes(&[1; 32]).expect("32"),
            Hash32([1; 32])
        );
        assert_eq!(millis("now", 1.767e12).expect("ms"), 1_767_000_000_000);
        assert_eq!(millis("now", 0.0).expect("ms"), 0);
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 2f64.powi(53)] {
            assert!(millis("now", bad).is_err(), "{bad}");
        }
        let e = millis("nowMs", -1.0).expect_err("negative").to_string();
        assert!(e.contains("nowMs"), "{e}");
    }
}
