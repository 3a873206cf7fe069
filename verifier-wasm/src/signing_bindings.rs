//! The JavaScript API of [`crate::signing`]: keys (`SigningKey`, an opaque handle whose secret
//! never crosses into JavaScript unless `toKeyFile` seals it), transactions built from their
//! JSON, signed and co-signed, hashes an issuer needs. Bad input throws an `Error` whose message
//! names the field (`tx.payload.valid_until_ms: ...`).

use lichen_contracts::codec::Encode;
use lichen_contracts::crypto::{SecretKey, Suite};
use lichen_contracts::tx::{SignedTransaction, Transaction};
use wasm_bindgen::prelude::*;

use crate::signing;

#[wasm_bindgen(typescript_custom_section)]
const TS_SIGNING_TYPES: &str = r#"
/** A chain's crypto suite: "sm" (SM2/SM3) or "intl" (Ed25519/SHA-256). */
export type Suite = "sm" | "intl";
/** A public key as the API writes it: "sm2:<66 hex>" or "ed25519:<64 hex>". */
export type PublicKeyText = string;
/** 32 bytes as 64 hex digits. */
export type Hex32 = string;

/** What an agency states when it issues (PROTOCOL.md, State entries: LicenceDraft). */
export interface LicenceDraftInput {
  id: string; licence_type: string; issuer: string;
  /** `documentHash(suite, file)`. */
  document_hash: Hex32;
  /** `holderCommitment(suite, salt, holderId)`. */
  holder_commitment: Hex32;
  valid_from_ms: number;
  /** Exclusive end; null or absent: it does not expire. */
  valid_until_ms?: number | null;
  /** Informational RFC 3339 companions: if given, they must name the same instants. */
  valid_from?: string; valid_until?: string | null;
}

/** Every payload kind (PROTOCOL.md, Transactions), by `kind`. */
export type PayloadInput =
  | { kind: "register-agency"; id: string; name: string; keys: PublicKeyText[]; status: "active" | "suspended" }
  | { kind: "update-agency"; id: string; name?: string | null; keys?: PublicKeyText[] | null }
  | { kind: "set-agency-status"; id: string; status: "active" | "suspended" }
  | { kind: "define-licence-type"; code: string; name: string; authorised: string[] }
  | { kind: "set-type-authorisation"; licence_type: string; agency: string; authorised: boolean }
  | { kind: "register-submitter"; id: string; name: string; keys: PublicKeyText[]; status: "active" | "suspended" }
  | { kind: "update-submitter"; id: string; keys?: PublicKeyText[] | null; status?: "active" | "suspended" | null }
  | { kind: "add-validator"; name: string; key: PublicKeyText; peer_id: string }
  | { kind: "remove-validator"; key: PublicKeyText }
  | { kind: "update-council"; members: PublicKeyText[]; threshold: number }
  | { kind: "add-observer"; name: string; peer_id: string }
  | { kind: "remove-observer"; peer_id: string }
  | ({ kind: "issue" } & LicenceDraftInput)
  | { kind: "suspend" | "reinstate" | "revoke"; id: string; reason: string }
  | { kind: "supersede"; old_id: string; reason: string; new: LicenceDraftInput }
  | { kind: "anchor-evidence"; hash: Hex32; submitter: string; label: string };

/** A transaction as JSON: the shape `GET /v1/transactions/{id}` prints under `tx`. */
export interface TransactionInput {
  chain_id: string;
  /** Any number the sender picks (a random one lets many transactions be in flight). */
  nonce: number;
  /** The last height it may be committed at: the chain's height plus at most `tx_expiry_blocks_max`. */
  expires_at_height: number;
  payload: PayloadInput;
}

/** A signed transaction ready for `POST /v1/transactions` (`bytes`, or `hex` in `{"tx": hex}`). */
export interface SignedTransactionOutput {
  /** H("lichen/tx/v1", Transaction), what every signer signed and the node's id for it. */
  id: Hex32;
  bytes: Uint8Array;
  hex: string;
  /** The signers' public keys, in order. */
  signers: PublicKeyText[];
}
"#;

fn suite(name: &str) -> Result<Suite, JsError> {
    Ok(signing::suite(name)?)
}

/// A transaction from a `TransactionInput` object, or from its canonical bytes.
fn transaction(suite: Suite, tx: &JsValue) -> Result<Transaction, JsError> {
    if let Some(bytes) = tx.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(signing::transaction_from_bytes(&bytes.to_vec())?);
    }
    if !tx.is_object() {
        return Err(JsError::new(
            "tx must be a TransactionInput object or the transaction's bytes (Uint8Array)",
        ));
    }
    let text = js_sys::JSON::stringify(tx)
        .map_err(|_| JsError::new("tx cannot be written as JSON (a BigInt or a cycle?)"))?;
    let text = text.as_string().unwrap_or_default();
    Ok(signing::transaction_from_json_text(suite, &text)?)
}

fn output(suite: Suite, signed: &SignedTransaction) -> Result<JsValue, JsError> {
    let bytes = signed.to_bytes();
    let object = js_sys::Object::new();
    let set = |name: &str, value: JsValue| {
        js_sys::Reflect::set(&object, &JsValue::from_str(name), &value)
            .map(|_| ())
            .map_err(|_| JsError::new("internal error: cannot build the result object"))
    };
    set("id", JsValue::from_str(&signed.id(suite).to_hex()))?;
    set("hex", JsValue::from_str(&lichen_views::hex_string(&bytes)))?;
    set("bytes", js_sys::Uint8Array::from(&bytes[..]).into())?;
    let signers = js_sys::Array::new();
    for s in &signed.signatures {
        signers.push(&JsValue::from_str(&lichen_views::public_key_string(&s.key)));
    }
    set("signers", signers.into())?;
    Ok(object.into())
}

/// A secret key held inside the WebAssembly module. Call `free()` when done to zero it.
#[wasm_bindgen]
#[derive(Debug)] // SecretKey's Debug redacts the secret
pub struct SigningKey {
    key: SecretKey,
}

#[wasm_bindgen]
impl SigningKey {
    /// A new key from at least 32 bytes of the caller's entropy
    /// (`crypto.getRandomValues(new Uint8Array(32))`); `algo` is "sm2" or "ed25519".
    pub fn generate(
        #[wasm_bindgen(unchecked_param_type = "\"sm2\" | \"ed25519\"")] algo: &str,
        entropy: &[u8],
    ) -> Result<SigningKey, JsError> {
        let key = signing::generate(signing::algo(algo)?, entropy)?;
        Ok(SigningKey { key })
    }

    /// A key from its 32 secret bytes (the SM2 scalar, or the Ed25519 seed).
    #[wasm_bindgen(js_name = fromSecret)]
    pub fn from_secret(
        #[wasm_bindgen(unchecked_param_type = "\"sm2\" | \"ed25519\"")] algo: &str,
        secret: &[u8],
    ) -> Result<SigningKey, JsError> {
        let key = signing::from_secret(signing::algo(algo)?, secret)?;
        Ok(SigningKey { key })
    }

    /// A `lichen keys new` key file opened with its password. A wrong password and an altered
    /// file give the same error.
    #[wasm_bindgen(js_name = fromKeyFile)]
    pub fn from_key_file(file: &[u8], password: &str) -> Result<SigningKey, JsError> {
        let key = signing::open_key_file(file, password)?;
        Ok(SigningKey { key })
    }

    /// This key sealed in a key file (the CLI's format), with 16 random bytes each of salt and
    /// IV from the caller.
    #[wasm_bindgen(js_name = toKeyFile)]
    pub fn to_key_file(&self, password: &str, salt: &[u8], iv: &[u8]) -> Result<Vec<u8>, JsError> {
        Ok(signing::seal_key_file(&self.key, password, salt, iv)?)
    }

    /// "sm2:<hex>" or "ed25519:<hex>", as genesis files and the API write keys.
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> String {
        lichen_views::public_key_string(&self.key.public_key())
    }

    /// "sm2" or "ed25519".
    #[wasm_bindgen(getter, unchecked_return_type = "\"sm2\" | \"ed25519\"")]
    pub fn algo(&self) -> String {
        self.key.algo().name().to_string()
    }
}

/// The canonical `Transaction` bytes of a `TransactionInput` (checked as the node decodes them).
#[wasm_bindgen(js_name = buildTransaction)]
pub fn build_transaction_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    #[wasm_bindgen(unchecked_param_type = "TransactionInput")] tx: JsValue,
) -> Result<Vec<u8>, JsError> {
    let suite = suite(suite_name)?;
    Ok(transaction(suite, &tx)?.to_bytes())
}

/// The transaction id, `H("lichen/tx/v1", Transaction)`, in hex.
#[wasm_bindgen(js_name = transactionId)]
pub fn transaction_id_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    #[wasm_bindgen(unchecked_param_type = "TransactionInput | Uint8Array")] tx: JsValue,
) -> Result<String, JsError> {
    let suite = suite(suite_name)?;
    Ok(transaction(suite, &tx)?.id(suite).to_hex())
}

/// Signs a transaction (an input object, or its canonical bytes) with one key. A council
/// transaction needing more signatures goes on with `cosignTransaction`.
#[wasm_bindgen(js_name = signTransaction, unchecked_return_type = "SignedTransactionOutput")]
pub fn sign_transaction_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    #[wasm_bindgen(unchecked_param_type = "TransactionInput | Uint8Array")] tx: JsValue,
    key: &SigningKey,
) -> Result<JsValue, JsError> {
    let suite = suite(suite_name)?;
    let signed = signing::sign(suite, transaction(suite, &tx)?, &key.key)?;
    output(suite, &signed)
}

/// Adds one more signature to an encoded signed transaction.
#[wasm_bindgen(js_name = cosignTransaction, unchecked_return_type = "SignedTransactionOutput")]
pub fn cosign_transaction_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    signed: &[u8],
    key: &SigningKey,
) -> Result<JsValue, JsError> {
    let suite = suite(suite_name)?;
    let signed = signing::cosign(suite, signed, &key.key)?;
    output(suite, &signed)
}

/// An encoded signed transaction as JSON `{id, tx, signatures}` (what is about to be sent;
/// signatures are not checked here, the node checks them).
#[wasm_bindgen(js_name = decodeSignedTransaction)]
pub fn decode_signed_transaction_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    bytes: &[u8],
) -> Result<JsValue, JsError> {
    use lichen_contracts::codec::Decode;
    let suite = suite(suite_name)?;
    let signed = SignedTransaction::from_bytes(bytes).map_err(crate::VerifierError::Encoding)?;
    crate::bindings::to_js(&lichen_views::signed_transaction_to_json(&signed, suite))
}

/// The chain hash of a licence file (SM3 or SHA-256 of its bytes, untagged): `document_hash`.
#[wasm_bindgen(js_name = documentHash)]
pub fn document_hash_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    document: &[u8],
) -> Result<String, JsError> {
    Ok(suite(suite_name)?.digest(document).to_hex())
}

/// The holder commitment of a licence: the holder's id (e.g. a unified social credit code) under
/// a random 32-byte salt the issuer gives the holder.
#[wasm_bindgen(js_name = holderCommitment)]
pub fn holder_commitment_js(
    #[wasm_bindgen(unchecked_param_type = "Suite")] suite_name: &str,
    salt: &[u8],
    #[wasm_bindgen(js_name = holderId)] holder_id: &str,
) -> Result<String, JsError> {
    Ok(signing::holder_commitment(suite(suite_name)?, salt, holder_id)?.to_hex())
}
