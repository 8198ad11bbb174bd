//! The generic in-memory cache core, [`Cache<K, V>`].

mod builder;
mod counters;
mod lock;
mod policy;
mod shard;

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hashbrown::DefaultHashBuilder;
use strata_core::counters::ThreadStripe;
use strata_core::{
    Error, ErrorKind, EvictionCounts, EvictionReason, Result, SharedClock, Timestamp,
};

pub use builder::CacheBuilder;
pub use policy::EvictionPolicy;

use counters::Counters;
use lock::{ReadGuard, StripedLock, WriteGuard};
use policy::tuner::Sampler;
use shard::{Expiry, Node, Shard};

/// Called with every entry that leaves the cache, and why, exactly once per entry.
pub type Listener<K, V> = Arc<dyn Fn(&K, &V, EvictionReason) + Send + Sync>;
/// Weighs an entry for the weight limit (for `MemoryStore`, its size in bytes).
pub type Weigher<K, V> = Arc<dyn Fn(&K, &V) -> u64 + Send + Sync>;

/// How many expired entries an insert sweeps from its shard, at most.
const SWEEP_ON_WRITE: usize = 4;

/// Expiry settings for one entry.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryOptions {
    /// Time to live; `None` uses the cache's default (if any).
    pub ttl: Option<Duration>,
    /// Time to idle; `None` uses the cache's default (if any).
    pub tti: Option<Duration>,
    /// When true, the entry never expires by TTL, whatever the cache default.
    pub no_ttl: bool,
}

impl EntryOptions {
    /// Options with a time to live.
    pub fn ttl(ttl: Duration) -> Self {
        EntryOptions {
            ttl: Some(ttl),
            ..Self::default()
        }
    }

    /// Adds a time to idle.
    pub fn with_tti(mut self, tti: Duration) -> Self {
        self.tti = Some(tti);
        self
    }

    /// Options for an entry that never expires by TTL.
    pub fn no_expiry() -> Self {
        EntryOptions {
            no_ttl: true,
            ..Self::default()
        }
    }
}

/// What [`Cache::compute`] does with the key.
#[non_exhaustive]
pub enum Compute<V> {
    /// Leave it as it is.
    Keep,
    /// Remove it (reported to the listener as invalidated).
    Remove,
    /// Store this value, keeping the current expiry settings (none for a new entry).
    Replace(V),
    /// Store this value with these expiry settings.
    Put(V, EntryOptions),
    /// Store this value with a new time to live (`None`: none), keeping the time to idle.
    ReplaceWithTtl(V, Option<Duration>),
}

/// A snapshot of the cache's counters.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries held (expired entries not yet swept included).
    pub entries: u64,
    /// Total weight held.
    pub weight: u64,
    /// Reads that found a live entry.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Values written.
    pub inserts: u64,
    /// Entries that left, by reason.
    pub evictions: EvictionCounts,
}

/// A shard on its own cache lines, behind a reader-striped lock (`lock.rs`): a reader locks
/// only its own thread's word, so hits on different cores never write the same cache line (a
/// plain `RwLock` made every hit write the shard's lock word, and two threads lost most of
/// their throughput to it); a writer locks every word.
#[repr(align(128))]
pub(crate) struct ShardCell<K, V> {
    lock: StripedLock<Shard<K, V>>,
}

impl<K: Hash + Eq, V> ShardCell<K, V> {
    /// A cell around `shard` with one reader word per stripe threads can own.
    pub(crate) fn new(shard: Shard<K, V>) -> Self {
        ShardCell {
            lock: StripedLock::new(shard, strata_core::counters::stripes() - 1),
        }
    }

    /// The shard for reading, through the calling thread's lock word.
    #[inline]
    fn read(&self) -> ReadGuard<'_, Shard<K, V>> {
        self.read_on(ThreadStripe::current())
    }

    /// The shard for reading, through the lock word of `stripe` (the calling thread's,
    /// looked up once for the lock and the hit counter).
    #[inline]
    fn read_on(&self, stripe: ThreadStripe) -> ReadGuard<'_, Shard<K, V>> {
        self.lock.read(stripe.index())
    }

    /// The shard for writing. The lock has no poisoning: a panic elsewhere leaves the shard
    /// as consistent as its last completed step, and a cache keeps serving.
    fn write(&self) -> WriteGuard<'_, Shard<K, V>> {
        self.lock.write()
    }
}

pub(crate) struct Inner<K, V> {
    shards: Box<[ShardCell<K, V>]>,
    shard_mask: u64,
    hasher: DefaultHashBuilder,
    clock: SharedClock,
    policy: EvictionPolicy,
    max_entries: Option<u64>,
    max_weight: Option<u64>,
    default_ttl: Option<Duration>,
    default_tti: Option<Duration>,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    entries: AtomicU64,
    weight: AtomicU64,
    /// Chooses the adaptive policy's window size (adaptive policy only).
    sampler: Option<Sampler>,
    /// Hits and misses, striped by thread.
    counters: Counters,
}

/// A sharded, bounded, in-memory cache with per-entry TTL and time to idle.
///
/// - Expired entries are never returned; inserts sweep a few expired entries as they go, a
///   background task sweeps more when [`CacheBuilder::sweep_interval`] is set, and
///   [`Cache::run_pending_tasks`] sweeps everything on demand.
/// - Limits by entry count and by weight ([`CacheBuilder::weigher`]); an entry heavier than
///   the weight limit is refused with [`ErrorKind::CapacityExceeded`] and evicts nothing.
/// - Eviction by [`EvictionPolicy`]; the listener hears every removal once, with its reason.
///
/// Cloning a `Cache` gives another handle to the same cache.
///
/// ```
/// use std::time::Duration;
/// use strata_memory::{Cache, EntryOptions};
///
/// let cache: Cache<String, u64> = Cache::builder().max_entries(1_000).build()?;
/// cache.insert("a".to_string(), 1)?;
/// cache.insert_with("b".to_string(), 2, EntryOptions::ttl(Duration::from_secs(60)))?;
/// assert_eq!(cache.get("a"), Some(1));
/// assert_eq!(cache.entry_count(), 2);
/// # Ok::<(), strata_core::Error>(())
/// ```
pub struct Cache<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Cache<K, V> {
    fn clone(&self) -> Self {
        Cache {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> std::fmt::Debug for Cache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("shards", &self.inner.shards.len())
            .field("policy", &self.inner.policy)
            .field("entries", &self.inner.entries.load(Ordering::Relaxed))
            .field("max_entries", &self.inner.max_entries)
            .field("max_weight", &self.inner.max_weight)
            .finish()
    }
}

/// Removed entries whose listener calls are due once the shard lock is released.
type Evicted<K, V> = Vec<(K, V, EvictionReason)>;

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A builder with no limits, the adaptive eviction policy and the system clock.
    pub fn builder() -> CacheBuilder<K, V> {
        CacheBuilder::new()
    }

    /// A cache holding at most `max_entries` entries, with defaults otherwise.
    pub fn new(max_entries: u64) -> Result<Self> {
        Self::builder().max_entries(max_entries).build()
    }

    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.inner.hasher.hash_one(key)
    }

    #[inline]
    fn shard_of(&self, hash: u64) -> &ShardCell<K, V> {
        // High bits pick the shard; hashbrown uses the low and top-7 bits within it.
        let idx = ((hash >> 32) ^ (hash >> 7)) & self.inner.shard_mask;
        &self.inner.shards[idx as usize]
    }

    fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Hands the tuner's current window share and admission rule to a shard about to evict.
    fn sync_policy(&self, shard: &mut Shard<K, V>) {
        if let Some(s) = &self.inner.sampler {
            shard.set_window_share(s.share());
            shard.set_lead(s.lead());
        }
    }

    fn hasher(&self) -> impl Fn(&K) -> u64 + '_ {
        move |k: &K| self.inner.hasher.hash_one(k)
    }

    fn notify(&self, evicted: Evicted<K, V>) {
        if evicted.is_empty() {
            return;
        }
        if let Some(listener) = &self.inner.listener {
            for (k, v, reason) in &evicted {
                listener(k, v, *reason);
            }
        }
    }

    /// Applies a shard's change in size to the global totals.
    fn account(&self, before: (u64, u64), after: (u64, u64)) {
        // A write that evicted as much as it added (the steady state of a full cache)
        // changes nothing: skip the atomic writes to lines every core shares.
        for (total, (b, a)) in [
            (&self.inner.entries, (before.0, after.0)),
            (&self.inner.weight, (before.1, after.1)),
        ] {
            if a > b {
                total.fetch_add(a - b, Ordering::Relaxed);
            } else if a < b {
                total.fetch_sub(b - a, Ordering::Relaxed);
            }
        }
    }

    fn remove_node(
        &self,
        shard: &mut Shard<K, V>,
        idx: u32,
        reason: EvictionReason,
        evicted: &mut Evicted<K, V>,
    ) {
        let hash = self.inner.hasher.hash_one(&shard.get_node(idx).key);
        let node: Node<K, V> = shard.remove(idx, hash);
        shard.stats.evictions.record(reason);
        self.report(evicted, node.key, node.value, reason);
    }

    /// Queues a removal for the listener (only when there is one: without a listener the
    /// entry is simply dropped, and the eviction path allocates nothing).
    fn report(&self, evicted: &mut Evicted<K, V>, key: K, value: V, reason: EvictionReason) {
        if self.inner.listener.is_some() {
            evicted.push((key, value, reason));
        }
    }

    /// Predictive admission for a value read elsewhere (an L2 hit a tier above would
    /// promote into this cache): counts the access in the frequency sketch and tells whether
    /// an entry for `key` would be kept, that is the cache has room, or `key` is seen more
    /// often than the entry eviction would take next. Policies without a frequency sketch
    /// always admit.
    pub fn admits<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let i = &self.inner;
        // Full when one more entry would put the cache over a limit.
        let full = i
            .max_entries
            .is_some_and(|m| i.entries.load(Ordering::Relaxed) >= m)
            || i.max_weight
                .is_some_and(|m| i.weight.load(Ordering::Relaxed) >= m);
        let hasher = self.hasher();
        self.shard_of(hash).write().admits(hash, full, &hasher)
    }

    /// Returns a clone of the live value under `key`, counting a hit or a miss.
    ///
    /// A hit takes the shard's shared lock only (except with [`EvictionPolicy::Lru`], whose
    /// hits reorder a list) and reads the clock only when the entry can expire.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let cell = self.shard_of(hash);
        if let Some(s) = &self.inner.sampler {
            s.record(hash);
        }
        let stripe = ThreadStripe::current();
        let shard = cell.read_on(stripe);
        let Some(idx) = shard.find(hash, key) else {
            self.inner.counters.miss_on(stripe);
            return None;
        };
        let node = shard.get_node(idx);
        if node.has_deadline() || shard.hits_reorder() {
            return self.get_found(shard, idx, hash, key);
        }
        // No deadline, so no idle time either (time to idle sets one): marking the node is
        // the whole of `Shard::touch_shared` here.
        node.touch();
        self.inner.counters.hit_on(stripe);
        Some(node.value.clone())
    }

    /// The rest of [`Cache::get`] once the key is found at `idx`, out of the hit path of
    /// entries that never expire: reads the clock for an entry that can expire, removes it if
    /// it has, and hands policies whose hits reorder to [`Cache::get_reordering`].
    #[inline(never)]
    fn get_found<Q>(
        &self,
        shard: ReadGuard<'_, Shard<K, V>>,
        idx: u32,
        hash: u64,
        key: &Q,
    ) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let node = shard.get_node(idx);
        let now = node.has_deadline().then(|| self.now());
        if now.is_some_and(|now| node.is_expired(now)) {
            drop(shard);
            self.inner.counters.miss();
            self.remove_expired(hash, key);
            return None;
        }
        if shard.hits_reorder() {
            drop(shard);
            return self.get_reordering(hash, key);
        }
        shard.touch_shared(idx, now);
        self.inner.counters.hit();
        Some(node.value.clone())
    }

    /// The rest of [`Cache::get`] for policies whose hits reorder a list (LRU), out of the
    /// hit path of the others: the exclusive lock, and the key looked up again under it.
    #[inline(never)]
    fn get_reordering<Q>(&self, hash: u64, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let cell = self.shard_of(hash);
        let mut shard = cell.write();
        let Some(idx) = shard.find(hash, key) else {
            self.inner.counters.miss();
            return None;
        };
        let now = shard.get_node(idx).has_deadline().then(|| self.now());
        if now.is_some_and(|now| shard.get_node(idx).is_expired(now)) {
            drop(shard);
            self.inner.counters.miss();
            self.remove_expired(hash, key);
            return None;
        }
        shard.touch_exclusive(idx, now);
        self.inner.counters.hit();
        Some(shard.get_node(idx).value.clone())
    }

    /// Removes `key` if it is (still) expired, reporting it to the listener.
    fn remove_expired<Q>(&self, hash: u64, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = self.now();
        let mut evicted = Vec::new();
        let mut shard = self.shard_of(hash).write();
        let Some(idx) = shard.find(hash, key) else {
            return;
        };
        if !shard.get_node(idx).is_expired(now) {
            return;
        }
        let before = (shard.len, shard.weight);
        self.remove_node(&mut shard, idx, EvictionReason::Expired, &mut evicted);
        let after = (shard.len, shard.weight);
        drop(shard);
        self.account(before, after);
        self.notify(evicted);
    }

    /// Looks at the live node under `key` without counting a read: `f` gets the node and the
    /// time, under the shard's shared lock.
    fn inspect<Q, R>(&self, key: &Q, f: impl FnOnce(&Node<K, V>, Timestamp) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let now = self.now();
        let shard = self.shard_of(hash).read();
        let idx = shard.find(hash, key)?;
        let node = shard.get_node(idx);
        (!node.is_expired(now)).then(|| f(node, now))
    }

    /// Returns the live value without counting a read or refreshing recency or idle time.
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inspect(key, |node, _| node.value.clone())
    }

    /// True when a live value is stored under `key` (not counted as a read).
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remaining(key).is_some()
    }

    /// The remaining lifetime: `None` when absent, `Some(None)` when it never expires.
    pub fn remaining<Q>(&self, key: &Q) -> Option<Option<Duration>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inspect(key, |node, now| node.remaining(now))
    }

    fn resolve(&self, opts: EntryOptions, now: &impl Fn() -> Timestamp) -> Expiry {
        let ttl = if opts.no_ttl {
            None
        } else {
            opts.ttl.or(self.inner.default_ttl)
        };
        Expiry {
            ttl_deadline: ttl.map(|d| now().saturating_add(d)),
            tti: opts.tti.or(self.inner.default_tti),
        }
    }

    #[inline]
    fn weigh(&self, key: &K, value: &V) -> Result<u32> {
        let weight = match &self.inner.weigher {
            Some(w) => w(key, value),
            None => 1,
        };
        if let Some(max) = self.inner.max_weight
            && weight > max
        {
            return Err(Error::new(
                ErrorKind::CapacityExceeded,
                format!("entry weighs {weight}, over the cache's whole limit of {max}"),
            )
            .with_operation("insert")
            .with_backend("memory"));
        }
        u32::try_from(weight).map_err(|_| {
            Error::new(
                ErrorKind::CapacityExceeded,
                format!(
                    "entry weighs {weight}; entries over {} are not supported",
                    u32::MAX
                ),
            )
            .with_operation("insert")
            .with_backend("memory")
        })
    }

    /// Inserts or replaces a value with the cache's default expiry.
    pub fn insert(&self, key: K, value: V) -> Result<()> {
        self.insert_with(key, value, EntryOptions::default())
    }

    /// Inserts or replaces a value with explicit expiry settings.
    pub fn insert_with(&self, key: K, value: V, opts: EntryOptions) -> Result<()> {
        self.compute(key, move |_| (Compute::Put(value, opts), ()))
    }

    /// Reads and changes the entry under `key` atomically: `f` sees the live value (or
    /// `None`) and decides what to store, and returns a result for the caller.
    ///
    /// `f` runs under the shard's lock: keep it short and do not touch the cache from it.
    pub fn compute<R>(&self, key: K, f: impl FnOnce(Option<&V>) -> (Compute<V>, R)) -> Result<R> {
        let hash = self.hash(&key);
        // The clock is read only if something in this write can expire (reading it costs
        // tens of nanoseconds, which a cache of entries without expiry need not pay).
        let clock = std::cell::OnceCell::new();
        let now = || *clock.get_or_init(|| self.now());
        let mut evicted: Evicted<K, V> = Vec::new();
        let cell = self.shard_of(hash);
        let hasher = self.hasher();
        if let Some(s) = &self.inner.sampler {
            s.drain();
        }
        let mut shard = cell.write();
        self.sync_policy(&mut shard);
        let before = (shard.len, shard.weight);
        let mut idx = shard.find(hash, &key);
        if let Some(i) = idx
            && shard.get_node(i).has_deadline()
            && shard.get_node(i).is_expired(now())
        {
            self.remove_node(&mut shard, i, EvictionReason::Expired, &mut evicted);
            idx = None;
        }
        let current = idx.map(|i| &shard.get_node(i).value);
        let (action, out) = f(current);
        let mut protect = None;
        let mut result = Ok(out);
        match action {
            Compute::Keep => {}
            Compute::Remove => {
                if let Some(i) = idx {
                    self.remove_node(&mut shard, i, EvictionReason::Invalidated, &mut evicted);
                }
            }
            Compute::Replace(value) => match self.weigh(&key, &value) {
                Err(e) => result = Err(e),
                Ok(weight) => match idx {
                    Some(i) => {
                        let old = shard.replace(i, hash, value, weight, None, &now);
                        shard.stats.evictions.record(EvictionReason::Replaced);
                        self.report(&mut evicted, key, old, EvictionReason::Replaced);
                        protect = Some(i);
                    }
                    None => {
                        let expiry = self.resolve(EntryOptions::default(), &now);
                        protect =
                            Some(shard.insert_new(hash, key, value, weight, expiry, &now, &hasher));
                    }
                },
            },
            Compute::ReplaceWithTtl(value, ttl) => match (self.weigh(&key, &value), idx) {
                (Err(e), _) => result = Err(e),
                (Ok(weight), Some(i)) => {
                    let mut expiry = shard.expiry_of(i);
                    expiry.ttl_deadline = ttl.map(|d| now().saturating_add(d));
                    let old = shard.replace(i, hash, value, weight, Some(expiry), &now);
                    shard.stats.evictions.record(EvictionReason::Replaced);
                    self.report(&mut evicted, key, old, EvictionReason::Replaced);
                    protect = Some(i);
                }
                (Ok(weight), None) => {
                    let expiry = Expiry {
                        ttl_deadline: ttl.map(|d| now().saturating_add(d)),
                        tti: self.inner.default_tti,
                    };
                    protect =
                        Some(shard.insert_new(hash, key, value, weight, expiry, &now, &hasher));
                }
            },
            Compute::Put(value, opts) => match self.weigh(&key, &value) {
                Err(e) => result = Err(e),
                Ok(weight) => {
                    let expiry = self.resolve(opts, &now);
                    match idx {
                        Some(i) => {
                            let old = shard.replace(i, hash, value, weight, Some(expiry), &now);
                            shard.stats.evictions.record(EvictionReason::Replaced);
                            self.report(&mut evicted, key, old, EvictionReason::Replaced);
                            protect = Some(i);
                        }
                        None => {
                            protect = Some(
                                shard.insert_new(hash, key, value, weight, expiry, &now, &hasher),
                            );
                        }
                    }
                }
            },
        }
        if protect.is_some() && shard.has_expiring() {
            for node in shard.pop_expired(now(), SWEEP_ON_WRITE, &hasher) {
                shard.stats.evictions.record(EvictionReason::Expired);
                self.report(&mut evicted, node.key, node.value, EvictionReason::Expired);
            }
        }
        // Make room within this shard first, never evicting the entry just written. The
        // global totals are projected from one load each and updated once at the end (two
        // atomic writes per call, whatever was evicted).
        let (entries, weight) = (
            self.inner.entries.load(Ordering::Relaxed),
            self.inner.weight.load(Ordering::Relaxed),
        );
        let project =
            |total: u64, before: u64, now: u64| total.saturating_add(now).saturating_sub(before);
        while self.exceeds(
            project(entries, before.0, shard.len),
            project(weight, before.1, shard.weight),
        ) {
            let Some(victim) = shard.victim(protect, &hasher) else {
                break;
            };
            self.remove_node(&mut shard, victim, EvictionReason::Capacity, &mut evicted);
        }
        let after = (shard.len, shard.weight);
        self.account(before, after);
        drop(shard);
        if self.over_limit() {
            self.evict_elsewhere(hash, &mut evicted);
        }
        self.notify(evicted);
        result
    }

    fn exceeds(&self, entries: u64, weight: u64) -> bool {
        let i = &self.inner;
        i.max_entries.is_some_and(|m| entries > m) || i.max_weight.is_some_and(|m| weight > m)
    }

    fn over_limit(&self) -> bool {
        let i = &self.inner;
        i.max_entries
            .is_some_and(|m| i.entries.load(Ordering::Relaxed) > m)
            || i.max_weight
                .is_some_and(|m| i.weight.load(Ordering::Relaxed) > m)
    }

    /// Evicts from the other shards, one lock at a time, until within limits.
    fn evict_elsewhere(&self, hash: u64, evicted: &mut Evicted<K, V>) {
        let n = self.inner.shards.len();
        let start = (((hash >> 32) ^ (hash >> 7)) & self.inner.shard_mask) as usize;
        for step in 1..=n {
            if !self.over_limit() {
                return;
            }
            let mut shard = self.inner.shards[(start + step) % n].write();
            self.sync_policy(&mut shard);
            while self.over_limit() {
                let Some(victim) = shard.victim(None, &self.hasher()) else {
                    break;
                };
                let before = (shard.len, shard.weight);
                self.remove_node(&mut shard, victim, EvictionReason::Capacity, evicted);
                self.account(before, (shard.len, shard.weight));
            }
        }
    }

    /// Removes `key`; returns the live value it held.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_if(key, |_| true)
    }

    /// Removes `key` if its live value satisfies `pred`; returns the removed value.
    pub fn remove_if<Q>(&self, key: &Q, pred: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let now = self.now();
        let mut evicted = Vec::new();
        let mut shard = self.shard_of(hash).write();
        let idx = shard.find(hash, key)?;
        let before = (shard.len, shard.weight);
        let expired = shard.get_node(idx).is_expired(now);
        let removed = if expired {
            self.remove_node(&mut shard, idx, EvictionReason::Expired, &mut evicted);
            None
        } else if pred(&shard.get_node(idx).value) {
            let value = shard.get_node(idx).value.clone();
            self.remove_node(&mut shard, idx, EvictionReason::Invalidated, &mut evicted);
            Some(value)
        } else {
            None
        };
        let after = (shard.len, shard.weight);
        drop(shard);
        self.account(before, after);
        self.notify(evicted);
        removed
    }

    /// Changes the time to live of a live entry (keeping its time to idle); `None` removes
    /// the TTL. Returns false when the key holds no live value.
    pub fn set_ttl<Q>(&self, key: &Q, ttl: Option<Duration>) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let now = self.now();
        let mut shard = self.shard_of(hash).write();
        let Some(idx) = shard.find(hash, key) else {
            return false;
        };
        if shard.get_node(idx).is_expired(now) {
            return false;
        }
        let mut expiry = shard.expiry_of(idx);
        expiry.ttl_deadline = ttl.map(|d| now.saturating_add(d));
        shard.set_expiry(idx, expiry, &|| now);
        true
    }

    /// Removes every live entry for which `remove` returns true; returns how many. Expired
    /// entries met on the way are swept (reported as expired, not counted).
    pub fn remove_where(&self, mut remove: impl FnMut(&K, &V) -> bool) -> u64 {
        let now = self.now();
        let mut count = 0;
        for shard in self.inner.shards.iter() {
            let mut evicted = Vec::new();
            let mut shard = shard.write();
            let before = (shard.len, shard.weight);
            for idx in shard.indices() {
                let node = shard.get_node(idx);
                if node.is_expired(now) {
                    self.remove_node(&mut shard, idx, EvictionReason::Expired, &mut evicted);
                } else if remove(&node.key, &node.value) {
                    self.remove_node(&mut shard, idx, EvictionReason::Invalidated, &mut evicted);
                    count += 1;
                }
            }
            let after = (shard.len, shard.weight);
            drop(shard);
            self.account(before, after);
            self.notify(evicted);
        }
        count
    }

    /// Removes every entry; returns how many live ones there were.
    pub fn clear(&self) -> u64 {
        self.remove_where(|_, _| true)
    }

    /// Clones of the live keys for which `select` returns true (a snapshot).
    pub fn keys_where(&self, mut select: impl FnMut(&K) -> bool) -> Vec<K>
    where
        K: Clone,
    {
        let now = self.now();
        let mut out = Vec::new();
        for shard in self.inner.shards.iter() {
            let shard = shard.read();
            for idx in shard.indices() {
                let node = shard.get_node(idx);
                if !node.is_expired(now) && select(&node.key) {
                    out.push(node.key.clone());
                }
            }
        }
        out
    }

    /// Sweeps up to `per_shard` expired entries from each shard; returns how many.
    pub fn sweep(&self, per_shard: usize) -> u64 {
        let now = self.now();
        let mut total = 0;
        let hasher = self.hasher();
        for shard in self.inner.shards.iter() {
            let mut shard = shard.write();
            let before = (shard.len, shard.weight);
            let nodes = shard.pop_expired(now, per_shard, &hasher);
            let mut evicted = Vec::with_capacity(nodes.len());
            for node in nodes {
                shard.stats.evictions.record(EvictionReason::Expired);
                evicted.push((node.key, node.value, EvictionReason::Expired));
            }
            let after = (shard.len, shard.weight);
            drop(shard);
            total += evicted.len() as u64;
            self.account(before, after);
            self.notify(evicted);
        }
        total
    }

    /// Does now what otherwise happens gradually: removes every expired entry and evicts
    /// until the cache is within its limits. For deterministic tests.
    pub fn run_pending_tasks(&self) {
        self.sweep(usize::MAX);
        if self.over_limit() {
            let mut evicted = Vec::new();
            self.evict_elsewhere(0, &mut evicted);
            self.notify(evicted);
        }
    }

    /// Entries held (including expired entries not yet swept).
    pub fn entry_count(&self) -> u64 {
        self.inner.entries.load(Ordering::Relaxed)
    }

    /// Total weight held.
    pub fn weighted_size(&self) -> u64 {
        self.inner.weight.load(Ordering::Relaxed)
    }

    /// The entry limit, if any.
    pub fn max_entries(&self) -> Option<u64> {
        self.inner.max_entries
    }

    /// The weight limit, if any.
    pub fn max_weight(&self) -> Option<u64> {
        self.inner.max_weight
    }

    /// The eviction policy.
    pub fn policy(&self) -> EvictionPolicy {
        self.inner.policy
    }

    /// The clock the cache reads.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// A snapshot of the counters (sums over the shards).
    pub fn stats(&self) -> CacheStats {
        let (hits, misses) = self.inner.counters.totals();
        let mut s = CacheStats {
            entries: self.entry_count(),
            weight: self.weighted_size(),
            hits,
            misses,
            ..CacheStats::default()
        };
        for cell in self.inner.shards.iter() {
            let shard = cell.read();
            s.inserts += shard.stats.inserts;
            s.evictions.merge(&shard.stats.evictions);
        }
        s
    }
}
