//! The versioned value envelope that shared (L2) stores write around each value.
//!
//! Layout, all integers big-endian (docs/format.md is the full specification):
//!
//! | bytes | field |
//! |---|---|
//! | 2 | magic `0xFF 0x53` (`0xFF` never starts UTF-8 or JSON text) |
//! | 1 | format version, currently 1 |
//! | 1 | codec id (0 raw, 1 JSON, 2 MessagePack) |
//! | 1 | flags: bits 0-1 compression (0 none, 1 lz4, 2 zstd), bit 2 fingerprint present, bit 3 time to idle present; others must be 0 |
//! | 8 | created-at, ms since the Unix epoch |
//! | 8 | logical expiry, ms since the epoch, 0 = none |
//! | 8 | physical expiry, ms since the epoch, 0 = none |
//! | 12 | fingerprint (u64 type hash, u32 schema version), only when flag bit 2 is set |
//! | 8 | time to idle in ms, only when flag bit 3 is set |
//! | 2 | tag count |
//! | 2 + n each | tags: u16 length then UTF-8 bytes |
//! | rest | payload (compressed when bits 0-1 say so) |
//!
//! Decoding never panics: bytes that are not a valid envelope are
//! [`ErrorKind::Codec`](crate::ErrorKind::Codec).
//!
//! ```
//! use bytes::Bytes;
//! use strata_core::envelope::{self, Compression};
//! use strata_core::{Meta, Timestamp};
//! let meta = Meta::new(Timestamp::from_millis(1_000), Some(Timestamp::from_millis(61_000)));
//! let wire = envelope::encode(&meta, Compression::None, b"{\"a\":1}").unwrap();
//! let (decoded, compression, payload) = envelope::decode(&Bytes::from(wire)).unwrap();
//! assert_eq!(decoded, meta);
//! assert_eq!(compression, Compression::None);
//! assert_eq!(&payload[..], b"{\"a\":1}");
//! ```

use bytes::Bytes;

use crate::clock::Timestamp;
use crate::codec::{CodecId, Fingerprint};
use crate::entry::Meta;
use crate::error::{Error, Result};
use crate::key::Tag;

/// The two bytes every envelope starts with.
pub const MAGIC: [u8; 2] = [0xFF, 0x53];
/// The format version this crate writes.
pub const VERSION: u8 = 1;
/// Flag bits holding the compression algorithm.
pub const FLAG_COMPRESSION_MASK: u8 = 0b011;
/// Flag bit: a fingerprint follows the expiries.
pub const FLAG_FINGERPRINT: u8 = 0b100;
/// Flag bit: a time to idle follows the fingerprint (or the expiries).
pub const FLAG_TTI: u8 = 0b1000;
const KNOWN_FLAGS: u8 = FLAG_COMPRESSION_MASK | FLAG_FINGERPRINT | FLAG_TTI;
const FIXED_LEN: usize = 2 + 1 + 1 + 1 + 8 + 8 + 8 + 2;

/// How the payload is compressed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed.
    None,
    /// LZ4 block format with the uncompressed size prepended (as `lz4_flex` writes it).
    Lz4,
    /// A Zstandard frame.
    Zstd,
}

impl Compression {
    const fn bits(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Lz4 => 1,
            Compression::Zstd => 2,
        }
    }
    fn from_bits(bits: u8) -> Result<Self> {
        match bits {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Lz4),
            2 => Ok(Compression::Zstd),
            _ => Err(Error::codec("envelope names an unknown compression (3)")),
        }
    }
}

/// True when `bytes` start with the envelope magic (they may still be invalid).
pub fn looks_like_envelope(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

fn millis(t: Option<Timestamp>) -> u64 {
    t.map_or(0, |t| t.as_millis().max(1))
}

fn from_millis(ms: u64) -> Option<Timestamp> {
    (ms != 0).then(|| Timestamp::from_millis(ms))
}

/// Writes an envelope around `payload` (already compressed as `compression` says).
pub fn encode(meta: &Meta, compression: Compression, payload: &[u8]) -> Result<Vec<u8>> {
    check(meta)?;
    let mut out = Vec::with_capacity(encoded_len(meta, payload.len()));
    // Writing into a Vec cannot fail.
    let _ = write(meta, compression, payload, &mut out);
    Ok(out)
}

/// Checks that `meta` fits in an envelope (at most 65,535 tags), before [`write`].
pub fn check(meta: &Meta) -> Result<()> {
    if meta.tags.len() > usize::from(u16::MAX) {
        return Err(Error::invalid_argument(format!(
            "{} tags on one value; at most {} fit in an envelope",
            meta.tags.len(),
            u16::MAX
        )));
    }
    Ok(())
}

/// The length of the envelope of `meta` around a payload of `payload_len` bytes.
pub fn encoded_len(meta: &Meta, payload_len: usize) -> usize {
    let tag_bytes: usize = meta.tags.iter().map(|t| 2 + t.as_str().len()).sum();
    let optional =
        if meta.fingerprint.is_some() { 12 } else { 0 } + if meta.tti.is_some() { 8 } else { 0 };
    FIXED_LEN + optional + tag_bytes + payload_len
}

/// Writes the envelope of `meta` around `payload` into `out` (a command's buffer, say, so the
/// value is not assembled twice), once [`check`] has passed: the same bytes as [`encode`].
pub fn write(
    meta: &Meta,
    compression: Compression,
    payload: &[u8],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut flags = compression.bits();
    if meta.fingerprint.is_some() {
        flags |= FLAG_FINGERPRINT;
    }
    if meta.tti.is_some() {
        flags |= FLAG_TTI;
    }
    out.write_all(&MAGIC)?;
    out.write_all(&[VERSION, meta.codec.to_byte(), flags])?;
    out.write_all(&meta.created_at.as_millis().to_be_bytes())?;
    out.write_all(&millis(meta.logical_expiry).to_be_bytes())?;
    out.write_all(&millis(meta.physical_expiry).to_be_bytes())?;
    if let Some(fp) = meta.fingerprint {
        out.write_all(&fp.type_hash.to_be_bytes())?;
        out.write_all(&fp.schema_version.to_be_bytes())?;
    }
    if let Some(tti) = meta.tti {
        let ms = u64::try_from(tti.as_millis()).unwrap_or(u64::MAX).max(1);
        out.write_all(&ms.to_be_bytes())?;
    }
    // `check` caps the count at u16::MAX.
    out.write_all(
        &u16::try_from(meta.tags.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    )?;
    for tag in meta.tags.iter() {
        let b = tag.as_str().as_bytes();
        // Tag::new caps tags at 256 bytes, so the length fits in u16.
        out.write_all(&u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes())?;
        out.write_all(b)?;
    }
    out.write_all(payload)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(Error::codec(format!(
                "envelope is truncated: {what} needs {n} bytes at offset {}, only {} remain",
                self.pos,
                self.buf.len().saturating_sub(self.pos)
            ))),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
}

/// Reads an envelope: its metadata, how the payload is compressed, and the payload (a
/// zero-copy slice of `bytes`).
pub fn decode(bytes: &Bytes) -> Result<(Meta, Compression, Bytes)> {
    decode_owned(bytes.clone())
}

/// [`decode`], taking the bytes: the payload is the same buffer advanced past the header,
/// so a buffer read from a socket (a `Vec` turned into `Bytes`) is neither copied nor
/// promoted to a shared one (which would cost an allocation per value).
pub fn decode_owned(bytes: Bytes) -> Result<(Meta, Compression, Bytes)> {
    let mut r = Reader {
        buf: &bytes,
        pos: 0,
    };
    let magic = r.take(2, "the magic")?;
    if magic != MAGIC {
        return Err(Error::codec(format!(
            "not a Strata envelope: starts with {:02x} {:02x}, expected ff 53",
            magic[0], magic[1]
        )));
    }
    let version = r.u8("the version")?;
    if version != VERSION {
        return Err(Error::codec(format!(
            "envelope format version {version} is not supported (this build reads {VERSION})"
        )));
    }
    let codec = CodecId::from_byte(r.u8("the codec")?)?;
    let flags = r.u8("the flags")?;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Error::codec(format!(
            "envelope has unknown flags {flags:#010b}"
        )));
    }
    let compression = Compression::from_bits(flags & FLAG_COMPRESSION_MASK)?;
    let created_at = Timestamp::from_millis(r.u64("created-at")?);
    let logical_expiry = from_millis(r.u64("the logical expiry")?);
    let physical_expiry = from_millis(r.u64("the physical expiry")?);
    let fingerprint = if flags & FLAG_FINGERPRINT != 0 {
        Some(Fingerprint {
            type_hash: r.u64("the fingerprint")?,
            schema_version: r.u32("the schema version")?,
        })
    } else {
        None
    };
    let tti = if flags & FLAG_TTI != 0 {
        Some(std::time::Duration::from_millis(r.u64("the time to idle")?))
    } else {
        None
    };
    let count = r.u16("the tag count")?;
    let mut tags = Vec::with_capacity(usize::from(count).min(64));
    for i in 0..count {
        let len = r.u16("a tag length")?;
        let raw = r.take(usize::from(len), "a tag")?;
        let text = std::str::from_utf8(raw)
            .map_err(|_| Error::codec(format!("envelope tag {i} is not UTF-8")))?;
        let tag = Tag::new(text)
            .map_err(|e| Error::codec(format!("envelope tag {i} is invalid: {}", e.message())))?;
        tags.push(tag);
    }
    let header = r.pos;
    let mut payload = bytes;
    bytes::Buf::advance(&mut payload, header);
    let meta = Meta {
        created_at,
        logical_expiry,
        physical_expiry,
        tags: tags.into_boxed_slice(),
        codec,
        fingerprint,
        tti,
    };
    Ok((meta, compression, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Meta {
        Meta::new(
            Timestamp::from_millis(1_700_000_000_000),
            Some(Timestamp::from_millis(1_700_000_060_000)),
        )
        .with_tags(vec![Tag::new("a").unwrap(), Tag::new("team:7").unwrap()])
        .with_codec(CodecId::MessagePack)
        .with_fingerprint(Some(Fingerprint::named("User", 3)))
        .with_tti(Some(std::time::Duration::from_millis(2_500)))
    }

    #[test]
    fn round_trip_with_everything() {
        let meta = sample();
        let wire = encode(&meta, Compression::Zstd, b"payload").unwrap();
        let (m, c, p) = decode(&Bytes::from(wire)).unwrap();
        assert_eq!(m, meta);
        assert_eq!(c, Compression::Zstd);
        assert_eq!(&p[..], b"payload");
    }

    #[test]
    fn the_announced_length_is_the_written_length() {
        let bare = Meta::new(Timestamp::from_millis(5), None);
        for meta in [
            sample(),
            bare.clone(),
            sample().with_tti(None),
            sample().with_fingerprint(None),
            sample().with_tags(Vec::new()),
        ] {
            for payload in [&b""[..], b"p", &[7u8; 300]] {
                let wire = encode(&meta, Compression::None, payload).unwrap();
                assert_eq!(wire.len(), encoded_len(&meta, payload.len()), "{meta:?}");
                let mut written = Vec::new();
                write(&meta, Compression::None, payload, &mut written).unwrap();
                assert_eq!(written, wire);
            }
        }
    }

    #[test]
    fn time_to_idle_sits_after_the_fingerprint() {
        let plain = encode(&sample().with_tti(None), Compression::None, b"p").unwrap();
        let with = encode(&sample(), Compression::None, b"p").unwrap();
        assert_eq!(with.len(), plain.len() + 8);
        assert_eq!(with[4] & FLAG_TTI, FLAG_TTI);
        // created-at, two expiries and the fingerprint come first (offset 41).
        assert_eq!(&with[41..49], &2_500u64.to_be_bytes());
    }

    #[test]
    fn rejects_foreign_bytes_with_codec_errors() {
        for bad in [
            &b""[..],
            b"x",
            b"{\"json\":true}",
            b"\xff\x53",
            b"\xff\x53\x02",
            b"\xff\x53\x01\x09",
            b"\xff\x53\x01\x01\x80",
            b"\xff\x53\x01\x01\x10",
            b"\xff\x53\x01\x01\x03",
        ] {
            let e = decode(&Bytes::copy_from_slice(bad)).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Codec, "{bad:?}");
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let wire = encode(&sample(), Compression::None, b"").unwrap();
        for cut in 0..wire.len() {
            assert!(
                decode(&Bytes::copy_from_slice(&wire[..cut])).is_err(),
                "{cut}"
            );
        }
        assert!(decode(&Bytes::from(wire)).is_ok());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&Bytes::from(data));
        }

        #[test]
        fn never_panics_after_magic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut v = vec![0xFF, 0x53, 0x01];
            v.extend(data);
            let _ = decode(&Bytes::from(v));
        }
    }
}
