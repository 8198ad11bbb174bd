//! The older cache factory: one cache per [`CacheType`] with its TTL, and the specialised
//! caches built on them ([`ModelRegistryCache`], [`WorkflowCache`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use strata::{Error, HealthStatus, Result, SharedStore};

use crate::classic::{CacheStats, CompatCache};
use crate::namespace::CacheNamespace;
use crate::options::CompatOptions;
use crate::unified::{UnifiedCacheManager, join};

/// The older `CacheType`s. Each is a namespace of the governance policy with its TTL:
/// `ModelRegistry` 1800 s, `Workflow` 3600 s, `Tool` 3600 s, `Session` 300 s, `General`
/// 1800 s (the policy, and so configuration, can change them).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CacheType {
    /// `model_registry`.
    ModelRegistry,
    /// `workflow`.
    Workflow,
    /// `tool`.
    Tool,
    /// `session`.
    Session,
    /// `general`: the older `get_general_cache()` / cache service.
    General,
}

impl CacheType {
    /// Every type.
    pub const ALL: [CacheType; 5] = [
        CacheType::ModelRegistry,
        CacheType::Workflow,
        CacheType::Tool,
        CacheType::Session,
        CacheType::General,
    ];

    /// The namespace holding this type's values.
    pub fn namespace(self) -> CacheNamespace {
        match self {
            CacheType::ModelRegistry => CacheNamespace::ModelRegistry,
            CacheType::Workflow => CacheNamespace::Workflow,
            CacheType::Tool => CacheNamespace::Tool,
            CacheType::Session => CacheNamespace::Session,
            CacheType::General => CacheNamespace::General,
        }
    }

    /// The name configuration uses (`MODEL_REGISTRY`, ...; `CACHE_<NAME>_TTL`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CacheType::ModelRegistry => "MODEL_REGISTRY",
            CacheType::Workflow => "WORKFLOW",
            CacheType::Tool => "TOOL",
            CacheType::Session => "SESSION",
            CacheType::General => "GENERAL",
        }
    }
}

impl fmt::Display for CacheType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CacheType {
    type Err = Error;

    /// Case-insensitive (`model_registry`, `MODEL-REGISTRY`); else `InvalidArgument`.
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        CacheType::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = CacheType::ALL.iter().map(|t| t.as_str()).collect();
                Error::invalid_argument(format!(
                    "unknown cache type {s:?}; the types are {}",
                    names.join(", ")
                ))
            })
    }
}

/// The older `CacheFactory`: caches per type over one store, sharing its layers and
/// counters. Cheap to clone.
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
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct CacheFactory {
    manager: UnifiedCacheManager,
}

/// `get_stats_all()`: each type's [`CacheStats`] and the aggregate.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AllStats {
    /// By type.
    pub caches: BTreeMap<CacheType, CacheStats>,
    /// Summed over the types.
    pub aggregate: AggregateStats,
}

/// The `aggregate` section of [`AllStats`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggregateStats {
    /// Live keys over every type.
    pub total_entries: u64,
    /// Hits over every type.
    pub total_hits: u64,
    /// Misses over every type.
    pub total_misses: u64,
    /// hits ÷ reads over every type.
    pub overall_hit_rate: Option<f64>,
}

/// `health_check_all()`: the store's health (one store serves every type) and the verdict.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AllHealth {
    /// `healthy`, `degraded` or `unhealthy`.
    pub overall_status: HealthStatus,
    /// The store's report.
    pub store: strata::Health,
    /// The types checked.
    pub caches: Vec<CacheType>,
}

impl CacheFactory {
    /// A factory over `store` (the one constructor; see [`UnifiedCacheManager::new`]).
    pub fn new(store: SharedStore, options: CompatOptions) -> Result<Self> {
        Ok(Self::from_unified(UnifiedCacheManager::new(
            store, options,
        )?))
    }

    /// A factory over an existing manager's store and layers.
    pub fn from_unified(manager: UnifiedCacheManager) -> Self {
        CacheFactory { manager }
    }

    /// The cache of `cache_type`, with the type's TTL from the governance policy.
    pub fn create_cache(&self, cache_type: CacheType) -> Result<CompatCache> {
        self.manager.cache(cache_type.namespace())
    }

    /// The cache of `cache_type` with an explicit default TTL (the older per-type override).
    pub fn create_cache_with_ttl(
        &self,
        cache_type: CacheType,
        ttl: Duration,
    ) -> Result<CompatCache> {
        let cache = self.manager.cache(cache_type.namespace())?;
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

    /// Each type's statistics and their sum.
    pub async fn get_stats_all(&self) -> Result<AllStats> {
        let mut caches = BTreeMap::new();
        for t in CacheType::ALL {
            caches.insert(t, self.create_cache(t)?.get_stats().await?);
        }
        let (mut total_entries, mut total_hits, mut total_misses) = (0, 0, 0);
        for s in caches.values() {
            total_entries += s.total_entries;
            total_hits += s.cache_hits;
            total_misses += s.cache_misses;
        }
        let reads = total_hits + total_misses;
        Ok(AllStats {
            caches,
            aggregate: AggregateStats {
                total_entries,
                total_hits,
                total_misses,
                overall_hit_rate: (reads > 0).then(|| total_hits as f64 / reads as f64),
            },
        })
    }

    /// The store's health, for every type (one store serves them all).
    pub async fn health_check_all(&self) -> Result<AllHealth> {
        let store = self.get_general_cache()?.health_check().await;
        Ok(AllHealth {
            overall_status: store.status,
            store,
            caches: CacheType::ALL.to_vec(),
        })
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
