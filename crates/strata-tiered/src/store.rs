//! [`TieredStore`]: an L1 over an L2, itself a [`Store`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use strata_core::{
    Capabilities, Entry, Error, Explain, GetWithTtl, Health, HealthStatus, Invalidation, Key,
    Namespace, Now, Pattern, Result, SetMode, SetOptions, SetOutcome, SharedClock, SharedStore,
    Store, StoreInfo, StoreStats, Ttl, TtlState,
};

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
    /// L1's byte budget and the share of it past which promotions stop.
    pressure: Option<(u64, f64)>,
}

/// What the builder hands the store besides its two tiers.
pub(crate) struct Settings {
    pub(crate) default_promotion: Promotion,
    pub(crate) promotions: HashMap<Namespace, Promotion>,
    pub(crate) clock: SharedClock,
    pub(crate) write_back: Option<WriteBack>,
    pub(crate) fallback: Option<SharedStore>,
    pub(crate) pressure: Option<(u64, f64)>,
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
        TieredStore {
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
                pressure: settings.pressure,
            }),
        }
    }

    /// The L1 store.
    pub fn l1(&self) -> &L1 {
        &self.inner.l1
    }

    /// The L2 store.
    pub fn l2(&self) -> &L2 {
        &self.inner.l2
    }

    /// The promotion strategy of `namespace`.
    pub fn promotion(&self, namespace: &Namespace) -> Promotion {
        self.inner
            .promotions
            .get(namespace)
            .copied()
            .unwrap_or(self.inner.default_promotion)
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
        }
    }

    /// True in write-back mode.
    pub fn is_write_back(&self) -> bool {
        self.inner.write_back.is_some()
    }

    /// Stops taking write-back writes, flushes what is queued to L2 within `deadline`, and
    /// reports what it flushed and what it could not. In write-through mode there is nothing
    /// to flush.
    pub async fn shutdown(&self, deadline: std::time::Duration) -> FlushReport {
        match &self.inner.write_back {
            Some(wb) => wb.shutdown(deadline).await,
            None => FlushReport::default(),
        }
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
    async fn promote(&self, key: &Key, entry: &Entry, ttl: TtlState) {
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
        if !self
            .inner
            .tracker
            .hit(self.promotion(key.namespace()), key, now)
        {
            add(&self.inner.counters.promotions_deferred, 1);
            return;
        }
        let meta = entry.meta();
        let mut opts = SetOptions::new()
            .tags(meta.tags.iter().cloned())
            .codec(meta.codec)
            .fingerprint(meta.fingerprint);
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
            Ok(_) => add(&self.inner.counters.promotions, 1),
            Err(e) => tracing::debug!(key = %key, error = %e, "promotion into L1 failed"),
        }
    }

    /// L1 then L2 for the keys L1 missed, promoting what L2 answered.
    async fn read(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let mut out = self.inner.l1.get_many(keys).await?;
        let missed: Vec<usize> = (0..keys.len()).filter(|&i| out[i].is_none()).collect();
        add(
            &self.inner.counters.l1_hits,
            (keys.len() - missed.len()) as u64,
        );
        if missed.is_empty() {
            return Ok(out);
        }
        let wanted: Vec<Key> = missed.iter().map(|&i| keys[i].clone()).collect();
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
        for (&i, hit) in missed.iter().zip(found) {
            match hit {
                Some((entry, ttl)) => {
                    add(&self.inner.counters.l2_hits, 1);
                    self.promote(&keys[i], &entry, ttl).await;
                    out[i] = Some(entry);
                }
                None => add(&self.inner.counters.misses, 1),
            }
        }
        Ok(out)
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
        match self.inner.l1.get_now(key) {
            Now::Ready(Some(hit)) => {
                add(&self.inner.counters.l1_hits, 1);
                Now::Ready(Some(hit))
            }
            // An L1 miss needs L2: the caller awaits `get`.
            _ => Now::Pending,
        }
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        // The hot path: an in-process L1 answers without a batch or an await.
        if let Now::Ready(Some(hit)) = self.inner.l1.get_now(key) {
            add(&self.inner.counters.l1_hits, 1);
            return Ok(Some(hit));
        }
        let mut out = self.read(std::slice::from_ref(key)).await?;
        Ok(out.pop().flatten())
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.read(keys).await
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        opts.validate()?;
        if let Some(wb) = &self.inner.write_back
            && opts.mode == SetMode::Always
        {
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
        let ttl = ttl.validate()?;
        self.settle().await?;
        let live = self
            .inner
            .l2
            .expire(key, ttl)
            .await
            .map_err(|e| self.l2_failed(e))?;
        if live {
            // L1 follows; a copy it no longer has is promoted again on the next read.
            self.inner.l1.expire(key, ttl).await?;
        } else {
            self.inner.l1.delete(key).await?;
        }
        Ok(live)
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.settle().await?;
        self.inner.l2.ttl(key).await.map_err(|e| self.l2_failed(e))
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.settle().await?;
        let value = self
            .inner
            .l2
            .increment(key, delta)
            .await
            .map_err(|e| self.l2_failed(e))?;
        // Counters change on every call: keep them in L2 only.
        self.inner.l1.delete(key).await?;
        Ok(value)
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        self.inner.l2.scan(namespace, pattern)
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
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
        health.message = match (l1.message, l2.message) {
            (None, None) => None,
            (a, b) => Some(
                [a.map(|m| format!("L1: {m}")), b.map(|m| format!("L2: {m}"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
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
