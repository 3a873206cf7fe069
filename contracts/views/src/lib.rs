//! JSON views of the ledger's types, shared by the node's HTTP API, the `lichen` CLI and the WASM
//! verifier so that each view is written once: the human-editable genesis file (`genesis.json`) and trust
//! anchor files, the HTTP API's responses, the CLI's `--json` output and the scanner's reports.
//!
//! Every type has a pair of small explicit functions in one style: `<type>_to_json(&T) ->
//! serde_json::Value` (plus the chain's [`Suite`] where the output carries a hash the suite
//! computes) and, for the types read as input, `<type>_from_json(&Value) -> Result<T, JsonError>`.
//! Input types: [`Genesis`] and each of its parts, [`TrustAnchor`], and transactions
//! ([`transaction_from_json`], the shape [`transaction_to_json`] prints, for clients that sign). Output-only types:
//! licences, evidence, blocks, headers, certificates, transactions, events, verifier reports and
//! validator sets with their quorum and hash. What clients read field by field also has a typed
//! view that serialises to the same JSON ([`VerifyReport`], [`LicenceView`], [`EvidenceView`],
//! the bodies in [`api`]): the node answers with those directly, without building a `Value`
//! (for `POST /v1/verify`, the `Value` and its sorted map cost more than the verification).
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
//! - **Field order** in a `Value` is alphabetical (serde_json's map is sorted); a typed view
//!   serialised directly keeps its declaration order. Either way output is stable.
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
//! - After parsing, each type's own `validate()` runs, and a genesis is checked by
//!   `Genesis::validate` — the node's own check at start (ids unique, licence types name known
//!   agencies, every key of the suite's algorithm, observer peer ids distinct and none a
//!   validator's) — whose error names the entry, so this crate reports it at that entry's path.
//!   No rule is written here a second time.
//!
//! `genesis_from_json_str(genesis_to_json_string(g)) == g` for every valid genesis, so the
//! canonical [`Genesis::hash`] survives the round trip.

pub mod api;
mod entities;
mod error;
mod genesis;
mod ledger;
mod presentation;
mod read;
mod text;
mod transaction;

pub use entities::*;
pub use error::JsonError;
pub use genesis::*;
pub use ledger::*;
pub use presentation::*;
pub use read::parse_json_strict;
pub use text::*;
pub use transaction::*;
