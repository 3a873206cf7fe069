//! The JavaScript API (wasm-bindgen). Every function takes bytes as `Uint8Array`, times as
//! numbers of milliseconds (`Date.now()`: the clock is the caller's, Rust reads none), and returns
//! a plain object (the `lichen_views` JSON, parsed by `JSON.parse`). Bad arguments — a trust
//! anchor that does not decode, a malformed document hash, a time that is not a whole number of
//! milliseconds — throw an `Error` with a message saying which; a presentation that does not
//! decode is a verdict (TAMPERED, `encoding` failed), as in the native verifier.
//!
//! These functions compile on every target (so native clippy checks them) but only run on
//! wasm32: native Rust callers use [`crate::verify`] and `lichen_views`.

use lichen_contracts::codec::Decode;
use lichen_contracts::presentation::{Document, Policy, TrustAnchor};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::{VerifierError, document_hash_from_bytes, document_hash_from_hex, millis};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** `Verdict::name()` of the native verifier: VALID and ANCHORED are the good ones. */
export type Verdict =
  | "VALID" | "ANCHORED" | "TAMPERED" | "UNKNOWN ISSUER" | "WRONG KIND" | "HOLDER MISMATCH"
  | "REVOKED" | "SUPERSEDED"
  | "SUSPENDED" | "EXPIRED" | "NOT YET VALID" | "STALE PROOF";

/** One line of the report, in the order PROTOCOL.md lists the checks. */
export interface Check {
  id: "kind" | "encoding" | "chain" | "validator_set" | "quorum" | "state_proof"
    | "document_hash" | "holder" | "issuer_authorised" | "status" | "validity_window"
    | "freshness";
  outcome: "pass" | "fail" | "skipped";
  detail: string;
}

export interface Licence {
  id: string; licence_type: string; issuer: string;
  document_hash: string; holder_commitment: string;
  valid_from_ms: number; valid_from: string;
  valid_until_ms: number | null; valid_until: string | null;
  status: "active" | "suspended" | "revoked" | "superseded"; status_reason: string;
  supersedes: string | null; superseded_by: string | null;
  issued_height: number; issued_time_ms: number; issued_time: string;
  updated_height: number; updated_time_ms: number; updated_time: string;
}

export interface Evidence {
  hash: string; submitter: string; label: string;
  height: number; time_ms: number; time: string; tx_id: string;
}

export interface VerifyReport {
  kind: "presentation" | "compact" | "receipt";
  verdict: Verdict;
  /** The verdict is VALID or ANCHORED. */
  ok: boolean;
  /** The state proof passed: `licence` / `evidence` is what the trusted validators certified. */
  certified: boolean;
  checks: Check[];
  /** The certified header's time (a receipt: the anchoring time); null if undecodable. */
  status_as_of_ms: number | null;
  status_as_of: string | null;
  height: number | null;
  licence: Licence | null;
  evidence: Evidence | null;
  /** Whether the presenting person was checked against the holder commitment. */
  holder_checked: boolean;
  /** The trust package used ("trust as of" its checkpoint), null without one. */
  trust_package: {
    checkpoint_height: number; checkpoint_time_ms: number; checkpoint_time: string;
    package_hash: string;
  } | null;
}

/** What the desk asks beyond validity (`verifyAtDesk`). */
export interface DeskOptions {
  /** The kind of proof accepted: the other kind is WRONG KIND. */
  expect?: "licence" | "evidence";
  /** The presenting person's holder id and salt (64 hex digits): checked together. */
  holderId?: string;
  holderSalt?: string;
  /** The licence file's bytes, hashed here. */
  document?: Uint8Array;
}

/** A verified trust package: its checkpoint, the validators it trusts, its revocations. */
export interface TrustPackageInfo {
  chain_id: string; suite: "sm" | "intl"; genesis_hash: string; package_hash: string;
  checkpoint: { height: number; time_ms: number; time: string; hash: string; state_root: string };
  set_changes: number; validators_since_height: number;
  validators: { name: string; key: string; peer_id: string }[];
  quorum: number;
  revocations: { suspended: number; revoked: number; superseded: number; total: number };
}

/** A presentation or receipt decoded for display: NOT verified. */
export interface DecodedPresentation {
  kind: "presentation" | "receipt";
  licence: Licence | null;
  evidence: Evidence | null;
  block: {
    chain_id: string; height: number; time_ms: number; time: string; state_root: string;
    certificate_view: number; signers: number[]; set_changes: number[];
  };
  proof_depth: number;
  sizes: {
    total: number; record: number; proof: number; header: number; certificate: number;
    set_changes: number;
  };
}

/** `trustFromGenesis`: the anchor a genesis file makes, and the names it declares. */
export interface GenesisTrust {
  /** The encoded trust anchor (what `lichen genesis anchor -o anchor.bin` writes). */
  trust_anchor: Uint8Array;
  names: {
    agencies: Record<string, string>;
    licence_types: Record<string, string>;
    submitters: Record<string, string>;
  };
}

export interface TrustAnchorInfo {
  chain_id: string; suite: "sm" | "intl"; height: number;
  /** H("lichen/trust-anchor/v1", anchor), lower-case hex. */
  fingerprint: string;
  quorum: number;
  validators: { name: string; key: string; peer_id: string }[];
}
"#;

pub(crate) fn to_js(value: &Value) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(&value.to_string())
        .map_err(|_| JsError::new("internal error: the report is not valid JSON"))
}

fn policy(now_ms: f64, proof_age_max_ms: f64) -> Result<Policy, VerifierError> {
    Ok(Policy {
        now_ms: millis("nowMs", now_ms)?,
        proof_age_max_ms: millis("proofAgeMaxMs", proof_age_max_ms)?,
    })
}

fn run(
    trust_anchor: &[u8],
    bytes: &[u8],
    document: Option<Document<'_>>,
    policy: &Policy,
) -> Result<JsValue, JsError> {
    let report = crate::verify_with(trust_anchor, bytes, document, policy)?;
    to_js(&lichen_views::report_to_json(&report, bytes))
}

/// Verifies a presentation or an evidence receipt (told apart by the leading tag) against the
/// encoded trust anchor (`GET /v1/trust-anchor`, `lichen genesis anchor -o anchor.bin`), at
/// `nowMs`, allowing a certified status up to `proofAgeMaxMs` old (receipts do not age), and, if
/// given, against the document's bytes. Throws only for a bad trust anchor or bad numbers.
#[wasm_bindgen(js_name = verify, unchecked_return_type = "VerifyReport")]
pub fn verify_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
    bytes: &[u8],
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    #[wasm_bindgen(js_name = proofAgeMaxMs)] proof_age_max_ms: f64,
    document: Option<Vec<u8>>,
) -> Result<JsValue, JsError> {
    let policy = policy(now_ms, proof_age_max_ms)?;
    run(
        trust_anchor,
        bytes,
        document.as_deref().map(Document::Bytes),
        &policy,
    )
}

/// `verify` against the document's hash instead of its bytes: 64 hex digits (either case)
/// or 32 bytes (`D(document)`: SM3 or SHA-256 by the chain's suite, as `sm3sum` / `sha256sum`).
#[wasm_bindgen(js_name = verifyWithDocumentHash, unchecked_return_type = "VerifyReport")]
pub fn verify_with_document_hash_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
    bytes: &[u8],
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    #[wasm_bindgen(js_name = proofAgeMaxMs)] proof_age_max_ms: f64,
    #[wasm_bindgen(js_name = documentHash, unchecked_param_type = "string | Uint8Array")]
    document_hash: JsValue,
) -> Result<JsValue, JsError> {
    let policy = policy(now_ms, proof_age_max_ms)?;
    let hash = if let Some(text) = document_hash.as_string() {
        document_hash_from_hex(&text)?
    } else if let Some(bytes) = document_hash.dyn_ref::<js_sys::Uint8Array>() {
        document_hash_from_bytes(&bytes.to_vec())?
    } else {
        return Err(JsError::new(
            "document hash is not valid: expected a hex string or a Uint8Array",
        ));
    };
    run(trust_anchor, bytes, Some(Document::Hash(hash)), &policy)
}

/// Decodes a presentation or receipt for display without verifying it (nothing in it is
/// trustworthy until `verify` says so). Throws if the bytes do not decode.
#[wasm_bindgen(js_name = decodePresentation, unchecked_return_type = "DecodedPresentation")]
pub fn decode_presentation_js(bytes: &[u8]) -> Result<JsValue, JsError> {
    to_js(&lichen_views::decoded_presentation_to_json(bytes)?)
}

/// Decodes an encoded trust anchor for display (chain, suite, validators, fingerprint). Throws if
/// the bytes are not a valid trust anchor.
#[wasm_bindgen(js_name = trustAnchorInfo, unchecked_return_type = "TrustAnchorInfo")]
pub fn trust_anchor_info_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
) -> Result<JsValue, JsError> {
    let anchor = TrustAnchor::from_bytes(trust_anchor).map_err(VerifierError::TrustAnchor)?;
    to_js(&lichen_views::trust_anchor_summary_to_json(&anchor))
}

/// The trust anchor of a genesis file (its JSON text) and the display names of the agencies,
/// licence types and submitters it declares. Throws if the file is not a valid genesis.
#[wasm_bindgen(js_name = trustFromGenesis, unchecked_return_type = "GenesisTrust")]
pub fn trust_from_genesis_js(genesis: &str) -> Result<JsValue, JsError> {
    use lichen_contracts::codec::Encode;
    let (anchor, names) = crate::trust_from_genesis(genesis)?;
    let out = js_sys::Object::new();
    let set = |key: &str, value: &JsValue| {
        js_sys::Reflect::set(&out, &JsValue::from_str(key), value)
            .map_err(|_| JsError::new("internal error: cannot build the result object"))
    };
    set(
        "trust_anchor",
        &js_sys::Uint8Array::from(anchor.to_bytes().as_slice()).into(),
    )?;
    set("names", &to_js(&names)?)?;
    Ok(out.into())
}

/// `verify` also trusting a trust package (checked against the anchor first): validators
/// retired before its checkpoint are no longer trusted, a licence not active at the checkpoint is
/// reported so however old the presentation, and compact presentations (`0x43`) verify. Throws
/// for a bad anchor, a package that does not verify, or bad numbers.
#[wasm_bindgen(js_name = verifyWithTrustPackage, unchecked_return_type = "VerifyReport")]
pub fn verify_with_trust_package_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
    #[wasm_bindgen(js_name = trustPackage)] trust_package: &[u8],
    bytes: &[u8],
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    #[wasm_bindgen(js_name = proofAgeMaxMs)] proof_age_max_ms: f64,
    document: Option<Vec<u8>>,
) -> Result<JsValue, JsError> {
    let policy = policy(now_ms, proof_age_max_ms)?;
    let report = crate::verify_with_package(
        trust_anchor,
        Some(trust_package),
        bytes,
        document.as_deref().map(Document::Bytes),
        &policy,
    )?;
    to_js(&lichen_views::report_to_json(&report, bytes))
}

/// Checks a trust package against the anchor and describes it (checkpoint, validators,
/// revocation counts). Throws if it does not verify, with the reason.
#[wasm_bindgen(js_name = trustPackageInfo, unchecked_return_type = "TrustPackageInfo")]
pub fn trust_package_info_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
    #[wasm_bindgen(js_name = trustPackage)] trust_package: &[u8],
) -> Result<JsValue, JsError> {
    let state = crate::load_package(trust_anchor, trust_package)?;
    to_js(&lichen_views::trust_state_to_json(&state))
}

/// Applies a trust-package delta (`GET /v1/trust-package?since=<checkpoint>`) to a package,
/// checks the result against the anchor, and returns the updated package's bytes (keep them in
/// place of the old ones). Throws if either does not decode, the delta is for another
/// checkpoint, or the result does not verify.
#[wasm_bindgen(js_name = applyTrustPackageDelta)]
pub fn apply_trust_package_delta_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
    #[wasm_bindgen(js_name = trustPackage)] trust_package: &[u8],
    delta: &[u8],
) -> Result<Vec<u8>, JsError> {
    Ok(crate::apply_delta(trust_anchor, trust_package, delta)?)
}

fn option_string(options: &JsValue, field: &str) -> Result<Option<String>, JsError> {
    let value = js_sys::Reflect::get(options, &JsValue::from_str(field))
        .map_err(|_| JsError::new("options must be an object"))?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| JsError::new(&format!("options.{field} must be a string")))
}

/// `verify` at a desk: `trustPackage` may be null; `options` says which kind of proof is
/// accepted (`expect`), who presents it (`holderId` + `holderSalt`, checked against the
/// licence's holder commitment: HOLDER MISMATCH when they do not open it) and the document.
#[wasm_bindgen(js_name = verifyAtDesk, unchecked_return_type = "VerifyReport")]
pub fn verify_at_desk_js(
    #[wasm_bindgen(js_name = trustAnchor)] trust_anchor: &[u8],
    #[wasm_bindgen(js_name = trustPackage)] trust_package: Option<Vec<u8>>,
    bytes: &[u8],
    #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    #[wasm_bindgen(js_name = proofAgeMaxMs)] proof_age_max_ms: f64,
    #[wasm_bindgen(unchecked_param_type = "DeskOptions")] options: JsValue,
) -> Result<JsValue, JsError> {
    use lichen_contracts::presentation::{Desk, Holder, ProofKind};
    let policy = policy(now_ms, proof_age_max_ms)?;
    let expect = match option_string(&options, "expect")?.as_deref() {
        None => None,
        Some("licence") => Some(ProofKind::Licence),
        Some("evidence") => Some(ProofKind::Evidence),
        Some(_) => {
            return Err(JsError::new(
                "options.expect must be 'licence' or 'evidence'",
            ));
        }
    };
    let holder_id = option_string(&options, "holderId")?;
    let salt = match (&holder_id, option_string(&options, "holderSalt")?) {
        (None, None) => None,
        (Some(_), Some(hex)) => Some(
            crate::document_hash_from_hex(&hex)
                .map_err(|_| JsError::new("options.holderSalt must be 64 hex digits"))?
                .0,
        ),
        _ => {
            return Err(JsError::new(
                "options.holderId and options.holderSalt go together",
            ));
        }
    };
    let document = js_sys::Reflect::get(&options, &JsValue::from_str("document"))
        .ok()
        .and_then(|d| d.dyn_ref::<js_sys::Uint8Array>().map(|a| a.to_vec()));
    let desk = Desk {
        expect,
        holder: holder_id
            .as_deref()
            .zip(salt)
            .map(|(id, salt)| Holder { id, salt }),
    };
    let report = crate::verify_at_desk_with(
        trust_anchor,
        trust_package.as_deref(),
        bytes,
        document.as_deref().map(Document::Bytes),
        &policy,
        desk,
    )?;
    to_js(&lichen_views::report_to_json(&report, bytes))
}
