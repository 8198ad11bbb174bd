//! [`CacheBuilder`]: configuration of a typed cache and its store.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use strata_core::load::{LoadEngine, LoadOptions, StampedeLock};
use strata_core::{
    CodecId, Error, Fingerprint, Namespace, Result, SetOptions, SharedClock, SharedStore,
    SystemClock, Ttl, ValueCodec,
};

use crate::Cache;
use crate::cache::Policy;

/// Builds a [`Cache<T>`]: the store (the embedded in-memory store by default), the
/// namespace, default TTL, codec and schema fingerprint.
///
/// ```
/// use std::time::Duration;
/// use strata::{Cache, CacheBuilder};
/// let prices: Cache<f64> = CacheBuilder::new()
///     .namespace("prices")
///     .max_entries(50_000)
///     .default_ttl(Duration::from_secs(60))
///     .build()?;
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone)]
pub struct CacheBuilder {
    namespace: String,
    store: Option<SharedStore>,
    default_ttl: Option<Duration>,
    codec: CodecId,
    fingerprint: Option<Fingerprint>,
    max_key_len: usize,
    clock: Option<SharedClock>,
    max_entries: Option<u64>,
    max_bytes: Option<u64>,
    #[cfg(feature = "memory")]
    eviction_policy: Option<strata_memory::EvictionPolicy>,
    /// The stampede lock and loader timeout (its write options are set at `build`).
    load: LoadOptions,
    fail_safe: Option<Duration>,
    negative_ttl: Option<Duration>,
    eager_refresh: Option<f64>,
    soft_timeout: Option<Duration>,
}

impl Default for CacheBuilder {
    fn default() -> Self {
        CacheBuilder {
            namespace: Namespace::DEFAULT.to_owned(),
            store: None,
            default_ttl: None,
            codec: CodecId::Json,
            fingerprint: None,
            max_key_len: strata_core::key::DEFAULT_MAX_KEY_LEN,
            clock: None,
            max_entries: None,
            max_bytes: None,
            #[cfg(feature = "memory")]
            eviction_policy: None,
            load: LoadOptions::new(),
            fail_safe: None,
            negative_ttl: None,
            eager_refresh: None,
            soft_timeout: None,
        }
    }
}

impl std::fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("namespace", &self.namespace)
            .field("store", &self.store)
            .field("default_ttl", &self.default_ttl)
            .field("codec", &self.codec)
            .field("fingerprint", &self.fingerprint)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl CacheBuilder {
    /// A builder for the `default` namespace over the embedded in-memory store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the cache settings of `config`: its namespace, default TTL (the
    /// namespace's own TTL first: `CACHE_<NAMESPACE>_TTL` or the built-in one), fail-safe
    /// window, loader timeout, and the embedded store's bound and eviction policy. (The
    /// backend is the embedded store unless [`CacheBuilder::store`] says otherwise;
    /// [`CacheSystem`](crate::CacheSystem) builds Redis and multi-tier backends.)
    ///
    /// ```
    /// use strata::{Cache, CacheBuilder, config::Config};
    /// let config = Config::source()
    ///     .env_vars([("STRATA_NAMESPACE", "session"), ("CACHE_MAX_MEMORY_SIZE", "500")])
    ///     .load()?;
    /// let sessions: Cache<String> = CacheBuilder::from_config(&config)?.build()?;
    /// assert_eq!(sessions.namespace().as_str(), "session");
    /// # Ok::<(), strata::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidConfig` listing every problem of `config`.
    pub fn from_config(config: &crate::config::Config) -> Result<Self> {
        config.validate()?;
        let mut b = CacheBuilder::new().namespace(config.namespace.clone());
        if let Some(ttl) = config.ttl_of(&config.namespace) {
            b = b.default_ttl(ttl);
        }
        if let Some(w) = config.fail_safe {
            b = b.fail_safe(w);
        }
        if let Some(t) = config.loader_timeout {
            b = b.loader_timeout(t);
        }
        match config.memory.max_size {
            crate::config::MemorySize::Entries(n) => b.max_entries = Some(n),
            crate::config::MemorySize::Bytes(n) => b.max_bytes = Some(n),
        }
        #[cfg(feature = "memory")]
        {
            b.eviction_policy = Some(config.memory.eviction_policy.parse()?);
        }
        Ok(b)
    }

    /// [`CacheBuilder::from_config`] over [`Config::from_env`](crate::config::Config::from_env):
    /// the defaults, the TOML file `STRATA_CONFIG` names, then the environment.
    pub fn from_env() -> Result<Self> {
        Self::from_config(&crate::config::Config::from_env()?)
    }

    /// The namespace (`[A-Za-z0-9_.-]{1,64}`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Uses this store instead of the embedded in-memory one.
    pub fn store(mut self, store: SharedStore) -> Self {
        self.store = Some(store);
        self
    }

    /// The TTL of values written without one (default: no expiry).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// The codec for new values (JSON by default; reads follow each value's codec).
    pub fn codec(mut self, codec: CodecId) -> Self {
        self.codec = codec;
        self
    }

    /// Writes and requires a schema fingerprint: values written under another name or
    /// version read as misses, so bumping `version` retires old values after a type change.
    pub fn schema(mut self, name: &str, version: u32) -> Self {
        self.fingerprint = Some(Fingerprint::named(name, version));
        self
    }

    /// The longest key id accepted, in bytes (default 1024).
    pub fn max_key_len(mut self, n: usize) -> Self {
        self.max_key_len = n;
        self
    }

    /// The clock of the embedded store (tests pass a `ManualClock`).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The most entries the embedded store holds.
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = Some(n);
        self
    }

    /// The most bytes the embedded store holds.
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = Some(n);
        self
    }

    /// The eviction policy of the embedded store.
    #[cfg(feature = "memory")]
    pub fn eviction_policy(mut self, policy: strata_memory::EvictionPolicy) -> Self {
        self.eviction_policy = Some(policy);
        self
    }

    fn build_store(&self) -> Result<SharedStore> {
        if let Some(store) = &self.store {
            return Ok(store.clone());
        }
        #[cfg(feature = "memory")]
        {
            let mut b = strata_memory::MemoryStore::builder();
            if let Some(n) = self.max_entries {
                b = b.max_entries(n);
            }
            if let Some(n) = self.max_bytes {
                b = b.max_bytes(n);
            }
            if let Some(p) = self.eviction_policy {
                b = b.eviction_policy(p);
            }
            if let Some(c) = &self.clock {
                b = b.clock(c.clone());
            }
            Ok(SharedStore::new(b.build()?))
        }
        #[cfg(not(feature = "memory"))]
        {
            Err(Error::invalid_config(
                "no store configured: enable the `memory` feature or pass one with CacheBuilder::store",
            ))
        }
    }

    /// Fail-safe: values stay in the store `window` past their TTL, as stale copies. Reads
    /// treat them as misses, but when `get_or_load`'s loader fails (or panics) the stale
    /// value is returned instead of the error, and
    /// [`Cache::fail_safe_activations`](crate::Cache::fail_safe_activations) counts it.
    pub fn fail_safe(mut self, window: Duration) -> Self {
        self.fail_safe = Some(window);
        self
    }

    /// A soft loader timeout, for `get_or_load_refreshing` under
    /// [`fail_safe`](Self::fail_safe): when a stale value exists and its load takes longer
    /// than `timeout`, the stale value answers and the load finishes in the background (the
    /// hard [`loader_timeout`](Self::loader_timeout) still bounds it).
    pub fn soft_timeout(mut self, timeout: Duration) -> Self {
        self.soft_timeout = Some(timeout);
        self
    }

    /// Eager refresh: a `get_or_load_refreshing` hit past `fraction` (0 to 1, say 0.8) of
    /// its TTL is loaded again in the background, once at a time per key.
    pub fn eager_refresh(mut self, fraction: f64) -> Self {
        self.eager_refresh = Some(fraction);
        self
    }

    /// How long a "not found" answer of
    /// [`Cache::get_or_load_optional`](crate::Cache::get_or_load_optional) is cached (default:
    /// the default TTL), usually shorter than values.
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = Some(ttl);
        self
    }

    /// A hard timeout on loaders: a load running longer fails with `ErrorKind::Timeout`
    /// (answered by the stale value under [`fail_safe`](Self::fail_safe)).
    pub fn loader_timeout(mut self, timeout: Duration) -> Self {
        self.load = self.load.loader_timeout(timeout);
        self
    }

    /// Coordinates `get_or_load` across nodes: a node that misses takes `lock` (a
    /// distributed lock, such as a `RedisStore`) before calling its loader, and the others
    /// wait for the value to appear in the shared store, so the fleet calls the loader once.
    pub fn stampede_lock(mut self, lock: StampedeLock) -> Self {
        self.load = self.load.stampede_lock(lock);
        self
    }

    /// Builds the cache, checking the configuration.
    pub fn build<T>(self) -> Result<Cache<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        let namespace = Namespace::new(&self.namespace)?;
        if self.codec == CodecId::Raw {
            return Err(Error::invalid_config(
                "the raw codec cannot encode typed values; use json or msgpack",
            ));
        }
        if self.max_key_len == 0 {
            return Err(Error::invalid_config("max_key_len must be at least 1"));
        }
        let mut defaults = SetOptions::new();
        if let Some(ttl) = self.default_ttl {
            defaults = defaults.ttl(ttl);
        }
        if let Some(window) = self.fail_safe {
            defaults = defaults.fail_safe(window);
        }
        defaults.validate()?;
        if let Some(ttl) = self.negative_ttl {
            Ttl::After(ttl).validate()?;
        }
        if let Some(f) = self.eager_refresh
            && !(f > 0.0 && f < 1.0)
        {
            return Err(Error::invalid_config(format!(
                "eager_refresh is {f}; it must be a fraction of the TTL between 0 and 1"
            )));
        }
        let clock = self.clock.clone().unwrap_or_else(SystemClock::shared);
        let store = self.build_store()?;
        let mut codec = ValueCodec::new(self.codec);
        codec.fingerprint = self.fingerprint;
        let policy = Policy {
            load: self.load.set_options(defaults),
            negative_ttl: self.negative_ttl,
            eager_refresh: self.eager_refresh,
            soft_timeout: self.soft_timeout,
            clock: clock.clone(),
        };
        Ok(Cache::from_parts(
            store,
            namespace,
            codec,
            Arc::new(LoadEngine::with_clock(clock)),
            policy,
            self.max_key_len,
        ))
    }
}
