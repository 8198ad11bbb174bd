//! [`CacheSystem`]: a configured cache stack with a lifecycle. `start` validates the
//! [`Config`], connects, builds the layers, spawns maintenance and warms if asked;
//! [`CacheSystem::shutdown`] flushes write-back, stops every background task, closes the
//! connections and reports what it did.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use strata::config::Config;
//! use strata::system::CacheSystem;
//!
//! let config = Config::source().env_vars([("CACHE_BACKEND", "memory")]).load()?;
//! let system = CacheSystem::start(config).await?;
//! let users = system.cache::<String>("users")?;
//! users.set("42", "Ada".into()).await?;
//! assert_eq!(system.backend(), "memory");
//! let report = system.shutdown(Duration::from_secs(5)).await;
//! assert!(report.connections_closed);
//! assert!(users.get("42").await.is_err()); // shut down: a clear error, never a hang
//! # Ok::<(), strata::Error>(()) }).unwrap();
//! ```

mod backend;
mod disabled;
mod gate;
mod inspect;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use strata_core::{BoxFuture, Result, SharedClock, SharedStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use disabled::DisabledStore;

use crate::config::Config;
use crate::registry::{CacheType, Registry, RegistryHealth, RegistryStats};
use crate::warming::{WarmReport, WarmingConfig, warm};
use crate::{Cache, CacheBuilder};
use gate::Gate;

/// Runs a cache's warming: its configured keys, or the given ones.
type WarmFn =
    Arc<dyn Fn(Registry, Option<Arc<[String]>>) -> BoxFuture<'static, WarmReport> + Send + Sync>;

struct Warmer {
    name: String,
    run: WarmFn,
    interval: Option<Duration>,
}

/// Configures a [`CacheSystem`] beyond its [`Config`]; made by [`CacheSystem::builder`].
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct CacheSystemBuilder {
    config: Config,
    clock: Option<SharedClock>,
    template: CacheBuilder,
    warmers: Vec<Warmer>,
    maintenance_interval: Duration,
}

impl fmt::Debug for CacheSystemBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheSystemBuilder")
            .field("config", &self.config)
            .field("warmers", &self.warmers.len())
            .finish_non_exhaustive()
    }
}

impl CacheSystemBuilder {
    /// The clock of the stores and caches (tests pass a `ManualClock`).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.template = self.template.clock(clock.clone());
        self.clock = Some(clock);
        self
    }

    /// Settings every cache of the registry starts from (codec, stampede lock, eager
    /// refresh, ...); the store, namespace and TTL come from the system.
    pub fn cache_template(mut self, template: CacheBuilder) -> Self {
        self.template = match &self.clock {
            Some(c) => template.clock(c.clone()),
            None => template,
        };
        self
    }

    /// How often maintenance sweeps expired entries from the in-memory store (default 1 s).
    pub fn maintenance_interval(mut self, every: Duration) -> Self {
        self.maintenance_interval = every;
        self
    }

    /// Warms the cache named `name` with `warming`: at start-up when
    /// `CACHE_WARM_ON_STARTUP` is true (in the background: readers are not held up), then
    /// at its interval (or `STRATA_WARM_INTERVAL`) in the background, and whenever
    /// [`CacheSystem::warm`] is called.
    pub fn warming<T>(mut self, name: &str, mut warming: WarmingConfig<T>) -> Self
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        warming.interval = warming.interval.or(self.config.warming.interval);
        let interval = warming.interval;
        let name = name.to_ascii_lowercase();
        let warming = Arc::new(warming);
        let cache_name = name.clone();
        let run: WarmFn = Arc::new(move |registry: Registry, keys: Option<Arc<[String]>>| {
            let warming = match keys {
                Some(keys) => Arc::new(WarmingConfig {
                    enabled: warming.enabled,
                    keys: keys.to_vec(),
                    loader: warming.loader.clone(),
                    concurrency: warming.concurrency,
                    interval: warming.interval,
                }),
                None => warming.clone(),
            };
            let name = cache_name.clone();
            Box::pin(async move {
                match registry.cache::<T>(&name) {
                    Ok(cache) => warm(&cache, &warming).await,
                    Err(e) => WarmReport {
                        failed: warming.keys.len() as u64,
                        failures: vec![crate::warming::WarmFailure {
                            key: format!("{name}:*"),
                            error: e.to_string(),
                        }],
                        ..WarmReport::default()
                    },
                }
            })
        });
        self.warmers.push(Warmer {
            name,
            run,
            interval,
        });
        self
    }

    /// Validates the configuration (every problem at once; nothing is started when there
    /// is one), builds the store stack and connects, spawns maintenance, and starts
    /// warming when `CACHE_WARM_ON_STARTUP` is true.
    ///
    /// # Errors
    ///
    /// `InvalidConfig` listing every problem; `Unavailable` or `Timeout` naming the address
    /// when a Redis backend cannot be reached.
    pub async fn start(self) -> Result<CacheSystem> {
        self.config.validate()?;
        // Boxed: the connect futures of every backend nest deep, and callers' futures
        // should not carry their layout.
        let stack = Box::pin(backend::build(&self.config, self.clock.clone())).await?;
        tracing::info!(
            backend = stack.backend,
            "cache system started on {}",
            stack.description
        );
        let gate = Gate::new(stack.store.clone());
        let store = SharedStore::new(gate.clone());
        let registry = Registry::with_template(store.clone(), self.config.clone(), self.template);
        let (stop, stopped) = watch::channel(false);
        let warmers: Arc<[(String, WarmFn)]> = self
            .warmers
            .iter()
            .map(|w| (w.name.clone(), w.run.clone()))
            .collect();
        let system = CacheSystem {
            inner: Arc::new(Inner {
                started: Instant::now(),
                backend: stack.backend,
                description: stack.description.clone(),
                config: self.config,
                store,
                gate,
                registry,
                warmers,
                stop,
                tasks: Mutex::new(Vec::new()),
                first_warm: Mutex::new(None),
                parts: Mutex::new(Some(Parts {
                    flush: stack.flush,
                    #[cfg(feature = "governance")]
                    governance: stack.governance,
                    #[cfg(feature = "analytics")]
                    analytics: stack.analytics,
                    #[cfg(feature = "memory")]
                    memory: stack.memory.clone(),
                    #[cfg(feature = "tiered")]
                    tiers: stack.tiers,
                })),
            }),
        };
        #[cfg(feature = "memory")]
        if let Some(memory) = stack.memory {
            system.spawn_maintenance(memory, self.maintenance_interval, stopped.clone());
        }
        if system.inner.config.warming.on_startup && !system.inner.warmers.is_empty() {
            let s = system.clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            *system
                .inner
                .first_warm
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(rx);
            system.spawn("warming (start-up)", async move {
                let _ = tx.send(s.warm().await);
            });
        }
        for w in &self.warmers {
            if let Some(every) = w.interval {
                system.spawn_warm_loop(w.name.clone(), w.run.clone(), every, stopped.clone());
            }
        }
        drop(stopped);
        Ok(system)
    }
}

struct Parts {
    flush: Option<backend::Flush>,
    #[cfg(feature = "governance")]
    governance: Option<strata_governance::GovernanceLayer>,
    #[cfg(feature = "analytics")]
    analytics: Option<strata_analytics::AnalyticsLayer>,
    /// The in-memory store (the backend, or the L1), for status figures.
    #[cfg(feature = "memory")]
    memory: Option<strata_memory::MemoryStore>,
    #[cfg(feature = "tiered")]
    tiers: Option<inspect::TierProbe>,
}

struct Inner {
    started: Instant,
    backend: &'static str,
    description: String,
    config: Config,
    store: SharedStore,
    gate: Gate,
    registry: Registry,
    warmers: Arc<[(String, WarmFn)]>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    first_warm: Mutex<Option<tokio::sync::oneshot::Receiver<WarmReport>>>,
    parts: Mutex<Option<Parts>>,
}

/// A running cache stack: the store, the registry of named caches, maintenance and
/// warming. Cheap to clone; see the [module docs](self) for an example.
#[derive(Clone)]
pub struct CacheSystem {
    inner: Arc<Inner>,
}

impl fmt::Debug for CacheSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheSystem")
            .field("backend", &self.inner.backend)
            .field("description", &self.inner.description)
            .finish_non_exhaustive()
    }
}

/// What [`CacheSystem::shutdown`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShutdownReport {
    /// Background tasks that ended on their own after the stop signal.
    pub tasks_stopped: usize,
    /// Background tasks still running at the deadline, aborted.
    pub tasks_aborted: usize,
    /// Write-back operations written to L2 over the system's life.
    pub write_back_flushed: u64,
    /// Write-back operations still queued at the deadline (lost).
    pub write_back_unflushed: u64,
    /// Failed write-back attempts (each retried).
    pub write_back_failed_attempts: u64,
    /// True when this call let go of the store (false when already shut down).
    pub connections_closed: bool,
    /// How long shutting down took, in milliseconds.
    pub elapsed_ms: u64,
}

impl CacheSystem {
    /// A builder for a system configured by `config`.
    pub fn builder(config: Config) -> CacheSystemBuilder {
        CacheSystemBuilder {
            config,
            clock: None,
            template: CacheBuilder::new(),
            warmers: Vec::new(),
            maintenance_interval: Duration::from_secs(1),
        }
    }

    /// Starts a system configured by `config` (see [`CacheSystemBuilder::start`]).
    pub async fn start(config: Config) -> Result<CacheSystem> {
        Self::builder(config).start().await
    }

    /// Starts a system from the environment (and the TOML file `STRATA_CONFIG` names).
    pub async fn from_env() -> Result<CacheSystem> {
        Self::start(Config::from_env()?).await
    }

    /// The configuration it runs.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The backend it runs on: `memory`, `redis`, `redis_cluster`, `multi_tier` or
    /// `disabled` (`auto` resolved).
    pub fn backend(&self) -> &'static str {
        self.inner.backend
    }

    /// What the stack is and where it connects, for logs and status pages.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// How long it has been running.
    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// The store, with every configured layer.
    pub fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    /// The registry of named caches.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The cache named `name` (see [`Registry::cache`]).
    pub fn cache<T>(&self, name: &str) -> Result<Cache<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.inner.registry.cache(name)
    }

    /// The cache of a type (see [`Registry::cache_for`]).
    pub fn cache_for<T>(&self, ty: CacheType) -> Result<Cache<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        self.inner.registry.cache_for(ty)
    }

    /// Every cache's figures (see [`Registry::stats_all`]).
    pub fn stats_all(&self) -> RegistryStats {
        self.inner.registry.stats_all()
    }

    /// Every cache's health (see [`Registry::health_all`]).
    pub async fn health_all(&self) -> RegistryHealth {
        self.inner.registry.health_all().await
    }

    /// The governance layer (feature `governance`).
    #[cfg(feature = "governance")]
    pub fn governance(&self) -> Option<strata_governance::GovernanceLayer> {
        let parts = self
            .inner
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        parts.as_ref().and_then(|p| p.governance.clone())
    }

    /// The analytics layer (feature `analytics`).
    #[cfg(feature = "analytics")]
    pub fn analytics(&self) -> Option<strata_analytics::AnalyticsLayer> {
        let parts = self
            .inner
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        parts.as_ref().and_then(|p| p.analytics.clone())
    }

    /// Runs every configured warming now and reports the sum.
    pub async fn warm(&self) -> WarmReport {
        let mut total = WarmReport::default();
        for (_, run) in self.inner.warmers.iter() {
            total.absorb(run(self.inner.registry.clone(), None).await);
        }
        total
    }

    /// Waits for the start-up warming and returns its report (`None` when none ran, or
    /// when it was already awaited).
    pub async fn startup_warming(&self) -> Option<WarmReport> {
        let rx = self
            .inner
            .first_warm
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        rx.await.ok()
    }

    /// The background tasks still running, by name.
    pub fn background_tasks(&self) -> Vec<&'static str> {
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tasks
            .iter()
            .filter(|(_, h)| !h.is_finished())
            .map(|(n, _)| *n)
            .collect()
    }

    fn spawn(
        &self,
        name: &'static str,
        fut: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let handle = tokio::spawn(fut);
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name, handle));
    }

    #[cfg(feature = "memory")]
    fn spawn_maintenance(
        &self,
        memory: strata_memory::MemoryStore,
        every: Duration,
        mut stopped: watch::Receiver<bool>,
    ) {
        self.spawn("maintenance (expiry sweep)", async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tick.tick() => {
                        // A bounded sweep per tick, so one tick never holds the shards long.
                        memory.cache().sweep(1024);
                    }
                }
            }
        });
    }

    fn spawn_warm_loop(
        &self,
        name: String,
        run: WarmFn,
        every: Duration,
        mut stopped: watch::Receiver<bool>,
    ) {
        let registry = self.inner.registry.clone();
        self.spawn("warming (interval)", async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate; start-up warming covers it
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tick.tick() => {
                        let report = run(registry.clone(), None).await;
                        tracing::debug!(cache = name, warmed = report.warmed, failed = report.failed, "interval warming");
                    }
                }
            }
        });
    }

    /// Stops the system within `deadline`: flushes write-back, signals every background
    /// task to stop and waits for them (aborting those still running at the deadline),
    /// then lets go of the store so connections close, even while callers still hold
    /// caches (their calls then fail with `Unavailable`). Calling it again does nothing.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let started = Instant::now();
        let until = tokio::time::Instant::now() + deadline;
        let mut report = ShutdownReport::default();
        let parts = self
            .inner
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let _ = self.inner.stop.send(true);
        let tasks = std::mem::take(
            &mut *self
                .inner
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for (name, mut handle) in tasks {
            match tokio::time::timeout_at(until, &mut handle).await {
                Ok(_) => report.tasks_stopped += 1,
                Err(_) => {
                    tracing::warn!(
                        task = name,
                        "background task still running at the shutdown deadline; aborted"
                    );
                    handle.abort();
                    let _ = handle.await;
                    report.tasks_aborted += 1;
                }
            }
        }
        if let Some(flush) = parts.and_then(|p| p.flush) {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let (flushed, unflushed, failed) = flush(left).await;
            report.write_back_flushed = flushed;
            report.write_back_unflushed = unflushed;
            report.write_back_failed_attempts = failed;
        }
        report.connections_closed = self.inner.gate.close();
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        if report.connections_closed {
            tracing::info!(?report, "cache system shut down");
        }
        report
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone without `shutdown`: stop the tasks anyway.
        let _ = self.stop.send(true);
        for (_, h) in self
            .tasks
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            h.abort();
        }
    }
}
