//! The process-wide cache of the older global functions (`cache_get`, `cache_set`,
//! `cache_delete`, `cache_clear`) and getters (`get_unified_cache_manager`,
//! `get_general_cache`, ...), initialized once with [`init`].
//!
//! Before [`init`], every function returns `ErrorKind::InvalidConfig` saying so (never a
//! panic); a second [`init`] is an error too. The global functions work on the options'
//! namespace (default `general`).
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
use strata::{Result, SharedStore};

use crate::classic::CompatCache;
use crate::error::{already_initialized, not_initialized};
use crate::factory::{CacheFactory, CacheType, ModelRegistryCache, WorkflowCache};
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
