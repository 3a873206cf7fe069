//! Text forms of bytes, keys, hashes and times, and pretty output.

use lichen_contracts::crypto::{Hash32, PublicKey, SigAlgo};
use serde_json::Value;

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

/// Pretty-printed JSON with a final newline (for files and `--json` output).
pub fn to_pretty_string(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

pub(crate) fn keys_to_json(keys: &[PublicKey]) -> Value {
    Value::Array(
        keys.iter()
            .map(|k| Value::String(public_key_string(k)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use lichen_contracts::crypto::Hash32;
    use lichen_contracts::time::DAY_MS;
    use serde_json::json;

    use super::*;
    use crate::read::parse_json_strict;

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
