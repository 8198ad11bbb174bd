//! Conveniences over [`Store`], implemented once for every store.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;

use crate::dyn_store::SharedStore;
use crate::entry::Entry;
use crate::error::Result;
use crate::invalidation::Invalidation;
use crate::key::{Key, Namespace};
use crate::layer::Layer;
use crate::options::{SetOptions, SetOutcome, TtlState};
use crate::pattern::Pattern;
use crate::store::{Now, Store};

/// Conveniences every [`Store`] gets for free.
///
/// ```
/// # use strata_core::*;
/// async fn touch(store: &impl Store, key: &Key) -> Result<bool> {
///     if !store.exists(key).await? {
///         store.set_with_ttl(key, bytes::Bytes::from_static(b"1"), std::time::Duration::from_secs(5)).await?;
///     }
///     store.exists(key).await
/// }
/// ```
pub trait StoreExt: Store {
    /// Reads through the synchronous fast path when the store offers it, else awaits `get`.
    fn read(&self, key: &Key) -> impl Future<Output = Result<Option<Entry>>> + Send {
        let now = self.get_now(key);
        async move {
            match now {
                Now::Ready(answer) => Ok(answer),
                Now::Pending => self.get(key).await,
            }
        }
    }

    /// True when a live value is stored under `key` (does not count as a read).
    fn exists(&self, key: &Key) -> impl Future<Output = Result<bool>> + Send {
        async move { Ok(self.ttl(key).await? != TtlState::Missing) }
    }

    /// Writes a value with a time to live.
    fn set_with_ttl(
        &self,
        key: &Key,
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = Result<SetOutcome>> + Send {
        self.set(key, value, SetOptions::new().ttl(ttl))
    }

    /// Reads `key`; on a miss, writes `make()` with `opts` and returns what is stored then.
    /// Not single-flight: use the load engine (`get_or_load`) for loads that must not stampede.
    fn get_or_insert_with<F>(
        &self,
        key: &Key,
        opts: SetOptions,
        make: F,
    ) -> impl Future<Output = Result<Entry>> + Send
    where
        F: FnOnce() -> Bytes + Send,
    {
        async move {
            if let Some(e) = self.read(key).await? {
                return Ok(e);
            }
            let mut opts = opts;
            opts.mode = crate::options::SetMode::IfAbsent;
            self.set(key, make(), opts).await?;
            match self.get(key).await? {
                Some(e) => Ok(e),
                None => Err(crate::Error::new(
                    crate::ErrorKind::Backend,
                    "the value written by get_or_insert_with vanished before it could be read",
                )
                .with_key(key)),
            }
        }
    }

    /// Removes every entry (`invalidate(Invalidation::all())`).
    fn clear(&self) -> impl Future<Output = Result<u64>> + Send {
        async move { self.invalidate(&Invalidation::all()).await }
    }

    /// Collects the keys `scan` streams (for small namespaces and tests).
    fn keys(
        &self,
        namespace: &Namespace,
        pattern: &Pattern,
    ) -> impl Future<Output = Result<Vec<Key>>> + Send {
        let stream = self.scan(namespace, pattern);
        async move { stream.try_collect().await }
    }

    /// Wraps the store in a layer.
    fn layer<L: Layer<Self>>(self, layer: L) -> L::Store
    where
        Self: Sized,
    {
        layer.layer(self)
    }

    /// Erases the store's type.
    fn into_shared(self) -> SharedStore
    where
        Self: Sized,
    {
        SharedStore::new(self)
    }
}

impl<S: Store + ?Sized> StoreExt for S {}
