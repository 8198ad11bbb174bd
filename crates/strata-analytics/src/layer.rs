//! [`AnalyticsLayer`] and [`AnalyticsStore`]: counting, timing and tracing every operation.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use std::future::Future;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::Either;
use futures_util::stream::BoxStream;
use serde::Serialize;
use strata_core::{
    Capabilities, Entry, Explain, Health, Invalidation, Key, Layer, Namespace, Now, Pattern,
    Result, Selector, SetOptions, SetOutcome, Store, StoreInfo, StoreStats, Timestamp, Ttl,
    TtlState,
};
use tracing::Instrument;

use crate::config::{AnalyticsBuilder, Shared};
use crate::events::InvalidationEvent;
use crate::health::{self, HealthAssessment, Inputs};
use crate::metrics::{Counts, Operation, ReadTable, TierSnapshot, TierStats, sampler};
use crate::tier::Tier;

/// Everything the analytics know, at one moment.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalyticsSnapshot {
    /// By tier (only tiers some store records).
    pub tiers: BTreeMap<Tier, TierSnapshot>,
    /// Invalidations run since the start.
    pub invalidations: u64,
    /// Entries they removed.
    pub invalidated_entries: u64,
    /// One operation in this many is timed.
    pub sample_every: u32,
}

/// Counts, times and traces every operation of the stores it wraps, per namespace and tier;
/// logs invalidations; assesses health. Cloning gives another handle to the same analytics.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use strata_analytics::{AnalyticsLayer, Tier};
/// use strata_core::{Bytes, Key, Namespace, SetOptions, Store, StoreExt};
/// use strata_memory::MemoryStore;
///
/// let analytics = AnalyticsLayer::new();
/// let store = MemoryStore::new().layer(analytics.clone());
/// let key = Key::new(&Namespace::new("users")?, "42")?;
/// store.get(&key).await?; // a miss
/// store.set(&key, Bytes::from_static(b"{}"), SetOptions::new()).await?;
/// store.get(&key).await?; // a hit
/// let users = &analytics.snapshot().tiers[&Tier::Overall].namespaces["users"];
/// assert_eq!((users.hits, users.misses, users.sets), (1, 1, 1));
/// assert_eq!(users.hit_ratio, Some(0.5));
/// # Ok::<(), strata_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct AnalyticsLayer {
    shared: Arc<Shared>,
    tier: Tier,
}

impl std::fmt::Debug for AnalyticsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsLayer")
            .field("tier", &self.tier)
            .field("sample_every", &self.shared.sample_every)
            .finish()
    }
}

impl Default for AnalyticsLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl AnalyticsLayer {
    /// Analytics with the defaults: 1 in 64 operations timed, 1,024 events kept, the system
    /// clock, the default thresholds.
    pub fn new() -> Self {
        match AnalyticsBuilder::default().build() {
            Ok(layer) => layer,
            // The builder refuses only settings its caller changed; the defaults pass.
            Err(e) => unreachable!("the default analytics configuration is invalid: {e}"),
        }
    }

    /// A builder with the defaults.
    pub fn builder() -> AnalyticsBuilder {
        AnalyticsBuilder::default()
    }

    pub(crate) fn from_shared(shared: Arc<Shared>, tier: Tier) -> Self {
        AnalyticsLayer { shared, tier }
    }

    /// A layer sharing these analytics that records under `tier` (wrap a tiered cache's L1
    /// with `for_tier(Tier::L1)` and its L2 with `for_tier(Tier::L2)`).
    pub fn for_tier(&self, tier: Tier) -> AnalyticsLayer {
        AnalyticsLayer {
            shared: Arc::clone(&self.shared),
            tier,
        }
    }

    /// The tier this layer records.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Every counter, histogram summary and total, now.
    pub fn snapshot(&self) -> AnalyticsSnapshot {
        let (invalidations, invalidated_entries) = self.shared.events.totals();
        AnalyticsSnapshot {
            tiers: self.shared.registry.snapshot(),
            invalidations,
            invalidated_entries,
            sample_every: self.shared.sample_every,
        }
    }

    /// Invalidations that ran at or after `since`, oldest first (at most the configured
    /// event capacity).
    pub fn invalidation_events(&self, since: Timestamp) -> Vec<InvalidationEvent> {
        self.shared.events.since(since)
    }

    /// Records how long an invalidation took to reach every node (reported by the
    /// coherence machinery); the health assessment judges the longest within the trend
    /// window.
    pub fn record_invalidation_lag(&self, lag: Duration) {
        let now = self.shared.clock.now();
        let mut lags = self
            .shared
            .lags
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if lags.len() == 1024 {
            lags.pop_front();
        }
        lags.push_back((now, lag));
    }

    /// Errors ÷ operations through the whole stack (`None` before the first operation).
    pub fn error_rate(&self) -> Option<f64> {
        let snapshot = self.snapshot();
        let totals = &overall(&snapshot)?.totals;
        let ops = totals.operations();
        (ops > 0).then(|| totals.error_count() as f64 / ops as f64)
    }

    /// Assesses health from the counters and `backend`'s own report. `l1_is_overall` says
    /// the store under the overall layer is itself the L1 (an in-process store), so its hit
    /// ratio is the L1's when no layer records [`Tier::L1`].
    pub fn assess_with(&self, backend: &Health, l1_is_overall: bool) -> HealthAssessment {
        let snapshot = self.snapshot();
        let now = self.shared.clock.now();
        let window = self.shared.trend_window;
        let mut inputs = Inputs::default();
        if let Some(o) = overall(&snapshot) {
            inputs.requests = o.totals.requests;
            inputs.overall_hit_ratio = o.totals.hit_ratio;
            inputs.operations = o.totals.operations();
            inputs.error_rate = (inputs.operations > 0)
                .then(|| o.totals.error_count() as f64 / inputs.operations as f64);
            inputs.get_p95 = o
                .latency
                .get(&Operation::Get)
                .map(|l| (Duration::from_secs_f64(l.p95_us / 1e6), l.samples));
        }
        let l1 = snapshot.tiers.get(&Tier::L1).or_else(|| {
            l1_is_overall
                .then(|| snapshot.tiers.get(&Tier::Overall))
                .flatten()
        });
        if let Some(l1) = l1 {
            inputs.l1_requests = l1.totals.requests;
            inputs.l1_hit_ratio = l1.totals.hit_ratio;
        }
        inputs.backend = Some(backend.status);
        inputs.backend_message = backend.message.clone();
        inputs.breaker_open = health::breaker_open(backend);
        inputs.l1_pressure = health::pressure(backend, "bytes", "max_bytes");
        inputs.l2_pressure = health::pressure(backend, "used_memory", "maxmemory");
        let window_nanos = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
        let since = Timestamp::from_nanos(now.as_nanos().saturating_sub(window_nanos));
        inputs.lag = self
            .shared
            .lags
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(t, _)| *t > since)
            .map(|(_, d)| *d)
            .max();
        let assessment = {
            let mut history = self
                .shared
                .history
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            health::assess(&inputs, &self.shared.thresholds, &mut history, now, window)
        };
        self.shared
            .last_score
            .store(i64::from(assessment.score), Ordering::Relaxed);
        assessment
    }

    /// The score of the last assessment, `None` before the first.
    pub fn last_score(&self) -> Option<u32> {
        u32::try_from(self.shared.last_score.load(Ordering::Relaxed)).ok()
    }

    fn stats(&self) -> &TierStats {
        self.shared.registry.tier(self.tier)
    }
}

/// The overall tier's figures, or the L1's when only it is recorded.
fn overall(s: &AnalyticsSnapshot) -> Option<&TierSnapshot> {
    s.tiers
        .get(&Tier::Overall)
        .or_else(|| s.tiers.get(&Tier::L1))
}

impl<S: Store> Layer<S> for AnalyticsLayer {
    type Store = AnalyticsStore<S>;

    fn layer(&self, inner: S) -> AnalyticsStore<S> {
        let inner = Arc::new(inner);
        let weak = Arc::downgrade(&inner);
        self.stats().attach(weak);
        AnalyticsStore {
            inner,
            reads: self.stats().reads.clone(),
            layer: self.clone(),
        }
    }
}

/// A store whose operations an [`AnalyticsLayer`] counts, times and traces.
pub struct AnalyticsStore<S> {
    inner: Arc<S>,
    /// The tier's read counters, held here so a read reaches them from the store itself.
    reads: ReadTable,
    layer: AnalyticsLayer,
}

impl<S> Clone for AnalyticsStore<S> {
    fn clone(&self) -> Self {
        AnalyticsStore {
            inner: Arc::clone(&self.inner),
            reads: self.reads.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: Store> std::fmt::Debug for AnalyticsStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsStore")
            .field("inner", &self.inner.info().name)
            .field("tier", &self.layer.tier)
            .finish()
    }
}

/// True when a subscriber may want `debug` spans (one relaxed load; `false` without one).
#[inline]
fn spans_enabled() -> bool {
    tracing::level_filters::LevelFilter::current() >= tracing::level_filters::LevelFilter::DEBUG
}

/// Starts the span of one operation (cheap when no subscriber listens at debug level).
macro_rules! op_span {
    ($self:expr, $op:expr, $ns:expr, $key:expr) => {{
        let span = tracing::debug_span!(
            "strata.cache",
            operation = $op.as_str(),
            namespace = $ns,
            tier = $self.layer.tier.as_str(),
            outcome = tracing::field::Empty,
            error_kind = tracing::field::Empty,
            key = tracing::field::Empty,
        );
        if $self.layer.shared.record_keys
            && let Some(k) = $key
        {
            span.record("key", Key::id(k));
        }
        span
    }};
}

/// Awaits `fut` inside `span`, without the instrumentation wrapper when the span is disabled
/// (no subscriber listens), which keeps the hit path lean.
macro_rules! instrumented {
    ($span:expr, $fut:expr) => {
        if $span.is_disabled() {
            $fut.await
        } else {
            $fut.instrument($span.clone()).await
        }
    };
}

impl<S: Store> AnalyticsStore<S> {
    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The analytics this store records into.
    pub fn analytics(&self) -> &AnalyticsLayer {
        &self.layer
    }

    /// Assesses health: the counters, and the wrapped store's own health report.
    pub async fn assess(&self) -> HealthAssessment {
        let backend = self.inner.health().await;
        let local = self.inner.info().capabilities.contains(Capabilities::LOCAL);
        self.layer.assess_with(&backend, local)
    }

    /// True unless the assessment is critical.
    pub async fn is_healthy(&self) -> bool {
        self.assess().await.is_healthy
    }

    fn counts(&self, ns: Option<&Namespace>) -> &Counts {
        self.layer.stats().counts(ns)
    }

    /// Starts operation `op` in `ns`: decides whether to time it and opens its span.
    #[inline]
    fn start(
        &self,
        op: Operation,
        ns: Option<&Namespace>,
        key: Option<&Key>,
    ) -> (Option<Timestamp>, tracing::Span) {
        let shared = &self.layer.shared;
        let started = sampler::sample(shared.sample_every).then(|| shared.clock.now());
        (started, op_span!(self, op, ns.map(Namespace::as_str), key))
    }

    /// Ends operation `op`: records its time when sampled and counts an error by kind.
    #[inline]
    fn finish<T>(
        &self,
        op: Operation,
        ns: Option<&Namespace>,
        started: Option<Timestamp>,
        span: &tracing::Span,
        result: &Result<T>,
    ) {
        if let Some(t0) = started {
            let elapsed = self.layer.shared.clock.now().saturating_duration_since(t0);
            self.layer.stats().latency.record(op, elapsed);
        }
        if let Err(e) = result {
            self.counts(ns).error(e.kind());
            span.record("outcome", "error");
            span.record("error_kind", e.kind().as_str());
        }
    }

    /// Where this thread counts reads of `ns`, remembered for its next reads; counts the
    /// read towards the next timed one.
    #[cold]
    #[inline(never)]
    fn place_of(&self, ns: &Namespace) -> usize {
        let place = self.reads.my_place(self.layer.stats().column(ns));
        sampler::remember(self.reads.id(), ns.as_str().as_ptr() as usize, place);
        sampler::count();
        place
    }

    /// `get_now` timed and with a span: the path of the read after each sampling
    /// countdown ran out, and of every read while a subscriber listens at debug level.
    #[inline(never)]
    fn get_now_observed(&self, key: &Key) -> Now<Option<Entry>> {
        let shared = &self.layer.shared;
        let timed = sampler::take_timing(shared.sample_every);
        let started = timed.then(|| shared.clock.now());
        let span = op_span!(self, Operation::Get, key.namespace().as_str(), Some(key));
        let answer = if span.is_disabled() {
            self.inner.get_now(key)
        } else {
            span.in_scope(|| self.inner.get_now(key))
        };
        if let Now::Ready(found) = &answer {
            let outcome = self.read(Some(key.namespace()), found);
            span.record("outcome", outcome);
            if let Some(t0) = started {
                let elapsed = shared.clock.now().saturating_duration_since(t0);
                self.layer.stats().latency.record(Operation::Get, elapsed);
            } else {
                sampler::count();
            }
        }
        answer
    }

    /// `get` through the wrapped store's async path (a store that needs I/O).
    async fn get_async(&self, key: &Key) -> Result<Option<Entry>> {
        let ns = key.namespace();
        let (started, span) = self.start(Operation::Get, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.get(key));
        self.finish(Operation::Get, Some(ns), started, &span, &result);
        if let Ok(found) = &result {
            span.record("outcome", self.read(Some(ns), found));
        }
        result
    }

    /// Counts one read's answer (not its size: reading the entry's length would touch
    /// another cache line of a cold entry on every hit).
    #[inline]
    fn read(&self, ns: Option<&Namespace>, answer: &Option<Entry>) -> &'static str {
        self.layer.stats().read(ns, answer.is_some());
        if answer.is_some() { "hit" } else { "miss" }
    }
}

impl<S: Store> Store for AnalyticsStore<S> {
    fn info(&self) -> StoreInfo {
        let inner = self.inner.info();
        StoreInfo::new(format!("analytics({})", inner.name), inner.capabilities)
    }

    #[inline]
    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        if spans_enabled() {
            return self.get_now_observed(key);
        }
        // The hit path: no clock, no span, no namespace table. The sampling countdown and
        // where this thread counts reads of the namespace it read last share one
        // thread-local value; the counters are in the read table the store holds; after the
        // lookup, one increment (no atomic read-modify-write on a stripe this thread owns:
        // see `strata_core::counters::ThreadStripe`). A hit touches no memory of the analytics but that
        // value and one counter line (the namespace table only when the thread reads
        // another namespace than last time). Instructions count here even when they touch
        // nothing: see docs/performance.md.
        let ns = key.namespace();
        let addr = ns.as_str().as_ptr() as usize;
        let place = match sampler::tick(self.reads.id(), addr) {
            sampler::Tick::Counted(place) => place,
            sampler::Tick::Timed => return self.get_now_observed(key),
            sampler::Tick::Elsewhere => self.place_of(ns),
        };
        let answer = self.inner.get_now(key);
        if let Now::Ready(found) = &answer {
            self.reads.count(place, found.is_some());
        }
        answer
    }

    fn get(&self, key: &Key) -> impl Future<Output = Result<Option<Entry>>> + Send {
        // An in-process store answers without I/O: take the lean synchronous path now (the
        // same answer, counted, timed and traced the same way) and hand back a ready future.
        // Other stores take the async path, boxed: a store that needs I/O does not notice one
        // allocation, and the future every caller holds (and `StoreExt::read` embeds) stays
        // two words instead of the whole instrumented state machine, which a hit would pay to
        // set up and tear down.
        match self.get_now(key) {
            Now::Ready(answer) => Either::Left(std::future::ready(Ok(answer))),
            Now::Pending => Either::Right(Box::pin(self.get_async(key))),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let ns = keys.first().map(Key::namespace);
        let (started, span) = self.start(Operation::GetMany, ns, None);
        let result = instrumented!(span, self.inner.get_many(keys));
        self.finish(Operation::GetMany, ns, started, &span, &result);
        if let Ok(found) = &result {
            for (key, answer) in keys.iter().zip(found) {
                self.read(Some(key.namespace()), answer);
            }
            span.record("outcome", "ok");
        }
        result
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        let ns = key.namespace();
        let len = value.len();
        let (started, span) = self.start(Operation::Set, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.set(key, value, opts));
        self.finish(Operation::Set, Some(ns), started, &span, &result);
        match &result {
            Ok(SetOutcome::Stored) => {
                self.counts(Some(ns)).set(len);
                span.record("outcome", "stored");
            }
            Ok(_) => {
                span.record("outcome", "not_stored");
            }
            Err(_) => {}
        }
        result
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        let written: Vec<(Namespace, usize)> = items
            .iter()
            .map(|(k, v)| (*k.namespace(), v.len()))
            .collect();
        let ns = written.first().map(|(ns, _)| *ns);
        let (started, span) = self.start(Operation::SetMany, ns.as_ref(), None);
        let result = instrumented!(span, self.inner.set_many(items, opts));
        self.finish(Operation::SetMany, ns.as_ref(), started, &span, &result);
        if result.is_ok() {
            for (ns, len) in &written {
                self.counts(Some(ns)).set(*len);
            }
            span.record("outcome", "stored");
        }
        result
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        let ns = key.namespace();
        let (started, span) = self.start(Operation::Delete, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.delete(key));
        self.finish(Operation::Delete, Some(ns), started, &span, &result);
        if let Ok(removed) = &result {
            self.counts(Some(ns)).delete();
            span.record("outcome", if *removed { "removed" } else { "absent" });
        }
        result
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        let ns = key.namespace();
        let (started, span) = self.start(Operation::Expire, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.expire(key, ttl));
        self.finish(Operation::Expire, Some(ns), started, &span, &result);
        if let Ok(found) = &result {
            self.counts(Some(ns)).other();
            span.record("outcome", if *found { "updated" } else { "absent" });
        }
        result
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        let ns = key.namespace();
        let (started, span) = self.start(Operation::Ttl, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.ttl(key));
        self.finish(Operation::Ttl, Some(ns), started, &span, &result);
        if result.is_ok() {
            self.counts(Some(ns)).other();
            span.record("outcome", "ok");
        }
        result
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        let ns = key.namespace();
        let (started, span) = self.start(Operation::Increment, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.increment(key, delta));
        self.finish(Operation::Increment, Some(ns), started, &span, &result);
        if result.is_ok() {
            self.counts(Some(ns)).other();
            span.record("outcome", "ok");
        }
        result
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        let span = op_span!(self, Operation::Scan, namespace.as_str(), None::<&Key>);
        let _entered = span.enter();
        self.counts(Some(namespace)).other();
        let layer = self.layer.clone();
        let ns = *namespace;
        self.inner
            .scan(namespace, pattern)
            .inspect(move |item| {
                if let Err(e) = item {
                    layer.stats().ns(&ns).error(e.kind());
                }
            })
            .boxed()
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        let ns = match &req.selector {
            Selector::Key(k) => Some(*k.namespace()),
            Selector::Pattern { namespace, .. } | Selector::Namespace(namespace) => {
                Some(*namespace)
            }
            _ => None,
        };
        let (started, span) = self.start(Operation::Invalidate, ns.as_ref(), None);
        let result = instrumented!(span, self.inner.invalidate(req));
        self.finish(Operation::Invalidate, ns.as_ref(), started, &span, &result);
        if let Ok(count) = &result {
            self.counts(ns.as_ref()).other();
            let now = self.layer.shared.clock.now();
            self.layer
                .shared
                .events
                .record(now, self.layer.tier, req, *count);
            span.record("outcome", "ok");
        }
        result
    }

    async fn health(&self) -> Health {
        let mut h = self.inner.health().await;
        if let Some(rate) = self.layer.error_rate() {
            h = h.detail("analytics_error_rate", rate);
        }
        if let Some(score) = self.layer.last_score() {
            h = h.detail("analytics_health_score", score);
        }
        h
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        let ns = key.namespace();
        let (started, span) = self.start(Operation::Explain, Some(ns), Some(key));
        let result = instrumented!(span, self.inner.explain(key));
        self.finish(Operation::Explain, Some(ns), started, &span, &result);
        let mut report = result?;
        span.record("outcome", "ok");
        self.counts(Some(ns)).other();
        if let Some(event) = self.layer.shared.events.last_touching(key, report.tags()) {
            if let Some(created) = report.holder().and_then(|h| h.created_at)
                && event.at < created
            {
                report = report.note(
                    "analytics: the value was written again after the last invalidation that selected it",
                );
            }
            report.last_invalidation = Some(event.report());
        }
        let stats = self.layer.stats().ns_snapshot(Some(ns));
        if let Some(ratio) = stats.hit_ratio {
            report = report.note(format!(
                "analytics ({}): namespace {ns} hit ratio {ratio:.2} over {} reads",
                self.layer.tier, stats.requests
            ));
        }
        Ok(report)
    }
}
