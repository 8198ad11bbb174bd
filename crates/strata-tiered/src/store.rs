//! [`TieredStore`]: an L1 over an L2, itself a [`Store`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use strata_core::{
    Admission, Capabilities, Entry, Error, Explain, GetWithTtl, Health, HealthStatus, Invalidation,
    Key, Namespace, Now, Pattern, Result, SetMode, SetOptions, SetOutcome, SharedClock,
    SharedStore, Store, StoreInfo, StoreStats, Ttl, TtlState,
};

use crate::coherence::{self, CoherenceStats, Generation, Local, Shared};
use crate::placement::{PlacementPolicy, Tiers};
use crate::promotion::{Promotion, Tracker};
use crate::write_back::{FlushReport, WriteBack};

/// Counters of a tiered store, beside the common [`StoreStats`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TierStats {
    /// Reads answered by L1.
    pub l1_hits: u64,
    /// Reads L1 missed and L2 answered.
    pub l2_hits: u64,
    /// Reads neither tier answered.
    pub misses: u64,
    /// L2 hits copied into L1.
    pub promotions: u64,
    /// L2 hits not copied (the strategy wanted more hits first).
    pub promotions_deferred: u64,
    /// L2 calls that failed.
    pub l2_errors: u64,
    /// Write-back operations queued and not yet in L2.
    pub write_back_pending: u64,
    /// Reads answered by the fallback store while L2 failed.
    pub fallback_reads: u64,
    /// L2 hits not promoted because L1 was past its memory-pressure threshold.
    pub promotions_under_pressure: u64,
    /// Values served past their logical expiry (fail-safe copies, marked stale).
    pub stale_served: u64,
}

#[derive(Debug, Default)]
struct Counters {
    l1_hits: AtomicU64,
    l2_hits: AtomicU64,
    misses: AtomicU64,
    promotions: AtomicU64,
    promotions_deferred: AtomicU64,
    l2_errors: AtomicU64,
    fallback_reads: AtomicU64,
    promotions_under_pressure: AtomicU64,
    stale_served: AtomicU64,
    sets: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

struct Inner<L1, L2> {
    l1: L1,
    l2: L2,
    default_promotion: Promotion,
    promotions: HashMap<Namespace, Promotion>,
    tracker: Tracker,
    counters: Counters,
    clock: SharedClock,
    write_back: Option<WriteBack>,
    fallback: Option<SharedStore>,
    admission: Option<Arc<dyn Admission>>,
    placement: Option<Arc<dyn PlacementPolicy>>,
    /// L1's byte budget and the share of it past which promotions stop.
    pressure: Option<(u64, f64)>,
    /// Coherence across nodes, when configured.
    coherence: Option<Arc<Shared>>,
}

/// What the builder hands the store besides its two tiers.
pub(crate) struct Settings {
    pub(crate) default_promotion: Promotion,
    pub(crate) promotions: HashMap<Namespace, Promotion>,
    pub(crate) clock: SharedClock,
    pub(crate) write_back: Option<WriteBack>,
    pub(crate) fallback: Option<SharedStore>,
    pub(crate) admission: Option<Arc<dyn Admission>>,
    pub(crate) placement: Option<Arc<dyn PlacementPolicy>>,
    pub(crate) pressure: Option<(u64, f64)>,
    pub(crate) coherence: Option<(coherence::Coherence, tokio::runtime::Handle)>,
}

impl<L1: Store, L2: Store> Local for Inner<L1, L2> {
    fn drop_local<'a>(&'a self, req: &'a Invalidation) -> strata_core::BoxFuture<'a, u64> {
        Box::pin(async move {
            if let strata_core::Selector::Key(key) = &req.selector {
                self.tracker.forget(key);
            }
            match self.l1.invalidate(req).await {
                Ok(n) => n,
                Err(e) => {
                    // L1 could not select (an unsupported selector): drop all of it.
                    tracing::warn!(error = %e, "L1 refused an invalidation; clearing it");
                    self.l1.invalidate(&Invalidation::all()).await.unwrap_or(0)
                }
            }
        })
    }
}

/// True when `entry` is a fail-safe copy past its logical expiry at `clock`'s now. Only
/// fail-safe entries (a physical expiry after the logical one) read the clock.
fn is_stale(entry: &Entry, clock: &SharedClock) -> bool {
    let meta = entry.meta();
    match (meta.logical_expiry, meta.physical_expiry) {
        (Some(l), Some(p)) if p > l => clock.now() >= l,
        _ => false,
    }
}

/// How long an operation that needs L2 to have every queued write waits for the flush.
const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// An in-process L1 over a shared L2: reads try L1, then L2, and promote L2 hits into L1 with
/// the life they have left in L2 (as the strategy of their namespace says); writes go to L2,
/// then L1 (write-through); invalidations reach both. While L2 fails, L1 hits are still
/// served (L2's own circuit breaker makes the failures fast).
///
/// Cheap to clone. See the crate documentation for an example.
pub struct TieredStore<L1, L2> {
    inner: Arc<Inner<L1, L2>>,
}

impl<L1, L2> Clone for TieredStore<L1, L2> {
    fn clone(&self) -> Self {
        TieredStore {
            inner: self.inner.clone(),
        }
    }
}

impl<L1, L2> std::fmt::Debug for TieredStore<L1, L2> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TieredStore")
            .field("default_promotion", &self.inner.default_promotion)
            .field("promotions", &self.inner.promotions)
            .finish_non_exhaustive()
    }
}

impl<L1: Store, L2: Store + GetWithTtl> TieredStore<L1, L2> {
    pub(crate) fn new(l1: L1, l2: L2, settings: Settings) -> Self {
        let coherence = settings
            .coherence
            .as_ref()
            .map(|(config, _)| coherence::shared(config, settings.clock.clone()));
        let store = TieredStore {
            inner: Arc::new(Inner {
                l1,
                l2,
                default_promotion: settings.default_promotion,
                promotions: settings.promotions,
                tracker: Tracker::default(),
                counters: Counters::default(),
                clock: settings.clock,
                write_back: settings.write_back,
                fallback: settings.fallback,
                admission: settings.admission,
                placement: settings.placement,
                pressure: settings.pressure,
                coherence: coherence.clone(),
            }),
        };
        if let (Some((config, runtime)), Some(shared)) = (&settings.coherence, &coherence) {
            let inner: Arc<dyn Local> = store.inner.clone();
            coherence::start_tasks(runtime, config, shared, Arc::downgrade(&inner));
        }
        store
    }

    /// The coherence counters and invalidation lag, when coherence is configured.
    pub fn coherence_stats(&self) -> Option<CoherenceStats> {
        self.inner.coherence.as_ref().map(|c| {
            let mut stats = c.stats();
            stats.stale_served = self.inner.counters.stale_served.load(Ordering::Relaxed);
            stats
        })
    }

    /// Clears the invalidation lag histogram (for measuring a phase on its own).
    pub fn reset_invalidation_lag(&self) {
        if let Some(c) = &self.inner.coherence {
            c.reset_lag();
        }
    }

    /// True when L1 is being served: always without coherence; with it, while the bus is
    /// connected, this node hears its own heartbeats and tracking is armed (or unavailable).
    pub fn is_coherent(&self) -> bool {
        self.inner.coherence.as_ref().is_none_or(|c| c.serving())
    }

    /// Waits until [`TieredStore::is_coherent`], at most `timeout` (a new store bypasses L1
    /// until its subscriptions are up); true when it is.
    pub async fn wait_coherent(&self, timeout: Duration) -> bool {
        match &self.inner.coherence {
            Some(c) => c.wait_serving(timeout).await,
            None => true,
        }
    }

    /// Counts `entry` when it is a stale (fail-safe) copy.
    fn count_stale(&self, entry: &Entry) {
        if is_stale(entry, &self.inner.clock) {
            add(&self.inner.counters.stale_served, 1);
        }
    }

    /// True when L1 may be read and filled now.
    fn l1_usable(&self) -> bool {
        self.inner.coherence.as_ref().is_none_or(|c| c.serving())
    }

    /// True when an L1 hit of `entry` may answer. With coherence, a value with a time to
    /// idle is read from L2, whose idle window every node's reads must renew (an L1 hit
    /// would let it expire in L2, and tracking would then evict it everywhere).
    fn l1_answers(&self, entry: &Entry) -> bool {
        self.inner.coherence.is_none() || entry.meta().tti.is_none()
    }

    /// The L1 store.
    pub fn l1(&self) -> &L1 {
        &self.inner.l1
    }

    /// The L2 store.
    pub fn l2(&self) -> &L2 {
        &self.inner.l2
    }

    /// The promotion strategy of `namespace`: the placement policy's, else the namespace's
    /// own, else the default.
    pub fn promotion(&self, namespace: &Namespace) -> Promotion {
        self.inner
            .placement
            .as_ref()
            .and_then(|p| p.placement(namespace).promotion)
            .or_else(|| self.inner.promotions.get(namespace).copied())
            .unwrap_or(self.inner.default_promotion)
    }

    /// The tiers that serve `namespace` (see [`TieredBuilder::placement`](crate::TieredBuilder::placement)).
    pub fn tiers(&self, namespace: &Namespace) -> Tiers {
        self.inner
            .placement
            .as_ref()
            .map_or(Tiers::Both, |p| p.placement(namespace).tiers)
    }

    /// True when every namespace is served by both tiers (always, without a policy).
    fn all_both<'a>(&self, mut namespaces: impl Iterator<Item = &'a Namespace>) -> bool {
        self.inner.placement.is_none() || namespaces.all(|ns| self.tiers(ns) == Tiers::Both)
    }

    /// The tier counters.
    pub fn tier_stats(&self) -> TierStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TierStats {
            l1_hits: get(&c.l1_hits),
            l2_hits: get(&c.l2_hits),
            misses: get(&c.misses),
            promotions: get(&c.promotions),
            promotions_deferred: get(&c.promotions_deferred),
            l2_errors: get(&c.l2_errors),
            write_back_pending: self.inner.write_back.as_ref().map_or(0, WriteBack::pending),
            fallback_reads: get(&c.fallback_reads),
            promotions_under_pressure: get(&c.promotions_under_pressure),
            stale_served: get(&c.stale_served),
        }
    }

    /// True in write-back mode.
    pub fn is_write_back(&self) -> bool {
        self.inner.write_back.is_some()
    }

    /// Stops taking write-back writes, flushes what is queued to L2 within `deadline`, and
    /// reports what it flushed and what it could not (in write-through mode there is nothing
    /// to flush); with coherence, stops its receiving and heartbeat tasks (L1 is no longer
    /// served: reads go to L2).
    pub async fn shutdown(&self, deadline: std::time::Duration) -> FlushReport {
        let started = tokio::time::Instant::now();
        let report = match &self.inner.write_back {
            Some(wb) => wb.shutdown(deadline).await,
            None => FlushReport::default(),
        };
        if let Some(c) = &self.inner.coherence {
            c.stop(deadline.saturating_sub(started.elapsed())).await;
        }
        report
    }

    /// In write-back mode, waits until everything queued before reached L2, so an operation
    /// that L2 answers sees every earlier write.
    async fn settle(&self) -> Result<()> {
        match &self.inner.write_back {
            Some(wb) if wb.pending() > 0 => {
                if wb.flush(FLUSH_WAIT).await {
                    Ok(())
                } else {
                    Err(Error::new(
                        strata_core::ErrorKind::Timeout,
                        format!(
                            "the write-back queue did not reach L2 within {FLUSH_WAIT:?}; \
                             L2 may be down"
                        ),
                    ))
                }
            }
            _ => Ok(()),
        }
    }

    fn l2_failed(&self, e: Error) -> Error {
        add(&self.inner.counters.l2_errors, 1);
        e
    }

    /// Copies an L2 hit into L1 when its namespace's strategy says so, with the TTL it has
    /// left in L2. A failure to write L1 only costs the promotion.
    async fn promote(&self, key: &Key, entry: &Entry, ttl: TtlState, seen: Option<Generation>) {
        // Memory pressure: past its share of the byte budget, L1 takes no more promotions
        // (writes made here still land in it).
        if let Some((limit, ratio)) = self.inner.pressure {
            let used = self.inner.l1.stats().bytes as f64;
            if used >= limit as f64 * ratio {
                add(&self.inner.counters.promotions_under_pressure, 1);
                return;
            }
        }
        let now = self.inner.clock.now();
        let promotion = self.promotion(key.namespace());
        let admitted = match (&self.inner.admission, promotion) {
            (Some(a), Promotion::Predictive) => a.admits(key),
            _ => true,
        };
        if !admitted || !self.inner.tracker.hit(promotion, key, now) {
            add(&self.inner.counters.promotions_deferred, 1);
            return;
        }
        let meta = entry.meta();
        // The copy keeps the original's write time: it reports the same age in both tiers.
        let mut opts = SetOptions::new()
            .tags(meta.tags.iter().cloned())
            .codec(meta.codec)
            .fingerprint(meta.fingerprint)
            .created_at(meta.created_at);
        // A fail-safe entry keeps its stale window in L1 too; one already stale stays in L2.
        let window = match (meta.logical_expiry, meta.physical_expiry) {
            (Some(l), Some(p)) if p > l => Some(p.saturating_duration_since(l)),
            _ => None,
        };
        match (ttl, window) {
            (TtlState::Remaining(left), Some(window)) => {
                if left <= window {
                    return;
                }
                opts = opts.ttl(left - window).fail_safe(window);
            }
            (TtlState::Remaining(left), None) if left.is_zero() => return,
            (TtlState::Remaining(left), None) => opts = opts.ttl(left),
            (TtlState::NoExpiry, _) => opts = opts.no_expiry(),
            _ => return,
        }
        if let Some(tti) = meta.tti {
            opts = opts.tti(tti);
        }
        match self.inner.l1.set(key, entry.value().clone(), opts).await {
            Ok(_) => {
                // Fenced: an invalidation since the L2 read (which bumps before it removes)
                // means the copy may be older than what it removed.
                if let (Some(c), Some(seen)) = (&self.inner.coherence, seen)
                    && c.generations.snapshot(key) != seen
                {
                    add(&c.counters.fills_fenced, 1);
                    let _ = self.inner.l1.delete(key).await;
                    return;
                }
                add(&self.inner.counters.promotions, 1);
            }
            Err(e) => tracing::debug!(key = %key, error = %e, "promotion into L1 failed"),
        }
    }

    /// L1 then L2 for the keys L1 missed, promoting what L2 answered.
    async fn read(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let coherent = self.inner.coherence.as_deref();
        let serving = coherent.is_none_or(Shared::serving);
        let mut out = if serving {
            let mut hits = self.inner.l1.get_many(keys).await?;
            for hit in &mut hits {
                if hit.as_ref().is_some_and(|e| !self.l1_answers(e)) {
                    *hit = None;
                }
            }
            hits
        } else {
            // L1 is bypassed until the bus and tracking are back.
            vec![None; keys.len()]
        };
        for entry in out.iter().flatten() {
            self.count_stale(entry);
        }
        let missed: Vec<usize> = (0..keys.len()).filter(|&i| out[i].is_none()).collect();
        add(
            &self.inner.counters.l1_hits,
            (keys.len() - missed.len()) as u64,
        );
        if missed.is_empty() {
            return Ok(out);
        }
        let wanted: Vec<Key> = missed.iter().map(|&i| keys[i].clone()).collect();
        // Generations before the L2 read: a promotion or fill after an invalidation that
        // came in meanwhile is not kept.
        let seen: Vec<Option<Generation>> = wanted
            .iter()
            .map(|k| coherent.map(|c| c.generations.snapshot(k)))
            .collect();
        let found = match self.inner.l2.get_with_ttl(&wanted).await {
            Ok(found) => found,
            Err(e) => {
                let e = self.l2_failed(e);
                // L2 is unavailable: a configured fallback store answers instead (its
                // answers are not promoted: they may be older than what L2 holds).
                let Some(fallback) = &self.inner.fallback else {
                    return Err(e);
                };
                let answers = fallback.get_many(&wanted).await.map_err(|_| e)?;
                add(&self.inner.counters.fallback_reads, 1);
                for (&i, hit) in missed.iter().zip(answers) {
                    match hit {
                        Some(entry) => {
                            add(&self.inner.counters.l2_hits, 1);
                            out[i] = Some(entry);
                        }
                        None => add(&self.inner.counters.misses, 1),
                    }
                }
                return Ok(out);
            }
        };
        for ((&i, hit), seen) in missed.iter().zip(found).zip(seen) {
            match hit {
                Some((entry, ttl)) => {
                    add(&self.inner.counters.l2_hits, 1);
                    if let Some(c) = coherent {
                        c.tickets.forget(&keys[i]);
                    }
                    if serving {
                        self.promote(&keys[i], &entry, ttl, seen).await;
                    }
                    self.count_stale(&entry);
                    out[i] = Some(entry);
                }
                None => {
                    add(&self.inner.counters.misses, 1);
                    if let (Some(c), Some(seen)) = (coherent, seen) {
                        self.take_ticket(c, &keys[i], seen).await;
                    }
                }
            }
        }
        Ok(out)
    }

    /// After a miss: records what it saw (the generation, and L2's version with fenced
    /// fills) for the fill that may follow. Without a version (L2 failed) no ticket is left,
    /// and a fill is written as a plain write.
    async fn take_ticket(&self, c: &Shared, key: &Key, seen: Generation) {
        let version = match &c.fences {
            Some(cas) => match cas.version_dyn(key).await {
                Ok(v) => v,
                Err(_) => return,
            },
            None => strata_core::Version::ABSENT,
        };
        c.tickets
            .offer(key, seen, version, self.inner.clock.now(), c.fill_window);
    }

    /// A read-through fill after a miss of this node: written to L2 only if the key's
    /// version is still what the miss saw (compare-and-set), and to L1 only if no
    /// invalidation came in since; never broadcast (no other node can hold the key).
    async fn fill(
        &self,
        c: &Shared,
        key: &Key,
        value: Bytes,
        mut opts: SetOptions,
        ticket: coherence::Ticket,
    ) -> Result<SetOutcome> {
        opts.fill = false;
        if c.generations.snapshot(key) != ticket.generation {
            add(&c.counters.fills_fenced, 1);
            return Ok(SetOutcome::NotStored);
        }
        let outcome = match &c.fences {
            Some(cas) => cas
                .set_if_version_dyn(key, &ticket.version, value.clone(), opts.clone())
                .await
                .map_err(|e| self.l2_failed(e))?,
            None => self
                .inner
                .l2
                .set(key, value.clone(), opts.clone())
                .await
                .map_err(|e| self.l2_failed(e))?,
        };
        if outcome != SetOutcome::Stored {
            add(&c.counters.fills_fenced, 1);
            self.inner.l1.delete(key).await?;
            return Ok(SetOutcome::NotStored);
        }
        add(&self.inner.counters.sets, 1);
        self.inner.tracker.forget(key);
        if c.serving() {
            if let Err(e) = self.inner.l1.set(key, value, opts).await {
                tracing::debug!(key = %key, error = %e, "fill into L1 failed");
            }
            if c.generations.snapshot(key) != ticket.generation {
                add(&c.counters.fills_fenced, 1);
                self.inner.l1.delete(key).await?;
            }
        }
        Ok(SetOutcome::Stored)
    }

    /// A write with coherence (always write-through): L2, then L1 (while it is served),
    /// then an invalidation to the other nodes. A conditional write (NX) over a tombstone
    /// (the fence a delete left) removes the tombstone and tries once more: for readers the
    /// key is absent.
    async fn set_coherent(
        &self,
        c: &Shared,
        key: &Key,
        value: Bytes,
        opts: SetOptions,
    ) -> Result<SetOutcome> {
        c.generations.bump_key(key);
        let mut outcome = self
            .inner
            .l2
            .set(key, value.clone(), opts.clone())
            .await
            .map_err(|e| self.l2_failed(e))?;
        if outcome == SetOutcome::NotStored
            && opts.mode == SetMode::IfAbsent
            && self.clear_tombstone(c, key).await?
        {
            outcome = self
                .inner
                .l2
                .set(key, value.clone(), opts.clone())
                .await
                .map_err(|e| self.l2_failed(e))?;
        }
        self.inner.tracker.forget(key);
        if outcome == SetOutcome::Stored {
            add(&self.inner.counters.sets, 1);
            let mut local = opts;
            local.mode = SetMode::Always;
            if !c.serving() || self.inner.l1.set(key, value, local).await.is_err() {
                self.inner.l1.delete(key).await?;
            }
            c.publish(&strata_core::Selector::Key(key.clone())).await;
        } else {
            self.inner.l1.delete(key).await?;
        }
        Ok(outcome)
    }

    /// Removes `key` from L2: with fenced fills, a fence (a tombstone for the fence TTL, so
    /// fills that missed before cannot write); else a delete. True when a live value went.
    async fn remove_fenced(&self, c: &Shared, key: &Key) -> Result<bool> {
        match &c.fences {
            Some(cas) => cas
                .fence_dyn(key, c.fence_ttl)
                .await
                .map_err(|e| self.l2_failed(e)),
            None => self
                .inner
                .l2
                .delete(key)
                .await
                .map_err(|e| self.l2_failed(e)),
        }
    }

    /// With fenced fills: when `key` reads as missing in L2 but holds something (a
    /// tombstone), removes it; true when the key is now free.
    async fn clear_tombstone(&self, c: &Shared, key: &Key) -> Result<bool> {
        if c.fences.is_none() {
            return Ok(false);
        }
        let reads_missing = self
            .inner
            .l2
            .get(key)
            .await
            .map_err(|e| self.l2_failed(e))?
            .is_none();
        if reads_missing {
            // The delete script removes a tombstone (and reports it as not live).
            self.inner
                .l2
                .delete(key)
                .await
                .map_err(|e| self.l2_failed(e))?;
        }
        Ok(reads_missing)
    }
}

impl<L1: Store, L2: Store + GetWithTtl> Store for TieredStore<L1, L2> {
    fn info(&self) -> StoreInfo {
        let (l1, l2) = (self.inner.l1.info(), self.inner.l2.info());
        let capabilities = (l2.capabilities - Capabilities::LOCAL)
            & (l1.capabilities | Capabilities::LOCAL | Capabilities::INCREMENT);
        StoreInfo::new(format!("tiered({}/{})", l1.name, l2.name), capabilities)
    }

    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.get_now(key),
            Tiers::L2Only => return Now::Pending,
            Tiers::Both => {}
        }
        if !self.l1_usable() {
            return Now::Pending;
        }
        match self.inner.l1.get_now(key) {
            Now::Ready(Some(hit)) if self.l1_answers(&hit) => {
                add(&self.inner.counters.l1_hits, 1);
                self.count_stale(&hit);
                Now::Ready(Some(hit))
            }
            // An L1 miss needs L2: the caller awaits `get`.
            _ => Now::Pending,
        }
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.get(key).await,
            Tiers::L2Only => return self.inner.l2.get(key).await.map_err(|e| self.l2_failed(e)),
            Tiers::Both => {}
        }
        // The hot path: an in-process L1 answers without a batch or an await.
        if self.l1_usable()
            && let Now::Ready(Some(hit)) = self.inner.l1.get_now(key)
            && self.l1_answers(&hit)
        {
            add(&self.inner.counters.l1_hits, 1);
            self.count_stale(&hit);
            return Ok(Some(hit));
        }
        let mut out = self.read(std::slice::from_ref(key)).await?;
        Ok(out.pop().flatten())
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        if self.all_both(keys.iter().map(Key::namespace)) {
            return self.read(keys).await;
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        opts.validate()?;
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.set(key, value, opts).await,
            Tiers::L2Only => {
                self.inner.l1.delete(key).await?;
                return self
                    .inner
                    .l2
                    .set(key, value, opts)
                    .await
                    .map_err(|e| self.l2_failed(e));
            }
            Tiers::Both => {}
        }
        if let Some(c) = self.inner.coherence.as_deref() {
            if opts.fill
                && opts.mode == SetMode::Always
                && let Some(ticket) = c.tickets.claim(key, self.inner.clock.now(), c.fill_window)
            {
                return self.fill(c, key, value, opts, ticket).await;
            }
            // A fill without a ticket (a refresh of a value that was there, or a miss older
            // than the fill window) replaces what other nodes may hold: a plain write.
            return self.set_coherent(c, key, value, opts).await;
        }
        if let Some(wb) = &self.inner.write_back
            && opts.mode == SetMode::Always
        {
            // L2 gets its copy later: stamped now, both tiers report the write's own time.
            let mut opts = opts;
            opts.created_at
                .get_or_insert_with(|| self.inner.clock.now());
            self.inner.tracker.forget(key);
            self.inner.l1.set(key, value.clone(), opts.clone()).await?;
            if let Err(e) = wb.set(key, value, opts) {
                // Not acknowledged: this node must not serve it.
                self.inner.l1.delete(key).await?;
                return Err(e.with_key(key));
            }
            add(&self.inner.counters.sets, 1);
            return Ok(SetOutcome::Stored);
        }
        let outcome = self
            .inner
            .l2
            .set(key, value.clone(), opts.clone())
            .await
            .map_err(|e| self.l2_failed(e))?;
        self.inner.tracker.forget(key);
        match outcome {
            SetOutcome::Stored => {
                add(&self.inner.counters.sets, 1);
                let mut local = opts;
                local.mode = SetMode::Always;
                if let Err(e) = self.inner.l1.set(key, value, local).await {
                    // L1 refused (too big for it): drop any older copy so it cannot be served.
                    tracing::debug!(key = %key, error = %e, "write-through into L1 failed");
                    self.inner.l1.delete(key).await?;
                }
            }
            _ => {
                // L2 kept another value (NX) or had none (XX): L1 must not serve an old copy.
                self.inner.l1.delete(key).await?;
            }
        }
        Ok(outcome)
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        opts.validate()?;
        if !self.all_both(items.iter().map(|(k, _)| k.namespace())) {
            for (key, value) in items {
                self.set(&key, value, opts.clone()).await?;
            }
            return Ok(());
        }
        if let Some(c) = self.inner.coherence.as_deref() {
            if opts.fill || opts.mode != SetMode::Always {
                // Fills are fenced one by one; conditional writes need their own answers.
                for (key, value) in items {
                    self.set(&key, value, opts.clone()).await?;
                }
                return Ok(());
            }
            for (key, _) in &items {
                c.generations.bump_key(key);
                self.inner.tracker.forget(key);
            }
            self.inner
                .l2
                .set_many(items.clone(), opts.clone())
                .await
                .map_err(|e| self.l2_failed(e))?;
            add(&self.inner.counters.sets, items.len() as u64);
            if !c.serving() || self.inner.l1.set_many(items.clone(), opts).await.is_err() {
                for (key, _) in &items {
                    self.inner.l1.delete(key).await?;
                }
            }
            for (key, _) in &items {
                c.publish(&strata_core::Selector::Key(key.clone())).await;
            }
            return Ok(());
        }
        if self.inner.write_back.is_some() && opts.mode == SetMode::Always {
            // One by one: each write is acknowledged, or refused with its key, in order.
            for (key, value) in items {
                self.set(&key, value, opts.clone()).await?;
            }
            return Ok(());
        }
        self.inner
            .l2
            .set_many(items.clone(), opts.clone())
            .await
            .map_err(|e| self.l2_failed(e))?;
        if opts.mode == SetMode::Always {
            add(&self.inner.counters.sets, items.len() as u64);
            for (key, _) in &items {
                self.inner.tracker.forget(key);
            }
            if self.inner.l1.set_many(items.clone(), opts).await.is_err() {
                for (key, _) in &items {
                    self.inner.l1.delete(key).await?;
                }
            }
        } else {
            // Which conditional writes L2 took is not reported: drop the L1 copies, the next
            // reads promote what L2 holds.
            for (key, _) in &items {
                self.inner.l1.delete(key).await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.delete(key).await,
            Tiers::L2Only => {
                self.inner.l1.delete(key).await?;
                return self
                    .inner
                    .l2
                    .delete(key)
                    .await
                    .map_err(|e| self.l2_failed(e));
            }
            Tiers::Both => {}
        }
        if let Some(c) = self.inner.coherence.as_deref() {
            c.generations.bump_key(key);
            self.inner.l1.delete(key).await?;
            self.inner.tracker.forget(key);
            let live = self.remove_fenced(c, key).await?;
            c.publish(&strata_core::Selector::Key(key.clone())).await;
            return Ok(live);
        }
        // L1 first: even when L2 fails, this node stops serving the value.
        let local = self.inner.l1.delete(key).await?;
        self.inner.tracker.forget(key);
        if let Some(wb) = &self.inner.write_back {
            // Behind the writes queued before it, so a queued write cannot resurrect the key.
            // L2's answer is not waited for: the result says whether this node held it.
            wb.delete(key).map_err(|e| e.with_key(key))?;
            return Ok(local);
        }
        self.inner
            .l2
            .delete(key)
            .await
            .map_err(|e| self.l2_failed(e))
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.expire(key, ttl).await,
            Tiers::L2Only => {
                return self
                    .inner
                    .l2
                    .expire(key, ttl)
                    .await
                    .map_err(|e| self.l2_failed(e));
            }
            Tiers::Both => {}
        }
        let ttl = ttl.validate()?;
        self.settle().await?;
        let live = self
            .inner
            .l2
            .expire(key, ttl)
            .await
            .map_err(|e| self.l2_failed(e))?;
        if live && self.l1_usable() {
            // L1 follows; a copy it no longer has is promoted again on the next read.
            self.inner.l1.expire(key, ttl).await?;
        } else {
            self.inner.l1.delete(key).await?;
        }
        if let Some(c) = self.inner.coherence.as_deref() {
            // Other nodes' copies keep the old lifetime: they drop them.
            c.generations.bump_key(key);
            c.publish(&strata_core::Selector::Key(key.clone())).await;
        }
        Ok(live)
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.ttl(key).await,
            Tiers::L2Only => return self.inner.l2.ttl(key).await.map_err(|e| self.l2_failed(e)),
            Tiers::Both => {}
        }
        self.settle().await?;
        self.inner.l2.ttl(key).await.map_err(|e| self.l2_failed(e))
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        match self.tiers(key.namespace()) {
            Tiers::L1Only => return self.inner.l1.increment(key, delta).await,
            Tiers::L2Only => {
                self.inner.l1.delete(key).await?;
                return self
                    .inner
                    .l2
                    .increment(key, delta)
                    .await
                    .map_err(|e| self.l2_failed(e));
            }
            Tiers::Both => {}
        }
        self.settle().await?;
        let coherent = self.inner.coherence.as_deref();
        if let Some(c) = coherent {
            c.generations.bump_key(key);
        }
        let mut value = self.inner.l2.increment(key, delta).await;
        if let (Err(e), Some(c)) = (&value, coherent)
            && e.kind() == strata_core::ErrorKind::Codec
            && self.clear_tombstone(c, key).await?
        {
            // The key held the tombstone of a delete: for readers it was absent.
            value = self.inner.l2.increment(key, delta).await;
        }
        let value = value.map_err(|e| self.l2_failed(e))?;
        // Counters change on every call: keep them in L2 only.
        self.inner.l1.delete(key).await?;
        if let Some(c) = coherent {
            c.publish(&strata_core::Selector::Key(key.clone())).await;
        }
        Ok(value)
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        match self.tiers(namespace) {
            Tiers::L1Only => return self.inner.l1.scan(namespace, pattern),
            Tiers::L2Only => return self.inner.l2.scan(namespace, pattern),
            Tiers::Both => {}
        }
        let keys = self.inner.l2.scan(namespace, pattern);
        if self
            .inner
            .coherence
            .as_ref()
            .is_none_or(|c| c.fences.is_none())
        {
            return keys;
        }
        // With fenced fills, a deleted key keeps a tombstone for the fence TTL, which SCAN
        // lists: keep only keys that read as present (one batched L2 read per 100 keys).
        use futures_util::StreamExt;
        let store = self.clone();
        keys.chunks(100)
            .then(move |chunk| {
                let store = store.clone();
                async move {
                    let (keys, mut errors): (Vec<_>, Vec<_>) =
                        chunk.into_iter().partition(Result::is_ok);
                    let keys: Vec<Key> = keys.into_iter().flatten().collect();
                    let present = match store.inner.l2.get_many(&keys).await {
                        Ok(found) => keys
                            .into_iter()
                            .zip(found)
                            .filter(|(_, f)| f.is_some())
                            .map(|(k, _)| Ok(k))
                            .collect(),
                        Err(e) => vec![Err(e)],
                    };
                    let mut out: Vec<Result<Key>> = present;
                    out.append(&mut errors);
                    futures_util::stream::iter(out)
                }
            })
            .flatten()
            .boxed()
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        // A node-local namespace is L1's alone (an L2-only one goes the usual way: L1 holds
        // no copies, and other nodes hear of it).
        let local = match &req.selector {
            strata_core::Selector::Key(k) => Some(*k.namespace()),
            strata_core::Selector::Pattern { namespace, .. }
            | strata_core::Selector::Namespace(namespace) => Some(*namespace),
            _ => None,
        };
        if local.is_some_and(|ns| self.tiers(&ns) == Tiers::L1Only) {
            return self.inner.l1.invalidate(req).await;
        }
        if let Some(c) = self.inner.coherence.as_deref() {
            // Generations first, then L1, then L2, then the other nodes.
            c.generations.bump(&req.selector);
            self.inner.l1.invalidate(req).await?;
            let removed = match &req.selector {
                strata_core::Selector::Key(key) => {
                    self.inner.tracker.forget(key);
                    u64::from(self.remove_fenced(c, key).await?)
                }
                _ => self
                    .inner
                    .l2
                    .invalidate(req)
                    .await
                    .map_err(|e| self.l2_failed(e))?,
            };
            c.publish(&req.selector).await;
            return Ok(removed);
        }
        // L1 first: even when L2 fails, this node stops serving what was invalidated.
        self.inner.l1.invalidate(req).await?;
        if let strata_core::Selector::Key(key) = &req.selector {
            self.inner.tracker.forget(key);
        }
        // Queued writes land first, so the invalidation covers them.
        self.settle().await?;
        self.inner
            .l2
            .invalidate(req)
            .await
            .map_err(|e| self.l2_failed(e))
    }

    async fn health(&self) -> Health {
        let (l1, l2) = (self.inner.l1.health().await, self.inner.l2.health().await);
        let status = match (l1.status, l2.status) {
            (HealthStatus::Healthy, HealthStatus::Healthy) => HealthStatus::Healthy,
            // L1 alone still serves hits: degraded, not down.
            (HealthStatus::Healthy, _) | (_, HealthStatus::Healthy) => HealthStatus::Degraded,
            _ => HealthStatus::Unhealthy,
        };
        let mut health = Health::healthy(self.info().name)
            .detail("l1", serde_json::to_value(&l1).unwrap_or_default())
            .detail("l2", serde_json::to_value(&l2).unwrap_or_default())
            .detail(
                "tiers",
                serde_json::to_value(self.tier_stats()).unwrap_or_default(),
            );
        health.status = status;
        let mut coherence_note = None;
        if let Some(c) = &self.inner.coherence {
            let (detail, note) = c.report();
            health = health.detail("coherence", detail);
            coherence_note = note;
            if !c.serving() && health.status == HealthStatus::Healthy {
                // L2 still answers every read; this node just cannot trust its L1.
                health.status = HealthStatus::Degraded;
            }
        }
        let parts: Vec<String> = [
            l1.message.map(|m| format!("L1: {m}")),
            l2.message.map(|m| format!("L2: {m}")),
            coherence_note.map(|m| format!("coherence: {m}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        health.message = (!parts.is_empty()).then(|| parts.join("; "));
        health
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        let l1 = self.inner.l1.explain(key).await?;
        // L2 may be down: L1's view still helps whoever asks.
        let l2 = self.inner.l2.explain(key).await;
        let mut report = Explain::new(key);
        for tier in l1.tiers {
            report = report.tier(tier.in_tier("l1"));
        }
        report.notes.extend(l1.notes);
        match l2 {
            Ok(l2) => {
                for tier in l2.tiers {
                    report = report.tier(tier.in_tier("l2"));
                }
                report.notes.extend(l2.notes);
            }
            Err(e) => report = report.note(format!("L2 could not be asked: {e}")),
        }
        if let Some(c) = &self.inner.coherence {
            report = report.note(c.explain_note());
        }
        let promotion = self.promotion(key.namespace());
        Ok(report.note(format!(
            "promotion into L1 for namespace {}: {}",
            key.namespace(),
            serde_json::to_string(&promotion).unwrap_or_default()
        )))
    }

    fn stats(&self) -> StoreStats {
        let t = self.tier_stats();
        let l1 = self.inner.l1.stats();
        let mut stats = StoreStats::default();
        stats.entries = l1.entries;
        stats.bytes = l1.bytes;
        stats.hits = t.l1_hits + t.l2_hits;
        stats.misses = t.misses;
        stats.sets = self.inner.counters.sets.load(Ordering::Relaxed);
        stats.evictions = l1.evictions;
        stats
    }
}

impl<L1: Store, L2: Store + GetWithTtl> GetWithTtl for TieredStore<L1, L2> {
    async fn get_with_ttl(&self, keys: &[Key]) -> Result<Vec<Option<(Entry, TtlState)>>> {
        // The authoritative remaining life is L2's.
        self.inner
            .l2
            .get_with_ttl(keys)
            .await
            .map_err(|e| self.l2_failed(e))
    }
}
