//! Cache warming as the older managers configured it (a list of keys, a fetcher, a
//! concurrency, a namespace), run by [`strata::warming`]: once
//! ([`UnifiedCacheManager::warm_cache`](crate::UnifiedCacheManager::warm_cache)), on an
//! interval ([`UnifiedCacheManager::start_background_warming`](crate::UnifiedCacheManager::start_background_warming)),
//! or at start-up by a cache system with `CACHE_WARM_ON_STARTUP=true`
//! ([`CacheWarmingConfig::add_to`]).
//!
//! Strata's warming decides everything: keys already cached are skipped, one key's failure
//! is logged and counted while the others go on, values get the namespace's TTL, and the
//! run reports a [`WarmReport`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use strata::core::BoxError;
use strata::system::CacheSystemBuilder;
use strata::warming::{WarmLoader, WarmingConfig};
use strata::{Error, ErrorKind, Result};

pub use strata::warming::{WarmFailure, WarmReport};

use crate::classic::CompatCache;
use crate::namespace::CacheNamespace;

/// The older `CacheWarmingConfig` (`enabled`, `warmup_keys`, `warmup_fetcher`,
/// `warmup_concurrency`) plus the namespace to warm: a thin holder of Strata's
/// [`WarmingConfig`].
///
/// ```
/// use serde_json::json;
/// use strata_compat::{CacheNamespace, CacheWarmingConfig};
///
/// let config = CacheWarmingConfig::new(["important_key_1", "important_key_2"], |key: String| async move {
///     Ok::<_, std::io::Error>(Some(json!({ "key": key })))
/// })
/// .namespace(CacheNamespace::Metadata)
/// .concurrency(5);
/// assert_eq!(config.keys().len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct CacheWarmingConfig {
    namespace: CacheNamespace,
    warming: WarmingConfig<Value>,
}

impl CacheWarmingConfig {
    /// Warms `keys` with an async `fetcher` (`Ok(None)`: nothing to warm for the key):
    /// enabled, namespace `general`, 4 at once.
    pub fn new<K, S, F, Fut, E>(keys: K, fetcher: F) -> Self
    where
        K: IntoIterator<Item = S>,
        S: Into<String>,
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Option<Value>, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Self::with_loader(keys, WarmLoader::from_async(fetcher))
    }

    /// Warms `keys` with a blocking `fetcher`, run on tokio's blocking pool.
    pub fn from_sync<K, S, F, E>(keys: K, fetcher: F) -> Self
    where
        K: IntoIterator<Item = S>,
        S: Into<String>,
        F: Fn(&str) -> std::result::Result<Option<Value>, E> + Send + Sync + 'static,
        E: Into<BoxError> + 'static,
    {
        Self::with_loader(keys, WarmLoader::from_sync(fetcher))
    }

    fn with_loader<K, S>(keys: K, loader: WarmLoader<Value>) -> Self
    where
        K: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CacheWarmingConfig {
            namespace: CacheNamespace::General,
            warming: WarmingConfig::new(keys, loader).concurrency(4),
        }
    }

    /// Turns warming on or off (off: a run does nothing and reports zeros).
    pub fn enabled(mut self, on: bool) -> Self {
        self.warming = self.warming.enabled(on);
        self
    }

    /// The namespace the keys are written to.
    pub fn namespace(mut self, namespace: CacheNamespace) -> Self {
        self.namespace = namespace;
        self
    }

    /// How many fetches run at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.warming = self.warming.concurrency(n);
        self
    }

    /// The keys.
    pub fn keys(&self) -> &[String] {
        &self.warming.keys
    }

    /// The target namespace.
    pub fn target_namespace(&self) -> CacheNamespace {
        self.namespace
    }

    /// Strata's warming configuration underneath.
    pub fn warming(&self) -> &WarmingConfig<Value> {
        &self.warming
    }

    /// Checks the settings: `ErrorKind::InvalidConfig` naming the field, or the namespace's
    /// error.
    pub fn validate(&self) -> Result<()> {
        if self.warming.concurrency == 0 {
            return Err(Error::invalid_config(
                "warmup_concurrency is 0; it must be at least 1",
            ));
        }
        self.namespace.namespace().map(|_| ())
    }

    /// Hands this warming to a cache system: it warms the namespace's cache at start-up when
    /// `CACHE_WARM_ON_STARTUP` is true, at `STRATA_WARM_INTERVAL` if set, and on
    /// `CacheSystem::warm`.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// use strata::config::Config;
    /// use strata::system::CacheSystem;
    /// use strata_compat::{CacheNamespace, CacheWarmingConfig, UnifiedCacheManager};
    ///
    /// let config = Config::source()
    ///     .env_vars([("CACHE_BACKEND", "memory"), ("CACHE_WARM_ON_STARTUP", "true")])
    ///     .load()?;
    /// let warming = CacheWarmingConfig::new(["k"], |k: String| async move { Ok::<_, std::io::Error>(Some(json!(k))) })
    ///     .namespace(CacheNamespace::Metadata);
    /// let system = warming.add_to(CacheSystem::builder(config))?.start().await?;
    /// assert_eq!(system.startup_warming().await.map(|r| r.warmed), Some(1));
    /// let cache = UnifiedCacheManager::from_system(&system)?;
    /// assert_eq!(cache.get("k", CacheNamespace::Metadata).await?, Some(json!("k")));
    /// # Ok::<(), strata::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// As [`CacheWarmingConfig::validate`].
    pub fn add_to(self, builder: CacheSystemBuilder) -> Result<CacheSystemBuilder> {
        self.validate()?;
        Ok(builder.warming(self.namespace.as_str(), self.warming))
    }
}

/// Runs `config` once against `cache` (already in the config's namespace): Strata's warming
/// over the cache's typed cache.
pub(crate) async fn warm(cache: &CompatCache, config: &CacheWarmingConfig) -> Result<WarmReport> {
    config.validate()?;
    Ok(strata::warming::warm(cache.typed(), &config.warming).await)
}

/// A warming loop running in the background; dropping it (or [`BackgroundWarming::stop`])
/// stops the loop.
#[derive(Debug)]
pub struct BackgroundWarming {
    task: tokio::task::JoinHandle<()>,
    runs: Arc<AtomicU64>,
}

impl BackgroundWarming {
    /// Runs `config` against `cache` now and then every `interval`, on the current runtime.
    pub(crate) fn start(
        cache: CompatCache,
        config: CacheWarmingConfig,
        interval: Duration,
    ) -> Result<Self> {
        config.validate()?;
        if interval.is_zero() {
            return Err(Error::invalid_config(
                "the warming interval must be more than 0",
            ));
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::InvalidConfig,
                "start_background_warming needs a tokio runtime: call it from async code",
            )
            .with_operation("start_background_warming")
        })?;
        let runs = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&runs);
        let task = handle.spawn(async move {
            // Runs until the handle is stopped or dropped (which aborts this task).
            loop {
                strata::warming::warm(cache.typed(), &config.warming).await;
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(interval).await;
            }
        });
        Ok(BackgroundWarming { task, runs })
    }

    /// Warming runs completed so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Stops the loop (a run in progress is abandoned; keys it wrote stay).
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for BackgroundWarming {
    fn drop(&mut self) {
        self.task.abort();
    }
}
