//! Values on the wire: the core envelope with optional compression, plain integers written by
//! `increment`, and (opt-in) raw JSON written by the older cache managers.

use std::borrow::Cow;

use bytes::Bytes;
use strata_core::envelope::{self, Compression};
use strata_core::{CodecId, Entry, Error, ErrorKind, Key, Meta, Result, Timestamp};

use crate::config::CompressionConfig;

/// The first two bytes of a tombstone, the short-lived marker a fence leaves under a value key
/// (`0xFF 'T'`, as the envelope's are `0xFF 'S'`).
pub(crate) const TOMBSTONE_MAGIC: [u8; 2] = [0xFF, 0x54];

/// A tombstone: the magic, version 1, when it was written (ms) and a random nonce, so each
/// fence has its own bytes (and its own version).
pub(crate) fn tombstone(now: Timestamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(19);
    out.extend_from_slice(&TOMBSTONE_MAGIC);
    out.push(1);
    out.extend_from_slice(&now.as_millis().to_be_bytes());
    out.extend_from_slice(&fastrand::u64(..).to_be_bytes());
    out
}

/// A value as a command argument, written straight into the command's buffer (no buffer of
/// its own): from [`ValueFormat::wire`], or a counter's digits.
#[derive(Debug)]
pub(crate) enum Wire<'a> {
    /// These bytes as they are (a plain integer, which `INCRBY` can count on).
    Verbatim(&'a [u8]),
    /// An envelope of `meta` around `payload` (compressed as `compression` says).
    Envelope {
        meta: Meta,
        compression: Compression,
        payload: Cow<'a, [u8]>,
    },
}

impl Wire<'_> {
    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            Wire::Verbatim(b) => b.len(),
            Wire::Envelope { meta, payload, .. } => envelope::encoded_len(meta, payload.len()),
        }
    }

    /// Its bytes, assembled.
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut impl std::io::Write) {
        // Writing into a command's buffer or a Vec cannot fail.
        let _ = match self {
            Wire::Verbatim(b) => out.write_all(b),
            Wire::Envelope {
                meta,
                compression,
                payload,
            } => envelope::write(meta, *compression, payload, out),
        };
    }
}

impl redis::ToRedisArgs for Wire<'_> {
    fn write_redis_args<W: ?Sized + redis::RedisWrite>(&self, out: &mut W) {
        self.write(&mut out.writer_for_next_arg());
    }
}

/// Encodes and decodes the bytes a [`RedisStore`](crate::RedisStore) keeps in Redis, for
/// tools that read or write them with another client (and for the fuzzer).
///
/// ```
/// use bytes::Bytes;
/// use strata_core::{Key, Meta, Namespace, Timestamp};
/// use strata_redis::{CompressionConfig, ValueFormat};
///
/// let format = ValueFormat::new(CompressionConfig::default(), false, 1 << 20);
/// let key = Key::new(&Namespace::new("users")?, "42")?;
/// let meta = Meta::new(Timestamp::from_millis(1_000), None);
/// let wire = format.encode(&key, &meta, b"{\"name\":\"Ada\"}")?;
/// let entry = format.decode(&key, Bytes::from(wire), Timestamp::from_millis(2_000))?.unwrap();
/// assert_eq!(&entry.value()[..], b"{\"name\":\"Ada\"}");
/// # Ok::<(), strata_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ValueFormat {
    pub(crate) compression: CompressionConfig,
    pub(crate) legacy_json: bool,
    pub(crate) max_value_bytes: usize,
}

impl ValueFormat {
    /// A format that compresses as `compression` says, reads raw JSON values when
    /// `legacy_json` is set, and refuses payloads (written or decompressed) over
    /// `max_value_bytes`.
    pub fn new(compression: CompressionConfig, legacy_json: bool, max_value_bytes: usize) -> Self {
        ValueFormat {
            compression,
            legacy_json,
            max_value_bytes,
        }
    }

    /// The envelope around `payload`, compressed when it is at least the threshold and
    /// compression makes it smaller. A payload over the maximum is refused before anything is
    /// sent.
    pub fn encode(&self, key: &Key, meta: &Meta, payload: &[u8]) -> Result<Vec<u8>> {
        Ok(self.wire(key, meta.clone(), payload)?.to_vec())
    }

    /// What [`ValueFormat::encode`] writes, checked and compressed but not yet assembled: a
    /// command writes it straight into its own buffer.
    pub(crate) fn wire<'a>(&self, key: &Key, meta: Meta, payload: &'a [u8]) -> Result<Wire<'a>> {
        if payload.len() > self.max_value_bytes {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "value is {} bytes, over the store's maximum of {} bytes (max_value_bytes)",
                    payload.len(),
                    self.max_value_bytes
                ),
            )
            .with_key(key));
        }
        envelope::check(&meta).map_err(|e| e.with_key(key))?;
        let algorithm = self.compression.algorithm;
        if algorithm != Compression::None && payload.len() >= self.compression.threshold {
            let packed = compress(algorithm, payload)?;
            if packed.len() < payload.len() {
                return Ok(Wire::Envelope {
                    meta,
                    compression: algorithm,
                    payload: Cow::Owned(packed),
                });
            }
        }
        Ok(Wire::Envelope {
            meta,
            compression: Compression::None,
            payload: Cow::Borrowed(payload),
        })
    }

    /// The entry stored as `bytes` under `key` (read at `now`): an envelope (decompressed), a
    /// plain integer, or with `legacy_json` a raw JSON value; `None` for the tombstone a
    /// fence leaves. Anything else, and any malformed or oversized envelope, is an
    /// [`ErrorKind::Codec`] error naming the key; it never panics.
    pub fn decode(&self, key: &Key, bytes: Bytes, now: Timestamp) -> Result<Option<Entry>> {
        self.decode_at(key, bytes, || now)
    }

    /// [`ValueFormat::decode`] reading the time only for a value that needs it (a counter or
    /// a legacy JSON value, whose write time is unknown): an envelope carries its own.
    pub(crate) fn decode_at(
        &self,
        key: &Key,
        bytes: Bytes,
        now: impl FnOnce() -> Timestamp,
    ) -> Result<Option<Entry>> {
        if bytes.starts_with(&TOMBSTONE_MAGIC) {
            return Ok(None);
        }
        self.decode_value(key, bytes, now).map(Some)
    }

    fn decode_value(
        &self,
        key: &Key,
        bytes: Bytes,
        now: impl FnOnce() -> Timestamp,
    ) -> Result<Entry> {
        if envelope::looks_like_envelope(&bytes) {
            let (meta, compression, payload) =
                envelope::decode_owned(bytes).map_err(|e| e.with_key(key))?;
            let payload = match compression {
                Compression::None => payload,
                other => decompress(other, &payload, self.max_value_bytes)
                    .map_err(|e| e.with_key(key))?,
            };
            return Ok(Entry::new(payload, meta));
        }
        if is_integer(&bytes) {
            // A counter written by `increment`: plain ASCII so that INCRBY works on it.
            return Ok(Entry::new(
                bytes,
                Meta::new(now(), None).with_codec(CodecId::Raw),
            ));
        }
        if self.legacy_json && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Ok(Entry::new(
                bytes,
                Meta::new(now(), None).with_codec(CodecId::Json),
            ));
        }
        Err(Error::codec(format!(
            "the value is not a Strata envelope ({} bytes starting {:?}); it was probably written \
             by another client{}",
            bytes.len(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(16)]),
            if self.legacy_json {
                ", and it is not JSON either"
            } else {
                "; enable legacy_json to read raw JSON values"
            }
        ))
        .with_key(key))
    }
}

/// True for what INCRBY accepts: an optional `-` and 1 to 19 ASCII digits.
pub(crate) fn is_integer(bytes: &[u8]) -> bool {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    !digits.is_empty() && digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit)
}

fn compress(algorithm: Compression, payload: &[u8]) -> Result<Vec<u8>> {
    match algorithm {
        Compression::Lz4 => Ok(lz4_flex::compress_prepend_size(payload)),
        Compression::Zstd => zstd::bulk::compress(payload, 3)
            .map_err(|e| Error::codec(format!("zstd compression failed: {e}"))),
        _ => Ok(payload.to_vec()),
    }
}

fn decompress(algorithm: Compression, packed: &[u8], limit: usize) -> Result<Bytes> {
    match algorithm {
        Compression::Lz4 => {
            let size = packed
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| Error::codec("lz4 payload is shorter than its size header"))?;
            if size > limit {
                return Err(Error::codec(format!(
                    "lz4 payload claims {size} bytes uncompressed, over the limit of {limit}"
                )));
            }
            lz4_flex::decompress_size_prepended(packed)
                .map(Bytes::from)
                .map_err(|e| Error::codec(format!("lz4 payload is corrupt: {e}")))
        }
        Compression::Zstd => zstd::bulk::decompress(packed, limit)
            .map(Bytes::from)
            .map_err(|e| {
                Error::codec(format!(
                    "zstd payload is corrupt or over {limit} bytes: {e}"
                ))
            }),
        _ => Ok(Bytes::copy_from_slice(packed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Namespace;

    fn format(algorithm: Compression) -> ValueFormat {
        ValueFormat {
            compression: CompressionConfig {
                algorithm,
                threshold: 64,
            },
            legacy_json: false,
            max_value_bytes: 1 << 20,
        }
    }

    fn key() -> Key {
        Key::new(&Namespace::new("ns").unwrap(), "k").unwrap()
    }

    #[test]
    fn compression_round_trips_and_shrinks() {
        let payload = "abcdefgh".repeat(1_000);
        let meta = Meta::new(Timestamp::from_millis(5), None);
        for algorithm in [Compression::None, Compression::Lz4, Compression::Zstd] {
            let f = format(algorithm);
            let wire = f.encode(&key(), &meta, payload.as_bytes()).unwrap();
            if algorithm != Compression::None {
                assert!(
                    wire.len() < payload.len() / 4,
                    "{algorithm:?}: {}",
                    wire.len()
                );
            }
            let entry = f
                .decode(&key(), Bytes::from(wire), Timestamp::from_millis(9))
                .unwrap()
                .unwrap();
            assert_eq!(entry.value(), payload.as_bytes());
        }
    }

    #[test]
    fn small_values_stay_uncompressed() {
        let f = format(Compression::Lz4);
        let meta = Meta::new(Timestamp::from_millis(5), None);
        let wire = f.encode(&key(), &meta, b"tiny").unwrap();
        assert!(wire.ends_with(b"tiny"));
    }

    #[test]
    fn foreign_bytes_are_codec_errors_naming_the_key() {
        let f = format(Compression::None);
        let err = f
            .decode(
                &key(),
                Bytes::from_static(b"{\"a\":1}"),
                Timestamp::from_millis(1),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Codec);
        assert!(err.to_string().contains("ns:k"), "{err}");
        let legacy = ValueFormat {
            legacy_json: true,
            ..format(Compression::None)
        };
        let entry = legacy
            .decode(
                &key(),
                Bytes::from_static(b"{\"a\":1}"),
                Timestamp::from_millis(1),
            )
            .unwrap()
            .unwrap();
        assert_eq!(entry.meta().codec, CodecId::Json);
        let counter = f
            .decode(
                &key(),
                Bytes::from_static(b"-42"),
                Timestamp::from_millis(1),
            )
            .unwrap()
            .unwrap();
        assert_eq!(counter.value(), &b"-42"[..]);
        let fenced = f
            .decode(
                &key(),
                Bytes::from(tombstone(Timestamp::from_millis(5))),
                Timestamp::from_millis(6),
            )
            .unwrap();
        assert!(fenced.is_none(), "a tombstone reads as missing");
        assert_ne!(
            tombstone(Timestamp::from_millis(5)),
            tombstone(Timestamp::from_millis(5))
        );
    }

    #[test]
    fn lying_size_headers_are_refused_without_allocating() {
        let f = format(Compression::Lz4);
        let meta = Meta::new(Timestamp::from_millis(5), None);
        let mut packed = u32::MAX.to_le_bytes().to_vec();
        packed.extend_from_slice(b"junk");
        let wire = envelope::encode(&meta, Compression::Lz4, &packed).unwrap();
        let err = f
            .decode(&key(), Bytes::from(wire), Timestamp::from_millis(1))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Codec);
    }

    #[test]
    fn oversized_values_are_refused_before_sending() {
        let f = ValueFormat {
            max_value_bytes: 10,
            ..format(Compression::None)
        };
        let meta = Meta::new(Timestamp::from_millis(5), None);
        let err = f.encode(&key(), &meta, &[0u8; 11]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}
