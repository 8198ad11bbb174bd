//! Warming: loading a list of keys into a cache through a loader, at start-up and
//! optionally on an interval, so the first readers do not all miss.
//!
//! One key's failure is logged and counted and the others go on; keys already cached are
//! skipped; values are written with the cache's default TTL (the governance TTL of its
//! namespace, where a governance layer is present), and readers are never blocked.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use strata::warming::{warm, WarmLoader, WarmingConfig};
//! use strata::{Cache, CacheBuilder};
//!
//! let prices: Cache<u32> = CacheBuilder::new().namespace("prices").build()?;
//! let loader = WarmLoader::from_sync(|id: &str| match id {
//!     "bad" => Err("source down".to_owned()),
//!     _ => Ok(Some(id.len() as u32)),
//! });
//! let config = WarmingConfig::new(["a", "bb", "bad"], loader).concurrency(2);
//! let report = warm(&prices, &config).await;
//! assert_eq!((report.warmed, report.failed, report.skipped), (2, 1, 0));
//! assert_eq!(*prices.get("bb").await?.unwrap(), 2);
//! # Ok::<(), strata::Error>(()) }).unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use strata_core::{BoxError, BoxFuture};

use crate::Cache;

type LoadFn<T> = dyn Fn(String) -> BoxFuture<'static, Result<Option<T>, BoxError>> + Send + Sync;

/// How warming gets a key's value: `Ok(Some(v))` warms it, `Ok(None)` skips it (the source
/// has nothing), `Err` counts a failure.
pub struct WarmLoader<T>(Arc<LoadFn<T>>);

impl<T> Clone for WarmLoader<T> {
    fn clone(&self) -> Self {
        WarmLoader(self.0.clone())
    }
}

impl<T> fmt::Debug for WarmLoader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WarmLoader")
    }
}

impl<T: Send + 'static> WarmLoader<T> {
    /// An async loader.
    pub fn from_async<F, Fut, E>(f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<T>, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        WarmLoader(Arc::new(move |id| {
            let fut = f(id);
            Box::pin(async move { fut.await.map_err(Into::into) })
        }))
    }

    /// A blocking loader (a synchronous database driver, a file): it runs on tokio's
    /// blocking threads, never on the runtime's workers.
    pub fn from_sync<F, E>(f: F) -> Self
    where
        F: Fn(&str) -> Result<Option<T>, E> + Send + Sync + 'static,
        E: Into<BoxError> + 'static,
    {
        let f = Arc::new(f);
        WarmLoader(Arc::new(move |id| {
            let f = f.clone();
            Box::pin(async move {
                match tokio::task::spawn_blocking(move || f(&id).map_err(Into::into)).await {
                    Ok(out) => out,
                    Err(join) => Err(format!("the warming loader panicked: {join}").into()),
                }
            })
        }))
    }
}

/// What to warm and how.
#[derive(Clone, Debug)]
pub struct WarmingConfig<T> {
    /// False: warming does nothing.
    pub enabled: bool,
    /// The key ids to warm.
    pub keys: Vec<String>,
    /// Where values come from.
    pub loader: WarmLoader<T>,
    /// Keys loaded at once (at least 1).
    pub concurrency: usize,
    /// Warm again at this interval in the background (through a cache system).
    pub interval: Option<Duration>,
}

impl<T: Send + 'static> WarmingConfig<T> {
    /// Warming of `keys` through `loader`, 8 at a time, once.
    pub fn new<I, S>(keys: I, loader: WarmLoader<T>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        WarmingConfig {
            enabled: true,
            keys: keys.into_iter().map(Into::into).collect(),
            loader,
            concurrency: 8,
            interval: None,
        }
    }

    /// Keys loaded at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Warms again at this interval.
    pub fn interval(mut self, every: Duration) -> Self {
        self.interval = Some(every);
        self
    }

    /// Turns warming on or off.
    pub fn enabled(mut self, on: bool) -> Self {
        self.enabled = on;
        self
    }
}

/// One key that failed to warm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WarmFailure {
    /// The key id.
    pub key: String,
    /// Why.
    pub error: String,
}

/// What a warming run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WarmReport {
    /// Keys loaded and written.
    pub warmed: u64,
    /// Keys whose load or write failed.
    pub failed: u64,
    /// Keys already cached, or that the loader had nothing for.
    pub skipped: u64,
    /// The failures (the first 100).
    pub failures: Vec<WarmFailure>,
    /// How long the run took, in milliseconds.
    pub elapsed_ms: u64,
}

impl WarmReport {
    /// Adds another run's figures to this one.
    pub fn absorb(&mut self, other: WarmReport) {
        self.warmed += other.warmed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        let room = MAX_FAILURES.saturating_sub(self.failures.len());
        self.failures.extend(other.failures.into_iter().take(room));
        self.elapsed_ms = self.elapsed_ms.max(other.elapsed_ms);
    }
}

const MAX_FAILURES: usize = 100;

enum Outcome {
    Warmed,
    Skipped,
    Failed(String, String),
}

/// Warms `cache` once as `config` says (nothing when it is disabled).
pub async fn warm<T>(cache: &Cache<T>, config: &WarmingConfig<T>) -> WarmReport
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let started = Instant::now();
    let mut report = WarmReport::default();
    if !config.enabled {
        return report;
    }
    let outcomes = futures_util::stream::iter(config.keys.iter().cloned())
        .map(|id| warm_one(cache, &config.loader, id))
        .buffer_unordered(config.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    for o in outcomes {
        match o {
            Outcome::Warmed => report.warmed += 1,
            Outcome::Skipped => report.skipped += 1,
            Outcome::Failed(key, error) => {
                tracing::warn!(namespace = %cache.namespace(), key, error, "warming failed for one key");
                report.failed += 1;
                if report.failures.len() < MAX_FAILURES {
                    report.failures.push(WarmFailure { key, error });
                }
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        namespace = %cache.namespace(),
        warmed = report.warmed,
        failed = report.failed,
        skipped = report.skipped,
        "warming finished"
    );
    report
}

async fn warm_one<T>(cache: &Cache<T>, loader: &WarmLoader<T>, id: String) -> Outcome
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    match cache.exists(&id).await {
        Ok(true) => return Outcome::Skipped,
        Ok(false) => {}
        Err(e) => return Outcome::Failed(id, e.to_string()),
    }
    match (loader.0)(id.clone()).await {
        Ok(None) => Outcome::Skipped,
        Ok(Some(value)) => match cache.set(&id, value).await {
            Ok(()) => Outcome::Warmed,
            Err(e) => Outcome::Failed(id, e.to_string()),
        },
        Err(e) => Outcome::Failed(id, e.to_string()),
    }
}
