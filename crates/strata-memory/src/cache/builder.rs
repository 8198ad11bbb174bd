//! Configuration of a [`Cache`].

use std::hash::Hash;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};
use std::time::Duration;

use hashbrown::DefaultHashBuilder;
use strata_core::{Error, EvictionReason, Result, SharedClock, SystemClock};

use super::counters::Counters;
use super::policy::tuner::Sampler;
use super::shard::Shard;
use super::{Cache, EvictionPolicy, Inner, Listener, ShardCell, Weigher};

/// The capacity the window tuner assumes for a cache bounded by weight only.
const DEFAULT_TUNED_CAPACITY: u64 = 10_000;

/// How many expired entries the background sweep removes per shard and tick, at most.
const SWEEP_BATCH: usize = 256;
/// The fewest entries per shard worth having a shard for.
const MIN_ENTRIES_PER_SHARD: u64 = 64;

/// Builds a [`Cache`].
///
/// ```
/// use std::time::Duration;
/// use strata_memory::{Cache, EvictionPolicy};
/// let cache: Cache<u64, Vec<u8>> = Cache::builder()
///     .max_entries(10_000)
///     .max_weight(64 * 1024 * 1024)
///     .weigher(|_k, v: &Vec<u8>| v.len() as u64 + 8)
///     .eviction_policy(EvictionPolicy::Lru)
///     .time_to_live(Duration::from_secs(300))
///     .build()?;
/// # Ok::<(), strata_core::Error>(())
/// ```
pub struct CacheBuilder<K, V> {
    max_entries: Option<u64>,
    max_weight: Option<u64>,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    policy: EvictionPolicy,
    ttl: Option<Duration>,
    tti: Option<Duration>,
    clock: Option<SharedClock>,
    shards: Option<usize>,
    sweep_interval: Option<Duration>,
}

impl<K, V> Default for CacheBuilder<K, V> {
    fn default() -> Self {
        CacheBuilder {
            max_entries: None,
            max_weight: None,
            weigher: None,
            listener: None,
            policy: EvictionPolicy::default(),
            ttl: None,
            tti: None,
            clock: None,
            shards: None,
            sweep_interval: None,
        }
    }
}

impl<K, V> CacheBuilder<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A builder with no limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most entries the cache holds.
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = Some(n);
        self
    }

    /// The most total weight the cache holds (see [`CacheBuilder::weigher`]).
    pub fn max_weight(mut self, w: u64) -> Self {
        self.max_weight = Some(w);
        self
    }

    /// How to weigh an entry; without one every entry weighs 1.
    pub fn weigher(mut self, f: impl Fn(&K, &V) -> u64 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Arc::new(f));
        self
    }

    /// Called once for every entry that leaves, with the reason.
    pub fn eviction_listener(
        mut self,
        f: impl Fn(&K, &V, EvictionReason) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(f));
        self
    }

    /// The eviction policy ([`EvictionPolicy::Adaptive`] by default).
    pub fn eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The default time to live of entries inserted without one.
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The default time to idle of entries inserted without one.
    pub fn time_to_idle(mut self, tti: Duration) -> Self {
        self.tti = Some(tti);
        self
    }

    /// The clock (the system clock by default; tests pass a `ManualClock`).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The number of shards, rounded up to a power of two. By default four per core, fewer
    /// for small caches.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }

    /// Sweeps expired entries in the background at this interval (a bounded batch per
    /// shard per tick). Needs a tokio runtime at `build()`; the task ends when the cache is
    /// dropped.
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    fn shard_count(&self) -> usize {
        if let Some(n) = self.shards {
            return n.clamp(1, 1 << 16).next_power_of_two();
        }
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        let mut n = (cores * 4).next_power_of_two().max(1);
        if let Some(max) = self.max_entries {
            while n > 1 && (n as u64) * MIN_ENTRIES_PER_SHARD > max {
                n /= 2;
            }
        }
        n
    }

    /// Builds the cache, checking the configuration.
    pub fn build(self) -> Result<Cache<K, V>> {
        if self.max_entries == Some(0) {
            return Err(Error::invalid_config("max_entries must be at least 1"));
        }
        if self.max_weight == Some(0) {
            return Err(Error::invalid_config("max_weight must be at least 1"));
        }
        for (name, d) in [("time_to_live", self.ttl), ("time_to_idle", self.tti)] {
            if d.is_some_and(|d| d.is_zero()) {
                return Err(Error::invalid_config(format!(
                    "{name} must be more than zero"
                )));
            }
        }
        if self.sweep_interval.is_some_and(|d| d.is_zero()) {
            return Err(Error::invalid_config(
                "sweep_interval must be more than zero",
            ));
        }
        let n = self.shard_count();
        let share = self.max_entries.map_or(0, |m| m.div_ceil(n as u64));
        let shards: Box<[ShardCell<K, V>]> = (0..n)
            .map(|i| {
                let seed = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
                ShardCell::new(Shard::new(seed, self.policy, share))
            })
            .collect();
        let cache = Cache {
            inner: Arc::new(Inner {
                shards,
                shard_mask: (n - 1) as u64,
                hasher: DefaultHashBuilder::default(),
                clock: self.clock.unwrap_or_else(SystemClock::shared),
                policy: self.policy,
                max_entries: self.max_entries,
                max_weight: self.max_weight,
                default_ttl: self.ttl,
                default_tti: self.tti,
                weigher: self.weigher,
                listener: self.listener,
                entries: AtomicU64::new(0),
                weight: AtomicU64::new(0),
                counters: Counters::new(),
                sampler: (self.policy == EvictionPolicy::Adaptive)
                    .then(|| Sampler::new(self.max_entries.unwrap_or(DEFAULT_TUNED_CAPACITY))),
            }),
        };
        if let Some(every) = self.sweep_interval {
            let handle = tokio::runtime::Handle::try_current().map_err(|_| {
                Error::invalid_config(
                    "sweep_interval needs a tokio runtime: build the cache inside one",
                )
            })?;
            let weak: Weak<Inner<K, V>> = Arc::downgrade(&cache.inner);
            handle.spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(inner) = weak.upgrade() else { break };
                    Cache { inner }.sweep(SWEEP_BATCH);
                }
            });
        }
        Ok(cache)
    }
}
