//! Cached entries: bytes plus metadata, cheap to clone.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;

use crate::clock::Timestamp;
use crate::codec::{CodecId, Fingerprint};
use crate::key::Tag;

/// What is known about a stored value besides its bytes.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// When the value was written.
    pub created_at: Timestamp,
    /// When the value stops being fresh. Readers that support fail-safe may still serve it
    /// as stale until [`Meta::physical_expiry`].
    pub logical_expiry: Option<Timestamp>,
    /// When the store drops the value. Never earlier than the logical expiry.
    pub physical_expiry: Option<Timestamp>,
    /// Tags attached to the value.
    pub tags: Box<[Tag]>,
    /// The codec that produced the bytes.
    pub codec: CodecId,
    /// The writer's type fingerprint, if it set one.
    pub fingerprint: Option<Fingerprint>,
    /// The time to idle the value was written with: each read restarts this window (never
    /// past the physical expiry). Kept so a shared store can renew it on reads.
    pub tti: Option<Duration>,
}

impl Meta {
    /// Metadata for a value written at `created_at` that expires (logically and physically)
    /// at `expiry`.
    pub fn new(created_at: Timestamp, expiry: Option<Timestamp>) -> Self {
        Meta {
            created_at,
            logical_expiry: expiry,
            physical_expiry: expiry,
            ..Meta::default()
        }
    }

    /// Sets the tags.
    pub fn with_tags(mut self, tags: impl Into<Box<[Tag]>>) -> Self {
        self.tags = tags.into();
        self
    }

    /// Sets the codec.
    pub fn with_codec(mut self, codec: CodecId) -> Self {
        self.codec = codec;
        self
    }

    /// Sets the fingerprint.
    pub fn with_fingerprint(mut self, fingerprint: Option<Fingerprint>) -> Self {
        self.fingerprint = fingerprint;
        self
    }

    /// Sets the time to idle.
    pub fn with_tti(mut self, tti: Option<Duration>) -> Self {
        self.tti = tti;
        self
    }

    /// True when the value carries `tag`.
    pub fn has_tag(&self, tag: &Tag) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// True when the value is past its logical expiry at `now`.
    pub fn is_stale_at(&self, now: Timestamp) -> bool {
        self.logical_expiry.is_some_and(|e| e <= now)
    }
}

struct Inner {
    value: Bytes,
    meta: Meta,
    decoded: OnceLock<Arc<dyn Any + Send + Sync>>,
}

/// A stored value: its bytes, its [`Meta`], and (in process) its decoded form.
///
/// Cloning an entry is one reference-count increment, so an in-memory hit can hand out
/// entries without allocating.
#[derive(Clone)]
pub struct Entry(Arc<Inner>);

impl Entry {
    /// An entry from bytes and metadata.
    pub fn new(value: Bytes, meta: Meta) -> Self {
        Entry(Arc::new(Inner {
            value,
            meta,
            decoded: OnceLock::new(),
        }))
    }

    /// An entry that already carries its decoded value.
    pub fn with_decoded(value: Bytes, meta: Meta, decoded: Arc<dyn Any + Send + Sync>) -> Self {
        let e = Self::new(value, meta);
        e.offer_decoded(decoded);
        e
    }

    /// The encoded bytes.
    pub fn value(&self) -> &Bytes {
        &self.0.value
    }

    /// The metadata.
    pub fn meta(&self) -> &Meta {
        &self.0.meta
    }

    /// The decoded value, if one of type `T` is attached.
    pub fn decoded<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.0
            .decoded
            .get()
            .and_then(|d| Arc::clone(d).downcast::<T>().ok())
    }

    /// Attaches a decoded value unless one is attached already; returns whether it was.
    pub fn offer_decoded(&self, decoded: Arc<dyn Any + Send + Sync>) -> bool {
        self.0.decoded.set(decoded).is_ok()
    }

    /// A new entry with the same bytes and decoded value but other metadata (used when a
    /// store changes an entry's expiry).
    pub fn with_meta(&self, meta: Meta) -> Entry {
        let e = Entry::new(self.0.value.clone(), meta);
        if let Some(d) = self.0.decoded.get() {
            e.offer_decoded(Arc::clone(d));
        }
        e
    }

    /// True when both handles point at the same stored entry.
    pub fn ptr_eq(a: &Entry, b: &Entry) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("len", &self.0.value.len())
            .field("meta", &self.0.meta)
            .field("decoded", &self.0.decoded.get().is_some())
            .finish()
    }
}

impl PartialEq for Entry {
    /// Entries are equal when their bytes and metadata are equal.
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value && self.0.meta == other.0.meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_slot_is_typed_and_set_once() {
        let e = Entry::new(Bytes::from_static(b"1"), Meta::default());
        assert!(e.decoded::<u32>().is_none());
        assert!(e.offer_decoded(Arc::new(1u32)));
        assert!(!e.offer_decoded(Arc::new(2u32)));
        assert_eq!(*e.decoded::<u32>().unwrap(), 1);
        assert!(e.decoded::<String>().is_none());
        let clone = e.clone();
        assert!(Entry::ptr_eq(&e, &clone));
    }
}
