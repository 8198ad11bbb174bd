//! The older manager names as thin wrappers over [`UnifiedCacheManager`]:
//! [`CacheManagerCompat`] (the `CacheManager` calls: curve data, `get` with a default, `set`
//! with tags, tag invalidation, metrics) and [`EnhancedCacheManagerCompat`] (the
//! `EnhancedCacheManager` calls: namespace-first `get`/`set`, health assessment, trends).

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use strata::analytics::{HealthAssessment, Operation, Tier, Trend};
use strata::{Health, InvalidationReason, Result, SharedStore};

use crate::classic::CompatCache;
use crate::namespace::CacheNamespace;
use crate::options::CompatOptions;
use crate::unified::{UnifiedCacheManager, curve_key};
use crate::warming::{CacheWarmingConfig, WarmReport};

/// Drop-in for the older `CacheManager` (and its `CacheManagerCompat` wrapper): every call
/// goes to a [`UnifiedCacheManager`]. Plain keys live in the options' namespace (default
/// `general`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use serde_json::json;
/// use strata::{MemoryStore, StoreExt};
/// use strata_compat::{CacheManagerCompat, CompatOptions};
///
/// let manager = CacheManagerCompat::new(MemoryStore::new().into_shared(), CompatOptions::new())?;
/// manager.set("analytics_data", json!({"rows": 3}), Some(Duration::from_secs(600)), &["analytics"]).await?;
/// assert_eq!(manager.get("analytics_data", json!({})).await?, json!({"rows": 3}));
/// assert_eq!(manager.invalidate_by_tags(&["analytics"]).await?, 1);
/// assert_eq!(manager.get("analytics_data", json!({})).await?, json!({}));
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct CacheManagerCompat {
    manager: UnifiedCacheManager,
}

/// The older `CacheMetrics` / `get_metrics()` figures.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheMetrics {
    /// Operations of every kind.
    pub total_operations: u64,
    /// Reads that found a value.
    pub hits: u64,
    /// Reads that found none.
    pub misses: u64,
    /// Hits in the in-process tier (when the store's tiers are recorded separately).
    pub l1_hits: u64,
    /// Hits in the shared tier.
    pub l2_hits: u64,
    /// hits ÷ reads.
    pub hit_rate: Option<f64>,
    /// Mean sampled `get` latency, ms.
    pub avg_get_time_ms: Option<f64>,
    /// 95th percentile of sampled `get` latency, ms.
    pub p95_get_time_ms: Option<f64>,
}

/// The older `get_cache_info()`: the metrics, the store and its health.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheInfo {
    /// The store at the bottom of the stack, as it names itself (`memory`, `redis`, ...).
    pub store: String,
    /// The namespace of plain keys.
    pub namespace: String,
    /// The TTL of writes that name none, in seconds.
    pub default_ttl_s: Option<u64>,
    /// The metrics.
    pub metrics: CacheMetrics,
    /// The store's health (on Redis it includes the circuit breaker's state).
    pub health: Health,
}

impl CacheManagerCompat {
    /// A manager over `store` (the one constructor; see [`UnifiedCacheManager::new`]).
    pub fn new(store: SharedStore, options: CompatOptions) -> Result<Self> {
        Ok(Self::from_unified(UnifiedCacheManager::new(
            store, options,
        )?))
    }

    /// A view of an existing unified manager.
    pub fn from_unified(manager: UnifiedCacheManager) -> Self {
        CacheManagerCompat { manager }
    }

    /// The unified manager underneath (the call to migrate to).
    pub fn unified(&self) -> &UnifiedCacheManager {
        &self.manager
    }

    fn plain(&self) -> &CompatCache {
        self.manager.default_cache()
    }

    /// The value under `key`, or `default` on a miss.
    pub async fn get(&self, key: &str, default: Value) -> Result<Value> {
        Ok(self.plain().get(key).await?.unwrap_or(default))
    }

    /// Writes `value` for `ttl` (`None`: the namespace's TTL) with `tags`.
    pub async fn set(
        &self,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
        tags: &[&str],
    ) -> Result<bool> {
        self.plain().set_tagged(key, value, ttl, tags).await
    }

    /// Removes `key`.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.plain().delete(key).await
    }

    /// Removes every plain key (the options' namespace only); returns how many.
    pub async fn clear(&self) -> Result<u64> {
        self.plain().clear().await
    }

    /// Removes the values carrying any of `tags` (`cache_invalidator.invalidate_by_tags`).
    pub async fn invalidate_by_tags(&self, tags: &[&str]) -> Result<u64> {
        self.plain().invalidate_tags(tags).await
    }

    /// Removes the plain keys matching `pattern` (`cache_invalidator.invalidate_pattern`).
    pub async fn invalidate_pattern(&self, pattern: &str) -> Result<u64> {
        let ns = CacheNamespace::from(*self.plain().namespace());
        self.manager
            .invalidate_pattern(pattern, ns, InvalidationReason::PatternBased, None)
            .await
    }

    /// Caches curve data (see [`UnifiedCacheManager::cache_curve_data`]); `ttl: None` is
    /// the `curves` TTL (300 s), as the older call's default was.
    pub async fn cache_curve_data(
        &self,
        data: Value,
        iso: &str,
        market: &str,
        location: &str,
        ttl: Option<Duration>,
    ) -> Result<()> {
        match ttl {
            None => {
                self.manager
                    .cache_curve_data(data, iso, market, location)
                    .await
            }
            Some(ttl) => {
                let key = curve_key("cache_curve_data", iso, market, location)?;
                self.manager
                    .set_with_ttl(&key, data, CacheNamespace::Curves, ttl)
                    .await
            }
        }
    }

    /// The curve data cached by [`CacheManagerCompat::cache_curve_data`].
    pub async fn get_curve_data(
        &self,
        iso: &str,
        market: &str,
        location: &str,
    ) -> Result<Option<Value>> {
        self.manager.get_curve_data(iso, market, location).await
    }

    /// Runs `fetcher` for `keys` into the plain namespace (`cache_warmer.warm_cache`).
    pub async fn warm_cache(&self, config: CacheWarmingConfig) -> Result<WarmReport> {
        let ns = CacheNamespace::from(*self.plain().namespace());
        crate::warming::warm(self.plain(), &config.namespace(ns)).await
    }

    /// The older metrics (see [`CacheMetrics`]).
    pub fn get_metrics(&self) -> CacheMetrics {
        let snapshot = self.manager.analytics_snapshot();
        let tier_hits = |t: Tier| snapshot.tiers.get(&t).map_or(0, |s| s.totals.hits);
        let overall = snapshot.tiers.get(&Tier::Overall);
        let totals = overall.map(|t| &t.totals);
        let get = overall
            .and_then(|t| t.latency.get(&Operation::Get))
            .filter(|l| l.samples > 0);
        let (hits, misses) = totals.map_or((0, 0), |t| (t.hits, t.misses));
        CacheMetrics {
            total_operations: totals.map_or(0, |t| t.operations()),
            hits,
            misses,
            l1_hits: tier_hits(Tier::L1),
            l2_hits: tier_hits(Tier::L2),
            hit_rate: (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64),
            avg_get_time_ms: get.map(|l| l.avg_us / 1_000.0),
            p95_get_time_ms: get.map(|l| l.p95_us / 1_000.0),
        }
    }

    /// The metrics, the store and its health (see [`CacheInfo`]).
    pub async fn get_cache_info(&self) -> CacheInfo {
        let health = self.plain().health_check().await;
        CacheInfo {
            store: health.backend.to_string(),
            namespace: self.plain().namespace().to_string(),
            default_ttl_s: self.plain().default_ttl().map(|d| d.as_secs()),
            metrics: self.get_metrics(),
            health,
        }
    }
}

/// Drop-in for the older `EnhancedCacheManager` (and `EnhancedCacheManagerCompat`):
/// namespace-first calls, health assessment and trends, over a [`UnifiedCacheManager`].
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use serde_json::json;
/// use strata::{MemoryStore, StoreExt};
/// use strata_compat::{CompatOptions, EnhancedCacheManagerCompat};
///
/// let manager = EnhancedCacheManagerCompat::new(MemoryStore::new().into_shared(), CompatOptions::new())?;
/// manager.set("sentiment_analysis", "AAPL", json!({"score": 0.7})).await?;
/// assert_eq!(manager.get("sentiment_analysis", "AAPL").await?, Some(json!({"score": 0.7})));
/// let health = manager.perform_health_assessment().await;
/// assert!(health.score <= 100);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct EnhancedCacheManagerCompat {
    manager: UnifiedCacheManager,
}

impl EnhancedCacheManagerCompat {
    /// A manager over `store` (the one constructor; see [`UnifiedCacheManager::new`]).
    pub fn new(store: SharedStore, options: CompatOptions) -> Result<Self> {
        Ok(Self::from_unified(UnifiedCacheManager::new(
            store, options,
        )?))
    }

    /// A view of an existing unified manager.
    pub fn from_unified(manager: UnifiedCacheManager) -> Self {
        EnhancedCacheManagerCompat { manager }
    }

    /// The unified manager underneath.
    pub fn unified(&self) -> &UnifiedCacheManager {
        &self.manager
    }

    /// The value of `key` in `namespace` (any valid namespace name).
    pub async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>> {
        self.manager
            .get(key, CacheNamespace::custom(namespace)?)
            .await
    }

    /// Writes `data` under `key` in `namespace`, for the namespace's governance TTL.
    pub async fn set(&self, namespace: &str, key: &str, data: Value) -> Result<()> {
        self.manager
            .set(key, data, CacheNamespace::custom(namespace)?, None)
            .await
    }

    /// Writes with an explicit TTL.
    pub async fn set_with_ttl(
        &self,
        namespace: &str,
        key: &str,
        data: Value,
        ttl: Duration,
    ) -> Result<()> {
        self.manager
            .set_with_ttl(key, data, CacheNamespace::custom(namespace)?, ttl)
            .await
    }

    /// Removes `key` from `namespace`.
    pub async fn delete(&self, namespace: &str, key: &str) -> Result<bool> {
        self.manager
            .delete(key, CacheNamespace::custom(namespace)?)
            .await
    }

    /// Removes every key of `namespace`.
    pub async fn clear_namespace(&self, namespace: &str) -> Result<u64> {
        self.manager
            .invalidate_namespace(
                CacheNamespace::custom(namespace)?,
                InvalidationReason::Manual,
                None,
            )
            .await
    }

    /// The 0-100 health assessment (`performHealthAssessment`).
    pub async fn perform_health_assessment(&self) -> HealthAssessment {
        self.manager.get_health().await
    }

    /// The score's trend over the analytics layer's trend window (`getPerformanceTrends`;
    /// the window is set on the analytics layer, not per call).
    pub async fn get_performance_trends(&self) -> Trend {
        self.manager.get_health().await.trend
    }
}
