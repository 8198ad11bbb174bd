//! A small, obviously-correct store for the testkit's own tests: a map under a mutex, reading a
//! clock (manual or system). It validates the suite before real stores run it, and backs the fault layer's
//! tests. Capabilities can be narrowed to check that cases are gated correctly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use strata_core::{
    Capabilities, Clock, CodecId, Entry, Error, Explain, Health, Invalidation, Key, Meta,
    Namespace, Now, Pattern, Result, Selector, SetMode, SetOptions, SetOutcome, SharedClock, Store,
    StoreInfo, StoreStats, TierReport, Timestamp, Ttl, TtlState,
};

struct Slot {
    entry: Entry,
    expires: Option<Timestamp>,
    tti: Option<Duration>,
    last_access: Timestamp,
}

impl Slot {
    fn live(&self, now: Timestamp) -> bool {
        self.expires.is_none_or(|e| now < e)
            && self
                .tti
                .is_none_or(|t| now < self.last_access.saturating_add(t))
    }
}

/// A deliberate defect, to check the runner reports failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bug {
    None,
    /// `get` panics.
    PanicOnGet,
    /// Declares INCREMENT but answers `Unsupported`.
    IncrementUnsupported,
}

/// The reference store.
#[derive(Clone)]
pub(crate) struct MapStore {
    map: Arc<Mutex<BTreeMap<Key, Slot>>>,
    clock: SharedClock,
    caps: Capabilities,
    bug: Bug,
}

impl MapStore {
    /// A store with every capability.
    pub(crate) fn new(clock: SharedClock) -> Self {
        MapStore {
            map: Arc::default(),
            clock,
            caps: Capabilities::all(),
            bug: Bug::None,
        }
    }

    /// Narrows the capabilities; operations outside them return `Unsupported`.
    pub(crate) fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = caps;
        self
    }

    /// Plants a defect.
    pub(crate) fn with_bug(mut self, bug: Bug) -> Self {
        self.bug = bug;
        self
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Key, Slot>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn need(&self, cap: Capabilities, op: &'static str) -> Result<()> {
        if self.caps.contains(cap) {
            Ok(())
        } else {
            Err(Error::unsupported(op))
        }
    }

    /// The live slot under `key`, after dropping a dead one; a hit refreshes time to idle.
    fn read(&self, key: &Key) -> Option<Entry> {
        let now = self.clock.now();
        let mut map = self.lock();
        let slot = map.get_mut(key)?;
        if !slot.live(now) {
            map.remove(key);
            return None;
        }
        slot.last_access = now;
        Some(slot.entry.clone())
    }

    fn write(&self, map: &mut BTreeMap<Key, Slot>, key: &Key, value: Bytes, opts: &SetOptions) {
        let now = self.clock.now();
        let expires = match opts.ttl {
            Some(Ttl::After(d)) => Some(now.saturating_add(d)),
            _ => None,
        };
        let meta = Meta::new(opts.created_at.unwrap_or(now), expires)
            .with_tags(opts.tags.clone())
            .with_codec(opts.codec)
            .with_fingerprint(opts.fingerprint);
        let slot = Slot {
            entry: Entry::new(value, meta),
            expires,
            tti: opts.tti,
            last_access: now,
        };
        map.insert(key.clone(), slot);
    }

    fn check_set(&self, opts: &SetOptions) -> Result<()> {
        opts.validate()?;
        if opts.mode != SetMode::Always {
            self.need(Capabilities::CONDITIONAL_SET, "set")?;
        }
        if matches!(opts.ttl, Some(Ttl::After(_))) {
            self.need(Capabilities::TTL, "set")?;
        }
        if opts.tti.is_some() {
            self.need(Capabilities::TIME_TO_IDLE, "set")?;
        }
        if !opts.tags.is_empty() {
            self.need(Capabilities::TAGS, "set")?;
        }
        Ok(())
    }

    fn set_one(
        &self,
        map: &mut BTreeMap<Key, Slot>,
        key: &Key,
        value: Bytes,
        opts: &SetOptions,
    ) -> SetOutcome {
        let now = self.clock.now();
        let present = map.get(key).is_some_and(|s| s.live(now));
        let write = match opts.mode {
            SetMode::IfAbsent => !present,
            SetMode::IfPresent => present,
            _ => true,
        };
        if write {
            self.write(map, key, value, opts);
            SetOutcome::Stored
        } else {
            SetOutcome::NotStored
        }
    }
}

impl Store for MapStore {
    fn info(&self) -> StoreInfo {
        StoreInfo::new("map", self.caps)
    }

    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        if self.bug == Bug::PanicOnGet {
            return Now::Pending;
        }
        Now::Ready(self.read(key))
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        if self.bug == Bug::PanicOnGet {
            panic!("planted bug: get panics");
        }
        Ok(self.read(key))
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        Ok(keys.iter().map(|k| self.read(k)).collect())
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        self.check_set(&opts)?;
        let mut map = self.lock();
        Ok(self.set_one(&mut map, key, value, &opts))
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        self.check_set(&opts)?;
        let mut map = self.lock();
        for (key, value) in items {
            self.set_one(&mut map, &key, value, &opts);
        }
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        let now = self.clock.now();
        Ok(self.lock().remove(key).is_some_and(|s| s.live(now)))
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        self.need(Capabilities::TTL, "expire")?;
        let ttl = ttl.validate()?;
        let now = self.clock.now();
        let mut map = self.lock();
        let Some(slot) = map.get_mut(key).filter(|s| s.live(now)) else {
            return Ok(false);
        };
        slot.expires = ttl.duration().map(|d| now.saturating_add(d));
        let mut meta = slot.entry.meta().clone();
        meta.logical_expiry = slot.expires;
        meta.physical_expiry = slot.expires;
        slot.entry = slot.entry.with_meta(meta);
        Ok(true)
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.need(Capabilities::TTL, "ttl")?;
        let now = self.clock.now();
        let map = self.lock();
        Ok(match map.get(key).filter(|s| s.live(now)) {
            None => TtlState::Missing,
            Some(Slot { expires: None, .. }) => TtlState::NoExpiry,
            Some(Slot {
                expires: Some(e), ..
            }) => TtlState::Remaining(e.saturating_duration_since(now)),
        })
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.need(Capabilities::INCREMENT, "increment")?;
        if self.bug == Bug::IncrementUnsupported {
            return Err(Error::unsupported("increment"));
        }
        let now = self.clock.now();
        let mut map = self.lock();
        let live = map.get(key).filter(|s| s.live(now));
        let (current, expires) = match live {
            None => (0, None),
            Some(slot) => {
                let text = std::str::from_utf8(slot.entry.value()).ok();
                let Some(n) = text.and_then(|t| t.parse::<i64>().ok()) else {
                    return Err(Error::codec("the value is not an ASCII decimal integer"));
                };
                (n, slot.expires)
            }
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| Error::invalid_argument("increment would overflow an i64"))?;
        let meta = Meta::new(now, expires).with_codec(CodecId::Raw);
        map.insert(
            key.clone(),
            Slot {
                entry: Entry::new(Bytes::from(next.to_string()), meta),
                expires,
                tti: None,
                last_access: now,
            },
        );
        Ok(next)
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        if let Err(e) = self.need(Capabilities::SCAN, "scan") {
            return stream::once(async move { Err(e) }).boxed();
        }
        let now = self.clock.now();
        let keys: Vec<Result<Key>> = self
            .lock()
            .iter()
            .filter(|(k, s)| k.namespace() == namespace && pattern.matches(k.id()) && s.live(now))
            .map(|(k, _)| Ok(k.clone()))
            .collect();
        stream::iter(keys).boxed()
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        match &req.selector {
            Selector::Pattern { .. } => self.need(Capabilities::SCAN, "invalidate")?,
            Selector::Tags(_) => self.need(Capabilities::TAGS, "invalidate")?,
            Selector::Namespace(_) | Selector::All => {
                self.need(Capabilities::CLEAR, "invalidate")?
            }
            _ => {}
        }
        let now = self.clock.now();
        let mut map = self.lock();
        let mut removed = 0;
        map.retain(|key, slot| {
            if !req.selects(key, &slot.entry.meta().tags) {
                return true;
            }
            if slot.live(now) {
                removed += 1;
            }
            false
        });
        Ok(removed)
    }

    async fn health(&self) -> Health {
        Health::healthy("map")
    }

    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        let now = self.clock.now();
        let map = self.lock();
        let tier = match map.get(key).filter(|s| s.live(now)) {
            None => TierReport::absent("map"),
            Some(slot) => {
                let remaining = match slot.expires {
                    None => TtlState::NoExpiry,
                    Some(e) => TtlState::Remaining(e.saturating_duration_since(now)),
                };
                TierReport::from_entry("map", &slot.entry, now, remaining)
            }
        };
        Ok(Explain::new(key).tier(tier))
    }
}
