//! [`UnifiedCacheManager`]: the older unified manager's calls (namespaces, TTL policies,
//! pattern invalidation with tracking, events, analytics, health, warming and the domain
//! helpers such as `cache_curve_data`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use strata::analytics::{
    AnalyticsLayer, AnalyticsSnapshot, HealthAssessment, InvalidationEvent, Operation, Tier,
};
use strata::core::Timestamp;
use strata::core::pattern::escape;
use strata::governance::{GovernanceLayer, GovernanceReport};
use strata::system::CacheSystem;
use strata::{
    Capabilities, Error, Invalidation, InvalidationReason, Pattern, Registry, Result, SharedStore,
    Store,
};

use crate::classic::CompatCache;
use crate::error::bad_key_part;
use crate::namespace::{CacheNamespace, TtlPolicy};
use crate::options::{CompatOptions, Stack};
use crate::warming::{BackgroundWarming, CacheWarmingConfig, WarmReport};

/// The older `UnifiedCacheManager`, over a Strata store.
///
/// Every value lives under a [`CacheNamespace`]; a write without a TTL gets the namespace's
/// TTL from the governance policy (`curves` 300 s, ...), a write with a [`TtlPolicy`] gets
/// the tier's. Keys are `(namespace, key)`: `<namespace>:<key>` in the store, and
/// `<prefix>:<namespace>:<key>` on Redis.
///
/// The domain helpers build keys from their parts, joined with `:` (a part must be non-empty
/// and must not contain `:`, so two different calls can never share a key):
///
/// | helper | namespace | key |
/// |---|---|---|
/// | `cache_curve_data(data, iso, market, location)` | `curves` | `<iso>:<market>:<location>` |
/// | `cache_metadata(data, kind, id)` | `metadata` | `<kind>:<id>` |
/// | `cache_scenario_data(data, scenario_id)` | `scenarios` | `<scenario_id>` |
/// | `cache_eia_data(data, series_id)` | `eia_data` | `<series_id>` |
/// | `cache_external_data(data, provider, dataset)` | `external_data` | `<provider>:<dataset>` |
/// | `cache_user_data(data, user_id, name)` | `user_data` | `<user_id>:<name>` |
/// | `cache_system_config(data, name)` | `system_config` | `<name>` |
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use serde_json::json;
/// use strata::{MemoryStore, StoreExt, TtlState};
/// use strata_compat::{CacheNamespace, CompatOptions, TtlPolicy, UnifiedCacheManager};
///
/// let cache = UnifiedCacheManager::new(MemoryStore::new().into_shared(), CompatOptions::new())?;
/// cache.cache_curve_data(json!([41.5, 42.0]), "CAISO", "RT", "ZONE1").await?;
/// assert_eq!(cache.get_curve_data("CAISO", "RT", "ZONE1").await?, Some(json!([41.5, 42.0])));
///
/// cache.set("key", json!("value"), CacheNamespace::Scenarios, Some(TtlPolicy::Short)).await?;
/// let removed = cache
///     .invalidate_pattern("curves:CAISO:*", CacheNamespace::Curves, strata_compat::reason("data_update")?, Some("curve_service"))
///     .await?;
/// assert_eq!(removed, 1);
/// assert_eq!(cache.get_invalidation_events(std::time::UNIX_EPOCH).len(), 1);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct UnifiedCacheManager {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    stack: Stack,
    /// The cache of the options' namespace; others are its siblings.
    general: CompatCache,
    warming: Mutex<Option<CacheWarmingConfig>>,
}

/// The older manager's analytics JSON: `unified_cache` (requests, hits, misses, hit rate,
/// average response time, per-namespace figures) and `governance` (operations, policy
/// violations, TTL overrides, ...).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheAnalytics {
    /// The cache's figures.
    pub unified_cache: UnifiedFigures,
    /// The governance counters.
    pub governance: GovernanceReport,
}

/// The `unified_cache` section of [`CacheAnalytics`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnifiedFigures {
    /// Reads.
    pub total_requests: u64,
    /// Reads that found a value.
    pub hits: u64,
    /// Reads that found none.
    pub misses: u64,
    /// hits ÷ reads (`None` before the first read).
    pub hit_rate: Option<f64>,
    /// Mean `get` latency of the sampled reads, in ms (`None` before the first sample).
    pub average_response_time_ms: Option<f64>,
    /// Invalidations run.
    pub invalidations: u64,
    /// Entries they removed.
    pub invalidated_entries: u64,
    /// By namespace.
    pub namespace_stats: BTreeMap<String, NamespaceFigures>,
}

/// One namespace in [`UnifiedFigures`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamespaceFigures {
    /// Reads that found a value.
    pub hits: u64,
    /// Reads that found none.
    pub misses: u64,
    /// hits ÷ reads.
    pub hit_rate: Option<f64>,
}

impl UnifiedCacheManager {
    /// The manager over `store`, wrapped in the options' layers, with a registry of its own
    /// whose TTLs are the governance policy's. Over a configured stack, use
    /// [`UnifiedCacheManager::from_system`] (or [`UnifiedCacheManager::from_env`]).
    pub fn new(store: SharedStore, options: CompatOptions) -> Result<Self> {
        Self::from_stack(Stack::new(store, &options), &options)
    }

    /// The manager over a running [`CacheSystem`] (`CacheSystem::from_env()`, or started
    /// from a `Config`): its store and its governance and analytics layers as they are
    /// ([`CompatOptions::already_layered`]), and its registry, so the system's `stats_all`
    /// counts this manager's caches and TTLs come from its configuration
    /// (`CACHE_<TYPE>_TTL`). The manager keeps the system running while it lives; shut it
    /// down with `system.shutdown(deadline)` (or [`crate::global::shutdown`]).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// use strata::config::Config;
    /// use strata::system::CacheSystem;
    /// use strata_compat::{CacheNamespace, UnifiedCacheManager};
    ///
    /// let config = Config::source()
    ///     .env_vars([("CACHE_BACKEND", "memory"), ("CACHE_CURVES_TTL", "120")])
    ///     .load()?;
    /// let system = CacheSystem::start(config).await?;
    /// let cache = UnifiedCacheManager::from_system(&system)?;
    /// assert_eq!(cache.namespace_ttl(CacheNamespace::Curves)?, Some(std::time::Duration::from_secs(120)));
    /// cache.cache_curve_data(json!([1.5]), "CAISO", "RT", "ZONE1").await?;
    /// assert_eq!(system.stats_all().caches["curves"].counts.sets, 1);
    /// system.shutdown(std::time::Duration::from_secs(5)).await;
    /// # Ok::<(), strata::Error>(()) }).unwrap();
    /// ```
    pub fn from_system(system: &CacheSystem) -> Result<Self> {
        Self::from_system_with(system, CompatOptions::new())
    }

    /// As [`UnifiedCacheManager::from_system`], with the options' namespace and default TTL
    /// (their governance and analytics layers are not used: the system's are).
    pub fn from_system_with(system: &CacheSystem, options: CompatOptions) -> Result<Self> {
        Self::from_stack(Stack::from_system(system, &options), &options)
    }

    /// Starts a [`CacheSystem`] from the environment (`CACHE_BACKEND`, `REDIS_URL`, ...;
    /// docs/configuration.md) and puts the manager over it
    /// ([`UnifiedCacheManager::from_system`]).
    ///
    /// # Errors
    ///
    /// `InvalidConfig` listing every bad variable; `Unavailable` or `Timeout` when the
    /// configured Redis cannot be reached.
    pub async fn from_env() -> Result<Self> {
        Self::from_system(&CacheSystem::from_env().await?)
    }

    fn from_stack(stack: Stack, options: &CompatOptions) -> Result<Self> {
        let general = CompatCache::from_stack(
            stack.clone(),
            options.namespace.namespace()?,
            options.default_ttl,
        )?;
        Ok(UnifiedCacheManager {
            inner: Arc::new(Inner {
                stack,
                general,
                warming: Mutex::new(None),
            }),
        })
    }

    /// The classic interface over one namespace of this manager's store (sharing its
    /// layers and counters).
    pub fn cache(&self, namespace: CacheNamespace) -> Result<CompatCache> {
        let ns = namespace.namespace()?;
        if ns == *self.inner.general.namespace() {
            return Ok(self.inner.general.clone());
        }
        CompatCache::from_stack(self.inner.stack.clone(), ns, None)
    }

    /// The classic interface over the options' namespace (default `general`).
    pub fn default_cache(&self) -> &CompatCache {
        &self.inner.general
    }

    /// The store at the top of the stack.
    pub fn store(&self) -> &SharedStore {
        self.inner.stack.store()
    }

    /// The governance layer (policy, report, reload).
    pub fn governance(&self) -> &GovernanceLayer {
        self.inner.stack.governance()
    }

    /// The analytics layer (snapshot, events, health).
    pub fn analytics(&self) -> &AnalyticsLayer {
        self.inner.stack.analytics()
    }

    /// The registry that makes this manager's typed caches (one per namespace) and adds
    /// their figures up.
    pub fn registry(&self) -> &Registry {
        self.inner.stack.registry()
    }

    /// The cache system the manager runs on, when built by
    /// [`UnifiedCacheManager::from_system`] or [`UnifiedCacheManager::from_env`].
    pub fn system(&self) -> Option<&CacheSystem> {
        self.inner.stack.system()
    }

    /// The TTL a write to `namespace` gets without a TTL policy: the registry's
    /// (`CACHE_<NAMESPACE>_TTL`, else the built-in one), else the governance policy's.
    pub fn namespace_ttl(&self, namespace: CacheNamespace) -> Result<Option<Duration>> {
        Ok(self.inner.stack.ttl_of(&namespace.namespace()?))
    }

    /// The value under `key` in `namespace`.
    pub async fn get(&self, key: &str, namespace: CacheNamespace) -> Result<Option<Value>> {
        self.cache(namespace)?.get(key).await
    }

    /// The value under `key` in `namespace`, decoded as `T`.
    pub async fn get_as<T: DeserializeOwned>(
        &self,
        key: &str,
        namespace: CacheNamespace,
    ) -> Result<Option<T>> {
        self.cache(namespace)?.get_as(key).await
    }

    /// Writes `value` under `key` in `namespace`, for the tier's TTL (`None`: the
    /// namespace's governance TTL).
    pub async fn set(
        &self,
        key: &str,
        value: Value,
        namespace: CacheNamespace,
        ttl_policy: Option<TtlPolicy>,
    ) -> Result<()> {
        self.cache(namespace)?
            .set(key, value, ttl_policy.map(TtlPolicy::duration))
            .await
            .map(|_| ())
    }

    /// Writes any serde value (as JSON).
    pub async fn set_as<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        namespace: CacheNamespace,
        ttl_policy: Option<TtlPolicy>,
    ) -> Result<()> {
        self.cache(namespace)?
            .set_as(key, value, ttl_policy.map(TtlPolicy::duration))
            .await
            .map(|_| ())
    }

    /// Writes with an explicit TTL (still within the governance rule's floor and ceiling).
    pub async fn set_with_ttl(
        &self,
        key: &str,
        value: Value,
        namespace: CacheNamespace,
        ttl: Duration,
    ) -> Result<()> {
        self.cache(namespace)?
            .set(key, value, Some(ttl))
            .await
            .map(|_| ())
    }

    /// Removes `key` from `namespace`.
    pub async fn delete(&self, key: &str, namespace: CacheNamespace) -> Result<bool> {
        self.cache(namespace)?.delete(key).await
    }

    /// Removes the keys of `namespace` matching the Redis glob `pattern`, recording `reason`
    /// and `triggered_by` in the invalidation event log; returns how many were removed.
    ///
    /// As with the older manager, a pattern may start with the namespace
    /// (`"curves:CAISO:*"` in `curves` matches the keys `CAISO:*`): a leading `<namespace>:`
    /// is dropped once.
    pub async fn invalidate_pattern(
        &self,
        pattern: &str,
        namespace: CacheNamespace,
        reason: InvalidationReason,
        triggered_by: Option<&str>,
    ) -> Result<u64> {
        let ns = namespace.namespace()?;
        let own = pattern
            .strip_prefix(ns.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or(pattern);
        let mut req = Invalidation::pattern(ns, Pattern::new(own)?).reason(reason);
        if let Some(who) = triggered_by {
            req = req.triggered_by(who);
        }
        self.store().invalidate(&req).await
    }

    /// Removes every key of `namespace`, recording `reason` and `triggered_by`.
    pub async fn invalidate_namespace(
        &self,
        namespace: CacheNamespace,
        reason: InvalidationReason,
        triggered_by: Option<&str>,
    ) -> Result<u64> {
        let mut req = Invalidation::namespace(namespace.namespace()?).reason(reason);
        if let Some(who) = triggered_by {
            req = req.triggered_by(who);
        }
        self.store().invalidate(&req).await
    }

    /// The invalidations run at or after `since` (oldest first; the log keeps the last
    /// 1,024 unless the analytics layer was built with another capacity).
    pub fn get_invalidation_events(&self, since: SystemTime) -> Vec<InvalidationEvent> {
        let millis = since
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        self.analytics()
            .invalidation_events(Timestamp::from_millis(millis))
    }

    /// The analytics in the older JSON shape (see [`CacheAnalytics`]).
    pub fn get_analytics(&self) -> CacheAnalytics {
        analytics_from(&self.analytics().snapshot(), self.governance().report())
    }

    /// Every counter and latency summary the analytics layer keeps.
    pub fn analytics_snapshot(&self) -> AnalyticsSnapshot {
        self.analytics().snapshot()
    }

    /// The health assessment (score, status, `is_healthy`, `error_rate`, issues,
    /// recommendations, trend), from the counters and the store's own health.
    pub async fn get_health(&self) -> HealthAssessment {
        let backend = self.store().health().await;
        let local = self
            .store()
            .info()
            .capabilities
            .contains(Capabilities::LOCAL);
        self.analytics().assess_with(&backend, local)
    }

    /// Keeps `config` for [`UnifiedCacheManager::warm_cache`] and
    /// [`UnifiedCacheManager::start_background_warming`] (validated now).
    pub fn configure_warming(&self, config: CacheWarmingConfig) -> Result<()> {
        config.validate()?;
        *self
            .inner
            .warming
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(config);
        Ok(())
    }

    fn warming_config(&self, operation: &'static str) -> Result<(CompatCache, CacheWarmingConfig)> {
        let config = self
            .inner
            .warming
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                Error::invalid_config("no warming is configured: call configure_warming first")
                    .with_operation(operation)
            })?;
        Ok((self.cache(config.target_namespace())?, config))
    }

    /// Runs the configured warming once through [`strata::warming::warm`]: keys already
    /// cached are skipped, the others fetched (`concurrency` at a time) and written with the
    /// namespace's TTL; a failing key is logged and reported, the others continue.
    pub async fn warm_cache(&self) -> Result<WarmReport> {
        let (cache, config) = self.warming_config("warm_cache")?;
        crate::warming::warm(&cache, &config).await
    }

    /// Runs the configured warming now and every `interval` on the current tokio runtime,
    /// until the returned handle is stopped or dropped.
    pub fn start_background_warming(&self, interval: Duration) -> Result<BackgroundWarming> {
        let (cache, config) = self.warming_config("start_background_warming")?;
        BackgroundWarming::start(cache, config, interval)
    }

    // ---- domain helpers -------------------------------------------------------------------

    /// Caches curve data under `curves`, key `<iso>:<market>:<location>`, for the namespace's
    /// TTL (300 s by default).
    pub async fn cache_curve_data(
        &self,
        data: Value,
        iso: &str,
        market: &str,
        location: &str,
    ) -> Result<()> {
        let key = curve_key("cache_curve_data", iso, market, location)?;
        self.set(&key, data, CacheNamespace::Curves, None).await
    }

    /// The curve data cached by [`UnifiedCacheManager::cache_curve_data`].
    pub async fn get_curve_data(
        &self,
        iso: &str,
        market: &str,
        location: &str,
    ) -> Result<Option<Value>> {
        let key = curve_key("get_curve_data", iso, market, location)?;
        self.get(&key, CacheNamespace::Curves).await
    }

    /// Removes the curves of `iso` (and of `market`, when given), reason `DataChanged`.
    pub async fn invalidate_curve_data(&self, iso: &str, market: Option<&str>) -> Result<u64> {
        let mut parts = vec![("iso", iso)];
        if let Some(m) = market {
            parts.push(("market", m));
        }
        let prefix = join("invalidate_curve_data", &parts)?;
        let pattern = format!("{}:*", escape(&prefix));
        let req =
            Invalidation::pattern(CacheNamespace::Curves.namespace()?, Pattern::new(pattern)?)
                .reason(InvalidationReason::DataChanged)
                .triggered_by("invalidate_curve_data");
        self.store().invalidate(&req).await
    }

    /// Caches metadata under `metadata`, key `<kind>:<id>` (1800 s by default).
    pub async fn cache_metadata(&self, data: Value, kind: &str, id: &str) -> Result<()> {
        let key = join(
            "cache_metadata",
            &[("metadata type", kind), ("identifier", id)],
        )?;
        self.set(&key, data, CacheNamespace::Metadata, None).await
    }

    /// The metadata cached by [`UnifiedCacheManager::cache_metadata`].
    pub async fn get_metadata(&self, kind: &str, id: &str) -> Result<Option<Value>> {
        let key = join(
            "get_metadata",
            &[("metadata type", kind), ("identifier", id)],
        )?;
        self.get(&key, CacheNamespace::Metadata).await
    }

    /// Caches scenario data under `scenarios`, key `<scenario_id>` (60 s by default).
    pub async fn cache_scenario_data(&self, data: Value, scenario_id: &str) -> Result<()> {
        let key = join("cache_scenario_data", &[("scenario id", scenario_id)])?;
        self.set(&key, data, CacheNamespace::Scenarios, None).await
    }

    /// The scenario data cached by [`UnifiedCacheManager::cache_scenario_data`].
    pub async fn get_scenario_data(&self, scenario_id: &str) -> Result<Option<Value>> {
        let key = join("get_scenario_data", &[("scenario id", scenario_id)])?;
        self.get(&key, CacheNamespace::Scenarios).await
    }

    /// Caches EIA data under `eia_data`, key `<series_id>` (600 s by default).
    pub async fn cache_eia_data(&self, data: Value, series_id: &str) -> Result<()> {
        let key = join("cache_eia_data", &[("series id", series_id)])?;
        self.set(&key, data, CacheNamespace::EiaData, None).await
    }

    /// The EIA data cached by [`UnifiedCacheManager::cache_eia_data`].
    pub async fn get_eia_data(&self, series_id: &str) -> Result<Option<Value>> {
        let key = join("get_eia_data", &[("series id", series_id)])?;
        self.get(&key, CacheNamespace::EiaData).await
    }

    /// Caches third-party data under `external_data`, key `<provider>:<dataset>` (1800 s).
    pub async fn cache_external_data(
        &self,
        data: Value,
        provider: &str,
        dataset: &str,
    ) -> Result<()> {
        let key = join(
            "cache_external_data",
            &[("provider", provider), ("dataset", dataset)],
        )?;
        self.set(&key, data, CacheNamespace::ExternalData, None)
            .await
    }

    /// The data cached by [`UnifiedCacheManager::cache_external_data`].
    pub async fn get_external_data(&self, provider: &str, dataset: &str) -> Result<Option<Value>> {
        let key = join(
            "get_external_data",
            &[("provider", provider), ("dataset", dataset)],
        )?;
        self.get(&key, CacheNamespace::ExternalData).await
    }

    /// Caches a user's data under `user_data`, key `<user_id>:<name>` (3600 s).
    pub async fn cache_user_data(&self, data: Value, user_id: &str, name: &str) -> Result<()> {
        let key = join("cache_user_data", &[("user id", user_id), ("name", name)])?;
        self.set(&key, data, CacheNamespace::UserData, None).await
    }

    /// The data cached by [`UnifiedCacheManager::cache_user_data`].
    pub async fn get_user_data(&self, user_id: &str, name: &str) -> Result<Option<Value>> {
        let key = join("get_user_data", &[("user id", user_id), ("name", name)])?;
        self.get(&key, CacheNamespace::UserData).await
    }

    /// Caches configuration under `system_config`, key `<name>` (86400 s).
    pub async fn cache_system_config(&self, data: Value, name: &str) -> Result<()> {
        let key = join("cache_system_config", &[("name", name)])?;
        self.set(&key, data, CacheNamespace::SystemConfig, None)
            .await
    }

    /// The configuration cached by [`UnifiedCacheManager::cache_system_config`].
    pub async fn get_system_config(&self, name: &str) -> Result<Option<Value>> {
        let key = join("get_system_config", &[("name", name)])?;
        self.get(&key, CacheNamespace::SystemConfig).await
    }
}

/// Joins key parts with `:`, refusing empty parts and parts containing `:`.
/// The key of a curve in `curves`: `<iso>:<market>:<location>` (the one layout every curve
/// helper, old and new, reads and writes).
pub(crate) fn curve_key(
    helper: &'static str,
    iso: &str,
    market: &str,
    location: &str,
) -> Result<String> {
    join(
        helper,
        &[("iso", iso), ("market", market), ("location", location)],
    )
}

pub(crate) fn join(helper: &'static str, parts: &[(&'static str, &str)]) -> Result<String> {
    let mut key = String::new();
    for (i, (name, value)) in parts.iter().enumerate() {
        if value.is_empty() || value.contains(':') {
            return Err(bad_key_part(helper, name, value));
        }
        if i > 0 {
            key.push(':');
        }
        key.push_str(value);
    }
    Ok(key)
}

fn ratio(hits: u64, misses: u64) -> Option<f64> {
    let reads = hits + misses;
    (reads > 0).then(|| hits as f64 / reads as f64)
}

fn analytics_from(snapshot: &AnalyticsSnapshot, governance: GovernanceReport) -> CacheAnalytics {
    let overall = snapshot
        .tiers
        .get(&Tier::Overall)
        .or_else(|| snapshot.tiers.get(&Tier::L1));
    let (hits, misses, average, namespace_stats) = match overall {
        None => (0, 0, None, BTreeMap::new()),
        Some(t) => (
            t.totals.hits,
            t.totals.misses,
            t.latency
                .get(&Operation::Get)
                .filter(|l| l.samples > 0)
                .map(|l| l.avg_us / 1_000.0),
            t.namespaces
                .iter()
                .map(|(name, s)| {
                    (
                        name.clone(),
                        NamespaceFigures {
                            hits: s.hits,
                            misses: s.misses,
                            hit_rate: ratio(s.hits, s.misses),
                        },
                    )
                })
                .collect(),
        ),
    };
    CacheAnalytics {
        unified_cache: UnifiedFigures {
            total_requests: hits + misses,
            hits,
            misses,
            hit_rate: ratio(hits, misses),
            average_response_time_ms: average,
            invalidations: snapshot.invalidations,
            invalidated_entries: snapshot.invalidated_entries,
            namespace_stats,
        },
        governance,
    }
}
