//! The object-safe twin of [`Store`], for places where the concrete store type is erased.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::entry::Entry;
use crate::error::Result;
use crate::explain::Explain;
use crate::invalidation::Invalidation;
use crate::key::{Key, Namespace};
use crate::options::{SetOptions, SetOutcome, Ttl, TtlState};
use crate::pattern::Pattern;
use crate::store::{Health, Now, Store, StoreInfo, StoreStats};

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Store`] with boxed futures, implemented for every `Store`. Use [`SharedStore`].
///
/// The synchronous [`DynStore::get_now_dyn`] is not boxed, so an in-memory hit through an
/// erased store costs no allocation.
pub trait DynStore: Send + Sync + 'static {
    /// See [`Store::info`].
    fn info_dyn(&self) -> StoreInfo;
    /// See [`Store::get_now`].
    fn get_now_dyn(&self, key: &Key) -> Now<Option<Entry>>;
    /// See [`Store::get`].
    fn get_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Option<Entry>>>;
    /// See [`Store::get_many`].
    fn get_many_dyn<'a>(&'a self, keys: &'a [Key]) -> BoxFuture<'a, Result<Vec<Option<Entry>>>>;
    /// See [`Store::set`].
    fn set_dyn<'a>(
        &'a self,
        key: &'a Key,
        value: Bytes,
        opts: SetOptions,
    ) -> BoxFuture<'a, Result<SetOutcome>>;
    /// See [`Store::set_many`].
    fn set_many_dyn(&self, items: Vec<(Key, Bytes)>, opts: SetOptions)
    -> BoxFuture<'_, Result<()>>;
    /// See [`Store::delete`].
    fn delete_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<bool>>;
    /// See [`Store::expire`].
    fn expire_dyn<'a>(&'a self, key: &'a Key, ttl: Ttl) -> BoxFuture<'a, Result<bool>>;
    /// See [`Store::ttl`].
    fn ttl_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<TtlState>>;
    /// See [`Store::increment`].
    fn increment_dyn<'a>(&'a self, key: &'a Key, delta: i64) -> BoxFuture<'a, Result<i64>>;
    /// See [`Store::scan`].
    fn scan_dyn(&self, namespace: &Namespace, pattern: &Pattern)
    -> BoxStream<'static, Result<Key>>;
    /// See [`Store::invalidate`].
    fn invalidate_dyn<'a>(&'a self, req: &'a Invalidation) -> BoxFuture<'a, Result<u64>>;
    /// See [`Store::health`].
    fn health_dyn(&self) -> BoxFuture<'_, Health>;
    /// See [`Store::stats`].
    fn stats_dyn(&self) -> StoreStats;
    /// See [`Store::explain`].
    fn explain_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Explain>>;
}

impl<S: Store> DynStore for S {
    fn info_dyn(&self) -> StoreInfo {
        self.info()
    }
    fn get_now_dyn(&self, key: &Key) -> Now<Option<Entry>> {
        self.get_now(key)
    }
    fn get_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Option<Entry>>> {
        Box::pin(self.get(key))
    }
    fn get_many_dyn<'a>(&'a self, keys: &'a [Key]) -> BoxFuture<'a, Result<Vec<Option<Entry>>>> {
        Box::pin(self.get_many(keys))
    }
    fn set_dyn<'a>(
        &'a self,
        key: &'a Key,
        value: Bytes,
        opts: SetOptions,
    ) -> BoxFuture<'a, Result<SetOutcome>> {
        Box::pin(self.set(key, value, opts))
    }
    fn set_many_dyn(
        &self,
        items: Vec<(Key, Bytes)>,
        opts: SetOptions,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.set_many(items, opts))
    }
    fn delete_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.delete(key))
    }
    fn expire_dyn<'a>(&'a self, key: &'a Key, ttl: Ttl) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.expire(key, ttl))
    }
    fn ttl_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<TtlState>> {
        Box::pin(self.ttl(key))
    }
    fn increment_dyn<'a>(&'a self, key: &'a Key, delta: i64) -> BoxFuture<'a, Result<i64>> {
        Box::pin(self.increment(key, delta))
    }
    fn scan_dyn(
        &self,
        namespace: &Namespace,
        pattern: &Pattern,
    ) -> BoxStream<'static, Result<Key>> {
        self.scan(namespace, pattern)
    }
    fn invalidate_dyn<'a>(&'a self, req: &'a Invalidation) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.invalidate(req))
    }
    fn health_dyn(&self) -> BoxFuture<'_, Health> {
        Box::pin(self.health())
    }
    fn stats_dyn(&self) -> StoreStats {
        self.stats()
    }
    fn explain_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Explain>> {
        Box::pin(self.explain(key))
    }
}

/// A type-erased store, cheap to clone (one reference count). It is itself a [`Store`], so
/// layers can wrap it.
///
/// A newtype rather than an alias of `Arc<dyn DynStore>`: futures that hold a store behind a
/// bare trait-object `Arc` trip a compiler limitation when spawned ("implementation of
/// `Store` is not general enough"); a type with no lifetime parameter does not.
///
/// ```
/// use strata_core::{SharedStore, Store};
/// fn erase(store: impl Store) -> SharedStore {
///     SharedStore::new(store)
/// }
/// ```
#[derive(Clone)]
pub struct SharedStore(Arc<dyn DynStore>);

impl SharedStore {
    /// Erases a store's type.
    pub fn new(store: impl Store) -> Self {
        SharedStore(Arc::new(store))
    }

    /// Wraps an already shared store.
    pub fn from_arc(store: Arc<dyn DynStore>) -> Self {
        SharedStore(store)
    }

    /// The shared store as an `Arc`.
    pub fn as_arc(&self) -> &Arc<dyn DynStore> {
        &self.0
    }
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedStore")
            .field(&self.0.info_dyn().name)
            .finish()
    }
}

impl From<Arc<dyn DynStore>> for SharedStore {
    fn from(store: Arc<dyn DynStore>) -> Self {
        SharedStore(store)
    }
}

impl Store for SharedStore {
    fn info(&self) -> StoreInfo {
        self.0.info_dyn()
    }
    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        self.0.get_now_dyn(key)
    }
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.0.get_dyn(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.0.get_many_dyn(keys).await
    }
    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        self.0.set_dyn(key, value, opts).await
    }
    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        self.0.set_many_dyn(items, opts).await
    }
    async fn delete(&self, key: &Key) -> Result<bool> {
        self.0.delete_dyn(key).await
    }
    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        self.0.expire_dyn(key, ttl).await
    }
    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.0.ttl_dyn(key).await
    }
    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.0.increment_dyn(key, delta).await
    }
    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        self.0.scan_dyn(namespace, pattern)
    }
    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        self.0.invalidate_dyn(req).await
    }
    async fn health(&self) -> Health {
        self.0.health_dyn().await
    }
    fn stats(&self) -> StoreStats {
        self.0.stats_dyn()
    }
    async fn explain(&self, key: &Key) -> Result<Explain> {
        self.0.explain_dyn(key).await
    }
}
