//! The typed cache, [`Cache<T>`].

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use strata_core::load::{LoadEngine, LoadOptions, Loaded};

use crate::counts::{CacheCounts, Counters};
use strata_core::{
    BoxError, Invalidation, Key, Namespace, Now, Pattern, Result, SetOptions, SetOutcome,
    SharedClock, SharedStore, Store, StoreExt, StoreStats, SystemClock, Tag, Ttl, ValueCodec,
};

/// A typed cache over a store: values of `T` in one namespace.
///
/// Reads return `Arc<T>`. In-process stores keep the decoded value beside the bytes, so a
/// hit does not deserialize (and, through the default stack, does not allocate).
/// Concurrent misses of one key share one loader call ([`Cache::get_or_load`]).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use strata::{Cache, CacheBuilder};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct User { name: String }
///
/// let users: Cache<User> = CacheBuilder::new()
///     .namespace("users")
///     .default_ttl(Duration::from_secs(300))
///     .build()?;
/// users.set("42", User { name: "Ada".into() }).await?;
/// assert_eq!(users.get("42").await?.unwrap().name, "Ada");
/// let loaded = users
///     .get_or_load("7", || async { Ok::<_, std::io::Error>(User { name: "Grace".into() }) })
///     .await?;
/// assert_eq!(loaded.name, "Grace");
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
pub struct Cache<T> {
    store: SharedStore,
    namespace: Namespace,
    codec: ValueCodec,
    engine: Arc<LoadEngine>,
    max_key_len: usize,
    policy: Policy,
    counters: Arc<Counters>,
    _type: PhantomData<fn() -> T>,
}

/// How a cache writes and loads, set by [`CacheBuilder`](crate::CacheBuilder) and shared by
/// its siblings.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    /// The write defaults (`load.set`), the stampede lock and the hard loader timeout.
    pub(crate) load: LoadOptions,
    /// How long "not found" is cached by `get_or_load_optional`.
    pub(crate) negative_ttl: Option<Duration>,
    /// The share of a TTL after which `get_or_load_refreshing` reloads in the background.
    pub(crate) eager_refresh: Option<f64>,
    /// How long `get_or_load_refreshing` waits for a load before answering stale.
    pub(crate) soft_timeout: Option<Duration>,
    /// Tells fresh values from stale (fail-safe) ones.
    pub(crate) clock: SharedClock,
}

impl Policy {
    /// Write defaults `set` and nothing else.
    pub(crate) fn new(set: SetOptions) -> Self {
        Policy {
            load: LoadOptions::new().set_options(set),
            negative_ttl: None,
            eager_refresh: None,
            soft_timeout: None,
            clock: SystemClock::shared(),
        }
    }
}

/// True for the bytes `get_or_load_optional` stores for "not found": JSON `null` or
/// MessagePack nil.
fn is_absent_marker(entry: &strata_core::Entry) -> bool {
    match entry.meta().codec {
        strata_core::CodecId::Json | strata_core::CodecId::Raw => &entry.value()[..] == b"null",
        strata_core::CodecId::MessagePack => entry.value()[..] == [0xC0],
        _ => false,
    }
}

impl<T> Clone for Cache<T> {
    fn clone(&self) -> Self {
        Cache {
            store: self.store.clone(),
            namespace: self.namespace,
            codec: self.codec,
            engine: self.engine.clone(),
            max_key_len: self.max_key_len,
            policy: self.policy.clone(),
            counters: self.counters.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Cache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("type", &std::any::type_name::<T>())
            .field("namespace", &self.namespace)
            .field("store", &self.store.info().name)
            .field("codec", &self.codec)
            .field("policy", &self.policy)
            .finish()
    }
}

impl<T> Cache<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    pub(crate) fn from_parts(
        store: SharedStore,
        namespace: Namespace,
        codec: ValueCodec,
        engine: Arc<LoadEngine>,
        policy: Policy,
        max_key_len: usize,
    ) -> Self {
        Cache {
            store,
            namespace,
            codec,
            engine,
            max_key_len,
            policy,
            counters: Arc::default(),
            _type: PhantomData,
        }
    }

    /// Loads that failed and were answered with the last value instead (fail-safe; see
    /// [`CacheBuilder::fail_safe`](crate::CacheBuilder::fail_safe)).
    pub fn fail_safe_activations(&self) -> u64 {
        self.engine.fail_safe_activations()
    }

    /// A cache of `T` in `namespace` over any store, with JSON and no default TTL.
    pub fn with_store(store: SharedStore, namespace: &str) -> Result<Self> {
        Ok(Self::from_parts(
            store,
            Namespace::new(namespace)?,
            ValueCodec::default(),
            Arc::new(LoadEngine::new()),
            Policy::new(SetOptions::new()),
            strata_core::key::DEFAULT_MAX_KEY_LEN,
        ))
    }

    /// A cache of another type, or another namespace, over the same store and load engine.
    pub fn sibling<U>(&self, namespace: &str) -> Result<Cache<U>>
    where
        U: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        Ok(Cache::from_parts(
            self.store.clone(),
            Namespace::new(namespace)?,
            ValueCodec::new(self.codec.codec),
            self.engine.clone(),
            self.policy.clone(),
            self.max_key_len,
        ))
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The store underneath.
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The key for `id` in this cache's namespace.
    pub fn key(&self, id: &str) -> Result<Key> {
        Key::with_max_len(&self.namespace, id, self.max_key_len)
    }

    /// The value under `id`, if any.
    pub async fn get(&self, id: &str) -> Result<Option<Arc<T>>> {
        let key = self.key(id)?;
        let entry = match self.store.get_now(&key) {
            Now::Ready(entry) => entry,
            Now::Pending => self.store.get(&key).await?,
        };
        let found = self.decode_live(&key, entry)?;
        self.counters.read(found.is_some());
        Ok(found)
    }

    /// A read entry as a value: `None` when absent, stale (past its TTL, kept only as a
    /// fail-safe fallback) or the "not found" marker.
    fn decode_live(&self, key: &Key, entry: Option<strata_core::Entry>) -> Result<Option<Arc<T>>> {
        match entry {
            None => Ok(None),
            // Past its TTL, kept only as a fail-safe fallback: a miss for readers (the
            // comparison first, so entries without a fail-safe window never read the clock).
            Some(e)
                if e.meta().logical_expiry != e.meta().physical_expiry
                    && e.meta().is_stale_at(self.policy.clock.now()) =>
            {
                Ok(None)
            }
            Some(e) => match self.codec.decode_entry::<T>(&e) {
                // "Not found", cached by `get_or_load_optional`, is a miss for a type that
                // cannot be null; a type that can (`Option<_>`, `()`) decodes it as usual.
                Err(_) if is_absent_marker(&e) => Ok(None),
                decoded => decoded.map_err(|err| err.with_operation("get").with_key(key)),
            },
        }
    }

    /// Writes `value` with the cache's default options.
    pub async fn set(&self, id: &str, value: T) -> Result<()> {
        self.set_with(id, value, self.policy.load.set.clone())
            .await
            .map(|_| ())
    }

    /// Writes `value` with a time to live.
    pub async fn set_with_ttl(&self, id: &str, value: T, ttl: Duration) -> Result<()> {
        let opts = self.policy.load.set.clone().ttl(ttl);
        self.set_with(id, value, opts).await.map(|_| ())
    }

    /// Writes `value` with tags (and the default TTL).
    pub async fn set_tagged(&self, id: &str, value: T, tags: &[&str]) -> Result<()> {
        let tags = tags.iter().map(Tag::new).collect::<Result<Vec<_>>>()?;
        let opts = self.policy.load.set.clone().tags(tags);
        self.set_with(id, value, opts).await.map(|_| ())
    }

    /// Writes `value` with explicit options (TTL, tags, conditional mode).
    pub async fn set_with(&self, id: &str, value: T, opts: SetOptions) -> Result<SetOutcome> {
        let key = self.key(id)?;
        let bytes = self.codec.encode(&value).map_err(|e| e.with_key(&key))?;
        let opts = self.codec.prepare(opts, Some(Arc::new(value)));
        let outcome = self.store.set(&key, bytes, opts).await?;
        self.counters.sets(1);
        Ok(outcome)
    }

    /// Removes `id`; true when a value was removed.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        self.store.delete(&self.key(id)?).await
    }

    /// True when a live value is stored under `id`.
    pub async fn exists(&self, id: &str) -> Result<bool> {
        self.store.exists(&self.key(id)?).await
    }

    /// Changes the time to live of `id`; false when absent.
    pub async fn expire(&self, id: &str, ttl: Ttl) -> Result<bool> {
        self.store.expire(&self.key(id)?, ttl).await
    }

    /// The values under `ids`, in order.
    pub async fn get_many(&self, ids: &[&str]) -> Result<Vec<Option<Arc<T>>>> {
        let keys = ids
            .iter()
            .map(|id| self.key(id))
            .collect::<Result<Vec<_>>>()?;
        let entries = self.store.get_many(&keys).await?;
        entries
            .into_iter()
            .zip(&keys)
            .map(|(entry, key)| {
                let found = self.decode_live(key, entry)?;
                self.counters.read(found.is_some());
                Ok(found)
            })
            .collect()
    }

    /// Writes many values with the default options.
    pub async fn set_many<I, S>(&self, items: I) -> Result<()>
    where
        I: IntoIterator<Item = (S, T)>,
        S: AsRef<str>,
    {
        let mut batch = Vec::new();
        for (id, value) in items {
            let key = self.key(id.as_ref())?;
            let bytes = self.codec.encode(&value).map_err(|e| e.with_key(&key))?;
            batch.push((key, bytes));
        }
        let opts = self.codec.prepare::<T>(self.policy.load.set.clone(), None);
        let n = batch.len() as u64;
        self.store.set_many(batch, opts).await?;
        self.counters.sets(n);
        Ok(())
    }

    /// Runs an invalidation on the store (any selector, any namespace).
    pub async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        self.store.invalidate(req).await
    }

    /// Removes every value carrying `tag` (in every namespace).
    pub async fn invalidate_tag(&self, tag: &str) -> Result<u64> {
        self.invalidate(&Invalidation::tag(Tag::new(tag)?)).await
    }

    /// Removes the values of this namespace whose id matches `pattern`.
    pub async fn invalidate_pattern(&self, pattern: &str) -> Result<u64> {
        let req = Invalidation::pattern(self.namespace, Pattern::new(pattern)?);
        self.invalidate(&req).await
    }

    /// Removes every value of this namespace.
    pub async fn clear(&self) -> Result<u64> {
        self.invalidate(&Invalidation::namespace(self.namespace))
            .await
    }

    /// The ids of this namespace matching `pattern`.
    pub async fn keys(&self, pattern: &str) -> Result<Vec<String>> {
        let keys = self
            .store
            .keys(&self.namespace, &Pattern::new(pattern)?)
            .await?;
        Ok(keys.into_iter().map(|k| k.id().to_owned()).collect())
    }

    /// The store's counters (shared by every cache over the store).
    pub fn stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// This cache's own counters (shared with its clones, not its siblings).
    pub fn counts(&self) -> CacheCounts {
        self.counters.snapshot()
    }

    /// The value under `id`; on a miss, calls `loader` once for all concurrent callers and
    /// stores what it returns with the default options.
    ///
    /// The loader returns `T` or [`Loaded<T>`] (to choose the TTL from the value). Its error
    /// reaches every waiting caller as [`ErrorKind::Loader`](crate::ErrorKind::Loader)
    /// and nothing is stored.
    pub async fn get_or_load<F, Fut, L, E>(&self, id: &str, loader: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<L, E>>,
        L: Into<Loaded<T>>,
        E: Into<BoxError>,
    {
        self.get_or_load_with(id, &self.policy.load, loader).await
    }

    /// Like [`Cache::get_or_load`], and on a hit past the
    /// [`eager_refresh`](crate::CacheBuilder::eager_refresh) fraction of its TTL, loads the
    /// value again in the background (once at a time per key) while this and later reads
    /// keep getting the current one, so a hot key never expires into a miss. The loader must
    /// be `'static` to run in the background.
    pub async fn get_or_load_refreshing<F, Fut, L, E>(&self, id: &str, loader: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<L, E>> + Send + 'static,
        L: Into<Loaded<T>> + Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        let key = self.key(id)?;
        let entry = match self.store.get_now(&key) {
            Now::Ready(entry) => entry,
            Now::Pending => self.store.get(&key).await?,
        };
        // Soft timeout: a stale (fail-safe) value answers if the load takes longer than
        // the soft timeout, and the load goes on in the background.
        if let (Some(entry), Some(soft)) = (&entry, self.policy.soft_timeout)
            && entry.meta().is_stale_at(self.policy.clock.now())
            && let Ok(Some(stale)) = self.codec.decode_entry::<T>(entry)
        {
            let Some(done) = self.engine.load_in_background(
                self.store.clone(),
                key,
                self.codec,
                self.policy.load.clone(),
                loader,
            ) else {
                // A load of this key is already under way: the stale value answers.
                return Ok(stale);
            };
            return match tokio::time::timeout(soft, done).await {
                Ok(Ok(Ok(fresh))) => Ok(fresh),
                // The load failed (fail-safe) or is still running (soft timeout).
                _ => {
                    self.engine.count_fail_safe();
                    Ok(stale)
                }
            };
        }
        if let (Some(entry), Some(fraction)) = (&entry, self.policy.eager_refresh) {
            let meta = entry.meta();
            let now = self.policy.clock.now();
            if let Some(expiry) = meta.logical_expiry
                && !meta.is_stale_at(now)
                && let Ok(Some(value)) = self.codec.decode_entry::<T>(entry)
            {
                let life = expiry.saturating_duration_since(meta.created_at);
                if now.saturating_duration_since(meta.created_at) >= life.mul_f64(fraction) {
                    // Not waited on: this read answers with the current value.
                    let _ = self.engine.load_in_background(
                        self.store.clone(),
                        key,
                        self.codec,
                        self.policy.load.clone(),
                        loader,
                    );
                }
                return Ok(value);
            }
        }
        self.engine
            .get_or_load(&self.store, &key, &self.codec, &self.policy.load, loader)
            .await
    }

    /// Background refreshes started by [`Cache::get_or_load_refreshing`].
    pub fn refreshes(&self) -> u64 {
        self.engine.refreshes()
    }

    /// Like [`Cache::get_or_load`] for a source that may have nothing: a loader answering
    /// `None` is cached too ("not found", for the
    /// [`negative_ttl`](crate::CacheBuilder::negative_ttl), or the default TTL), so a key
    /// that does not exist does not reach the source on every read.
    ///
    /// Values are stored as `T` (JSON `null` / MessagePack nil for "not found"), so the same
    /// key read through [`Cache::get`] gives the value, or a miss for "not found".
    pub async fn get_or_load_optional<F, Fut, E>(
        &self,
        id: &str,
        loader: F,
    ) -> Result<Arc<Option<T>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Option<T>, E>>,
        E: Into<BoxError>,
    {
        let key = self.key(id)?;
        let negative_ttl = self.policy.negative_ttl;
        let loader = || async move {
            loader().await.map(|found| match (found, negative_ttl) {
                (None, Some(ttl)) => Loaded::new(None).with_ttl(ttl),
                (found, _) => Loaded::new(found),
            })
        };
        self.engine
            .get_or_load::<_, Option<T>, _, _, _, _>(
                &self.store,
                &key,
                &self.codec,
                &self.policy.load,
                loader,
            )
            .await
    }

    /// [`Cache::get_or_load`] with explicit load options.
    pub async fn get_or_load_with<F, Fut, L, E>(
        &self,
        id: &str,
        opts: &LoadOptions,
        loader: F,
    ) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<L, E>>,
        L: Into<Loaded<T>>,
        E: Into<BoxError>,
    {
        let key = self.key(id)?;
        let ran = std::sync::atomic::AtomicBool::new(false);
        let counters = &self.counters;
        let loader = || {
            ran.store(true, std::sync::atomic::Ordering::Relaxed);
            let fut = loader();
            async move {
                let out = fut.await;
                counters.load(out.is_ok());
                out
            }
        };
        let out = self
            .engine
            .get_or_load(&self.store, &key, &self.codec, opts, loader)
            .await;
        self.counters
            .read(!ran.load(std::sync::atomic::Ordering::Relaxed));
        out
    }

    /// The values under `ids`; the missing ones are loaded with one call of `loader`, which
    /// receives the missing ids and returns the `(id, value)` pairs it found.
    pub async fn get_or_load_many<F, Fut, E>(
        &self,
        ids: &[&str],
        loader: F,
    ) -> Result<Vec<Option<Arc<T>>>>
    where
        F: Fn(Vec<String>) -> Fut,
        Fut: Future<Output = std::result::Result<Vec<(String, T)>, E>>,
        E: Into<BoxError>,
    {
        let keys = ids
            .iter()
            .map(|id| self.key(id))
            .collect::<Result<Vec<_>>>()?;
        let opts = &self.policy.load;
        let namespace = self.namespace;
        let max = self.max_key_len;
        let loader = &loader;
        self.engine
            .get_or_load_many(
                &self.store,
                &keys,
                &self.codec,
                opts,
                move |missing: Vec<Key>| {
                    let namespace = namespace;
                    let ids = missing.iter().map(|k| k.id().to_owned()).collect();
                    let fut = loader(ids);
                    async move {
                        let pairs = fut.await.map_err(Into::into)?;
                        pairs
                            .into_iter()
                            .map(|(id, v)| {
                                Key::with_max_len(&namespace, &id, max)
                                    .map(|k| (k, v))
                                    .map_err(|e| Box::new(e) as BoxError)
                            })
                            .collect::<std::result::Result<Vec<_>, BoxError>>()
                    }
                },
            )
            .await
    }
}
