//! A lock across processes, held for a bounded time.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::dyn_store::BoxFuture;
use crate::error::Result;
use crate::key::Key;

/// Proof of holding a lock: a random value only the holder knows. Releasing or extending
/// with a token that no longer holds the lock (it expired and someone else took it) does
/// nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LockToken(String);

impl LockToken {
    /// A token with a random 128-bit value.
    pub fn random() -> Self {
        LockToken(format!("{:032x}", super::random_id()))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential for the lock: show only a prefix.
        write!(f, "LockToken({}…)", &self.0[..self.0.len().min(6)])
    }
}

/// A lock named by a key, shared by every process using the same backend, that expires by
/// itself after its time to live (so a crashed holder cannot block others forever).
///
/// ```
/// # use std::time::Duration;
/// # use strata_core::{DistributedLock, Key, Result};
/// async fn load_once(lock: &impl DistributedLock, key: &Key) -> Result<bool> {
///     let Some(token) = lock.try_lock(key, Duration::from_secs(5)).await? else {
///         return Ok(false); // someone else is loading
///     };
///     // ... load and write the value ...
///     lock.unlock(key, &token).await?;
///     Ok(true)
/// }
/// ```
pub trait DistributedLock: Send + Sync + 'static {
    /// Takes the lock for `ttl` if nobody holds it: `Some(token)`, or `None` when it is held.
    fn try_lock(
        &self,
        key: &Key,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<LockToken>>> + Send;

    /// Releases the lock if `token` still holds it; true when it did.
    fn unlock(&self, key: &Key, token: &LockToken) -> impl Future<Output = Result<bool>> + Send;

    /// Extends the lock to `ttl` from now if `token` still holds it; true when it did.
    fn extend(
        &self,
        key: &Key,
        token: &LockToken,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// The object-safe twin of [`DistributedLock`] (boxed futures), implemented for every
/// `DistributedLock`, so a lock can be kept as `Arc<dyn DynLock>` (as
/// [`StampedeLock`](crate::load::StampedeLock) does).
pub trait DynLock: Send + Sync + 'static {
    /// [`DistributedLock::try_lock`].
    fn try_lock_dyn<'a>(
        &'a self,
        key: &'a Key,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>>>;

    /// [`DistributedLock::unlock`].
    fn unlock_dyn<'a>(&'a self, key: &'a Key, token: &'a LockToken) -> BoxFuture<'a, Result<bool>>;
}

impl<L: DistributedLock> DynLock for L {
    fn try_lock_dyn<'a>(
        &'a self,
        key: &'a Key,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>>> {
        Box::pin(self.try_lock(key, ttl))
    }

    fn unlock_dyn<'a>(&'a self, key: &'a Key, token: &'a LockToken) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.unlock(key, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hidden() {
        let a = LockToken::random();
        let b = LockToken::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(!format!("{a:?}").contains(a.as_str()));
    }
}
