//! # strata-compat
//!
//! A facade for code written against the older cache managers, so that teams can move to
//! Strata by pointing their call sites at it instead of rewriting them. Nothing here is a
//! second cache: every call goes to a [`strata::SharedStore`] under Strata's governance
//! layer (the older namespaces and TTL tiers) and analytics layer (counters, the
//! invalidation event log, health).
//!
//! | older interface | here |
//! |---|---|
//! | `CacheInterface` (`get, set, delete, clear, exists, keys, mget, mset, increment, expire, ttl, get_stats, health_check`) | [`CompatCache`] |
//! | `UnifiedCacheManager` (namespaces, `TTLPolicy`, `invalidate_pattern`, events, analytics, health, warming, `cache_curve_data`, ...) | [`UnifiedCacheManager`] |
//! | `CacheManager` / `CacheManagerCompat` | [`CacheManagerCompat`] |
//! | `EnhancedCacheManager` / `EnhancedCacheManagerCompat` | [`EnhancedCacheManagerCompat`] |
//! | `CacheFactory`, `CacheType`, registry and workflow caches | [`CacheFactory`], [`CacheType`], [`ModelRegistryCache`], [`WorkflowCache`] |
//! | `cache_get`, `cache_set`, `cache_delete`, `cache_clear`, `get_unified_cache_manager`, `get_general_cache`, ... | [`global`] |
//! | synchronous callers | [`BlockingCache`] |
//! | raw JSON values on Redis | `legacy` (feature `redis`) |
//!
//! Every constructor takes a [`SharedStore`](strata::SharedStore) and [`CompatOptions`], or
//! a running [`strata::CacheSystem`] (`from_system`: the system's store, layers and
//! [`strata::Registry`], configured from the environment by `CacheSystem::from_env()`);
//! [`global::init_from_env`] and [`BlockingCache::from_env`] start the system themselves.
//! The factory's caches, their TTLs and `stats_all`/`health_all` are the registry's, and
//! warming is [`strata::warming`]'s. docs/migration.md maps each older call and
//! environment variable to its replacement.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use serde_json::json;
//! use strata::{MemoryStore, StoreExt};
//! use strata_compat::{CacheNamespace, CompatOptions, UnifiedCacheManager};
//!
//! let cache = UnifiedCacheManager::new(MemoryStore::new().into_shared(), CompatOptions::new())?;
//! cache.set("key", json!({"v": 1}), CacheNamespace::Curves, None).await?; // 300 s, the curves TTL
//! assert_eq!(cache.get("key", CacheNamespace::Curves).await?, Some(json!({"v": 1})));
//! assert_eq!(cache.get_analytics().unified_cache.hits, 1);
//! # Ok::<(), strata::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

pub mod blocking;
mod classic;
mod error;
pub mod factory;
pub mod global;
#[cfg(feature = "redis")]
pub mod legacy;
mod managers;
mod namespace;
mod options;
mod unified;
pub mod warming;

pub use blocking::BlockingCache;
pub use classic::{CacheStats, CompatCache};
pub use factory::{CacheFactory, ModelRegistryCache, WorkflowCache, parse_cache_type};
pub use managers::{CacheInfo, CacheManagerCompat, CacheMetrics, EnhancedCacheManagerCompat};
pub use namespace::{CacheNamespace, TtlPolicy, reason};
pub use options::CompatOptions;
pub use unified::{CacheAnalytics, NamespaceFigures, UnifiedCacheManager, UnifiedFigures};
pub use warming::{BackgroundWarming, CacheWarmingConfig, WarmFailure, WarmReport};

/// The older `CacheType`s: Strata's own ([`strata::CacheType`]); [`parse_cache_type`] reads
/// the older configuration's names.
pub use strata::CacheType;

/// The older `CacheManager`: use [`CacheManagerCompat`] while migrating, then
/// [`UnifiedCacheManager`].
#[deprecated(
    note = "use strata_compat::CacheManagerCompat while migrating, then UnifiedCacheManager"
)]
pub type CacheManager = CacheManagerCompat;

/// The older `EnhancedCacheManager`: use [`EnhancedCacheManagerCompat`].
#[deprecated(note = "use strata_compat::EnhancedCacheManagerCompat, then UnifiedCacheManager")]
pub type EnhancedCacheManager = EnhancedCacheManagerCompat;

/// The older `AsyncCache`: use [`CompatCache`] (or [`UnifiedCacheManager`]).
#[deprecated(note = "use strata_compat::CompatCache or UnifiedCacheManager")]
pub type AsyncCache = CompatCache;

/// The older `CacheInterface`: use [`CompatCache`].
#[deprecated(note = "use strata_compat::CompatCache")]
pub type CacheInterface = CompatCache;

/// The older `UnifiedModelRegistryCache`: use [`ModelRegistryCache`].
#[deprecated(note = "use strata_compat::ModelRegistryCache")]
pub type UnifiedModelRegistryCache = ModelRegistryCache;

/// The older `UnifiedWorkflowCache`: use [`WorkflowCache`].
#[deprecated(note = "use strata_compat::WorkflowCache")]
pub type UnifiedWorkflowCache = WorkflowCache;

/// The older `initialize_cache_manager(config)` / `initialize_unified_cache_system()`: use
/// [`global::init`].
#[deprecated(note = "use strata_compat::global::init")]
pub fn initialize_cache_manager(
    store: strata::SharedStore,
    options: CompatOptions,
) -> strata::Result<UnifiedCacheManager> {
    global::init(store, options)
}

/// The older `get_cache_service()`: use [`global::get_general_cache`].
#[deprecated(note = "use strata_compat::global::get_general_cache")]
pub fn get_cache_service() -> strata::Result<CompatCache> {
    global::get_general_cache()
}
