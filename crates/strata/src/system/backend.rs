//! Builds the store stack a [`Config`] describes: the backend (memory, Redis, a cluster, an
//! L1 over Redis, or nothing when caching is disabled), then the analytics and governance
//! layers the build's features bring.

use std::time::Duration;

use strata_core::{BoxFuture, Error, Result, SharedClock, SharedStore};

use crate::config::{Backend, ClusterNodes, Config, MemorySize};

use super::disabled::DisabledStore;

/// Flushes write-back within a deadline; reports (flushed, unflushed, failed attempts).
pub(crate) type Flush = Box<dyn FnOnce(Duration) -> BoxFuture<'static, (u64, u64, u64)> + Send>;

/// What the stack is made of, and the handles the system needs to run and stop it.
pub(crate) struct Stack {
    pub(crate) store: SharedStore,
    /// `memory`, `redis`, `redis_cluster`, `multi_tier` or `disabled`.
    pub(crate) backend: &'static str,
    /// A sentence for logs and status: what the stack is and where it connects.
    pub(crate) description: String,
    /// The in-memory store (the backend, or the L1), swept by maintenance.
    #[cfg(feature = "memory")]
    pub(crate) memory: Option<strata_memory::MemoryStore>,
    /// Flushes write-back and reports (flushed, unflushed, failed attempts).
    pub(crate) flush: Option<Flush>,
    #[cfg(feature = "governance")]
    pub(crate) governance: Option<strata_governance::GovernanceLayer>,
    #[cfg(feature = "analytics")]
    pub(crate) analytics: Option<strata_analytics::AnalyticsLayer>,
    /// The tiered store's counters and promotion strategies (`multi_tier`).
    #[cfg(feature = "tiered")]
    pub(crate) tiers: Option<super::inspect::TierProbe>,
}

pub(crate) async fn build(config: &Config, clock: Option<SharedClock>) -> Result<Stack> {
    let extras = Extras {
        #[cfg(feature = "governance")]
        governance: if config.enabled {
            Some(strata_governance::GovernanceLayer::from_source(
                config.governance_source(),
            )?)
        } else {
            None
        },
    };
    let stack = backend(config, clock.clone(), &extras).await?;
    if !config.enabled {
        return Ok(stack);
    }
    #[cfg(feature = "analytics")]
    let stack = with_analytics(stack, clock)?;
    #[cfg(feature = "governance")]
    let stack = with_governance(stack, extras.governance);
    Ok(stack)
}

/// What the layers lend the backend: the governance policy places a multi-tier cache's
/// namespaces (allowed tiers, priority).
struct Extras {
    #[cfg(feature = "governance")]
    governance: Option<strata_governance::GovernanceLayer>,
}

/// A governance policy as a tiered store's placement: a rule's allowed tiers choose the
/// tiers, its priority the promotion (high: immediate; low: predictive, so a low-priority
/// key enters L1 only when it is read more than what it would push out). Asked on every
/// operation, so a policy reload applies at once.
#[cfg(all(
    feature = "governance",
    feature = "tiered",
    feature = "redis",
    feature = "memory"
))]
struct GovernancePlacement(strata_governance::GovernanceLayer);

#[cfg(all(
    feature = "governance",
    feature = "tiered",
    feature = "redis",
    feature = "memory"
))]
impl strata_tiered::PlacementPolicy for GovernancePlacement {
    fn placement(&self, namespace: &strata_core::Namespace) -> strata_tiered::Placement {
        use strata_governance::{AllowedTiers, Priority};
        use strata_tiered::{Placement, Promotion, Tiers};
        // Read in place: this runs on every operation, L1 hits included.
        let (tiers, priority) = self
            .0
            .with_rule(namespace, |rule| (rule.tiers, rule.priority));
        let tiers = match tiers {
            AllowedTiers::L1 => Tiers::L1Only,
            AllowedTiers::L2 => Tiers::L2Only,
            _ => Tiers::Both,
        };
        let promotion = match priority {
            Priority::High => Some(Promotion::Immediate),
            Priority::Low => Some(Promotion::Predictive),
            _ => None,
        };
        Placement { tiers, promotion }
    }
}

/// Counters, latency, events and health over the backend.
#[cfg(feature = "analytics")]
fn with_analytics(mut stack: Stack, clock: Option<SharedClock>) -> Result<Stack> {
    let mut b = strata_analytics::AnalyticsLayer::builder();
    if let Some(c) = clock {
        b = b.clock(c);
    }
    let layer = b.build()?;
    stack.store = SharedStore::new(strata_core::Layer::layer(&layer, stack.store));
    stack.analytics = Some(layer);
    Ok(stack)
}

/// The namespace policy, outermost: from the `[governance]` table, the governance
/// variables and the profile.
#[cfg(feature = "governance")]
fn with_governance(mut stack: Stack, layer: Option<strata_governance::GovernanceLayer>) -> Stack {
    if let Some(layer) = layer {
        stack.store = SharedStore::new(strata_core::Layer::layer(&layer, stack.store));
        stack.governance = Some(layer);
    }
    stack
}

fn stack(store: SharedStore, backend: &'static str, description: String) -> Stack {
    Stack {
        store,
        backend,
        description,
        #[cfg(feature = "memory")]
        memory: None,
        flush: None,
        #[cfg(feature = "governance")]
        governance: None,
        #[cfg(feature = "analytics")]
        analytics: None,
        #[cfg(feature = "tiered")]
        tiers: None,
    }
}

async fn backend(config: &Config, clock: Option<SharedClock>, extras: &Extras) -> Result<Stack> {
    if !config.enabled {
        tracing::info!("CACHE_ENABLED=false: caching is disabled, every read misses");
        return Ok(stack(
            SharedStore::new(DisabledStore),
            "disabled",
            "disabled (CACHE_ENABLED=false)".into(),
        ));
    }
    match config.backend {
        Backend::Memory => memory(config, config.memory.max_size, clock),
        Backend::Redis | Backend::RedisCluster => redis_stack(config, clock).await,
        Backend::MultiTier => tiered(config, clock, extras).await,
        Backend::Auto => auto(config, clock).await,
    }
}

/// Redis when an address is set and answers, else memory; a log line says which.
async fn auto(config: &Config, clock: Option<SharedClock>) -> Result<Stack> {
    let has_address =
        config.redis.address().is_some() || matches!(config.redis.cluster, ClusterNodes::Nodes(_));
    if !has_address {
        tracing::info!(
            "CACHE_BACKEND=auto: no Redis address is set (REDIS_URL, REDIS_HOST, REDIS_CLUSTER); using memory"
        );
        return memory(config, config.memory.max_size, clock);
    }
    #[cfg(feature = "redis")]
    {
        match redis_stack(config, clock.clone()).await {
            Ok(s) => {
                tracing::info!("CACHE_BACKEND=auto: using {}", s.description);
                Ok(s)
            }
            Err(e) => {
                tracing::warn!(
                    "CACHE_BACKEND=auto: Redis did not answer ({}); using memory",
                    e.message()
                );
                memory(config, config.memory.max_size, clock)
            }
        }
    }
    #[cfg(not(feature = "redis"))]
    {
        tracing::warn!(
            "CACHE_BACKEND=auto: a Redis address is set but strata was built without the `redis` feature; using memory"
        );
        memory(config, config.memory.max_size, clock)
    }
}

#[cfg(feature = "memory")]
fn memory_store(
    config: &Config,
    size: MemorySize,
    clock: Option<SharedClock>,
) -> Result<strata_memory::MemoryStore> {
    let mut b = strata_memory::MemoryStore::builder()
        .eviction_policy(config.memory.eviction_policy.parse()?);
    b = match size {
        MemorySize::Entries(n) => b.max_entries(n),
        MemorySize::Bytes(n) => b.max_bytes(n),
    };
    if let Some(c) = clock {
        b = b.clock(c);
    }
    b.build()
}

#[cfg(feature = "memory")]
fn describe(size: MemorySize) -> String {
    match size {
        MemorySize::Entries(n) => format!("{n} entries"),
        MemorySize::Bytes(n) => format!("{n} bytes"),
    }
}

#[cfg(feature = "memory")]
fn memory(config: &Config, size: MemorySize, clock: Option<SharedClock>) -> Result<Stack> {
    let store = memory_store(config, size, clock)?;
    let mut s = stack(
        SharedStore::new(store.clone()),
        "memory",
        format!(
            "memory ({}, {} eviction)",
            describe(size),
            config.memory.eviction_policy
        ),
    );
    s.memory = Some(store);
    Ok(s)
}

#[cfg(not(feature = "memory"))]
fn memory(_config: &Config, _size: MemorySize, _clock: Option<SharedClock>) -> Result<Stack> {
    Err(Error::invalid_config(
        "the in-memory store needs the `memory` feature of strata",
    ))
}

#[cfg(feature = "redis")]
async fn connect_redis(
    config: &Config,
    clock: Option<SharedClock>,
) -> Result<(strata_redis::RedisStore, String, bool)> {
    let r = &config.redis;
    let seeds = match (config.backend, r.cluster_seeds()) {
        (_, Some(seeds)) => Some(seeds),
        (Backend::RedisCluster, None) => r.address().map(|a| vec![a]),
        _ => None,
    };
    let mut b = strata_redis::RedisStore::builder();
    let (address, cluster) = match seeds {
        Some(seeds) => {
            let shown = seeds
                .iter()
                .map(|s| crate::config::redact(s))
                .collect::<Vec<_>>()
                .join(", ");
            b = b.cluster(seeds);
            (format!("Redis Cluster at {shown}"), true)
        }
        None => {
            let Some(url) = r.address() else {
                return Err(Error::invalid_config(
                    "no Redis address: set REDIS_URL, REDIS_HOST or REDIS_CLUSTER",
                ));
            };
            let shown = crate::config::redact(&url);
            b = b.url(url);
            (format!("Redis at {shown}"), false)
        }
    };
    b = b
        .prefix(r.prefix.clone())
        .connect_timeout(r.connect_timeout)
        .command_timeout(r.command_timeout)
        .legacy_json(r.legacy_json);
    #[cfg(feature = "fred")]
    if r.client.eq_ignore_ascii_case("fred") {
        b = b.client(strata_redis::Client::Fred);
    }
    if let Some(c) = clock {
        b = b.clock(c);
    }
    // The store's connect errors name the address already (never the password).
    let store = b.connect().await?;
    Ok((store, address, cluster))
}

#[cfg(feature = "redis")]
async fn redis_stack(config: &Config, clock: Option<SharedClock>) -> Result<Stack> {
    let (store, address, cluster) = connect_redis(config, clock).await?;
    Ok(stack(
        SharedStore::new(store),
        if cluster { "redis_cluster" } else { "redis" },
        address,
    ))
}

#[cfg(not(feature = "redis"))]
async fn redis_stack(config: &Config, _clock: Option<SharedClock>) -> Result<Stack> {
    Err(Error::invalid_config(format!(
        "CACHE_BACKEND={} needs the `redis` feature of strata",
        config.backend
    )))
}

#[cfg(all(feature = "tiered", feature = "redis", feature = "memory"))]
async fn tiered(config: &Config, clock: Option<SharedClock>, extras: &Extras) -> Result<Stack> {
    let (l2, address, _) = connect_redis(config, clock.clone()).await?;
    let l1_size = config.memory.max_size.share(config.memory.l1_size_ratio);
    let l1 = memory_store(config, l1_size, clock.clone())?;
    let promotion: strata_tiered::Promotion =
        config.promotion.parse().map_err(Error::invalid_config)?;
    // L1 weighs predictive promotions with its frequency sketch.
    let mut b = strata_tiered::TieredStore::builder(l1.clone(), l2.clone())
        .promotion(promotion)
        .admission(l1.clone());
    if let Some(c) = clock {
        b = b.clock(c);
    }
    if let MemorySize::Bytes(n) = l1_size {
        // Reads of cold keys stop promoting when L1 is 90 % full, so they cannot push the
        // hot set out.
        b = b.promotion_pressure(n, 0.9);
    }
    if config.write_mode == crate::config::WriteMode::Back {
        b = b.write_back(strata_tiered::WriteBackConfig::default())?;
    }
    #[cfg(feature = "governance")]
    if let Some(g) = &extras.governance {
        b = b.placement(GovernancePlacement(g.clone()));
    }
    #[cfg(not(feature = "governance"))]
    let _ = extras;
    let coherent = config.coherent();
    if coherent {
        let coherence = strata_tiered::Coherence::over(&l2).heartbeat(config.coherence_heartbeat);
        b = b.coherence(coherence)?;
    } else if config.write_mode == crate::config::WriteMode::Back {
        tracing::warn!(
            "multi_tier with write-back: L1 is not kept coherent across nodes (run one node, or use write-through)"
        );
    }
    let tiered = b.build();
    if coherent && !tiered.wait_coherent(config.redis.connect_timeout).await {
        tracing::warn!(
            "coherence is not up yet: L1 is bypassed (reads go to Redis) until it is; health says so"
        );
    }
    let mut s = stack(
        SharedStore::new(tiered.clone()),
        "multi_tier",
        format!(
            "memory L1 ({}) over {address}, write-{}{}",
            describe(l1_size),
            if tiered.is_write_back() {
                "back"
            } else {
                "through"
            },
            if coherent { ", coherent" } else { "" }
        ),
    );
    s.memory = Some(l1);
    s.tiers = Some(super::inspect::TierProbe::new(tiered.clone()));
    // Flushes write-back and stops the coherence tasks.
    s.flush = Some(Box::new(move |deadline| {
        Box::pin(async move {
            let r = tiered.shutdown(deadline).await;
            (r.flushed, r.unflushed, r.failed_attempts)
        })
    }));
    Ok(s)
}

#[cfg(not(all(feature = "tiered", feature = "redis", feature = "memory")))]
async fn tiered(_config: &Config, _clock: Option<SharedClock>, _extras: &Extras) -> Result<Stack> {
    Err(Error::invalid_config(
        "CACHE_BACKEND=multi_tier needs the `tiered`, `redis` and `memory` features of strata",
    ))
}
