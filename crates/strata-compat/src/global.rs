//! The process-wide cache of the older global functions (`cache_get`, `cache_set`,
//! `cache_delete`, `cache_clear`) and getters (`get_unified_cache_manager`,
//! `get_general_cache`, ...), initialized once with [`init`].
//!
//! Before [`init`], every function returns `ErrorKind::InvalidConfig` saying so (never a
//! panic); a second [`init`] is an error too. The global functions work on the options'
//! namespace (default `general`).
//!
//! [`init_from_env`] starts a [`CacheSystem`] from the environment (`CACHE_BACKEND`,
//! `REDIS_URL`, ...; [`init_from_config`] from a [`Config`]) and keeps it in the global;
//! [`shutdown`] stops it at the end of the process.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use serde_json::json;
//! use strata::{ErrorKind, MemoryStore, StoreExt};
//! use strata_compat::{global, CompatOptions};
//!
//! assert_eq!(global::cache_get("k", json!(null)).await.unwrap_err().kind(), ErrorKind::InvalidConfig);
//! global::init(MemoryStore::new().into_shared(), CompatOptions::new())?;
//! global::cache_set("analytics_data", json!([1, 2]), None, &["analytics"]).await?;
//! assert_eq!(global::cache_get("analytics_data", json!({})).await?, json!([1, 2]));
//! # Ok::<(), strata::Error>(()) }).unwrap();
//! ```

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use strata::config::Config;
use strata::system::CacheSystem;
use strata::{CacheType, Result, SharedStore, ShutdownReport};

use crate::classic::CompatCache;
use crate::error::{already_initialized, not_initialized};
use crate::factory::{CacheFactory, ModelRegistryCache, WorkflowCache};
use crate::managers::CacheManagerCompat;
use crate::options::CompatOptions;
use crate::unified::UnifiedCacheManager;

static GLOBAL: OnceLock<CacheManagerCompat> = OnceLock::new();

/// Initializes the process-wide cache over `store` and returns its manager. A second call
/// is `ErrorKind::InvalidConfig` and changes nothing.
pub fn init(store: SharedStore, options: CompatOptions) -> Result<UnifiedCacheManager> {
    let manager = UnifiedCacheManager::new(store, options)?;
    init_with(manager.clone())?;
    Ok(manager)
}

/// Makes `manager` the process-wide cache (for a manager built elsewhere, such as by the
/// umbrella's configuration). A second call is `ErrorKind::InvalidConfig`.
pub fn init_with(manager: UnifiedCacheManager) -> Result<()> {
    GLOBAL
        .set(CacheManagerCompat::from_unified(manager))
        .map_err(|_| already_initialized())
}

/// Starts a [`CacheSystem`] from the environment (and the TOML file `STRATA_CONFIG`
/// names), makes a manager over it ([`UnifiedCacheManager::from_system`]) the process-wide
/// cache, and keeps the system there until [`shutdown`]: the older
/// `initialize_unified_cache_system()` reading `CACHE_BACKEND`, `REDIS_URL`, ... .
///
/// # Errors
///
/// `InvalidConfig` listing every bad variable, or when the global is already initialized
/// (nothing is started then); `Unavailable` or `Timeout` when the configured Redis cannot
/// be reached.
pub async fn init_from_env() -> Result<UnifiedCacheManager> {
    init_from_config(Config::from_env()?).await
}

/// As [`init_from_env`], with a configuration given in code (or loaded with
/// `Config::source().env_vars(..)`, so tests need not touch the process environment).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use serde_json::json;
/// use strata::config::Config;
/// use strata_compat::global;
///
/// let config = Config::source().env_vars([("CACHE_BACKEND", "memory")]).load()?;
/// let manager = global::init_from_config(config).await?;
/// assert_eq!(manager.system().map(|s| s.backend()), Some("memory"));
/// global::cache_set("k", json!(1), None, &[]).await?;
/// assert_eq!(global::cache_get("k", json!(null)).await?, json!(1));
/// let report = global::shutdown(Duration::from_secs(5)).await?;
/// assert!(report.connections_closed);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
///
/// # Errors
///
/// As [`init_from_env`].
pub async fn init_from_config(config: Config) -> Result<UnifiedCacheManager> {
    if is_initialized() {
        return Err(already_initialized());
    }
    let system = CacheSystem::start(config).await?;
    let manager = match UnifiedCacheManager::from_system(&system) {
        Ok(m) => m,
        Err(e) => {
            system.shutdown(system.config().shutdown_timeout).await;
            return Err(e);
        }
    };
    if let Err(e) = init_with(manager.clone()) {
        // Another caller initialized the global meanwhile: stop what this call started.
        system.shutdown(system.config().shutdown_timeout).await;
        return Err(e);
    }
    Ok(manager)
}

/// Shuts down the cache system of [`init_from_env`] / [`init_from_config`] within
/// `deadline` (see `CacheSystem::shutdown`); the global functions then answer
/// `Unavailable`. A global initialized over a store ([`init`]) has no system: the report is
/// empty (`connections_closed` false), as it is for a second call.
///
/// # Errors
///
/// `InvalidConfig` before any `init`.
pub async fn shutdown(deadline: Duration) -> Result<ShutdownReport> {
    match global("shutdown")?.unified().system() {
        Some(system) => Ok(system.shutdown(deadline).await),
        None => Ok(ShutdownReport::default()),
    }
}

/// True once [`init`] has succeeded.
pub fn is_initialized() -> bool {
    GLOBAL.get().is_some()
}

fn global(operation: &'static str) -> Result<&'static CacheManagerCompat> {
    GLOBAL.get().ok_or_else(|| not_initialized(operation))
}

/// The process-wide unified manager (the older `get_unified_cache_manager()`).
pub fn get_unified_cache_manager() -> Result<UnifiedCacheManager> {
    Ok(global("get_unified_cache_manager")?.unified().clone())
}

/// The process-wide manager under its older `CacheManager` calls.
pub fn get_cache_manager() -> Result<CacheManagerCompat> {
    Ok(global("get_cache_manager")?.clone())
}

/// The value under `key`, or `default` on a miss.
pub async fn cache_get(key: &str, default: Value) -> Result<Value> {
    global("cache_get")?.get(key, default).await
}

/// Writes `value` under `key` for `ttl` (`None`: the namespace's TTL) with `tags`.
pub async fn cache_set(
    key: &str,
    value: Value,
    ttl: Option<Duration>,
    tags: &[&str],
) -> Result<bool> {
    global("cache_set")?.set(key, value, ttl, tags).await
}

/// Removes `key`; true when a value was removed.
pub async fn cache_delete(key: &str) -> Result<bool> {
    global("cache_delete")?.delete(key).await
}

/// Removes every key of the global namespace; returns how many.
pub async fn cache_clear() -> Result<u64> {
    global("cache_clear")?.clear().await
}

/// The factory over the process-wide store (the older `cache_factory`).
pub fn cache_factory() -> Result<CacheFactory> {
    Ok(CacheFactory::from_unified(
        global("cache_factory")?.unified().clone(),
    ))
}

/// The `general` cache (the older `get_general_cache()` and cache service).
pub fn get_general_cache() -> Result<CompatCache> {
    cache_factory()?.create_cache(CacheType::General)
}

/// The `model_registry` cache (the older `get_model_registry_cache()`).
pub fn get_model_registry_cache() -> Result<CompatCache> {
    cache_factory()?.create_cache(CacheType::ModelRegistry)
}

/// The `workflow` cache.
pub fn get_workflow_cache() -> Result<CompatCache> {
    cache_factory()?.create_cache(CacheType::Workflow)
}

/// The `tool` cache.
pub fn get_tool_cache() -> Result<CompatCache> {
    cache_factory()?.create_cache(CacheType::Tool)
}

/// The `session` cache.
pub fn get_session_cache() -> Result<CompatCache> {
    cache_factory()?.create_cache(CacheType::Session)
}

/// The model registry helper (the older `get_registry_cache()`).
pub fn get_registry_cache() -> Result<ModelRegistryCache> {
    cache_factory()?.create_model_registry_cache()
}

/// The workflow helper (the older `get_unified_workflow_cache()`).
pub fn get_unified_workflow_cache() -> Result<WorkflowCache> {
    cache_factory()?.create_workflow_cache()
}
