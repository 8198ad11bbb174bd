//! The one trait every backend implements and every layer wraps.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::entry::Entry;
use crate::error::Result;
use crate::explain::Explain;
use crate::invalidation::Invalidation;
use crate::key::{Key, Namespace};
use crate::options::{SetOptions, SetOutcome, Ttl, TtlState};
use crate::pattern::Pattern;

bitflags::bitflags! {
    /// What a store can do. An operation outside its capabilities returns
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Capabilities: u32 {
        /// Per-entry time to live, `expire` and `ttl`.
        const TTL = 1 << 0;
        /// Per-entry time to idle.
        const TIME_TO_IDLE = 1 << 1;
        /// Tags on entries and invalidation by tag.
        const TAGS = 1 << 2;
        /// `scan` and invalidation by pattern.
        const SCAN = 1 << 3;
        /// Atomic `increment`.
        const INCREMENT = 1 << 4;
        /// `SetMode::IfAbsent` and `SetMode::IfPresent`.
        const CONDITIONAL_SET = 1 << 5;
        /// Invalidation of a namespace and of everything.
        const CLEAR = 1 << 6;
        /// Answers `get_now` without I/O (an in-process store).
        const LOCAL = 1 << 7;
    }
}

impl Capabilities {
    /// Every capability of a full-featured remote store (all but [`Capabilities::LOCAL`]).
    pub const REMOTE: Capabilities = Capabilities::TTL
        .union(Capabilities::TAGS)
        .union(Capabilities::SCAN)
        .union(Capabilities::INCREMENT)
        .union(Capabilities::CONDITIONAL_SET)
        .union(Capabilities::CLEAR);
}

/// A store's name and capabilities.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreInfo {
    /// A short name, such as `memory` or `redis`; layers prefix theirs (`analytics(memory)`).
    pub name: Cow<'static, str>,
    /// What the store can do.
    pub capabilities: Capabilities,
}

impl StoreInfo {
    /// Info with a name and capabilities.
    pub fn new(name: impl Into<Cow<'static, str>>, capabilities: Capabilities) -> Self {
        StoreInfo {
            name: name.into(),
            capabilities,
        }
    }
}

/// The answer of [`Store::get_now`]: a read that needed no I/O, or a request to await
/// [`Store::get`].
#[derive(Clone, Debug)]
pub enum Now<T> {
    /// The store answered without I/O.
    Ready(T),
    /// The store needs I/O: call the async method.
    Pending,
}

/// Why an entry left a store.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictionReason {
    /// Its time to live or time to idle ran out.
    Expired,
    /// The store was full.
    Capacity,
    /// It was deleted or invalidated.
    Invalidated,
    /// A new value replaced it.
    Replaced,
}

/// Health of a store.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Working normally.
    Healthy,
    /// Working, with problems worth a look.
    Degraded,
    /// Not working.
    Unhealthy,
}

/// A store's health report.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Health {
    /// The verdict.
    pub status: HealthStatus,
    /// Which store reported.
    pub backend: Cow<'static, str>,
    /// How long the check took, when it did I/O.
    pub latency: Option<Duration>,
    /// A sentence a person can act on, when not healthy.
    pub message: Option<String>,
    /// Figures behind the verdict (entries, memory, ...).
    pub details: BTreeMap<String, serde_json::Value>,
}

impl Health {
    /// A healthy report from `backend`.
    pub fn healthy(backend: impl Into<Cow<'static, str>>) -> Self {
        Health {
            status: HealthStatus::Healthy,
            backend: backend.into(),
            latency: None,
            message: None,
            details: BTreeMap::new(),
        }
    }

    /// An unhealthy report with a reason.
    pub fn unhealthy(backend: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Health {
            status: HealthStatus::Unhealthy,
            message: Some(message.into()),
            ..Health::healthy(backend)
        }
    }

    /// Adds a figure.
    pub fn detail(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }
}

/// Entries that left a store, by reason.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EvictionCounts {
    /// Expired by TTL or time to idle.
    pub expired: u64,
    /// Evicted for space.
    pub capacity: u64,
    /// Deleted or invalidated.
    pub invalidated: u64,
    /// Overwritten.
    pub replaced: u64,
}

impl EvictionCounts {
    /// Adds one eviction of `reason`.
    pub fn record(&mut self, reason: EvictionReason) {
        match reason {
            EvictionReason::Expired => self.expired += 1,
            EvictionReason::Capacity => self.capacity += 1,
            EvictionReason::Invalidated => self.invalidated += 1,
            EvictionReason::Replaced => self.replaced += 1,
        }
    }

    /// The count for `reason`.
    pub fn get(&self, reason: EvictionReason) -> u64 {
        match reason {
            EvictionReason::Expired => self.expired,
            EvictionReason::Capacity => self.capacity,
            EvictionReason::Invalidated => self.invalidated,
            EvictionReason::Replaced => self.replaced,
        }
    }

    /// Sums two counts.
    pub fn merge(&mut self, other: &EvictionCounts) {
        self.expired += other.expired;
        self.capacity += other.capacity;
        self.invalidated += other.invalidated;
        self.replaced += other.replaced;
    }
}

/// Counters a store keeps. Figures a store cannot know are zero.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    /// Live entries (may include expired entries not yet swept).
    pub entries: u64,
    /// Weighed size of the entries, in bytes.
    pub bytes: u64,
    /// Reads that found a live value.
    pub hits: u64,
    /// Reads that found none.
    pub misses: u64,
    /// Values written.
    pub sets: u64,
    /// Entries that left, by reason.
    pub evictions: EvictionCounts,
}

impl StoreStats {
    /// hits ÷ (hits + misses), or `None` before the first read.
    pub fn hit_ratio(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}

/// A cache store: an in-memory cache, Redis, a tier of two stores, or a layer around one.
///
/// Every method is required, so a wrapper cannot forget to forward one; conveniences live in
/// [`StoreExt`](crate::StoreExt). A miss is `Ok(None)`, never an error. Futures are `Send`.
///
/// ```
/// # use strata_core::*;
/// async fn read_user(store: &impl Store, id: &str) -> Result<Option<Entry>> {
///     let key = Key::new(&Namespace::new("users")?, id)?;
///     match store.get_now(&key) {
///         Now::Ready(hit_or_miss) => Ok(hit_or_miss),
///         Now::Pending => store.get(&key).await,
///     }
/// }
/// ```
pub trait Store: Send + Sync + 'static {
    /// The store's name and capabilities.
    fn info(&self) -> StoreInfo;

    /// Reads without I/O when the store can (an in-process store always can): `Ready` with
    /// the same answer `get` would give, or `Pending` when the caller must await `get`.
    /// A `Pending` answer counts as no read at all.
    fn get_now(&self, key: &Key) -> Now<Option<Entry>>;

    /// Reads one key.
    fn get(&self, key: &Key) -> impl Future<Output = Result<Option<Entry>>> + Send;

    /// Reads many keys; answers are in request order.
    fn get_many(&self, keys: &[Key]) -> impl Future<Output = Result<Vec<Option<Entry>>>> + Send;

    /// Writes one value.
    fn set(
        &self,
        key: &Key,
        value: Bytes,
        opts: SetOptions,
    ) -> impl Future<Output = Result<SetOutcome>> + Send;

    /// Writes many values with the same options (conditional modes apply per key).
    fn set_many(
        &self,
        items: Vec<(Key, Bytes)>,
        opts: SetOptions,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Removes a key; true when a live value was removed.
    fn delete(&self, key: &Key) -> impl Future<Output = Result<bool>> + Send;

    /// Changes the time to live of a live value; false when there is none.
    fn expire(&self, key: &Key, ttl: Ttl) -> impl Future<Output = Result<bool>> + Send;

    /// The remaining time to live.
    fn ttl(&self, key: &Key) -> impl Future<Output = Result<TtlState>> + Send;

    /// Adds `delta` to the integer under `key` (0 when missing) and returns the new value.
    /// A value that is not an ASCII decimal integer is an
    /// [`ErrorKind::Codec`](crate::ErrorKind::Codec) error and stays unchanged.
    fn increment(&self, key: &Key, delta: i64) -> impl Future<Output = Result<i64>> + Send;

    /// Streams the keys of `namespace` whose id matches `pattern`. Keys written or removed
    /// during the scan may or may not appear; each live key appears at least once.
    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>>;

    /// Removes what `req` selects; returns how many entries were removed.
    fn invalidate(&self, req: &Invalidation) -> impl Future<Output = Result<u64>> + Send;

    /// Checks the store's health.
    fn health(&self) -> impl Future<Output = Health> + Send;

    /// The store's counters.
    fn stats(&self) -> StoreStats;

    /// Reports what the store knows about `key` without its value: whether it holds it, its
    /// age, remaining TTL, tags and codec ([`Explain`]). A store adds one
    /// [`TierReport`](crate::TierReport) (a tier of stores one per tier); a layer forwards and
    /// may enrich the report (governance adds the policy, analytics the last invalidation).
    /// Not a read: no hit or miss is counted and no recency or idle time is refreshed.
    fn explain(&self, key: &Key) -> impl Future<Output = Result<Explain>> + Send;
}
