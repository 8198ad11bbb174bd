//! [`CompatCache`]: the classic interface (`get, set, delete, clear, exists, keys, mget, mset,
//! increment, expire, ttl, get_stats, health_check`) over one namespace of a store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use strata::analytics::{NamespaceStats, Tier};
use strata::system::CacheSystem;
use strata::{
    Cache, CodecId, Health, Invalidation, Key, Namespace, Pattern, Result, SetOptions, SharedStore,
    Store, Tag, Ttl, TtlState,
};

use crate::options::{CompatOptions, Stack, checked_ttl};

/// The classic cache interface of the older managers (their `CacheInterface`), over one
/// namespace of a store. Values are `serde_json::Value` (`get_as` / `set_as` take any serde
/// type). Cloning is cheap and shares everything.
///
/// Every call goes to the store under the governance and analytics layers (see
/// [`CompatOptions`]); keys are written `<namespace>:<key>` in the store (on Redis,
/// `<prefix>:<namespace>:<key>`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use serde_json::json;
/// use strata::{MemoryStore, StoreExt};
/// use strata_compat::{CompatCache, CompatOptions};
///
/// let cache = CompatCache::new(MemoryStore::new().into_shared(), CompatOptions::new())?;
/// cache.set("user:123", json!({"name": "John"}), None).await?;
/// assert_eq!(cache.get("user:123").await?, Some(json!({"name": "John"})));
/// assert_eq!(cache.increment("page_views", 1).await?, 1);
/// assert_eq!(cache.get_stats().await?.cache_hits, 1);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct CompatCache {
    cache: Cache<Value>,
    stack: Stack,
    default_ttl: Option<Duration>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("store", self.store())
            .field("policy_version", &self.governance().version())
            .finish()
    }
}

/// The classic `CacheStats`: this namespace's reads and errors (from the analytics layer),
/// its entries (counted with a scan), and the store's memory and evictions.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheStats {
    /// The namespace.
    pub namespace: String,
    /// Live keys in the namespace (a scan: O(keys); call it for monitoring, not per request).
    pub total_entries: u64,
    /// Reads that found a value.
    pub cache_hits: u64,
    /// Reads that found none.
    pub cache_misses: u64,
    /// hits ÷ reads, `None` before the first read (the older managers said 0).
    pub hit_rate: Option<f64>,
    /// Writes.
    pub sets: u64,
    /// Deletes.
    pub deletes: u64,
    /// Failed operations, all kinds.
    pub errors: u64,
    /// Failed operations by kind (`timeout`, `codec`, ...).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Bytes the whole store holds, as its own counters say (0 when the store does not
    /// count them; a Redis server's `used_memory` is in `health_check`).
    pub memory_usage: u64,
    /// Entries the whole store evicted for space.
    pub evictions: u64,
}

impl CompatCache {
    /// The classic interface over `store`, in `options`' namespace (default `general`).
    pub fn new(store: SharedStore, options: CompatOptions) -> Result<Self> {
        let stack = Stack::new(store, &options);
        Self::from_stack(stack, options.namespace.namespace()?, options.default_ttl)
    }

    /// The classic interface over a running [`CacheSystem`]'s store, layers and registry
    /// (its caches count in the system's `stats_all`), in `options`' namespace. The
    /// options' governance and analytics layers are not used: the system's are.
    pub fn from_system(system: &CacheSystem, options: CompatOptions) -> Result<Self> {
        let stack = Stack::from_system(system, &options);
        Self::from_stack(stack, options.namespace.namespace()?, options.default_ttl)
    }

    /// Over the stack's typed cache of `namespace` (the registry's); `default_ttl`, when
    /// given, replaces the registry's TTL for this handle's writes.
    pub(crate) fn from_stack(
        stack: Stack,
        namespace: Namespace,
        default_ttl: Option<Duration>,
    ) -> Result<Self> {
        if let Some(ttl) = default_ttl {
            checked_ttl(ttl)?;
        }
        Ok(CompatCache {
            cache: stack.typed(&namespace)?,
            stack,
            default_ttl,
        })
    }

    pub(crate) fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        self.cache.namespace()
    }

    /// The store at the top of the stack (governance over analytics over yours).
    pub fn store(&self) -> &SharedStore {
        self.cache.store()
    }

    /// The typed Strata cache of `serde_json::Value` underneath.
    pub fn typed(&self) -> &Cache<Value> {
        &self.cache
    }

    /// The TTL of writes that name none: the one given to this handle, else the
    /// registry's for this namespace (`CACHE_<NAMESPACE>_TTL` with a configuration, the
    /// governance policy's otherwise; `None`: no expiry).
    pub fn default_ttl(&self) -> Option<Duration> {
        self.default_ttl
            .or_else(|| self.stack.ttl_of(self.namespace()))
    }

    fn key(&self, id: &str) -> Result<Key> {
        self.cache.key(id)
    }

    /// The value under `key`, `None` on a miss.
    pub async fn get(&self, key: &str) -> Result<Option<Value>> {
        Ok(self.cache.get(key).await?.map(Arc::unwrap_or_clone))
    }

    /// The value under `key` decoded as `T`, `None` on a miss; a value that is not a `T` is
    /// `ErrorKind::Codec`.
    pub async fn get_as<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let k = self.key(key)?;
        match self.get(key).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
                strata::Error::codec(format!("the cached value is not the type asked for: {e}"))
                    .with_operation("get_as")
                    .with_key(&k)
            }),
        }
    }

    /// Writes `value` for `ttl` (`None`: [`CompatCache::default_ttl`]). True when stored
    /// (always, for an unconditional write); a zero TTL is `ErrorKind::InvalidArgument`.
    pub async fn set(&self, key: &str, value: Value, ttl: Option<Duration>) -> Result<bool> {
        match ttl.or(self.default_ttl) {
            None => self.cache.set(key, value).await?,
            Some(ttl) => {
                self.cache
                    .set_with_ttl(key, value, checked_ttl(ttl)?)
                    .await?
            }
        }
        Ok(true)
    }

    /// Writes any serde value (as JSON).
    pub async fn set_as<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let value = serde_json::to_value(value).map_err(|e| {
            strata::Error::codec(format!("the value cannot be written as JSON: {e}"))
                .with_operation("set_as")
        })?;
        self.set(key, value, ttl).await
    }

    /// Writes `value` with a TTL and tags (for [`CompatCache::invalidate_tags`]).
    pub async fn set_tagged(
        &self,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
        tags: &[&str],
    ) -> Result<bool> {
        let tags = tags.iter().map(Tag::new).collect::<Result<Vec<_>>>()?;
        let mut opts = SetOptions::new().tags(tags);
        if let Some(ttl) = ttl.or(self.default_ttl) {
            opts = opts.ttl(checked_ttl(ttl)?);
        }
        Ok(self.cache.set_with(key, value, opts).await?.is_stored())
    }

    /// Removes `key`; true when a value was removed.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.cache.delete(key).await
    }

    /// Removes every value of this namespace (other namespaces are untouched); returns how
    /// many were removed (the older interface returned `true`).
    pub async fn clear(&self) -> Result<u64> {
        self.cache.clear().await
    }

    /// True when a live value is stored under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        self.cache.exists(key).await
    }

    /// The keys of this namespace matching a Redis glob `pattern` (`None`: all). A scan:
    /// O(keys in the store).
    pub async fn keys(&self, pattern: Option<&str>) -> Result<Vec<String>> {
        let mut keys = self.cache.keys(pattern.unwrap_or("*")).await?;
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// The values found under `keys` (misses are left out, as the older `mget` did); one
    /// round trip on Redis.
    pub async fn mget(&self, keys: &[&str]) -> Result<BTreeMap<String, Value>> {
        let values = self.cache.get_many(keys).await?;
        Ok(keys
            .iter()
            .zip(values)
            .filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), Arc::unwrap_or_clone(v))))
            .collect())
    }

    /// Writes many values with one TTL (`None`: the default); one round trip on Redis.
    pub async fn mset<I, K>(&self, items: I, ttl: Option<Duration>) -> Result<bool>
    where
        I: IntoIterator<Item = (K, Value)>,
        K: AsRef<str>,
    {
        let mut batch = Vec::new();
        for (id, value) in items {
            let key = self.key(id.as_ref())?;
            let bytes = CodecId::Json.encode(&value).map_err(|e| e.with_key(&key))?;
            batch.push((key, bytes));
        }
        let mut opts = SetOptions::new().codec(CodecId::Json);
        if let Some(ttl) = ttl.or(self.default_ttl) {
            opts = opts.ttl(checked_ttl(ttl)?);
        }
        self.store().set_many(batch, opts).await?;
        Ok(true)
    }

    /// Adds `delta` to the integer under `key` (0 when missing) and returns the new value;
    /// `get` reads it as a JSON number.
    pub async fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        self.store().increment(&self.key(key)?, delta).await
    }

    /// Sets the TTL of a live value; false when there is none.
    pub async fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        self.cache.expire(key, Ttl::After(checked_ttl(ttl)?)).await
    }

    /// The remaining TTL: `Missing` (the older `None` for an absent key), `NoExpiry` (the
    /// older `-1`/`None`) or `Remaining(d)`.
    pub async fn ttl(&self, key: &str) -> Result<TtlState> {
        self.store().ttl(&self.key(key)?).await
    }

    /// Removes every value (any namespace) carrying one of `tags`; returns how many.
    pub async fn invalidate_tags(&self, tags: &[&str]) -> Result<u64> {
        let tags = tags.iter().map(Tag::new).collect::<Result<Vec<_>>>()?;
        self.cache.invalidate(&Invalidation::tags(tags)).await
    }

    /// This namespace's figures (see [`CacheStats`]).
    pub async fn get_stats(&self) -> Result<CacheStats> {
        let ns = *self.namespace();
        let total_entries = self
            .store()
            .scan(&ns, &Pattern::all())
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await?;
        let snapshot = self.stack.analytics().snapshot();
        let counts = snapshot
            .tiers
            .get(&Tier::Overall)
            .and_then(|t| t.namespaces.get(ns.as_str()))
            .cloned();
        let store = self.store().stats();
        Ok(stats_from(
            ns.as_str(),
            total_entries,
            counts.as_ref(),
            store.bytes,
            store.evictions.capacity,
        ))
    }

    /// The store's health report (`status`, `backend`, `latency`, `message`, `details`);
    /// on Redis it pings the server.
    pub async fn health_check(&self) -> Health {
        self.store().health().await
    }
}

fn stats_from(
    ns: &str,
    total_entries: u64,
    counts: Option<&NamespaceStats>,
    memory_usage: u64,
    evictions: u64,
) -> CacheStats {
    let (hits, misses, sets, deletes, errors_by_kind) = match counts {
        Some(c) => (c.hits, c.misses, c.sets, c.deletes, c.errors.clone()),
        None => (0, 0, 0, 0, BTreeMap::new()),
    };
    let reads = hits + misses;
    CacheStats {
        namespace: ns.to_owned(),
        total_entries,
        cache_hits: hits,
        cache_misses: misses,
        hit_rate: (reads > 0).then(|| hits as f64 / reads as f64),
        sets,
        deletes,
        errors: errors_by_kind.values().sum(),
        errors_by_kind,
        memory_usage,
        evictions,
    }
}
