//! [`Gate`]: the store a cache system hands out. It forwards to the real stack until
//! `shutdown`, then lets go of it (so connections close even while callers still hold
//! caches) and answers every call with a clear `Unavailable` error.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use strata_core::{
    Entry, Error, ErrorKind, Explain, Health, HealthStatus, Invalidation, Key, Namespace, Now,
    Pattern, Result, SetOptions, SetOutcome, SharedStore, Store, StoreInfo, StoreStats, Ttl,
    TtlState,
};

#[derive(Clone, Debug)]
pub(crate) struct Gate {
    inner: Arc<ArcSwapOption<SharedStore>>,
    info: StoreInfo,
}

fn closed() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "the cache system has been shut down; start a new one",
    )
}

impl Gate {
    pub(crate) fn new(store: SharedStore) -> Self {
        Gate {
            info: store.info(),
            inner: Arc::new(ArcSwapOption::from_pointee(store)),
        }
    }

    /// Lets go of the stack; true when it was still open.
    pub(crate) fn close(&self) -> bool {
        self.inner.swap(None).is_some()
    }

    fn open(&self) -> Result<Arc<SharedStore>> {
        self.inner.load_full().ok_or_else(closed)
    }
}

impl Store for Gate {
    fn info(&self) -> StoreInfo {
        self.info.clone()
    }

    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        match self.inner.load().as_ref() {
            Some(s) => s.get_now(key),
            None => Now::Pending,
        }
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.open()?.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.open()?.get_many(keys).await
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        self.open()?.set(key, value, opts).await
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        self.open()?.set_many(items, opts).await
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        self.open()?.delete(key).await
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        self.open()?.expire(key, ttl).await
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.open()?.ttl(key).await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.open()?.increment(key, delta).await
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        match self.open() {
            Ok(s) => s.scan(namespace, pattern),
            Err(e) => Box::pin(stream::once(async move { Err(e) })),
        }
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        self.open()?.invalidate(req).await
    }

    async fn health(&self) -> Health {
        match self.open() {
            Ok(s) => s.health().await,
            Err(e) => {
                let mut h = Health::healthy(self.info.name.clone());
                h.status = HealthStatus::Unhealthy;
                h.message = Some(e.message().to_owned());
                h
            }
        }
    }

    fn stats(&self) -> StoreStats {
        self.inner
            .load()
            .as_ref()
            .map(|s| s.stats())
            .unwrap_or_default()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        self.open()?.explain(key).await
    }
}
