//! The canonical encoding: one byte layout for everything Lichen hashes or signs.
//!
//! The rules are deliberately few, so that an implementation in another language fits on a page
//! (PROTOCOL.md, "Canonical encoding"):
//! - unsigned integers are fixed width, big-endian (`u8`, `u16`, `u32`, `u64`);
//! - `bool` is one byte, `0x00` or `0x01`; any other value is an error;
//! - fixed-size byte arrays (hashes, keys, signatures) are written as they are, with no length;
//! - variable byte strings and UTF-8 strings are a `u32` length then the bytes;
//! - sequences are a `u32` element count then the elements;
//! - `Option<T>` is `0x00` (none) or `0x01` followed by `T`;
//! - enums are a `u8` tag then the variant's fields in declaration order;
//! - structs are their fields in declaration order, nothing between them.
//!
//! Decoding is strict: every length is checked against a named maximum before anything is
//! allocated, and `from_bytes` refuses trailing bytes, so every value has exactly one encoding.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::CodecError;

/// Writes canonical bytes. Writing cannot fail; limits are the caller's contract and are checked
/// again on decode.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self { buf: Vec::new() }
    }

    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    /// Fixed-size bytes: written raw, the length is implied by the type.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Variable bytes: `u32` length, then the bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        self.buf.extend_from_slice(bytes);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A length or count prefix. Lengths above `u32::MAX` cannot be produced by valid objects (every
    /// field has a maximum far below it); reaching one is a bug.
    pub fn len(&mut self, n: usize) {
        let n = u32::try_from(n).unwrap_or_else(|_| panic!("length {n} exceeds u32"));
        self.u32(n);
    }

    pub fn option<T: Encode>(&mut self, v: &Option<T>) {
        match v {
            None => self.u8(0),
            Some(inner) => {
                self.u8(1);
                inner.encode_to(self);
            }
        }
    }

    pub fn seq<T: Encode>(&mut self, items: &[T]) {
        self.len(items.len());
        for item in items {
            item.encode_to(self);
        }
    }
}

/// Reads canonical bytes, refusing anything that is not the one valid encoding.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// Refuses leftover input: canonical objects have exactly one length.
    pub fn finish(self) -> Result<(), CodecError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(CodecError::TrailingBytes { count }),
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.remaining() < n {
            return Err(CodecError::UnexpectedEnd {
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn bool(&mut self) -> Result<bool, CodecError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(CodecError::InvalidBool { value }),
        }
    }

    /// A length or count prefix, checked against `max` before anything is allocated.
    pub fn len(&mut self, field: &'static str, max: usize) -> Result<usize, CodecError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(CodecError::TooLong { field, len, max });
        }
        Ok(len)
    }

    pub fn bytes(&mut self, field: &'static str, max: usize) -> Result<Vec<u8>, CodecError> {
        let len = self.len(field, max)?;
        Ok(self.take(len)?.to_vec())
    }

    pub fn str(&mut self, field: &'static str, max_bytes: usize) -> Result<String, CodecError> {
        let bytes = self.bytes(field, max_bytes)?;
        String::from_utf8(bytes).map_err(|_| CodecError::InvalidUtf8 { field })
    }

    pub fn option<T: Decode>(&mut self, field: &'static str) -> Result<Option<T>, CodecError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode_from(self)?)),
            tag => Err(CodecError::InvalidTag { what: field, tag }),
        }
    }

    pub fn seq<T: Decode>(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<Vec<T>, CodecError> {
        let count = self.len(field, max)?;
        // Each element takes at least one byte: a count larger than the input is refused before
        // the allocation it would ask for.
        if count > self.remaining() {
            return Err(CodecError::UnexpectedEnd {
                needed: count,
                remaining: self.remaining(),
            });
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(T::decode_from(self)?);
        }
        Ok(out)
    }
}

/// An object with a canonical byte form.
pub trait Encode {
    fn encode_to(&self, w: &mut Writer);

    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.into_bytes()
    }
}

/// An object that can be read back from its canonical byte form, strictly.
pub trait Decode: Sized {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError>;

    /// Decodes a whole buffer: trailing bytes are an error.
    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let value = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, w: &mut Writer) {
        (**self).encode_to(w);
    }
}

impl Encode for u64 {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(*self);
    }
}

impl Decode for u64 {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u64()
    }
}

impl Encode for u16 {
    fn encode_to(&self, w: &mut Writer) {
        w.u16(*self);
    }
}

impl Decode for u16 {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn integers_are_big_endian_fixed_width() {
        let mut w = Writer::new();
        w.u8(1);
        w.u16(0x0203);
        w.u32(0x0405_0607);
        w.u64(0x0809_0a0b_0c0d_0e0f);
        w.bool(true);
        w.str("ab");
        assert_eq!(
            w.into_bytes(),
            vec![
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1, 0, 0, 0, 2, b'a', b'b'
            ]
        );
    }

    #[test]
    fn strict_reader_refuses_bad_bools_lengths_and_trailing_bytes() {
        assert_eq!(
            Reader::new(&[2]).bool(),
            Err(CodecError::InvalidBool { value: 2 })
        );
        assert_eq!(
            Reader::new(&[0, 0, 0, 9, 1]).bytes("label", 8),
            Err(CodecError::TooLong {
                field: "label",
                len: 9,
                max: 8
            })
        );
        assert_eq!(
            Reader::new(&[0, 0, 0, 4, 1]).bytes("label", 8),
            Err(CodecError::UnexpectedEnd {
                needed: 4,
                remaining: 1
            })
        );
        assert_eq!(
            Reader::new(&[0, 0, 0, 2, 0xff, 0xfe]).str("name", 8),
            Err(CodecError::InvalidUtf8 { field: "name" })
        );
        assert_eq!(
            u64::from_bytes(&[0; 9]),
            Err(CodecError::TrailingBytes { count: 1 })
        );
        // A huge element count is refused before allocating.
        assert!(matches!(
            Reader::new(&[0, 0, 0xff, 0xff]).seq::<u64>("items", 1 << 20),
            Err(CodecError::UnexpectedEnd { .. })
        ));
    }
}
