//! Cache warming as the older managers configured it: a list of keys, a fetcher, a
//! concurrency, run once ([`UnifiedCacheManager::warm_cache`](crate::UnifiedCacheManager::warm_cache))
//! or on an interval ([`UnifiedCacheManager::start_background_warming`](crate::UnifiedCacheManager::start_background_warming)).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use serde::Serialize;
use serde_json::Value;
use strata::core::BoxError;
use strata::{Error, ErrorKind, Result};

use crate::classic::CompatCache;
use crate::namespace::{CacheNamespace, TtlPolicy};

/// What a fetcher returns for one key: a value to cache, `None` to skip the key, or an error.
pub type FetchResult = std::result::Result<Option<Value>, BoxError>;

type Fetcher = Arc<dyn Fn(String) -> BoxFuture<'static, FetchResult> + Send + Sync>;

/// The older `CacheWarmingConfig`: which keys to load into which namespace, with what, how
/// many at once.
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
#[derive(Clone)]
pub struct CacheWarmingConfig {
    enabled: bool,
    keys: Vec<String>,
    namespace: CacheNamespace,
    concurrency: usize,
    ttl_policy: Option<TtlPolicy>,
    refresh_existing: bool,
    fetcher: Fetcher,
}

impl fmt::Debug for CacheWarmingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheWarmingConfig")
            .field("enabled", &self.enabled)
            .field("keys", &self.keys.len())
            .field("namespace", &self.namespace)
            .field("concurrency", &self.concurrency)
            .field("ttl_policy", &self.ttl_policy)
            .field("refresh_existing", &self.refresh_existing)
            .finish()
    }
}

impl CacheWarmingConfig {
    /// Warms `keys` with an async `fetcher` (enabled, namespace `general`, 4 at once, the
    /// namespace's governance TTL, keys already cached are skipped).
    pub fn new<K, S, F, Fut, E>(keys: K, fetcher: F) -> Self
    where
        K: IntoIterator<Item = S>,
        S: Into<String>,
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<Option<Value>, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let fetcher: Fetcher = Arc::new(move |key| {
            let fut = fetcher(key);
            async move { fut.await.map_err(Into::into) }.boxed()
        });
        CacheWarmingConfig {
            enabled: true,
            keys: keys.into_iter().map(Into::into).collect(),
            namespace: CacheNamespace::General,
            concurrency: 4,
            ttl_policy: None,
            refresh_existing: false,
            fetcher,
        }
    }

    /// Warms `keys` with a blocking `fetcher`, run on tokio's blocking pool.
    pub fn from_sync<K, S, F, E>(keys: K, fetcher: F) -> Self
    where
        K: IntoIterator<Item = S>,
        S: Into<String>,
        F: Fn(&str) -> std::result::Result<Option<Value>, E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        let fetcher = Arc::new(fetcher);
        Self::new(keys, move |key: String| {
            let fetcher = Arc::clone(&fetcher);
            async move {
                match tokio::task::spawn_blocking(move || fetcher(&key).map_err(Into::into)).await {
                    Ok(result) => result,
                    Err(join) => Err(BoxError::from(format!("the fetcher panicked: {join}"))),
                }
            }
        })
    }

    /// Turns warming on or off (off: `warm_cache` reports every key skipped).
    pub fn enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }

    /// The namespace the keys are written to.
    pub fn namespace(mut self, namespace: CacheNamespace) -> Self {
        self.namespace = namespace;
        self
    }

    /// How many fetches run at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Writes with this tier's TTL instead of the namespace's governance TTL.
    pub fn ttl_policy(mut self, policy: TtlPolicy) -> Self {
        self.ttl_policy = Some(policy);
        self
    }

    /// Fetches keys that are already cached too (default: they are skipped).
    pub fn refresh_existing(mut self, on: bool) -> Self {
        self.refresh_existing = on;
        self
    }

    /// The keys.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The target namespace.
    pub fn target_namespace(&self) -> CacheNamespace {
        self.namespace
    }

    /// Checks the settings: `ErrorKind::InvalidConfig` naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::invalid_config(
                "warmup_concurrency is 0; it must be at least 1",
            ));
        }
        self.namespace.namespace().map(|_| ())
    }
}

/// One key whose fetch or write failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WarmingFailure {
    /// The key.
    pub key: String,
    /// Why.
    pub error: String,
}

/// What one warming run did, keys in the configured order.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WarmingReport {
    /// Keys fetched and written.
    pub warmed: Vec<String>,
    /// Keys already cached, or for which the fetcher returned `None` (or warming disabled).
    pub skipped: Vec<String>,
    /// Keys whose fetch or write failed (logged; the others continued).
    pub failed: Vec<WarmingFailure>,
}

enum Outcome {
    Warmed,
    Skipped,
    Failed(String),
}

/// Runs `config` once against `cache` (already in the config's namespace).
pub(crate) async fn warm(
    cache: &CompatCache,
    config: &CacheWarmingConfig,
) -> Result<WarmingReport> {
    config.validate()?;
    let mut report = WarmingReport::default();
    if !config.enabled {
        report.skipped = config.keys.clone();
        return Ok(report);
    }
    let ttl = config.ttl_policy.map(TtlPolicy::duration);
    // Each fetch owns what it uses, so the run can be spawned (background warming).
    let jobs = config.keys.clone().into_iter().enumerate().map(|(i, key)| {
        let (cache, fetcher, refresh) = (
            cache.clone(),
            Arc::clone(&config.fetcher),
            config.refresh_existing,
        );
        async move { (i, warm_one(cache, fetcher, refresh, key, ttl).await) }
    });
    let outcomes: Vec<(usize, Outcome)> = futures_util::stream::iter(jobs)
        .buffer_unordered(config.concurrency)
        .collect()
        .await;
    let mut outcomes = outcomes;
    outcomes.sort_by_key(|(i, _)| *i);
    for (i, outcome) in outcomes {
        let key = config.keys[i].clone();
        match outcome {
            Outcome::Warmed => report.warmed.push(key),
            Outcome::Skipped => report.skipped.push(key),
            Outcome::Failed(error) => {
                tracing::warn!(key = %key, error = %error, "cache warming: a key failed; the others continue");
                report.failed.push(WarmingFailure { key, error });
            }
        }
    }
    Ok(report)
}

async fn warm_one(
    cache: CompatCache,
    fetcher: Fetcher,
    refresh_existing: bool,
    key: String,
    ttl: Option<Duration>,
) -> Outcome {
    if !refresh_existing {
        match cache.exists(&key).await {
            Ok(true) => return Outcome::Skipped,
            Ok(false) => {}
            Err(e) => return Outcome::Failed(e.to_string()),
        }
    }
    match fetcher(key.clone()).await {
        Ok(None) => Outcome::Skipped,
        Ok(Some(value)) => match cache.set(&key, value, ttl).await {
            Ok(_) => Outcome::Warmed,
            Err(e) => Outcome::Failed(e.to_string()),
        },
        Err(e) => Outcome::Failed(Error::from_loader(e).to_string()),
    }
}

/// A warming loop running in the background; dropping it (or [`BackgroundWarming::stop`])
/// stops the loop.
#[derive(Debug)]
pub struct BackgroundWarming {
    task: tokio::task::JoinHandle<()>,
    runs: Arc<std::sync::atomic::AtomicU64>,
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
        let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = Arc::clone(&runs);
        let task = handle.spawn(async move {
            // Runs until the handle is stopped or dropped (which aborts this task).
            loop {
                if let Err(e) = warm(&cache, &config).await {
                    tracing::warn!(error = %e, "background cache warming failed");
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(interval).await;
            }
        });
        Ok(BackgroundWarming { task, runs })
    }

    /// Warming runs completed so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(std::sync::atomic::Ordering::Relaxed)
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
