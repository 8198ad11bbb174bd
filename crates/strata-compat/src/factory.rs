//! The older cache factory: one cache per [`CacheType`] with its TTL, made by the
//! [`strata::Registry`] (the one place that makes and adds up named caches), and the
//! specialised caches built on them ([`ModelRegistryCache`], [`WorkflowCache`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use strata::registry::{RegistryHealth, RegistryStats};
use strata::system::CacheSystem;
use strata::{CacheType, Error, Registry, Result, SharedStore};

use crate::classic::CompatCache;
use crate::namespace::CacheNamespace;
use crate::options::CompatOptions;
use crate::unified::{UnifiedCacheManager, join};

/// A cache type named as the older managers' configuration named it: case-insensitive, `-`
/// or `_` (`model_registry`, `MODEL-REGISTRY`); else `ErrorKind::InvalidArgument` listing
/// the types.
///
/// ```
/// use strata_compat::{parse_cache_type, CacheType};
/// assert_eq!(parse_cache_type("MODEL_REGISTRY")?, CacheType::ModelRegistry);
/// assert!(parse_cache_type("sessions").is_err());
/// # Ok::<(), strata::Error>(())
/// ```
pub fn parse_cache_type(name: &str) -> Result<CacheType> {
    let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
    CacheType::ALL
        .into_iter()
        .find(|t| t.name() == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = CacheType::ALL.iter().map(|t| t.name()).collect();
            Error::invalid_argument(format!(
                "unknown cache type {name:?}; the types are {}",
                names.join(", ")
            ))
        })
}

impl From<CacheType> for CacheNamespace {
    /// The namespace holding the type's values (the type's name).
    fn from(ty: CacheType) -> Self {
        match ty {
            CacheType::ModelRegistry => CacheNamespace::ModelRegistry,
            CacheType::Workflow => CacheNamespace::Workflow,
            CacheType::Tool => CacheNamespace::Tool,
            CacheType::Session => CacheNamespace::Session,
            CacheType::General => CacheNamespace::General,
        }
    }
}

/// The older `CacheFactory`: the cache of each [`CacheType`], made by the manager's
/// [`Registry`] with the type's TTL ([`Registry::ttl_of`]: `CACHE_<TYPE>_TTL`, else 1800 s
/// for `model_registry`, 3600 s `workflow`, 3600 s `tool`, 300 s `session`, 1800 s
/// `general`). `get_stats_all` and `health_check_all` are the registry's. Cheap to clone.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use strata::{MemoryStore, StoreExt};
/// use strata_compat::{CacheFactory, CacheType, CompatOptions};
///
/// let factory = CacheFactory::new(MemoryStore::new().into_shared(), CompatOptions::new())?;
/// let sessions = factory.create_cache(CacheType::Session)?;
/// assert_eq!(sessions.default_ttl(), Some(Duration::from_secs(300)));
/// let registry = factory.create_model_registry_cache()?;
/// registry.set_default_provider("chat", "openai").await?;
/// assert_eq!(registry.get_default_provider("chat").await?.as_deref(), Some("openai"));
/// assert_eq!(factory.get_stats_all()?.caches["model_registry"].counts.sets, 1);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct CacheFactory {
    manager: UnifiedCacheManager,
}

impl CacheFactory {
    /// A factory over `store` (see [`UnifiedCacheManager::new`]).
    pub fn new(store: SharedStore, options: CompatOptions) -> Result<Self> {
        Ok(Self::from_unified(UnifiedCacheManager::new(
            store, options,
        )?))
    }

    /// A factory over a running [`CacheSystem`]: its store, layers and registry (so the
    /// system's `stats_all` counts the factory's caches; see
    /// [`UnifiedCacheManager::from_system`]).
    pub fn from_system(system: &CacheSystem) -> Result<Self> {
        Ok(Self::from_unified(UnifiedCacheManager::from_system(
            system,
        )?))
    }

    /// A factory over an existing manager's store, layers and registry.
    pub fn from_unified(manager: UnifiedCacheManager) -> Self {
        CacheFactory { manager }
    }

    /// The cache of `cache_type`, with the type's TTL.
    pub fn create_cache(&self, cache_type: CacheType) -> Result<CompatCache> {
        self.manager.cache(cache_type.into())
    }

    /// The cache of `cache_type` with an explicit default TTL (the older per-type
    /// override): the same registered cache, writing with `ttl` when a write names none.
    pub fn create_cache_with_ttl(
        &self,
        cache_type: CacheType,
        ttl: Duration,
    ) -> Result<CompatCache> {
        let cache = self.manager.cache(cache_type.into())?;
        CompatCache::from_stack(cache.stack().clone(), *cache.namespace(), Some(ttl))
    }

    /// `create_cache(CacheType::ModelRegistry)`, as the registry helper.
    pub fn create_model_registry_cache(&self) -> Result<ModelRegistryCache> {
        Ok(ModelRegistryCache {
            cache: self.create_cache(CacheType::ModelRegistry)?,
        })
    }

    /// `create_cache(CacheType::Workflow)`, as the workflow helper.
    pub fn create_workflow_cache(&self) -> Result<WorkflowCache> {
        Ok(WorkflowCache {
            cache: self.create_cache(CacheType::Workflow)?,
        })
    }

    /// `create_cache(CacheType::Tool)`.
    pub fn create_tool_cache(&self) -> Result<CompatCache> {
        self.create_cache(CacheType::Tool)
    }

    /// `create_cache(CacheType::Session)`.
    pub fn create_session_cache(&self) -> Result<CompatCache> {
        self.create_cache(CacheType::Session)
    }

    /// `create_cache(CacheType::General)`: the older `get_general_cache()`.
    pub fn get_general_cache(&self) -> Result<CompatCache> {
        self.create_cache(CacheType::General)
    }

    /// [`Registry::stats_all`] with every [`CacheType`] present (made first if need be):
    /// each cache's counts (`caches["session"].counts.hits`), their sum (`total`, the older
    /// `aggregate`), `hit_ratio` (the older `overall_hit_rate`) and the store's figures.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` when a type's name is registered for values other than JSON.
    pub fn get_stats_all(&self) -> Result<RegistryStats> {
        self.register_types()?;
        Ok(self.registry().stats_all())
    }

    /// [`Registry::health_all`] with every [`CacheType`] present: the store's health, each
    /// cache's, and the worst of them as `status` (the older `overall_status`).
    ///
    /// # Errors
    ///
    /// As [`CacheFactory::get_stats_all`].
    pub async fn health_check_all(&self) -> Result<RegistryHealth> {
        self.register_types()?;
        Ok(self.registry().health_all().await)
    }

    fn register_types(&self) -> Result<()> {
        CacheType::ALL
            .into_iter()
            .try_for_each(|t| self.create_cache(t).map(|_| ()))
    }

    /// The registry that makes the factory's caches.
    pub fn registry(&self) -> &Registry {
        self.manager.registry()
    }

    /// The manager underneath.
    pub fn unified(&self) -> &UnifiedCacheManager {
        &self.manager
    }
}

/// The older model registry cache: the default provider per model type, under
/// `model_registry`, key `default_provider:<model_type>`.
#[derive(Clone, Debug)]
pub struct ModelRegistryCache {
    cache: CompatCache,
}

impl ModelRegistryCache {
    /// The classic interface of the `model_registry` namespace.
    pub fn cache(&self) -> &CompatCache {
        &self.cache
    }

    /// The default provider of `model_type`, if cached.
    pub async fn get_default_provider(&self, model_type: &str) -> Result<Option<String>> {
        let key = provider_key("get_default_provider", model_type)?;
        self.cache.get_as(&key).await
    }

    /// Caches the default provider of `model_type`.
    pub async fn set_default_provider(&self, model_type: &str, provider_id: &str) -> Result<()> {
        let key = provider_key("set_default_provider", model_type)?;
        self.cache
            .set(&key, Value::String(provider_id.to_owned()), None)
            .await
            .map(|_| ())
    }

    /// Forgets the default provider of `model_type`.
    pub async fn invalidate_default_provider(&self, model_type: &str) -> Result<bool> {
        let key = provider_key("invalidate_default_provider", model_type)?;
        self.cache.delete(&key).await
    }
}

/// The older workflow cache: compiled workflows keyed by provider, workflow type and a hash
/// of the configuration, under `workflow`, key `<provider>:<type>:<16 hex digits>`.
///
/// The hash is FNV-1a (64 bits) of the configuration as canonical JSON (object keys
/// sorted), so it is the same in every process and version. The configuration is stored
/// beside the workflow and compared on read, so two configurations whose hashes collide can
/// never return each other's workflow.
#[derive(Clone, Debug)]
pub struct WorkflowCache {
    cache: CompatCache,
}

impl WorkflowCache {
    /// The classic interface of the `workflow` namespace.
    pub fn cache(&self) -> &CompatCache {
        &self.cache
    }

    /// The key of a workflow.
    pub fn key(provider: &str, workflow_type: &str, config: &Value) -> Result<String> {
        let hash = format!("{:016x}", config_hash(config));
        join(
            "workflow_cache",
            &[
                ("provider", provider),
                ("workflow type", workflow_type),
                ("config hash", &hash),
            ],
        )
    }

    /// The workflow compiled for `(provider, workflow_type, config)`, if cached.
    pub async fn get(
        &self,
        provider: &str,
        workflow_type: &str,
        config: &Value,
    ) -> Result<Option<Value>> {
        let key = Self::key(provider, workflow_type, config)?;
        let Some(Value::Object(mut stored)) = self.cache.get(&key).await? else {
            return Ok(None);
        };
        if stored.get("config").map(canonical) != Some(canonical(config)) {
            return Ok(None);
        }
        Ok(stored.remove("workflow"))
    }

    /// Caches `workflow` for `(provider, workflow_type, config)` for the type's TTL.
    pub async fn put(
        &self,
        provider: &str,
        workflow_type: &str,
        config: &Value,
        workflow: Value,
    ) -> Result<()> {
        let key = Self::key(provider, workflow_type, config)?;
        let stored = serde_json::json!({ "config": config, "workflow": workflow });
        self.cache.set(&key, stored, None).await.map(|_| ())
    }

    /// Forgets the workflow of `(provider, workflow_type, config)`.
    pub async fn invalidate(
        &self,
        provider: &str,
        workflow_type: &str,
        config: &Value,
    ) -> Result<bool> {
        self.cache
            .delete(&Self::key(provider, workflow_type, config)?)
            .await
    }
}

/// `default_provider:<model_type>`.
fn provider_key(helper: &'static str, model_type: &str) -> Result<String> {
    Ok(format!(
        "default_provider:{}",
        join(helper, &[("model type", model_type)])?
    ))
}

/// `value` as JSON text with object keys sorted at every level.
fn canonical(value: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let ordered: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// FNV-1a, 64 bits, of the canonical JSON of `config`.
fn config_hash(config: &Value) -> u64 {
    canonical(config)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_hash_ignores_key_order_and_is_stable() {
        let a =
            serde_json::json!({"temperature": 0.7, "max_tokens": 100, "nested": {"b": 1, "a": 2}});
        let b =
            serde_json::json!({"nested": {"a": 2, "b": 1}, "max_tokens": 100, "temperature": 0.7});
        assert_eq!(config_hash(&a), config_hash(&b));
        assert_ne!(
            config_hash(&a),
            config_hash(&serde_json::json!({"temperature": 0.8}))
        );
        // Fixed (FNV-1a 64 of `{}`, computed independently): the same key in every process.
        assert_eq!(
            format!("{:016x}", config_hash(&serde_json::json!({}))),
            "08f44b07b5901a25"
        );
    }
}
