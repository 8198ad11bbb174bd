//! [`MemoryStore`]: the [`Store`] over the in-memory [`Cache`].

mod tags;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use strata_core::{
    Capabilities, CodecId, Entry, Error, ErrorKind, EvictionReason, Explain, Health, Invalidation,
    Key, Meta, Namespace, Now, Pattern, Result, Selector, SetMode, SetOptions, SetOutcome,
    SharedClock, Store, StoreInfo, StoreStats, SystemClock, TierReport, Ttl, TtlState,
};

use crate::cache::{Cache, Compute, EntryOptions, EvictionPolicy, Listener};
use tags::TagIndex;

/// Entries held by default.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;
/// Bytes held by default (256 MiB).
pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Bytes counted per entry on top of its key, value and tags: the node, the entry and
/// index overhead, so the byte limit tracks real memory for small values too.
pub const ENTRY_OVERHEAD_BYTES: u64 = 128;

const BACKEND: &str = "memory";

/// The weight of an entry in bytes: key, value, tags and [`ENTRY_OVERHEAD_BYTES`].
pub fn entry_weight(key: &Key, entry: &Entry) -> u64 {
    let tags: usize = entry.meta().tags.iter().map(|t| t.as_str().len()).sum();
    (key.namespace().as_str().len() + key.id().len() + entry.value().len() + tags) as u64
        + ENTRY_OVERHEAD_BYTES
}

struct Inner {
    cache: Cache<Key, Entry>,
    tags: TagIndex,
    clock: SharedClock,
    default_ttl: Option<Duration>,
    max_bytes: u64,
}

/// The embedded in-memory store: every [`Store`] operation, tags, patterns, TTL and time to
/// idle, bounded by entries and bytes. Cloning gives another handle to the same store.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use strata_core::{Bytes, Key, Namespace, SetOptions, Store};
/// use strata_memory::MemoryStore;
///
/// let store = MemoryStore::builder().max_entries(10_000).build()?;
/// let key = Key::new(&Namespace::new("users")?, "42")?;
/// store.set(&key, Bytes::from_static(b"{\"name\":\"Ada\"}"), SetOptions::new()).await?;
/// let entry = store.get(&key).await?.expect("just written");
/// assert_eq!(&entry.value()[..], b"{\"name\":\"Ada\"}");
/// # Ok::<(), strata_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("cache", &self.inner.cache)
            .field("default_ttl", &self.inner.default_ttl)
            .finish()
    }
}

/// Builds a [`MemoryStore`].
pub struct MemoryStoreBuilder {
    max_entries: u64,
    max_bytes: u64,
    policy: EvictionPolicy,
    default_ttl: Option<Duration>,
    clock: Option<SharedClock>,
    shards: Option<usize>,
    sweep_interval: Option<Duration>,
    listener: Option<Listener<Key, Entry>>,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
            policy: EvictionPolicy::default(),
            default_ttl: None,
            clock: None,
            shards: None,
            sweep_interval: None,
            listener: None,
        }
    }
}

impl MemoryStoreBuilder {
    /// The most entries held (default [`DEFAULT_MAX_ENTRIES`]).
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = n;
        self
    }

    /// The most bytes held, as [`entry_weight`] counts them (default [`DEFAULT_MAX_BYTES`]).
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = n;
        self
    }

    /// The eviction policy.
    pub fn eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The TTL of values written without one (default: none).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// The clock (tests pass a `ManualClock`).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The number of shards (see [`crate::CacheBuilder::shards`]).
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }

    /// Sweeps expired entries in the background (needs a tokio runtime at `build()`).
    pub fn sweep_interval(mut self, every: Duration) -> Self {
        self.sweep_interval = Some(every);
        self
    }

    /// Called once for every entry that leaves the store, with the reason.
    pub fn eviction_listener(
        mut self,
        f: impl Fn(&Key, &Entry, EvictionReason) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(f));
        self
    }

    /// Builds the store, checking the configuration.
    pub fn build(self) -> Result<MemoryStore> {
        if self
            .default_ttl
            .is_some_and(|d| d < Duration::from_millis(1))
        {
            return Err(Error::invalid_config("default_ttl must be at least 1ms"));
        }
        let clock = self.clock.unwrap_or_else(SystemClock::shared);
        let mut b = Cache::builder()
            .max_entries(self.max_entries)
            .max_weight(self.max_bytes)
            .weigher(entry_weight)
            .eviction_policy(self.policy)
            .clock(clock.clone());
        if let Some(n) = self.shards {
            b = b.shards(n);
        }
        if let Some(every) = self.sweep_interval {
            b = b.sweep_interval(every);
        }
        if let Some(listener) = self.listener {
            b = b.eviction_listener(move |k, v, r| listener(k, v, r));
        }
        let cache = b.build()?;
        Ok(MemoryStore {
            inner: Arc::new(Inner {
                cache,
                tags: TagIndex::default(),
                clock,
                default_ttl: self.default_ttl,
                max_bytes: self.max_bytes,
            }),
        })
    }
}

fn parse_counter(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 20 || bytes[0] == b'+' {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

impl MemoryStore {
    /// A builder with the defaults.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// A store with the defaults and the system clock.
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(store) => store,
            // The builder only refuses configurations its caller set; the defaults pass.
            Err(e) => unreachable!("the default memory store configuration is invalid: {e}"),
        }
    }

    /// The cache underneath (for its counters and `run_pending_tasks`).
    pub fn cache(&self) -> &Cache<Key, Entry> {
        &self.inner.cache
    }

    /// Removes expired entries, enforces the limits and prunes the tag index now.
    pub fn run_pending_tasks(&self) {
        self.inner.cache.run_pending_tasks();
        let cache = &self.inner.cache;
        self.inner
            .tags
            .prune(|tag, key| cache.peek(key).is_some_and(|e| e.meta().has_tag(tag)));
    }

    fn set_now(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        opts.validate()?;
        let now = self.inner.clock.now();
        let ttl = match opts.ttl {
            Some(ttl) => ttl.duration(),
            None => self.inner.default_ttl,
        };
        // With a fail-safe window the entry lives on, stale, past its TTL.
        let (meta, ttl) = opts.meta(now, ttl);
        let entry = match opts.decoded {
            Some(d) => Entry::with_decoded(value, meta, d),
            None => Entry::new(value, meta),
        };
        let weight = entry_weight(key, &entry);
        if weight > self.inner.max_bytes {
            return Err(Error::new(
                ErrorKind::CapacityExceeded,
                format!(
                    "value of {} bytes (entry weight {weight}) exceeds the memory store's limit of {} bytes",
                    entry.value().len(),
                    self.inner.max_bytes
                ),
            ));
        }
        let entry_opts = EntryOptions {
            ttl,
            tti: opts.tti,
            no_ttl: ttl.is_none(),
        };
        let mode = opts.mode;
        let outcome =
            self.inner
                .cache
                .compute(key.clone(), |current| match (mode, current.is_some()) {
                    (SetMode::IfAbsent, true) | (SetMode::IfPresent, false) => {
                        (Compute::Keep, SetOutcome::NotStored)
                    }
                    _ => (Compute::Put(entry, entry_opts), SetOutcome::Stored),
                })?;
        if outcome == SetOutcome::Stored {
            let cache = &self.inner.cache;
            for tag in &opts.tags {
                self.inner.tags.add(tag, key, |k| {
                    cache.peek(k).is_some_and(|e| e.meta().has_tag(tag))
                });
            }
        }
        Ok(outcome)
    }

    fn increment_now(&self, key: &Key, delta: i64) -> Result<i64> {
        let now = self.inner.clock.now();
        self.inner.cache.compute(key.clone(), |current| {
            let (base, meta) = match current {
                None => (0, Meta::new(now, None)),
                Some(e) => match parse_counter(e.value()) {
                    Some(n) => (n, e.meta().clone()),
                    None => {
                        return (
                            Compute::Keep,
                            Err(Error::codec("the stored value is not an integer")),
                        );
                    }
                },
            };
            let Some(next) = base.checked_add(delta) else {
                return (
                    Compute::Keep,
                    Err(Error::invalid_argument(format!(
                        "incrementing {base} by {delta} would overflow a 64-bit integer"
                    ))),
                );
            };
            let meta = meta.with_codec(CodecId::Raw).with_fingerprint(None);
            let entry = Entry::new(Bytes::from(next.to_string()), meta);
            let action = if current.is_some() {
                Compute::Replace(entry)
            } else {
                Compute::Put(entry, EntryOptions::no_expiry())
            };
            (action, Ok(next))
        })?
    }

    fn expire_now(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        let ttl = ttl.validate()?;
        let now = self.inner.clock.now();
        let duration = ttl.duration();
        self.inner
            .cache
            .compute(key.clone(), |current| match current {
                None => (Compute::Keep, false),
                Some(e) => {
                    let mut meta = e.meta().clone();
                    let expiry = duration.map(|d| now.saturating_add(d));
                    meta.logical_expiry = expiry;
                    meta.physical_expiry = expiry;
                    (Compute::ReplaceWithTtl(e.with_meta(meta), duration), true)
                }
            })
    }

    fn invalidate_now(&self, req: &Invalidation) -> u64 {
        let cache = &self.inner.cache;
        match &req.selector {
            Selector::Key(k) => u64::from(cache.remove(k).is_some()),
            Selector::Pattern { namespace, pattern } => {
                cache.remove_where(|k, _| k.namespace() == namespace && pattern.matches(k.id()))
            }
            Selector::Namespace(ns) => cache.remove_where(|k, _| k.namespace() == ns),
            Selector::Tags(tags) => {
                let mut removed = 0;
                for tag in tags {
                    for key in self.inner.tags.take(tag) {
                        if cache.remove_if(&key, |e| e.meta().has_tag(tag)).is_some() {
                            removed += 1;
                        }
                    }
                }
                removed
            }
            Selector::All => {
                let n = cache.clear();
                self.inner.tags.clear();
                n
            }
            // Selectors added to strata-core later are matched entry by entry.
            _ => cache.remove_where(|k, e| req.selects(k, &e.meta().tags)),
        }
    }

    fn with_context(e: Error, op: &'static str, key: &Key) -> Error {
        e.with_operation(op).with_key(key).with_backend(BACKEND)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Store for MemoryStore {
    fn info(&self) -> StoreInfo {
        StoreInfo::new(BACKEND, Capabilities::all())
    }

    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        Now::Ready(self.inner.cache.get(key))
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        Ok(self.inner.cache.get(key))
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        Ok(keys.iter().map(|k| self.inner.cache.get(k)).collect())
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        self.set_now(key, value, opts)
            .map_err(|e| Self::with_context(e, "set", key))
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        opts.validate().map_err(|e| e.with_operation("set_many"))?;
        for (key, value) in items {
            self.set_now(&key, value, opts.clone())
                .map_err(|e| Self::with_context(e, "set_many", &key))?;
        }
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        Ok(self.inner.cache.remove(key).is_some())
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        self.expire_now(key, ttl)
            .map_err(|e| Self::with_context(e, "expire", key))
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        Ok(match self.inner.cache.remaining(key) {
            None => TtlState::Missing,
            Some(None) => TtlState::NoExpiry,
            Some(Some(d)) => TtlState::Remaining(d),
        })
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.increment_now(key, delta)
            .map_err(|e| Self::with_context(e, "increment", key))
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        let keys = self
            .inner
            .cache
            .keys_where(|k| k.namespace() == namespace && pattern.matches(k.id()));
        stream::iter(keys.into_iter().map(Ok)).boxed()
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        Ok(self.invalidate_now(req))
    }

    async fn health(&self) -> Health {
        let cache = &self.inner.cache;
        let mut h = Health::healthy(BACKEND)
            .detail("entries", cache.entry_count())
            .detail("bytes", cache.weighted_size())
            .detail("max_entries", cache.max_entries().unwrap_or(0))
            .detail("max_bytes", self.inner.max_bytes)
            .detail("eviction_policy", cache.policy().as_str())
            .detail("tag_index_keys", self.inner.tags.len() as u64);
        h.latency = Some(Duration::ZERO);
        h
    }

    fn stats(&self) -> StoreStats {
        let s = self.inner.cache.stats();
        let mut out = StoreStats::default();
        out.entries = s.entries;
        out.bytes = s.weight;
        out.hits = s.hits;
        out.misses = s.misses;
        out.sets = s.inserts;
        out.evictions = s.evictions;
        out
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        // `peek` and `remaining` count no read and refresh neither recency nor idle time.
        let cache = &self.inner.cache;
        let tier = match (cache.peek(key), cache.remaining(key)) {
            (Some(entry), Some(remaining)) => {
                let remaining = remaining.map_or(TtlState::NoExpiry, TtlState::Remaining);
                TierReport::from_entry(BACKEND, &entry, self.inner.clock.now(), remaining)
            }
            // Absent, or expired between the two looks.
            _ => TierReport::absent(BACKEND),
        };
        Ok(Explain::new(key).tier(tier))
    }
}

impl strata_core::GetWithTtl for MemoryStore {
    async fn get_with_ttl(&self, keys: &[Key]) -> Result<Vec<Option<(Entry, TtlState)>>> {
        Ok(keys
            .iter()
            .map(|k| {
                let entry = self.inner.cache.get(k)?;
                let ttl = match self.inner.cache.remaining(k) {
                    Some(Some(d)) => TtlState::Remaining(d),
                    Some(None) => TtlState::NoExpiry,
                    // Expired between the two reads: report it missing.
                    None => return None,
                };
                Some((entry, ttl))
            })
            .collect())
    }
}

/// Predictive promotion into this store as an L1: see [`Cache::admits`].
impl strata_core::Admission for MemoryStore {
    fn admits(&self, key: &Key) -> bool {
        self.inner.cache.admits(key)
    }
}
