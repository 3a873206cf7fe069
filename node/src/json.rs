//! JSON views of the ledger's types: the human-editable genesis file (`genesis.json`) and trust
//! anchor files, the HTTP API's responses and the CLI's `--json` output.
//!
//! Every type has a pair of small explicit functions in one style: `<type>_to_json(&T) ->
//! serde_json::Value` (plus the chain's [`Suite`] where the output carries a hash the suite
//! computes) and, for the types read as input, `<type>_from_json(&Value) -> Result<T, JsonError>`.
//! Input types: [`Genesis`] and each of its parts, and [`TrustAnchor`]. Output-only types:
//! licences, evidence, blocks, headers, certificates, transactions, events, verifier reports and
//! validator sets with their quorum and hash.
//!
//! # Conventions
//!
//! - **Bytes** (hashes, signatures, peer ids) are lower-case hex strings. Input hex may use either
//!   case. A hash is exactly 64 hex digits.
//! - **Public keys** are `"<algorithm>:<hex>"`: `"sm2:02ab…"` (33-byte compressed point) or
//!   `"ed25519:d75a…"` (32 bytes). The key is validated when it is read.
//! - **Times** are milliseconds since the Unix epoch (UTC) as JSON numbers, in fields named
//!   `*_ms`. Output adds, next to each such timestamp, the same instant as an RFC 3339 UTC string
//!   in a field named without the `_ms` suffix (`time_ms` → `time`, `valid_from_ms` →
//!   `valid_from`), always with milliseconds: `"2026-01-01T00:00:00.000Z"`. A `null` time has a
//!   `null` companion. On input the companion is optional and informational: `*_ms` is what counts,
//!   and a companion that names a different instant is an error (so editing only the string is
//!   caught). Durations (the chain parameters, e.g. `view_timeout_base_ms`) have no companion.
//! - **Enums** are their lower-case names from the contracts crate (`"active"`, `"sm"`,
//!   `"revoked"`...); verifier verdicts use `Verdict::name()` (`"VALID"`, `"STALE PROOF"`...).
//!   Transaction payloads and ledger events are objects with a `"kind"` field
//!   (`Payload::kind()`, e.g. `"issue"`, and [`event_kind`]) and the variant's fields flattened
//!   beside it.
//! - **Integers** (`u64` heights, times, nonces) are JSON numbers. A JavaScript client reads
//!   numbers above 2^53 inexactly; heights and millisecond times never get there in practice.
//! - **Optional values** are `null` when absent; the field is always present.
//! - **Field order** in output is alphabetical (serde_json's map is sorted), so output is stable.
//!
//! # Input rules
//!
//! - An unknown field is an error (typo protection), as is a JSON object with the same key
//!   twice. A missing field is an error naming its path. One exception: a genesis without
//!   `observers` has none (files written before observers existed still load); output always
//!   carries the field.
//! - Every error names the path of the offending value: `genesis.agencies[2].keys[0]: not a public
//!   key: bad hex ...`.
//! - Sets — entity keys, council members, authorised agencies, validators — may be listed in any
//!   order: they are sorted on input (the canonical order the encoding requires) and written
//!   sorted. A repeated element is an error.
//! - After parsing, each type's own `validate()` runs, and a genesis is also checked as the node
//!   would check it at start (ids unique, licence types name known agencies, every key of the
//!   suite's algorithm, observer peer ids distinct and none a validator's,
//!   `Genesis::state_writes`), so a bad file is refused when it is loaded.
//!
//! `genesis_from_json_str(genesis_to_json_string(g)) == g` for every valid genesis, so the
//! canonical [`Genesis::hash`] survives the round trip.

use std::collections::BTreeMap;
use std::fmt;

use lichen_contracts::block::{Block, BlockHeader, CommitCertificate, IndexedSignature};
use lichen_contracts::crypto::{Hash32, PublicKey, SigAlgo, Signature, Suite};
use lichen_contracts::error::CodecError;
use lichen_contracts::genesis::{GENESIS_ENTRIES_MAX, Genesis};
use lichen_contracts::ids;
use lichen_contracts::ledger::Event;
use lichen_contracts::model::{
    Agency, CHAIN_ID_LEN_MAX, ChainConfig, ChainParams, Council, EntityStatus, Evidence, Licence,
    LicenceDraft, LicenceType, Observer, Submitter, Validator, ValidatorSet,
};
use lichen_contracts::presentation::{Check, Report, TrustAnchor};
use lichen_contracts::tx::{Payload, SignedTransaction, Transaction, TxSignature};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value, json};

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/// Why a JSON document was refused: where (`genesis.agencies[2].keys[0]`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct JsonError {
    /// The path of the offending value from the document's root, e.g. `genesis.validators[1].key`.
    pub path: String,
    pub reason: String,
}

impl JsonError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        JsonError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

fn err<T>(path: &str, reason: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError::new(path, reason))
}

fn child(path: &str, field: &str) -> String {
    format!("{path}.{field}")
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

// ------------------------------------------------------------------------------------------------
// Text forms: hex, keys, hashes, times
// ------------------------------------------------------------------------------------------------

/// Lower-case hex of `bytes`.
pub fn hex_string(bytes: &[u8]) -> String {
    lichen_contracts::hex::encode(bytes)
}

/// Parses hex (either case). The error is a reason, for the caller to place.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    lichen_contracts::hex::decode(text)
        .ok_or_else(|| "bad hex (expected pairs of digits 0-9 a-f)".to_string())
}

/// Parses a 32-byte hash written as 64 hex digits.
pub fn parse_hash(text: &str) -> Result<Hash32, String> {
    let bytes = parse_hex(text)?;
    let len = bytes.len();
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| format!("a hash is 32 bytes (64 hex digits), found {len} bytes"))?;
    Ok(Hash32(arr))
}

/// `"sm2:<hex>"` or `"ed25519:<hex>"`.
pub fn public_key_string(key: &PublicKey) -> String {
    format!("{}:{}", key.algo().name(), hex_string(key.as_bytes()))
}

/// Parses `"sm2:<hex>"` or `"ed25519:<hex>"` and validates the key.
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let Some((prefix, hex)) = text.split_once(':') else {
        return Err(
            "not a public key: expected \"sm2:<hex>\" or \"ed25519:<hex>\" (no algorithm prefix)"
                .to_string(),
        );
    };
    let Some(algo) = SigAlgo::from_name(prefix) else {
        let shown: String = prefix.chars().take(32).collect();
        return Err(format!(
            "not a public key: unknown algorithm prefix {shown:?} (expected \"sm2:\" or \"ed25519:\")"
        ));
    };
    let bytes = parse_hex(hex).map_err(|e| format!("not a public key: {e}"))?;
    PublicKey::from_bytes(algo, &bytes).map_err(|e| format!("not a public key: {e}"))
}

pub use lichen_contracts::time::rfc3339_from_ms;
use lichen_contracts::time::{DAY_MS, days_from_civil, days_in_month};

/// Parses an RFC 3339 UTC time, `YYYY-MM-DDTHH:MM:SS[.fff]Z` (1 to 3 fraction digits, year
/// 1970..=9999, no leap second), to milliseconds since the Unix epoch.
pub fn parse_rfc3339_ms(text: &str) -> Result<u64, String> {
    let bad = || format!("not an RFC 3339 UTC time like \"2026-01-01T00:00:00.000Z\": {text:?}");
    let b = text.as_bytes();
    let num = |from: usize, to: usize| -> Result<u64, String> {
        let digits = b.get(from..to).ok_or_else(bad)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(digits
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
    };
    let sep = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return Err(bad());
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut milli = 0;
    let mut end = 19;
    if sep(19, b".") {
        let digits = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=3).contains(&digits) {
            return Err(bad());
        }
        milli = num(20, 20 + digits)? * 10u64.pow(3 - digits as u32);
        end = 20 + digits;
    }
    if b.len() != end + 1 || !sep(end, b"Zz") {
        return Err(bad());
    }
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(bad());
    }
    Ok(days_from_civil(year, month, day) * DAY_MS
        + hour * 3_600_000
        + minute * 60_000
        + second * 1_000
        + milli)
}

// ------------------------------------------------------------------------------------------------
// Parsing JSON text strictly (no repeated keys)
// ------------------------------------------------------------------------------------------------

/// A `Value` whose objects never repeat a key (serde_json keeps the last silently).
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("field {key:?} appears twice")));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses JSON text, refusing an object that repeats a key; errors are placed at `root`.
pub fn parse_json_strict(text: &str, root: &str) -> Result<Value, JsonError> {
    serde_json::from_str::<StrictValue>(text)
        .map(|StrictValue(v)| v)
        .map_err(|e| JsonError::new(root, format!("not valid JSON: {e}")))
}

/// Pretty-printed JSON with a final newline (for files and `--json` output).
pub fn to_pretty_string(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

// ------------------------------------------------------------------------------------------------
// Reading values
// ------------------------------------------------------------------------------------------------

fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An object being read: only `allowed` fields may appear.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

fn object<'a>(v: &'a Value, path: &'a str, allowed: &[&str]) -> Result<Fields<'a>, JsonError> {
    let Some(map) = v.as_object() else {
        return err(path, format!("expected an object, found {}", kind_of(v)));
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return err(
            &child(path, unknown),
            format!("unknown field (expected one of: {})", allowed.join(", ")),
        );
    }
    Ok(Fields { map, path })
}

impl<'a> Fields<'a> {
    /// Reads the required field `name` with `parse`, which gets the value and its path.
    fn req<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        let path = child(self.path, name);
        match self.map.get(name) {
            Some(v) => parse(v, &path),
            None => err(&path, "missing field"),
        }
    }

    /// Reads the optional field `name` with `parse`; `None` when it is absent.
    fn opt<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<Option<T>, JsonError> {
        let path = child(self.path, name);
        self.map.get(name).map(|v| parse(v, &path)).transpose()
    }

    /// A timestamp `<name>_ms` and its optional informational companion `<name>`.
    fn time(&self, name: &str) -> Result<u64, JsonError> {
        let ms = self.req(&format!("{name}_ms"), u64_at)?;
        if let Some(text) = self.map.get(name) {
            let path = child(self.path, name);
            let Some(text) = text.as_str() else {
                return err(&path, format!("expected a string, found {}", kind_of(text)));
            };
            let stated = parse_rfc3339_ms(text).map_err(|e| JsonError::new(&path, e))?;
            if stated != ms {
                return err(
                    &path,
                    format!(
                        "says {text} but {name}_ms is {ms} ({}); {name} is informational, edit {name}_ms",
                        rfc3339_from_ms(ms)
                    ),
                );
            }
        }
        Ok(ms)
    }
}

fn string_at(v: &Value, path: &str) -> Result<String, JsonError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => err(path, format!("expected a string, found {}", kind_of(other))),
    }
}

fn u64_at(v: &Value, path: &str) -> Result<u64, JsonError> {
    v.as_u64().map_or_else(
        || {
            err(
                path,
                format!("expected an unsigned integer, found {}", kind_of(v)),
            )
        },
        Ok,
    )
}

fn u32_at(v: &Value, path: &str) -> Result<u32, JsonError> {
    let n = u64_at(v, path)?;
    u32::try_from(n).or_else(|_| err(path, format!("{n} is out of range (at most {})", u32::MAX)))
}

fn u16_at(v: &Value, path: &str) -> Result<u16, JsonError> {
    let n = u64_at(v, path)?;
    u16::try_from(n).or_else(|_| err(path, format!("{n} is out of range (at most {})", u16::MAX)))
}

fn hex_at(v: &Value, path: &str) -> Result<Vec<u8>, JsonError> {
    parse_hex(&string_at(v, path)?).map_err(|e| JsonError::new(path, e))
}

fn array_at<'a>(v: &'a Value, path: &str, max: usize) -> Result<&'a [Value], JsonError> {
    let Some(items) = v.as_array() else {
        return err(path, format!("expected an array, found {}", kind_of(v)));
    };
    if items.len() > max {
        return err(
            path,
            format!("{} entries, more than the maximum {max}", items.len()),
        );
    }
    Ok(items)
}

/// A key; with `algo`, it must be of that algorithm (the chain suite's).
fn key_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<PublicKey, JsonError> {
    let key = parse_public_key(&string_at(v, path)?).map_err(|e| JsonError::new(path, e))?;
    if let Some(algo) = algo
        && key.algo() != algo
    {
        return err(
            path,
            format!(
                "{} key, but this chain's suite signs with {algo}",
                key.algo()
            ),
        );
    }
    Ok(key)
}

/// A set of keys in any order: sorted, a repeated key refused.
fn key_set_at(
    v: &Value,
    path: &str,
    max: usize,
    algo: Option<SigAlgo>,
) -> Result<Vec<PublicKey>, JsonError> {
    let mut seen: BTreeMap<PublicKey, usize> = BTreeMap::new();
    for (i, item) in array_at(v, path, max)?.iter().enumerate() {
        let item_path = index(path, i);
        let key = key_at(item, &item_path, algo)?;
        if let Some(first) = seen.insert(key, i) {
            return err(
                &item_path,
                format!("duplicate key (same as {})", index(path, first)),
            );
        }
    }
    Ok(seen.into_keys().collect())
}

/// A set of identifiers in any order: sorted, a repeated one refused.
fn id_set_at(v: &Value, path: &str, max: usize) -> Result<Vec<String>, JsonError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in array_at(v, path, max)?.iter().enumerate() {
        let item_path = index(path, i);
        let id = string_at(item, &item_path)?;
        if let Some(first) = seen.get(&id) {
            return err(
                &item_path,
                format!("duplicate {id:?} (same as {})", index(path, *first)),
            );
        }
        seen.insert(id, i);
    }
    Ok(seen.into_keys().collect())
}

fn suite_at(v: &Value, path: &str) -> Result<Suite, JsonError> {
    let name = string_at(v, path)?;
    Suite::from_name(&name).map_or_else(
        || {
            err(
                path,
                format!("unknown suite {name:?} (expected \"sm\" or \"intl\")"),
            )
        },
        Ok,
    )
}

fn entity_status_at(v: &Value, path: &str) -> Result<EntityStatus, JsonError> {
    let name = string_at(v, path)?;
    [EntityStatus::Active, EntityStatus::Suspended]
        .into_iter()
        .find(|s| s.name() == name)
        .map_or_else(
            || {
                err(
                    path,
                    format!("unknown status {name:?} (expected \"active\" or \"suspended\")"),
                )
            },
            Ok,
        )
}

/// Runs a type's `validate()`, placing a refusal at the JSON field it names (`fields` maps the
/// contracts crate's field names to JSON field names) or else at the object.
fn validated(
    result: Result<(), CodecError>,
    path: &str,
    fields: &[(&str, &str)],
) -> Result<(), JsonError> {
    let Err(e) = result else { return Ok(()) };
    let codec_field = match &e {
        CodecError::TooLong { field, .. }
        | CodecError::InvalidValue { field, .. }
        | CodecError::InvalidUtf8 { field } => Some(*field),
        _ => None,
    };
    let place = codec_field
        .and_then(|f| fields.iter().find(|(codec, _)| *codec == f))
        .map_or_else(|| path.to_string(), |(_, json)| child(path, json));
    err(&place, e.to_string())
}

// ------------------------------------------------------------------------------------------------
// Genesis and its parts: both directions
// ------------------------------------------------------------------------------------------------

/// `{id, name, keys, status}`.
pub fn agency_to_json(a: &Agency) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "keys": keys_to_json(&a.keys),
        "status": a.status.name(),
    })
}

pub fn agency_from_json(v: &Value) -> Result<Agency, JsonError> {
    agency_at(v, "agency", None)
}

fn agency_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<Agency, JsonError> {
    let f = object(v, path, &["id", "name", "keys", "status"])?;
    let agency = Agency {
        id: f.req("id", string_at)?,
        name: f.req("name", string_at)?,
        keys: f.req("keys", |v, p| {
            key_set_at(v, p, lichen_contracts::model::ENTITY_KEYS_MAX, algo)
        })?,
        status: f.req("status", entity_status_at)?,
    };
    validated(
        agency.validate(),
        path,
        &[
            ("agency id", "id"),
            ("agency name", "name"),
            ("agency keys", "keys"),
        ],
    )?;
    Ok(agency)
}

/// `{id, name, keys, status}`.
pub fn submitter_to_json(s: &Submitter) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "keys": keys_to_json(&s.keys),
        "status": s.status.name(),
    })
}

pub fn submitter_from_json(v: &Value) -> Result<Submitter, JsonError> {
    submitter_at(v, "submitter", None)
}

fn submitter_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<Submitter, JsonError> {
    let f = object(v, path, &["id", "name", "keys", "status"])?;
    let submitter = Submitter {
        id: f.req("id", string_at)?,
        name: f.req("name", string_at)?,
        keys: f.req("keys", |v, p| {
            key_set_at(v, p, lichen_contracts::model::ENTITY_KEYS_MAX, algo)
        })?,
        status: f.req("status", entity_status_at)?,
    };
    validated(
        submitter.validate(),
        path,
        &[
            ("submitter id", "id"),
            ("submitter name", "name"),
            ("submitter keys", "keys"),
        ],
    )?;
    Ok(submitter)
}

/// `{code, name, authorised: [agency ids]}`.
pub fn licence_type_to_json(t: &LicenceType) -> Value {
    json!({
        "code": t.code,
        "name": t.name,
        "authorised": t.authorised,
    })
}

pub fn licence_type_from_json(v: &Value) -> Result<LicenceType, JsonError> {
    licence_type_at(v, "licence_type")
}

fn licence_type_at(v: &Value, path: &str) -> Result<LicenceType, JsonError> {
    let f = object(v, path, &["code", "name", "authorised"])?;
    let t = LicenceType {
        code: f.req("code", string_at)?,
        name: f.req("name", string_at)?,
        authorised: f.req("authorised", |v, p| {
            let ids = id_set_at(v, p, lichen_contracts::model::TYPE_AGENCIES_MAX)?;
            for (i, id) in ids.iter().enumerate() {
                // Name the input position of a bad id, not its sorted one.
                let at = v
                    .as_array()
                    .and_then(|raw| raw.iter().position(|x| x.as_str() == Some(id)))
                    .unwrap_or(i);
                ids::check_identifier("agency id", id, lichen_contracts::model::ID_LEN_MAX)
                    .map_err(|e| JsonError::new(index(p, at), e.to_string()))?;
            }
            Ok(ids)
        })?,
    };
    validated(
        t.validate(),
        path,
        &[
            ("licence type code", "code"),
            ("licence type name", "name"),
            ("authorised agencies", "authorised"),
            ("agency id", "authorised"),
        ],
    )?;
    Ok(t)
}

/// `{name, key, peer_id (hex)}`.
pub fn validator_to_json(v: &Validator) -> Value {
    json!({
        "name": v.name,
        "key": public_key_string(&v.key),
        "peer_id": hex_string(&v.peer_id),
    })
}

pub fn validator_from_json(v: &Value) -> Result<Validator, JsonError> {
    validator_at(v, "validator", None)
}

fn validator_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<Validator, JsonError> {
    let f = object(v, path, &["name", "key", "peer_id"])?;
    let validator = Validator {
        name: f.req("name", string_at)?,
        key: f.req("key", |v, p| key_at(v, p, algo))?,
        peer_id: f.req("peer_id", hex_at)?,
    };
    validated(
        validator.validate(),
        path,
        &[("validator name", "name"), ("peer id", "peer_id")],
    )?;
    Ok(validator)
}

/// `{name, peer_id (hex)}`.
pub fn observer_to_json(o: &Observer) -> Value {
    json!({
        "name": o.name,
        "peer_id": hex_string(&o.peer_id),
    })
}

pub fn observer_from_json(v: &Value) -> Result<Observer, JsonError> {
    observer_at(v, "observer")
}

fn observer_at(v: &Value, path: &str) -> Result<Observer, JsonError> {
    let f = object(v, path, &["name", "peer_id"])?;
    let observer = Observer {
        name: f.req("name", string_at)?,
        peer_id: f.req("peer_id", hex_at)?,
    };
    validated(
        observer.validate(),
        path,
        &[("observer name", "name"), ("peer id", "peer_id")],
    )?;
    Ok(observer)
}

/// The validators as a plain array in set order (sorted by key): the genesis and trust-anchor
/// form. See [`validator_set_to_json`] for the API form with quorum and hash.
pub fn validators_to_json(set: &ValidatorSet) -> Value {
    Value::Array(set.validators.iter().map(validator_to_json).collect())
}

/// Reads an array of validators in any order into a set (`ValidatorSet::new` sorts by key).
pub fn validators_from_json(v: &Value) -> Result<ValidatorSet, JsonError> {
    validators_at(v, "validators", None)
}

fn validators_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<ValidatorSet, JsonError> {
    let items = array_at(v, path, lichen_contracts::model::VALIDATORS_MAX)?;
    let mut validators = Vec::with_capacity(items.len());
    let mut keys: BTreeMap<&PublicKey, usize> = BTreeMap::new();
    let mut peers: BTreeMap<&[u8], usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        validators.push(validator_at(item, &index(path, i), algo)?);
    }
    for (i, val) in validators.iter().enumerate() {
        if let Some(first) = keys.insert(&val.key, i) {
            return err(
                &child(&index(path, i), "key"),
                format!(
                    "duplicate validator key (same as {})",
                    child(&index(path, first), "key")
                ),
            );
        }
        if let Some(first) = peers.insert(&val.peer_id, i) {
            return err(
                &child(&index(path, i), "peer_id"),
                format!(
                    "duplicate peer id (same as {})",
                    child(&index(path, first), "peer_id")
                ),
            );
        }
    }
    ValidatorSet::new(validators).map_err(|e| JsonError::new(path, e.to_string()))
}

/// `{members, threshold}`.
pub fn council_to_json(c: &Council) -> Value {
    json!({
        "members": keys_to_json(&c.members),
        "threshold": c.threshold,
    })
}

pub fn council_from_json(v: &Value) -> Result<Council, JsonError> {
    council_at(v, "council", None)
}

fn council_at(v: &Value, path: &str, algo: Option<SigAlgo>) -> Result<Council, JsonError> {
    let f = object(v, path, &["members", "threshold"])?;
    let council = Council {
        members: f.req("members", |v, p| {
            key_set_at(v, p, lichen_contracts::model::COUNCIL_MEMBERS_MAX, algo)
        })?,
        threshold: f.req("threshold", u16_at)?,
    };
    validated(
        council.validate(),
        path,
        &[
            ("council members", "members"),
            ("council threshold", "threshold"),
        ],
    )?;
    Ok(council)
}

/// Every field by its Rust name (all durations in milliseconds, or counts).
pub fn chain_params_to_json(p: &ChainParams) -> Value {
    json!({
        "view_timeout_base_ms": p.view_timeout_base_ms,
        "view_timeout_step_ms": p.view_timeout_step_ms,
        "view_timeout_max_ms": p.view_timeout_max_ms,
        "block_interval_ms": p.block_interval_ms,
        "block_txs_max": p.block_txs_max,
        "block_bytes_max": p.block_bytes_max,
        "tx_expiry_blocks_max": p.tx_expiry_blocks_max,
    })
}

pub fn chain_params_from_json(v: &Value) -> Result<ChainParams, JsonError> {
    chain_params_at(v, "params")
}

fn chain_params_at(v: &Value, path: &str) -> Result<ChainParams, JsonError> {
    let f = object(
        v,
        path,
        &[
            "view_timeout_base_ms",
            "view_timeout_step_ms",
            "view_timeout_max_ms",
            "block_interval_ms",
            "block_txs_max",
            "block_bytes_max",
            "tx_expiry_blocks_max",
        ],
    )?;
    let params = ChainParams {
        view_timeout_base_ms: f.req("view_timeout_base_ms", u64_at)?,
        view_timeout_step_ms: f.req("view_timeout_step_ms", u64_at)?,
        view_timeout_max_ms: f.req("view_timeout_max_ms", u64_at)?,
        block_interval_ms: f.req("block_interval_ms", u64_at)?,
        block_txs_max: f.req("block_txs_max", u32_at)?,
        block_bytes_max: f.req("block_bytes_max", u32_at)?,
        tx_expiry_blocks_max: f.req("tx_expiry_blocks_max", u64_at)?,
    };
    validated(params.validate(), path, &[])?;
    Ok(params)
}

/// `{chain_id, suite, council, params}`.
pub fn chain_config_to_json(c: &ChainConfig) -> Value {
    json!({
        "chain_id": c.chain_id,
        "suite": c.suite.name(),
        "council": council_to_json(&c.council),
        "params": chain_params_to_json(&c.params),
    })
}

pub fn chain_config_from_json(v: &Value) -> Result<ChainConfig, JsonError> {
    chain_config_at(v, "config")
}

fn chain_config_at(v: &Value, path: &str) -> Result<ChainConfig, JsonError> {
    let f = object(v, path, &["chain_id", "suite", "council", "params"])?;
    let suite = f.req("suite", suite_at)?;
    let config = ChainConfig {
        chain_id: f.req("chain_id", string_at)?,
        suite,
        council: f.req("council", |v, p| council_at(v, p, Some(suite.sig_algo())))?,
        params: f.req("params", chain_params_at)?,
    };
    validated(config.validate(), path, &[("chain id", "chain_id")])?;
    Ok(config)
}

/// `{config, time_ms, time, validators, agencies, licence_types, submitters, observers}`.
pub fn genesis_to_json(g: &Genesis) -> Value {
    json!({
        "config": chain_config_to_json(&g.config),
        "time_ms": g.time_ms,
        "time": rfc3339_from_ms(g.time_ms),
        "validators": validators_to_json(&g.validators),
        "agencies": g.agencies.iter().map(agency_to_json).collect::<Vec<_>>(),
        "licence_types": g.licence_types.iter().map(licence_type_to_json).collect::<Vec<_>>(),
        "submitters": g.submitters.iter().map(submitter_to_json).collect::<Vec<_>>(),
        "observers": g.observers.iter().map(observer_to_json).collect::<Vec<_>>(),
    })
}

/// Reads a genesis and checks it as the node will (see the module documentation). Paths start at
/// `genesis`.
pub fn genesis_from_json(v: &Value) -> Result<Genesis, JsonError> {
    genesis_at(v, "genesis")
}

/// Finds the entry whose `field` repeats an earlier one's, as (later index, earlier index).
fn first_repeat<'a, T, K: Ord + ?Sized + 'a>(
    items: &'a [T],
    field: impl Fn(&'a T) -> &'a K,
) -> Option<(usize, usize)> {
    let mut seen: BTreeMap<&K, usize> = BTreeMap::new();
    items
        .iter()
        .enumerate()
        .find_map(|(i, item)| seen.insert(field(item), i).map(|first| (i, first)))
}

fn genesis_at(v: &Value, path: &str) -> Result<Genesis, JsonError> {
    let f = object(
        v,
        path,
        &[
            "config",
            "time_ms",
            "time",
            "validators",
            "agencies",
            "licence_types",
            "submitters",
            "observers",
        ],
    )?;
    let config = f.req("config", chain_config_at)?;
    let algo = Some(config.suite.sig_algo());
    let time_ms = f.time("time")?;
    let validators = f.req("validators", |v, p| validators_at(v, p, algo))?;
    let list = |name: &str| -> Result<(&[Value], String), JsonError> {
        f.req(name, |v, p| {
            Ok((array_at(v, p, GENESIS_ENTRIES_MAX)?, p.to_string()))
        })
    };

    let (items, at) = list("agencies")?;
    let agencies = items
        .iter()
        .enumerate()
        .map(|(i, item)| agency_at(item, &index(&at, i), algo))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((i, first)) = first_repeat(&agencies, |a| &a.id) {
        return err(
            &child(&index(&at, i), "id"),
            format!(
                "duplicate agency id {:?} (same as {})",
                agencies[i].id,
                child(&index(&at, first), "id")
            ),
        );
    }

    let (items, at) = list("licence_types")?;
    let licence_types = items
        .iter()
        .enumerate()
        .map(|(i, item)| licence_type_at(item, &index(&at, i)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((i, first)) = first_repeat(&licence_types, |t| &t.code) {
        return err(
            &child(&index(&at, i), "code"),
            format!(
                "duplicate licence type code {:?} (same as {})",
                licence_types[i].code,
                child(&index(&at, first), "code")
            ),
        );
    }
    for (i, t) in licence_types.iter().enumerate() {
        if let Some(unknown) = t
            .authorised
            .iter()
            .find(|id| !agencies.iter().any(|a| &a.id == *id))
        {
            let list_path = child(&index(&at, i), "authorised");
            let pos = items[i]
                .get("authorised")
                .and_then(Value::as_array)
                .and_then(|raw| raw.iter().position(|x| x.as_str() == Some(unknown)));
            let place = pos.map_or(list_path.clone(), |k| index(&list_path, k));
            return err(
                &place,
                format!("unknown agency {unknown:?} (not in {path}.agencies)"),
            );
        }
    }

    let (items, at) = list("submitters")?;
    let submitters = items
        .iter()
        .enumerate()
        .map(|(i, item)| submitter_at(item, &index(&at, i), algo))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((i, first)) = first_repeat(&submitters, |s| &s.id) {
        return err(
            &child(&index(&at, i), "id"),
            format!(
                "duplicate submitter id {:?} (same as {})",
                submitters[i].id,
                child(&index(&at, first), "id")
            ),
        );
    }

    // Optional (a genesis from before observers has none); strict like the rest when present.
    let observers = f
        .opt("observers", |v, p| {
            let items = array_at(v, p, GENESIS_ENTRIES_MAX)?;
            let observers = items
                .iter()
                .enumerate()
                .map(|(i, item)| observer_at(item, &index(p, i)))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some((i, first)) = first_repeat(&observers, |o| o.peer_id.as_slice()) {
                return err(
                    &child(&index(p, i), "peer_id"),
                    format!(
                        "duplicate peer id (same as {})",
                        child(&index(p, first), "peer_id")
                    ),
                );
            }
            for (i, o) in observers.iter().enumerate() {
                if let Some(v) = validators
                    .validators
                    .iter()
                    .find(|v| v.peer_id == o.peer_id)
                {
                    return err(
                        &child(&index(p, i), "peer_id"),
                        format!(
                            "peer id already used by validator {:?} (in {path}.validators)",
                            v.name
                        ),
                    );
                }
            }
            Ok(observers)
        })?
        .unwrap_or_default();

    let genesis = Genesis {
        config,
        time_ms,
        validators,
        agencies,
        licence_types,
        submitters,
        observers,
    };
    // Everything above should have caught what the node refuses; this is the node's own check.
    genesis
        .state_writes()
        .map_err(|e| JsonError::new(path, format!("refused as a genesis: {e}")))?;
    Ok(genesis)
}

/// Parses a genesis file (strict JSON: no repeated keys) and checks it.
pub fn genesis_from_json_str(text: &str) -> Result<Genesis, JsonError> {
    genesis_from_json(&parse_json_strict(text, "genesis")?)
}

/// The genesis file: pretty JSON, fields in alphabetical order, with a final newline.
pub fn genesis_to_json_string(g: &Genesis) -> String {
    to_pretty_string(&genesis_to_json(g))
}

/// `{chain_id, suite, height, validators}` (validators as in the genesis).
pub fn trust_anchor_to_json(a: &TrustAnchor) -> Value {
    json!({
        "chain_id": a.chain_id,
        "suite": a.suite.name(),
        "height": a.height,
        "validators": validators_to_json(&a.validators),
    })
}

pub fn trust_anchor_from_json(v: &Value) -> Result<TrustAnchor, JsonError> {
    trust_anchor_at(v, "anchor")
}

fn trust_anchor_at(v: &Value, path: &str) -> Result<TrustAnchor, JsonError> {
    let f = object(v, path, &["chain_id", "suite", "height", "validators"])?;
    let suite = f.req("suite", suite_at)?;
    let chain_id = f.req("chain_id", |v, p| {
        let id = string_at(v, p)?;
        ids::check_identifier("chain id", &id, CHAIN_ID_LEN_MAX)
            .map_err(|e| JsonError::new(p, e.to_string()))?;
        Ok(id)
    })?;
    Ok(TrustAnchor {
        chain_id,
        suite,
        height: f.req("height", u64_at)?,
        validators: f.req("validators", |v, p| {
            validators_at(v, p, Some(suite.sig_algo()))
        })?,
    })
}

/// Parses a trust-anchor file (strict JSON); paths start at `anchor`.
pub fn trust_anchor_from_json_str(text: &str) -> Result<TrustAnchor, JsonError> {
    trust_anchor_from_json(&parse_json_strict(text, "anchor")?)
}

/// A trust-anchor file: pretty JSON with a final newline.
pub fn trust_anchor_to_json_string(a: &TrustAnchor) -> String {
    to_pretty_string(&trust_anchor_to_json(a))
}

// ------------------------------------------------------------------------------------------------
// Output only
// ------------------------------------------------------------------------------------------------

fn keys_to_json(keys: &[PublicKey]) -> Value {
    Value::Array(
        keys.iter()
            .map(|k| Value::String(public_key_string(k)))
            .collect(),
    )
}

/// A public key as `"sm2:<hex>"` / `"ed25519:<hex>"`.
pub fn public_key_to_json(key: &PublicKey) -> Value {
    Value::String(public_key_string(key))
}

/// A hash as 64 lower-case hex digits.
pub fn hash_to_json(hash: &Hash32) -> Value {
    Value::String(hash.to_hex())
}

/// A signature as 128 lower-case hex digits (its algorithm is its signer key's).
pub fn signature_to_json(sig: &Signature) -> Value {
    Value::String(hex_string(sig.as_bytes()))
}

fn opt_time(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339_from_ms(ms)))
}

/// Adds `kind` to an object's fields (payloads and events).
fn with_kind(kind: &str, fields: Value) -> Value {
    match fields {
        Value::Object(mut map) => {
            map.insert("kind".into(), Value::String(kind.into()));
            Value::Object(map)
        }
        other => json!({ "kind": kind, "value": other }),
    }
}

/// What an agency states at issue: `{id, licence_type, issuer, document_hash, holder_commitment,
/// valid_from_ms, valid_from, valid_until_ms, valid_until}` (the last two `null` if it does not
/// expire).
pub fn licence_draft_to_json(d: &LicenceDraft) -> Value {
    json!({
        "id": d.id,
        "licence_type": d.licence_type,
        "issuer": d.issuer,
        "document_hash": d.document_hash.to_hex(),
        "holder_commitment": d.holder_commitment.to_hex(),
        "valid_from_ms": d.valid_from_ms,
        "valid_from": rfc3339_from_ms(d.valid_from_ms),
        "valid_until_ms": d.valid_until_ms,
        "valid_until": opt_time(d.valid_until_ms),
    })
}

/// A licence record, the draft's fields flattened beside `status`, `status_reason`, `supersedes`,
/// `superseded_by` (`null` if none), `issued_height`, `issued_time_ms`, `updated_height`,
/// `updated_time_ms` (with their RFC 3339 companions).
pub fn licence_to_json(l: &Licence) -> Value {
    let mut v = licence_draft_to_json(&l.draft);
    if let Value::Object(map) = &mut v {
        let rest = json!({
            "status": l.status.name(),
            "status_reason": l.status_reason,
            "supersedes": l.supersedes,
            "superseded_by": l.superseded_by,
            "issued_height": l.issued_height,
            "issued_time_ms": l.issued_time_ms,
            "issued_time": rfc3339_from_ms(l.issued_time_ms),
            "updated_height": l.updated_height,
            "updated_time_ms": l.updated_time_ms,
            "updated_time": rfc3339_from_ms(l.updated_time_ms),
        });
        if let Value::Object(rest) = rest {
            map.extend(rest);
        }
    }
    v
}

/// `{hash, submitter, label, height, time_ms, time, tx_id}`.
pub fn evidence_to_json(e: &Evidence) -> Value {
    json!({
        "hash": e.hash.to_hex(),
        "submitter": e.submitter,
        "label": e.label,
        "height": e.height,
        "time_ms": e.time_ms,
        "time": rfc3339_from_ms(e.time_ms),
        "tx_id": e.tx_id.to_hex(),
    })
}

/// Every header field, `time`, and the block `hash` under `suite`.
pub fn block_header_to_json(h: &BlockHeader, suite: Suite) -> Value {
    json!({
        "hash": h.hash(suite).to_hex(),
        "version": h.version,
        "chain_id": h.chain_id,
        "height": h.height,
        "time_ms": h.time_ms,
        "time": rfc3339_from_ms(h.time_ms),
        "view": h.view,
        "previous_hash": h.previous_hash.to_hex(),
        "tx_count": h.tx_count,
        "tx_root": h.tx_root.to_hex(),
        "state_root": h.state_root.to_hex(),
        "validator_set_hash": h.validator_set_hash.to_hex(),
        "next_validator_set_hash": h.next_validator_set_hash.to_hex(),
        "proposer": h.proposer,
    })
}

fn indexed_signature_to_json(s: &IndexedSignature) -> Value {
    json!({ "index": s.index, "signature": signature_to_json(&s.signature) })
}

/// `{height, view, block_hash, signatures: [{index, signature}]}`.
pub fn commit_certificate_to_json(c: &CommitCertificate) -> Value {
    json!({
        "height": c.height,
        "view": c.view,
        "block_hash": c.block_hash.to_hex(),
        "signatures": c.signatures.iter().map(indexed_signature_to_json).collect::<Vec<_>>(),
    })
}

/// `{"kind": Payload::kind(), ...fields}`. Variants that wrap a struct (register-agency, issue...)
/// carry its fields flattened; `supersede` carries the new licence under `new`. Absent optional
/// fields of `update-agency` / `update-submitter` are `null` (unchanged).
pub fn payload_to_json(p: &Payload) -> Value {
    let fields = match p {
        Payload::RegisterAgency(a) => agency_to_json(a),
        Payload::UpdateAgency { id, name, keys } => json!({
            "id": id,
            "name": name,
            "keys": keys.as_deref().map(keys_to_json),
        }),
        Payload::SetAgencyStatus { id, status } => json!({ "id": id, "status": status.name() }),
        Payload::DefineLicenceType(t) => licence_type_to_json(t),
        Payload::SetTypeAuthorisation {
            licence_type,
            agency,
            authorised,
        } => json!({
            "licence_type": licence_type,
            "agency": agency,
            "authorised": authorised,
        }),
        Payload::RegisterSubmitter(s) => submitter_to_json(s),
        Payload::UpdateSubmitter { id, keys, status } => json!({
            "id": id,
            "keys": keys.as_deref().map(keys_to_json),
            "status": status.map(EntityStatus::name),
        }),
        Payload::AddValidator(v) => validator_to_json(v),
        Payload::RemoveValidator { key } => json!({ "key": public_key_string(key) }),
        Payload::UpdateCouncil(c) => council_to_json(c),
        Payload::AddObserver(o) => observer_to_json(o),
        Payload::RemoveObserver { peer_id } => json!({ "peer_id": hex_string(peer_id) }),
        Payload::IssueLicence(d) => licence_draft_to_json(d),
        Payload::SuspendLicence { id, reason }
        | Payload::ReinstateLicence { id, reason }
        | Payload::RevokeLicence { id, reason } => json!({ "id": id, "reason": reason }),
        Payload::SupersedeLicence {
            old_id,
            reason,
            new,
        } => json!({
            "old_id": old_id,
            "reason": reason,
            "new": licence_draft_to_json(new),
        }),
        Payload::AnchorEvidence {
            hash,
            submitter,
            label,
        } => json!({
            "hash": hash.to_hex(),
            "submitter": submitter,
            "label": label,
        }),
    };
    with_kind(p.kind(), fields)
}

/// `{chain_id, nonce, expires_at_height, payload}`.
pub fn transaction_to_json(tx: &Transaction) -> Value {
    json!({
        "chain_id": tx.chain_id,
        "nonce": tx.nonce,
        "expires_at_height": tx.expires_at_height,
        "payload": payload_to_json(&tx.payload),
    })
}

fn tx_signature_to_json(s: &TxSignature) -> Value {
    json!({
        "key": public_key_string(&s.key),
        "signature": signature_to_json(&s.signature),
    })
}

/// `{id, tx, signatures: [{key, signature}]}`, the id under `suite`.
pub fn signed_transaction_to_json(tx: &SignedTransaction, suite: Suite) -> Value {
    json!({
        "id": tx.id(suite).to_hex(),
        "tx": transaction_to_json(&tx.tx),
        "signatures": tx.signatures.iter().map(tx_signature_to_json).collect::<Vec<_>>(),
    })
}

/// `{header, txs}`.
pub fn block_to_json(b: &Block, suite: Suite) -> Value {
    json!({
        "header": block_header_to_json(&b.header, suite),
        "txs": b.txs.iter().map(|t| signed_transaction_to_json(t, suite)).collect::<Vec<_>>(),
    })
}

/// A ledger event's kind: `licence-changed`, `evidence-anchored`, `agency-changed`,
/// `licence-type-changed`, `submitter-changed`, `validator-set-changed`, `council-changed`,
/// `observer-added`, `observer-removed`.
pub fn event_kind(e: &Event) -> &'static str {
    match e {
        Event::LicenceChanged { .. } => "licence-changed",
        Event::EvidenceAnchored { .. } => "evidence-anchored",
        Event::AgencyChanged { .. } => "agency-changed",
        Event::LicenceTypeChanged { .. } => "licence-type-changed",
        Event::SubmitterChanged { .. } => "submitter-changed",
        Event::ValidatorSetChanged { .. } => "validator-set-changed",
        Event::CouncilChanged => "council-changed",
        Event::ObserverAdded { .. } => "observer-added",
        Event::ObserverRemoved { .. } => "observer-removed",
    }
}

/// `{"kind": event_kind(), ...fields}`.
pub fn event_to_json(e: &Event) -> Value {
    let fields = match e {
        Event::LicenceChanged { id, status } => json!({ "id": id, "status": status.name() }),
        Event::EvidenceAnchored { hash } => json!({ "hash": hash.to_hex() }),
        Event::AgencyChanged { id } | Event::SubmitterChanged { id } => json!({ "id": id }),
        Event::LicenceTypeChanged { code } => json!({ "code": code }),
        Event::ValidatorSetChanged { size } => json!({ "size": size }),
        Event::CouncilChanged => json!({}),
        Event::ObserverAdded { peer_id } | Event::ObserverRemoved { peer_id } => {
            json!({ "peer_id": hex_string(peer_id) })
        }
    };
    with_kind(event_kind(e), fields)
}

fn check_to_json(c: &Check) -> Value {
    json!({
        "id": c.id.name(),
        "outcome": c.outcome.name(),
        "detail": c.detail,
    })
}

/// `{verdict, checks: [{id, outcome, detail}], status_as_of_ms, status_as_of, height}` (the last
/// three `null` when nothing was certified).
pub fn report_to_json(r: &Report) -> Value {
    json!({
        "verdict": r.verdict.name(),
        "checks": r.checks.iter().map(check_to_json).collect::<Vec<_>>(),
        "status_as_of_ms": r.status_as_of_ms,
        "status_as_of": opt_time(r.status_as_of_ms),
        "height": r.height,
    })
}

/// The API form of a validator set: `{validators, quorum, hash}`, the hash under `suite`.
pub fn validator_set_to_json(set: &ValidatorSet, suite: Suite) -> Value {
    json!({
        "validators": validators_to_json(set),
        "quorum": set.quorum(),
        "hash": set.hash(suite).to_hex(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_700_000_000_000, "2023-11-14T22:13:20.000Z"),
            (1_767_225_600_000, "2026-01-01T00:00:00.000Z"),
            (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(rfc3339_from_ms(ms), text, "{ms}");
            assert_eq!(parse_rfc3339_ms(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn rfc3339_round_trips_every_day_and_refuses_nonsense() {
        // Every day from 1970 to 2400, at an odd time of day.
        let mut previous = None;
        for day in 0..157_000u64 {
            let ms = day * DAY_MS + 45_296_789;
            let text = rfc3339_from_ms(ms);
            assert_eq!(parse_rfc3339_ms(&text), Ok(ms), "{text}");
            assert!(previous.as_ref().is_none_or(|p: &String| *p < text));
            previous = Some(text);
        }
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T00:00:00Z"),
            Ok(1_767_225_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T00:00:00.5Z"),
            Ok(1_767_225_600_500)
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00+08:00",
            "2026-01-01T00:00:00.1234Z",
            "2026-01-01T00:00:00.Z",
            "2026-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:60:00Z",
            "2026-01-01T23:59:60Z",
            "1969-12-31T23:59:59Z",
            "2026-01-01T00:00:00ZZ",
            "+026-01-01T00:00:00Z",
        ] {
            assert!(parse_rfc3339_ms(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_rfc3339_ms("2024-02-29T00:00:00Z").is_ok());
        assert!(parse_rfc3339_ms("2000-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn strict_parse_refuses_repeated_keys() {
        let e = parse_json_strict(r#"{"a": 1, "b": {"c": 1, "c": 2}}"#, "doc").unwrap_err();
        assert_eq!(e.path, "doc");
        assert!(e.reason.contains("\"c\" appears twice"), "{e}");
        let v = parse_json_strict(r#"{"a": [1, -2, 2.5, "x", null, true]}"#, "doc").unwrap();
        assert_eq!(v, json!({"a": [1, -2, 2.5, "x", null, true]}));
    }

    #[test]
    fn hashes_must_be_32_bytes() {
        assert_eq!(parse_hash(&"ab".repeat(32)), Ok(Hash32([0xab; 32])));
        assert!(parse_hash(&"ab".repeat(31)).is_err());
        assert!(parse_hash("xyz").is_err());
    }
}
