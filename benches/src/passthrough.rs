//! A layer that does nothing but forward, to measure what layering itself costs.
//!
//! Each async method is an `async fn` awaiting the inner store's future, as a real layer that
//! does work around the call would be, so a stack of them nests futures (no boxing unless a
//! [`SharedStore`](strata_core::SharedStore) erases a level). `get_now` forwards to the inner
//! `get_now`, keeping the synchronous fast path.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use strata_core::{
    Entry, Explain, Health, Invalidation, Key, Layer, Namespace, Now, Pattern, Result, SetOptions,
    SetOutcome, Store, StoreInfo, StoreStats, Ttl, TtlState,
};

/// The layer making [`PassThrough`] stores.
///
/// ```
/// use strata_benches::PassThroughLayer;
/// use strata_core::{Layer, Store};
/// use strata_memory::MemoryStore;
///
/// let store = PassThroughLayer.layer(PassThroughLayer.layer(MemoryStore::new()));
/// assert_eq!(store.info().name, "memory");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThroughLayer;

impl<S: Store> Layer<S> for PassThroughLayer {
    type Store = PassThrough<S>;
    fn layer(&self, inner: S) -> PassThrough<S> {
        PassThrough::new(inner)
    }
}

/// A store forwarding every call to the store it wraps.
#[derive(Clone, Debug)]
pub struct PassThrough<S> {
    inner: S,
}

impl<S> PassThrough<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        PassThrough { inner }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Store> Store for PassThrough<S> {
    fn info(&self) -> StoreInfo {
        self.inner.info()
    }

    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        self.inner.get_now(key)
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many(keys).await
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        self.inner.set(key, value, opts).await
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        self.inner.set_many(items, opts).await
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        self.inner.delete(key).await
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        self.inner.expire(key, ttl).await
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.inner.ttl(key).await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.inner.increment(key, delta).await
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        self.inner.scan(namespace, pattern)
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        self.inner.invalidate(req).await
    }

    async fn health(&self) -> Health {
        self.inner.health().await
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        self.inner.explain(key).await
    }
}
