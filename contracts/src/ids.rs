//! Identifiers: what a licence, agency or licence-type id may look like, and the GB/T 36904-2018
//! licence identifier with its ISO/IEC 7064 MOD 37,36 check character.

use crate::error::CodecError;

/// The prefix of a GB/T 36904 electronic-licence identifier (OID arc of the national scheme).
pub const GBT36904_PREFIX: &str = "1.2.156.3005.2.";

/// Why an identifier was refused.
pub type IdError = CodecError;

/// Checks an identifier: 1..=`max_bytes` bytes of `A-Z a-z 0-9 . _ - : /`. Identifiers end up in
/// URLs, file names and logs; a narrow alphabet keeps them unambiguous there.
pub fn check_identifier(field: &'static str, id: &str, max_bytes: usize) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(CodecError::InvalidValue {
            field,
            reason: "must not be empty",
        });
    }
    if id.len() > max_bytes {
        return Err(CodecError::TooLong {
            field,
            len: id.len(),
            max: max_bytes,
        });
    }
    if !id
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b':' | b'/'))
    {
        return Err(CodecError::InvalidValue {
            field,
            reason: "may contain only A-Z a-z 0-9 . _ - : /",
        });
    }
    Ok(())
}

/// Reads a string that must be an identifier (a chain id, in headers, votes, anchors and
/// packages: its bytes reach terminals and pages, so a decoder refuses anything else).
pub fn read_identifier(
    r: &mut crate::codec::Reader<'_>,
    field: &'static str,
    max_bytes: usize,
) -> Result<alloc::string::String, CodecError> {
    let id = r.str(field, max_bytes)?;
    check_identifier(field, &id, max_bytes)?;
    Ok(id)
}

/// Reads a licence id: an identifier, and a well-formed GB/T 36904 one if it has that prefix.
pub fn read_licence_id(
    r: &mut crate::codec::Reader<'_>,
    max_bytes: usize,
) -> Result<alloc::string::String, CodecError> {
    let id = r.str("licence id", max_bytes)?;
    check_licence_id(&id, max_bytes)?;
    Ok(id)
}

/// Checks a free text (a status reason, an evidence label): no control character, so it cannot
/// redraw a terminal or a page.
pub fn check_text(field: &'static str, text: &str) -> Result<(), CodecError> {
    if text.chars().any(char::is_control) {
        return Err(CodecError::InvalidValue {
            field,
            reason: "must not contain control characters",
        });
    }
    Ok(())
}

/// Checks a licence identifier. Any identifier that starts with the GB/T 36904 prefix must be a
/// well-formed GB/T 36904 identifier with a correct check character.
pub fn check_licence_id(id: &str, max_bytes: usize) -> Result<(), IdError> {
    check_identifier("licence id", id, max_bytes)?;
    if id.starts_with(GBT36904_PREFIX) {
        check_gbt36904(id)?;
    }
    Ok(())
}

/// Validates `1.2.156.3005.2.<type code>.<issuer code>.<number>.<version>.<check>`: five
/// non-empty fields of `0-9A-Z` after the prefix, the last a single check character equal to
/// ISO/IEC 7064 MOD 37,36 over the other four fields with the dots removed.
pub fn check_gbt36904(id: &str) -> Result<(), IdError> {
    const FIELD: &str = "GB/T 36904 licence id";
    let rest = id
        .strip_prefix(GBT36904_PREFIX)
        .ok_or(CodecError::InvalidValue {
            field: FIELD,
            reason: "does not start with 1.2.156.3005.2.",
        })?;
    let mut fields = rest.split('.');
    let mut body = alloc::vec::Vec::with_capacity(rest.len());
    for _ in 0..4 {
        let field = fields.next().unwrap_or("");
        if field.is_empty() || !field.bytes().all(is_mod37_36_char) {
            return Err(CodecError::InvalidValue {
                field: FIELD,
                reason: "needs type code, issuer code, number and version of 0-9A-Z, dot-separated",
            });
        }
        body.extend_from_slice(field.as_bytes());
    }
    let check = fields.next().unwrap_or("");
    if fields.next().is_some() || check.len() != 1 || !check.bytes().all(is_mod37_36_char) {
        return Err(CodecError::InvalidValue {
            field: FIELD,
            reason: "must end with exactly one check character 0-9A-Z",
        });
    }
    if mod37_36_check_char(&body) != Some(check.as_bytes()[0]) {
        return Err(CodecError::InvalidValue {
            field: FIELD,
            reason: "check character does not match (ISO/IEC 7064 MOD 37,36)",
        });
    }
    Ok(())
}

fn is_mod37_36_char(c: u8) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase()
}

fn mod37_36_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// ISO/IEC 7064 hybrid system MOD 37,36 (M = 36): the check character for `body` (characters
/// `0-9A-Z`), or `None` if `body` holds another character.
pub fn mod37_36_check_char(body: &[u8]) -> Option<u8> {
    const M: u32 = 36;
    let mut p = M;
    for &c in body {
        let mut s = (p + mod37_36_value(c)?) % M;
        if s == 0 {
            s = M;
        }
        p = (2 * s) % (M + 1);
    }
    // The check value c makes (p + c) mod M == 1.
    let check = (M + 1 - p) % M;
    Some(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[check as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    // GB/T 36904 vectors from ../shared/vectors/official.json (copied into contracts/vectors).
    const VALID: [&str; 3] = [
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    ];
    const INVALID_CHECK: [&str; 2] = [
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.T",
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.0",
    ];

    #[test]
    fn official_gbt36904_identifiers() {
        for id in VALID {
            assert_eq!(check_licence_id(id, 128), Ok(()), "{id}");
        }
        for id in INVALID_CHECK {
            assert!(
                matches!(
                    check_licence_id(id, 128),
                    Err(CodecError::InvalidValue { reason, .. }) if reason.contains("check character")
                ),
                "{id}"
            );
        }
    }

    #[test]
    fn malformed_gbt36904_identifiers_are_refused() {
        for id in [
            "1.2.156.3005.2.",
            "1.2.156.3005.2.A.B.C.D",
            "1.2.156.3005.2.A.B.C.D.EF",
            "1.2.156.3005.2.a.B.C.D.E",
            "1.2.156.3005.2.A..C.D.E",
            "1.2.156.3005.2.A.B.C.D.E.F",
        ] {
            assert!(check_licence_id(id, 128).is_err(), "{id}");
        }
    }

    #[test]
    fn plain_identifiers() {
        assert_eq!(check_licence_id("SZ-2026-000001", 128), Ok(()));
        assert!(check_licence_id("", 128).is_err());
        assert!(check_licence_id("has space", 128).is_err());
        assert!(check_licence_id("证照", 128).is_err());
        assert!(check_identifier("agency id", &"a".repeat(65), 64).is_err());
    }
}
