//! [`Registry`]: the named caches of a cache system (the cache types `model_registry`,
//! `workflow`, `tool`, `session`, the governance namespaces, and any name you choose), a
//! factory that makes each with its TTL, and the one place that adds their figures up
//! ([`Registry::stats_all`], [`Registry::health_all`]).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use strata_core::namespaces;
use strata_core::{Error, Health, HealthStatus, Result, SharedStore, Store, StoreStats};

use crate::config::Config;
use crate::{Cache, CacheBuilder, CacheCounts};

/// The cache types of the older cache factory, each with its default TTL (overridden by
/// `CACHE_<TYPE>_TTL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CacheType {
    /// Model registry data: 30 minutes.
    ModelRegistry,
    /// Compiled workflows: 1 hour.
    Workflow,
    /// Tool definitions: 1 hour.
    Tool,
    /// Sessions: 5 minutes.
    Session,
    /// Everything else: 30 minutes.
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

    /// The cache's name and namespace (`model_registry`).
    pub const fn name(self) -> &'static str {
        match self {
            CacheType::ModelRegistry => namespaces::MODEL_REGISTRY,
            CacheType::Workflow => namespaces::WORKFLOW,
            CacheType::Tool => namespaces::TOOL,
            CacheType::Session => namespaces::SESSION,
            CacheType::General => namespaces::GENERAL,
        }
    }

    /// The built-in TTL.
    pub fn default_ttl(self) -> Duration {
        namespaces::default_ttl(self.name()).unwrap_or(Duration::from_secs(1800))
    }
}

impl fmt::Display for CacheType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

struct Registered {
    type_name: &'static str,
    ttl: Option<Duration>,
    cache: Box<dyn Any + Send + Sync>,
    counts: Box<dyn Fn() -> CacheCounts + Send + Sync>,
}

struct Inner {
    store: SharedStore,
    config: Config,
    template: CacheBuilder,
    caches: Mutex<BTreeMap<String, Registered>>,
}

/// The named caches over one store. Cheap to clone.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use strata::registry::{CacheType, Registry};
/// use strata::config::Config;
///
/// let config = Config::source().env_vars([("CACHE_SESSION_TTL", "120")]).load()?;
/// let registry = Registry::new(strata::SharedStore::new(strata::MemoryStore::new()), config);
/// let sessions = registry.cache_for::<String>(CacheType::Session)?;
/// sessions.set("s1", "ada".into()).await?;
/// assert_eq!(registry.ttl_of("session"), Some(std::time::Duration::from_secs(120)));
/// assert_eq!(registry.stats_all().caches["session"].counts.sets, 1);
/// # Ok::<(), strata::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("store", &self.inner.store)
            .field("caches", &self.names())
            .finish()
    }
}

impl Registry {
    /// A registry over `store`; caches take their TTLs, fail-safe window and loader
    /// timeout from `config`.
    pub fn new(store: SharedStore, config: Config) -> Self {
        Self::with_template(store, config, CacheBuilder::new())
    }

    /// Like [`Registry::new`], with `template` supplying the other cache settings (codec,
    /// clock, stampede lock, refresh, ...).
    pub fn with_template(store: SharedStore, config: Config, template: CacheBuilder) -> Self {
        let mut template = template.store(store.clone());
        if let Some(w) = config.fail_safe {
            template = template.fail_safe(w);
        }
        if let Some(t) = config.loader_timeout {
            template = template.loader_timeout(t);
        }
        Registry {
            inner: Arc::new(Inner {
                store,
                config,
                template,
                caches: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// The store every cache of the registry uses.
    pub fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    /// The TTL a cache named `name` gets: `CACHE_<NAME>_TTL`, the built-in one, or the
    /// configured default.
    pub fn ttl_of(&self, name: &str) -> Option<Duration> {
        self.inner.config.ttl_of(name)
    }

    /// The cache named `name` (its namespace too), made on first use with the TTL of
    /// [`Registry::ttl_of`]. Later calls return the same cache.
    ///
    /// # Errors
    ///
    /// `InvalidKey` for a name that is not a valid namespace; `InvalidArgument` when the
    /// name is already registered for another value type.
    pub fn cache<T>(&self, name: &str) -> Result<Cache<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        let name = name.to_ascii_lowercase();
        let mut caches = self
            .inner
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = caches.get(&name) {
            return r.cache.downcast_ref::<Cache<T>>().cloned().ok_or_else(|| {
                Error::invalid_argument(format!(
                    "the cache {name:?} holds {}, not {}",
                    r.type_name,
                    std::any::type_name::<T>()
                ))
            });
        }
        let ttl = self.ttl_of(&name);
        let mut builder = self.inner.template.clone().namespace(name.clone());
        if let Some(ttl) = ttl {
            builder = builder.default_ttl(ttl);
        }
        let cache: Cache<T> = builder.build()?;
        let probe = cache.clone();
        caches.insert(
            name,
            Registered {
                type_name: std::any::type_name::<T>(),
                ttl,
                cache: Box::new(cache.clone()),
                counts: Box::new(move || probe.counts()),
            },
        );
        Ok(cache)
    }

    /// The cache of a [`CacheType`] (the factory of the older managers).
    pub fn cache_for<T>(&self, ty: CacheType) -> Result<Cache<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.cache(ty.name())
    }

    /// The names of the caches made so far.
    pub fn names(&self) -> Vec<String> {
        let caches = self
            .inner
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        caches.keys().cloned().collect()
    }

    /// Every cache's counters, their sum, and the store's figures.
    pub fn stats_all(&self) -> RegistryStats {
        let caches = self
            .inner
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut total = CacheCounts::default();
        let mut out = BTreeMap::new();
        for (name, r) in caches.iter() {
            let c = (r.counts)();
            total.hits += c.hits;
            total.misses += c.misses;
            total.sets += c.sets;
            total.loads += c.loads;
            total.load_errors += c.load_errors;
            out.insert(
                name.clone(),
                CacheStats {
                    value_type: r.type_name,
                    ttl_seconds: r.ttl.map(|d| d.as_secs_f64()),
                    hit_ratio: c.hit_ratio(),
                    counts: c,
                },
            );
        }
        RegistryStats {
            caches: out,
            hit_ratio: total.hit_ratio(),
            total,
            store: self.inner.store.stats(),
        }
    }

    /// The store's health and each cache's standing: a cache is degraded when most of its
    /// recent loads failed (at least 10 loads), and never better than the store.
    pub async fn health_all(&self) -> RegistryHealth {
        let store = self.inner.store.health().await;
        let caches = self
            .inner
            .caches
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out = BTreeMap::new();
        let mut overall = store.status;
        for (name, r) in caches.iter() {
            let c = (r.counts)();
            let (mut status, mut message) = (store.status, None);
            if c.loads >= 10 && c.load_errors * 2 > c.loads {
                status = worst(status, HealthStatus::Degraded);
                message = Some(format!(
                    "{} of {} loads failed; check the loader's source",
                    c.load_errors, c.loads
                ));
            }
            overall = worst(overall, status);
            out.insert(
                name.clone(),
                CacheHealth {
                    status,
                    hit_ratio: c.hit_ratio(),
                    message,
                },
            );
        }
        RegistryHealth {
            status: overall,
            store,
            caches: out,
        }
    }
}

fn rank(s: HealthStatus) -> u8 {
    match s {
        HealthStatus::Healthy => 0,
        HealthStatus::Degraded => 1,
        _ => 2,
    }
}

fn worst(a: HealthStatus, b: HealthStatus) -> HealthStatus {
    if rank(b) > rank(a) { b } else { a }
}

/// One cache in [`RegistryStats`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheStats {
    /// The Rust type of its values.
    pub value_type: &'static str,
    /// Its default TTL, in seconds.
    pub ttl_seconds: Option<f64>,
    /// Its counters.
    pub counts: CacheCounts,
    /// hits ÷ reads.
    pub hit_ratio: Option<f64>,
}

/// [`Registry::stats_all`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistryStats {
    /// Per cache, by name.
    pub caches: BTreeMap<String, CacheStats>,
    /// The sum over the caches.
    pub total: CacheCounts,
    /// hits ÷ reads over the caches.
    pub hit_ratio: Option<f64>,
    /// The shared store's own figures.
    pub store: StoreStats,
}

/// One cache in [`RegistryHealth`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheHealth {
    /// Its verdict.
    pub status: HealthStatus,
    /// hits ÷ reads.
    pub hit_ratio: Option<f64>,
    /// Why, when not healthy for a reason of its own.
    pub message: Option<String>,
}

/// [`Registry::health_all`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegistryHealth {
    /// The worst of the store's and the caches' verdicts.
    pub status: HealthStatus,
    /// The shared store's report.
    pub store: Health,
    /// Per cache, by name.
    pub caches: BTreeMap<String, CacheHealth>,
}
