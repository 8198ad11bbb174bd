//! Compare-and-set on a shared store, and fences that make earlier reads of a key stale.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

use crate::error::Result;
use crate::key::Key;
use crate::options::{SetOptions, SetOutcome};

/// What a key held when it was read, as the precondition of
/// [`CompareAndSet::set_if_version`]: an opaque token that changes whenever the key's stored
/// bytes change (a write, a delete, a fence), or [`Version::ABSENT`] when it held nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Version(Option<Box<str>>);

impl Version {
    /// The version of a key that holds nothing (never written, deleted, or expired).
    pub const ABSENT: Version = Version(None);

    /// A version from a store's token.
    pub fn new(token: impl Into<Box<str>>) -> Self {
        Version(Some(token.into()))
    }

    /// True for [`Version::ABSENT`].
    pub fn is_absent(&self) -> bool {
        self.0.is_none()
    }

    /// The store's token, or `None` for [`Version::ABSENT`].
    pub fn token(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Version::ABSENT"),
            Some(t) => write!(f, "Version({t})"),
        }
    }
}

/// Conditional writes for fills that must not overwrite newer data: read the version, load
/// the value, then write it only if the version has not moved.
///
/// An invalidation that must stop fills already under way uses [`CompareAndSet::fence`]
/// instead of a delete: it removes the value and leaves a short-lived tombstone, so a fill
/// that read the key before (present or absent) finds another version and does not write.
/// A plain `delete` is not a fence: a fill that read "absent" before a write and a delete
/// would still write.
///
/// ```
/// # use std::time::Duration;
/// # use strata_core::{Bytes, CompareAndSet, Key, Result, SetOptions, SetOutcome};
/// async fn fill(store: &impl CompareAndSet, key: &Key) -> Result<SetOutcome> {
///     let seen = store.version(key).await?;
///     let fresh = Bytes::from("loaded from the database");
///     // NotStored when an invalidation (or another writer) came in between.
///     store.set_if_version(key, &seen, fresh, SetOptions::new().ttl(Duration::from_secs(60))).await
/// }
/// ```
pub trait CompareAndSet: Send + Sync + 'static {
    /// The key's current version.
    fn version(&self, key: &Key) -> impl Future<Output = Result<Version>> + Send;

    /// Writes `value` with `opts` (TTL, time to idle, tags, codec; the mode must be
    /// [`SetMode::Always`](crate::SetMode::Always)) only if the key's version is still
    /// `expected`, atomically: `Stored`, or `NotStored` when it moved.
    fn set_if_version(
        &self,
        key: &Key,
        expected: &Version,
        value: Bytes,
        opts: SetOptions,
    ) -> impl Future<Output = Result<SetOutcome>> + Send;

    /// Removes the key's value and leaves a tombstone for `ttl`, so every version read
    /// before no longer matches. Reads see the key as missing. True when a live value was
    /// removed.
    fn fence(&self, key: &Key, ttl: Duration) -> impl Future<Output = Result<bool>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_token() {
        assert!(Version::ABSENT.is_absent());
        assert_eq!(Version::new("a"), Version::new("a"));
        assert_ne!(Version::new("a"), Version::ABSENT);
        assert_eq!(Version::new("a").token(), Some("a"));
        assert_eq!(format!("{:?}", Version::ABSENT), "Version::ABSENT");
    }
}
