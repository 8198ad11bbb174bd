//! Serialization of typed values to bytes: JSON and MessagePack, and the type fingerprint.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entry::Entry;
use crate::error::{Error, Result};

/// Which codec produced a value's bytes. Stored in every entry and envelope.
#[non_exhaustive]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CodecId {
    /// Opaque bytes written by the caller (and counters, stored as ASCII decimal). A typed
    /// reader parses raw bytes as JSON text, so an ASCII counter reads as an integer.
    Raw,
    /// JSON through serde_json.
    #[default]
    Json,
    /// MessagePack through rmp-serde (struct fields as maps, so fields can be added).
    MessagePack,
}

impl CodecId {
    /// The byte that identifies the codec in the envelope.
    pub const fn to_byte(self) -> u8 {
        match self {
            CodecId::Raw => 0,
            CodecId::Json => 1,
            CodecId::MessagePack => 2,
        }
    }

    /// The codec for an envelope byte.
    pub fn from_byte(b: u8) -> Result<Self> {
        match b {
            0 => Ok(CodecId::Raw),
            1 => Ok(CodecId::Json),
            2 => Ok(CodecId::MessagePack),
            other => Err(Error::codec(format!("unknown codec id {other}"))),
        }
    }

    /// A stable lower-case name (`raw`, `json`, `msgpack`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CodecId::Raw => "raw",
            CodecId::Json => "json",
            CodecId::MessagePack => "msgpack",
        }
    }

    /// Encodes `value` with this codec. `Raw` cannot encode typed values.
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes> {
        match self {
            CodecId::Json => Json.encode(value),
            CodecId::MessagePack => MessagePack.encode(value),
            CodecId::Raw => Err(Error::new(
                crate::ErrorKind::Unsupported,
                "the raw codec stores bytes as given and cannot encode a typed value",
            )),
        }
    }

    /// Decodes `bytes` written by this codec.
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T> {
        match self {
            CodecId::Json | CodecId::Raw => Json.decode(bytes),
            CodecId::MessagePack => MessagePack.decode(bytes),
        }
    }
}

impl fmt::Display for CodecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CodecId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(CodecId::Json),
            "msgpack" | "messagepack" | "rmp" => Ok(CodecId::MessagePack),
            "raw" => Ok(CodecId::Raw),
            other => Err(Error::invalid_config(format!(
                "unknown codec {other:?}; expected json or msgpack"
            ))),
        }
    }
}

/// Turns typed values into bytes and back.
pub trait Codec: Send + Sync + 'static {
    /// The id recorded next to the bytes.
    fn id(&self) -> CodecId;
    /// Serializes a value.
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Bytes>;
    /// Deserializes a value; malformed bytes are [`ErrorKind::Codec`](crate::ErrorKind::Codec).
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T>;
}

/// JSON (serde_json).
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl Codec for Json {
    fn id(&self) -> CodecId {
        CodecId::Json
    }
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Bytes> {
        serde_json::to_vec(value)
            .map(Bytes::from)
            .map_err(|e| Error::codec(format!("JSON encoding failed: {e}")).with_source(e))
    }
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::codec(format!("JSON decoding failed: {e}")).with_source(e))
    }
}

/// MessagePack (rmp-serde), structs encoded as maps so fields can be added compatibly.
#[derive(Clone, Copy, Debug, Default)]
pub struct MessagePack;

impl Codec for MessagePack {
    fn id(&self) -> CodecId {
        CodecId::MessagePack
    }
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Bytes> {
        rmp_serde::to_vec_named(value)
            .map(Bytes::from)
            .map_err(|e| Error::codec(format!("MessagePack encoding failed: {e}")).with_source(e))
    }
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        rmp_serde::from_slice(bytes)
            .map_err(|e| Error::codec(format!("MessagePack decoding failed: {e}")).with_source(e))
    }
}

impl Codec for CodecId {
    fn id(&self) -> CodecId {
        *self
    }
    fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Bytes> {
        CodecId::encode(*self, value)
    }
    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        CodecId::decode(*self, bytes)
    }
}

/// Identifies the shape of a stored value: a type name hash plus an explicit schema version.
///
/// A typed cache that sets a fingerprint treats entries with another fingerprint as misses,
/// so bumping `schema_version` after changing a type retires old entries safely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// FNV-1a hash of the schema name.
    pub type_hash: u64,
    /// The schema version the writer declared.
    pub schema_version: u32,
}

impl Fingerprint {
    /// A fingerprint for a schema `name` (choose a stable one, such as `"User"`) and version.
    pub const fn named(name: &str, schema_version: u32) -> Self {
        Fingerprint {
            type_hash: fnv1a(name.as_bytes()),
            schema_version,
        }
    }
}

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// How a typed cache turns its values into entries and back: a codec and an optional
/// fingerprint. Shared by the typed `Cache<T>` and the load engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValueCodec {
    /// The codec used for writing (reading follows each entry's recorded codec).
    pub codec: CodecId,
    /// The fingerprint written and required on read, if any.
    pub fingerprint: Option<Fingerprint>,
}

impl ValueCodec {
    /// A value codec with `codec` and no fingerprint.
    pub const fn new(codec: CodecId) -> Self {
        ValueCodec {
            codec,
            fingerprint: None,
        }
    }

    /// Requires and writes `fingerprint`.
    pub const fn with_fingerprint(mut self, fingerprint: Fingerprint) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    /// Encodes a value to bytes.
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Bytes> {
        self.codec.encode(value)
    }

    /// Fills in the codec, fingerprint and decoded value of write options.
    pub fn prepare<T: Send + Sync + 'static>(
        &self,
        opts: crate::SetOptions,
        decoded: Option<Arc<T>>,
    ) -> crate::SetOptions {
        let mut opts = opts.codec(self.codec).fingerprint(self.fingerprint);
        if let Some(v) = decoded {
            opts.decoded = Some(v);
        }
        opts
    }

    /// The typed value of an entry: `Ok(None)` when its fingerprint does not match.
    ///
    /// The decoded value is cached inside the entry, so the next read of the same entry does
    /// not deserialize again (and does not allocate).
    pub fn decode_entry<T>(&self, entry: &Entry) -> Result<Option<Arc<T>>>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        if let Some(want) = self.fingerprint
            && entry.meta().fingerprint != Some(want)
        {
            return Ok(None);
        }
        if let Some(v) = entry.decoded::<T>() {
            return Ok(Some(v));
        }
        let value: Arc<T> = Arc::new(entry.meta().codec.decode(entry.value())?);
        let erased: Arc<dyn Any + Send + Sync> = value.clone();
        entry.offer_decoded(erased);
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct User {
        id: u64,
        name: String,
    }

    #[test]
    fn round_trips() {
        let u = User {
            id: 7,
            name: "ada".into(),
        };
        for c in [CodecId::Json, CodecId::MessagePack] {
            let b = c.encode(&u).unwrap();
            assert_eq!(c.decode::<User>(&b).unwrap(), u);
        }
    }

    #[test]
    fn garbage_is_a_codec_error() {
        for c in [CodecId::Json, CodecId::MessagePack] {
            let e = c.decode::<User>(b"\xff\x00garbage").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Codec);
        }
        assert!(CodecId::from_byte(9).is_err());
        assert_eq!(CodecId::Raw.decode::<i64>(b"42").unwrap(), 42);
    }

    #[test]
    fn fingerprints_differ_by_name_and_version() {
        assert_ne!(Fingerprint::named("User", 1), Fingerprint::named("User", 2));
        assert_ne!(
            Fingerprint::named("User", 1),
            Fingerprint::named("Order", 1)
        );
        assert_eq!(Fingerprint::named("User", 1), Fingerprint::named("User", 1));
    }
}
