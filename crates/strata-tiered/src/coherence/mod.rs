//! Coherence across nodes: the backplane (invalidations on the bus, numbered, with
//! heartbeats), key tracking (writes by any client), and fenced fills, run as one state
//! machine per store. See docs/consistency.md for the guarantees and what breaks them.
//!
//! One task per store receives bus and tracking events and applies them to L1; a second
//! publishes heartbeats. L1 is served only while the bus is connected, this node hears its own
//! heartbeats, and tracking (where configured and available) is armed; otherwise L1 is
//! dropped and bypassed (reads go to L2 and are not promoted) until all of them are back.

mod backplane;
mod fence;
mod message;
mod stats;
mod tracking;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use parking_lot::Mutex;
use strata_core::{
    BoxFuture, BusEvent, CompareAndSet, Error, Invalidation, InvalidationBus, Key, KeyTracking,
    Result, Selector, SetOptions, SetOutcome, SharedClock, TrackingEvent, Version,
};
use tokio::sync::watch;

use backplane::{Lost, Publisher, Receiver};
pub(crate) use fence::{Generation, Generations, Ticket, Tickets};
use message::{Body, Message};
pub use stats::{CoherenceStats, LagSummary};
use stats::{Counters, Lag, add};
use tracking::TrackingState;

/// The object-safe twin of [`InvalidationBus`].
pub(crate) trait DynBus: Send + Sync + 'static {
    fn publish_dyn(&self, payload: Bytes) -> BoxFuture<'_, Result<u64>>;
    fn subscribe_dyn(&self) -> BoxStream<'static, BusEvent>;
}

impl<B: InvalidationBus> DynBus for B {
    fn publish_dyn(&self, payload: Bytes) -> BoxFuture<'_, Result<u64>> {
        Box::pin(self.publish(payload))
    }

    fn subscribe_dyn(&self) -> BoxStream<'static, BusEvent> {
        self.subscribe()
    }
}

/// The object-safe twin of [`KeyTracking`].
trait DynTracking: Send + Sync + 'static {
    fn track_dyn(&self) -> BoxStream<'static, TrackingEvent>;
}

impl<T: KeyTracking> DynTracking for T {
    fn track_dyn(&self) -> BoxStream<'static, TrackingEvent> {
        self.track()
    }
}

/// The object-safe twin of [`CompareAndSet`].
pub(crate) trait DynCas: Send + Sync + 'static {
    fn version_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Version>>;
    fn set_if_version_dyn<'a>(
        &'a self,
        key: &'a Key,
        expected: &'a Version,
        value: Bytes,
        opts: SetOptions,
    ) -> BoxFuture<'a, Result<SetOutcome>>;
    fn fence_dyn<'a>(&'a self, key: &'a Key, ttl: Duration) -> BoxFuture<'a, Result<bool>>;
}

impl<C: CompareAndSet> DynCas for C {
    fn version_dyn<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Version>> {
        Box::pin(self.version(key))
    }

    fn set_if_version_dyn<'a>(
        &'a self,
        key: &'a Key,
        expected: &'a Version,
        value: Bytes,
        opts: SetOptions,
    ) -> BoxFuture<'a, Result<SetOutcome>> {
        Box::pin(self.set_if_version(key, expected, value, opts))
    }

    fn fence_dyn<'a>(&'a self, key: &'a Key, ttl: Duration) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.fence(key, ttl))
    }
}

/// How a tiered store keeps its L1 coherent with other nodes'; passed to
/// [`TieredBuilder::coherence`](crate::TieredBuilder::coherence).
///
/// The bus is required; key tracking and fenced fills are optional, and should come from the
/// same shared store as the L2 (with Redis, [`Coherence::over`] takes all three from it).
///
/// ```no_run
/// # async fn demo() -> strata_core::Result<()> {
/// use std::time::Duration;
/// use strata_memory::MemoryStore;
/// use strata_redis::RedisStore;
/// use strata_tiered::{Coherence, TieredStore};
///
/// let redis = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// let tiered = TieredStore::builder(MemoryStore::new(), redis.clone())
///     .coherence(Coherence::over(&redis).heartbeat(Duration::from_millis(500)))?
///     .build();
/// tiered.wait_coherent(Duration::from_secs(5)).await;
/// # Ok(()) }
/// ```
#[must_use = "a coherence configuration does nothing until passed to the builder"]
pub struct Coherence {
    bus: Arc<dyn DynBus>,
    tracking: Option<Arc<dyn DynTracking>>,
    fences: Option<Arc<dyn DynCas>>,
    heartbeat: Duration,
    missed_heartbeats: u32,
    fence_ttl: Duration,
    fill_window: Duration,
}

impl std::fmt::Debug for Coherence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coherence")
            .field("tracking", &self.tracking.is_some())
            .field("fenced_fills", &self.fences.is_some())
            .field("heartbeat", &self.heartbeat)
            .field("missed_heartbeats", &self.missed_heartbeats)
            .field("fence_ttl", &self.fence_ttl)
            .field("fill_window", &self.fill_window)
            .finish_non_exhaustive()
    }
}

impl Coherence {
    /// The backplane alone, on `bus`: invalidations made through Strata nodes reach every
    /// node; writes by other clients do not.
    pub fn new(bus: impl InvalidationBus) -> Self {
        Coherence {
            bus: Arc::new(bus),
            tracking: None,
            fences: None,
            heartbeat: Duration::from_secs(1),
            missed_heartbeats: 3,
            fence_ttl: Duration::from_secs(10),
            fill_window: Duration::from_secs(30),
        }
    }

    /// Everything `l2` offers: its bus, its key tracking and its compare-and-set for fenced
    /// fills.
    pub fn over<S>(l2: &S) -> Self
    where
        S: InvalidationBus + KeyTracking + CompareAndSet + Clone,
    {
        Coherence::new(l2.clone())
            .key_tracking(l2.clone())
            .fenced_fills(l2.clone())
    }

    /// Key tracking: writes to L2 by any client evict L1 entries on every node. Where the
    /// backend refuses tracking the backplane alone serves, and health says so.
    pub fn key_tracking(mut self, tracking: impl KeyTracking) -> Self {
        self.tracking = Some(Arc::new(tracking));
        self
    }

    /// Fenced fills over the L2's compare-and-set: deletes and key invalidations leave a
    /// tombstone (for [`Coherence::fence_ttl`]), and a read-through fill writes L2 only if the
    /// key's version is still what its miss saw. `cas` must be the tiered store's L2.
    pub fn fenced_fills(mut self, cas: impl CompareAndSet) -> Self {
        self.fences = Some(Arc::new(cas));
        self
    }

    /// How often this node publishes a heartbeat (default 1 s). A lost final message is
    /// found within one interval; this node's own subscription is taken as lost when
    /// [`Coherence::missed_heartbeats`] of its own heartbeats in a row were not heard.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// How many heartbeat intervals without hearing its own heartbeat make a node stop
    /// serving L1 (default 3).
    pub fn missed_heartbeats(mut self, n: u32) -> Self {
        self.missed_heartbeats = n;
        self
    }

    /// How long the tombstone of a deleted or invalidated key lives in L2 (default 10 s).
    /// A scan may list the key meanwhile (reads see it as missing).
    pub fn fence_ttl(mut self, ttl: Duration) -> Self {
        self.fence_ttl = ttl;
        self
    }

    /// The longest fill that is still fenced (default 30 s): a fill whose miss is older is
    /// written as a plain write.
    pub fn fill_window(mut self, window: Duration) -> Self {
        self.fill_window = window;
        self
    }

    /// Checks the settings and that a tokio runtime is there to run the tasks.
    pub(crate) fn validate(&self) -> Result<tokio::runtime::Handle> {
        let mut problems = Vec::new();
        for (name, d) in [
            ("heartbeat", self.heartbeat),
            ("fence_ttl", self.fence_ttl),
            ("fill_window", self.fill_window),
        ] {
            if d < Duration::from_millis(1) {
                problems.push(format!(
                    "coherence {name} {d:?} is under the minimum of 1ms"
                ));
            }
        }
        if self.missed_heartbeats == 0 {
            problems.push("coherence missed_heartbeats must be at least 1".to_owned());
        }
        let runtime = tokio::runtime::Handle::try_current();
        if runtime.is_err() {
            problems.push("coherence needs a tokio runtime to run its tasks".to_owned());
        }
        match runtime {
            Ok(handle) if problems.is_empty() => Ok(handle),
            _ => Err(Error::new(
                strata_core::ErrorKind::InvalidConfig,
                problems.join("; "),
            )),
        }
    }
}

/// The store's side of coherence: what the tasks do to L1.
pub(crate) trait Local: Send + Sync + 'static {
    /// Removes what `req` selects from L1; how many entries went.
    fn drop_local<'a>(&'a self, req: &'a Invalidation) -> BoxFuture<'a, u64>;
}

/// The bus's state, for health.
#[derive(Clone, Debug)]
enum BusState {
    Connecting,
    Connected,
    Disconnected(String),
}

#[derive(Debug)]
struct Status {
    bus: BusState,
    tracking: TrackingState,
    heartbeat_heard: bool,
}

/// The coherence state a store shares with its tasks.
pub(crate) struct Shared {
    publisher: Publisher,
    pub(crate) generations: Generations,
    pub(crate) tickets: Tickets,
    pub(crate) fences: Option<Arc<dyn DynCas>>,
    pub(crate) counters: Counters,
    lag: Lag,
    clock: SharedClock,
    serving: AtomicBool,
    serving_tx: watch::Sender<bool>,
    /// Set by [`Shared::stop`]: the tasks end at once instead of at their next check.
    stop_tx: watch::Sender<bool>,
    /// The receiving and heartbeat tasks, for [`Shared::stop`] to wait on.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    status: Mutex<Status>,
    heartbeat: Duration,
    missed_heartbeats: u32,
    pub(crate) fence_ttl: Duration,
    pub(crate) fill_window: Duration,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coherence")
            .field("node", &format_args!("{:032x}", self.publisher.node))
            .field("serving_l1", &self.serving())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// True while L1 may be read and filled.
    pub(crate) fn serving(&self) -> bool {
        self.serving.load(Ordering::Acquire)
    }

    /// Publishes an invalidation made on this node. A failure is counted, not returned: the
    /// write it follows is done, and the next heartbeat tells the others they missed it.
    pub(crate) async fn publish(&self, selector: &Selector) {
        match self.publisher.invalidation(selector).await {
            Ok(()) => add(&self.counters.messages_sent, 1),
            Err(e) => {
                add(&self.counters.publish_errors, 1);
                tracing::warn!(error = %e, %selector, "publishing an invalidation failed");
            }
        }
    }

    /// The coherence counters.
    pub(crate) fn stats(&self) -> CoherenceStats {
        self.counters.snapshot(self.serving(), self.lag.summary())
    }

    /// Clears the lag histogram.
    pub(crate) fn reset_lag(&self) {
        self.lag.reset();
    }

    /// Waits until L1 is served, at most `timeout`; true when it is.
    pub(crate) async fn wait_serving(&self, timeout: Duration) -> bool {
        let mut rx = self.serving_tx.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The state for health reports, and a message when something is missing.
    pub(crate) fn report(&self) -> (serde_json::Value, Option<String>) {
        let status = self.status.lock();
        let bus = match &status.bus {
            BusState::Connecting => "connecting".to_owned(),
            BusState::Connected => "connected".to_owned(),
            BusState::Disconnected(r) => format!("disconnected: {r}"),
        };
        let serving = self.serving();
        let mut notes = Vec::new();
        if !serving {
            notes.push(format!(
                "L1 bypassed until the bus and tracking are back (bus {bus}; tracking {})",
                status.tracking
            ));
        } else if !status.heartbeat_heard {
            notes.push("own heartbeat not heard".to_owned());
        }
        match &status.tracking {
            TrackingState::Off => notes.push(
                "backplane only: key tracking is not configured, writes by other clients do \
                 not evict L1"
                    .to_owned(),
            ),
            TrackingState::Unavailable(r) => notes.push(format!(
                "backplane only: key tracking unavailable ({r}), writes by other clients do \
                 not evict L1"
            )),
            _ => {}
        }
        let value = serde_json::json!({
            "node": format!("{:032x}", self.publisher.node),
            "bus": bus,
            "tracking": status.tracking.to_string(),
            "foreign_writes_evict_l1": status.tracking.covers_foreign_writes(),
            "fenced_fills": self.fences.is_some(),
            "serving_l1": serving,
            "fill_tickets": self.tickets.len(),
            "stats": serde_json::to_value(self.stats()).unwrap_or_default(),
        });
        (value, (!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// One line for explain.
    pub(crate) fn explain_note(&self) -> String {
        let status = self.status.lock();
        format!(
            "coherence: L1 {}; tracking {}; fenced fills {}",
            if self.serving() { "served" } else { "bypassed" },
            status.tracking,
            if self.fences.is_some() { "on" } else { "off" }
        )
    }
}

/// Starts coherence for a store: returns the shared state; the tasks start with
/// [`start_tasks`] once the store exists.
pub(crate) fn shared(config: &Coherence, clock: SharedClock) -> Arc<Shared> {
    let (serving_tx, _) = watch::channel(false);
    let (stop_tx, _) = watch::channel(false);
    Arc::new(Shared {
        publisher: Publisher::new(
            strata_core::coordination::random_id(),
            config.bus.clone(),
            clock.clone(),
        ),
        generations: Generations::default(),
        tickets: Tickets::default(),
        fences: config.fences.clone(),
        counters: Counters::default(),
        lag: Lag::default(),
        clock,
        serving: AtomicBool::new(false),
        serving_tx,
        stop_tx,
        tasks: Mutex::new(Vec::new()),
        status: Mutex::new(Status {
            bus: BusState::Connecting,
            tracking: if config.tracking.is_some() {
                TrackingState::Arming
            } else {
                TrackingState::Off
            },
            heartbeat_heard: false,
        }),
        heartbeat: config.heartbeat,
        missed_heartbeats: config.missed_heartbeats,
        fence_ttl: config.fence_ttl,
        fill_window: config.fill_window,
    })
}

/// Starts the receiving and heartbeat tasks on `runtime`. They end when the store is dropped.
pub(crate) fn start_tasks(
    runtime: &tokio::runtime::Handle,
    config: &Coherence,
    shared: &Arc<Shared>,
    local: Weak<dyn Local>,
) {
    let bus = config.bus.subscribe_dyn();
    let tracking = config.tracking.as_ref().map(|t| t.track_dyn());
    let stop = shared.stop_tx.subscribe();
    let handles = [
        runtime.spawn(receive(shared.clone(), local, bus, tracking, stop.clone())),
        runtime.spawn(beat(Arc::downgrade(shared), stop)),
    ];
    shared.tasks.lock().extend(handles);
}

impl Shared {
    /// Stops the receiving and heartbeat tasks and waits for them until `deadline`
    /// (aborting them then); L1 is no longer served. Returns how many tasks ended.
    pub(crate) async fn stop(&self, deadline: Duration) -> usize {
        let _ = self.stop_tx.send(true);
        self.serving.store(false, Ordering::Release);
        let handles = std::mem::take(&mut *self.tasks.lock());
        let until = tokio::time::Instant::now() + deadline;
        let mut ended = 0;
        for mut h in handles {
            if tokio::time::timeout_at(until, &mut h).await.is_err() {
                h.abort();
            }
            ended += 1;
        }
        // Again once the tasks are gone: the receiving one may have set it back while it
        // finished the event it was handling.
        self.serving.store(false, Ordering::Release);
        self.serving_tx.send_replace(false);
        ended
    }
}

/// Publishes a heartbeat every interval while the store lives.
async fn beat(shared: Weak<Shared>, mut stop: watch::Receiver<bool>) {
    let Some(every) = shared.upgrade().map(|s| s.heartbeat) else {
        return;
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(s) = shared.upgrade() else {
            return;
        };
        // Bounded: a heartbeat that cannot go out within an interval is skipped (the
        // missing echo is what tells this node its bus is gone).
        match tokio::time::timeout(
            every.max(Duration::from_millis(100)),
            s.publisher.heartbeat(),
        )
        .await
        {
            Ok(Ok(())) => add(&s.counters.heartbeats_sent, 1),
            Ok(Err(e)) => tracing::debug!(error = %e, "heartbeat not published"),
            Err(_) => tracing::debug!("heartbeat not published in time"),
        }
    }
}

async fn next_tracking(
    tracking: &mut Option<BoxStream<'static, TrackingEvent>>,
) -> Option<TrackingEvent> {
    match tracking {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// The receiving side's loop state.
struct Receiving {
    shared: Arc<Shared>,
    local: Weak<dyn Local>,
    receiver: Receiver,
    bus_up: bool,
    own_heard: tokio::time::Instant,
    heartbeat_lost: bool,
}

/// Receives bus and tracking events and applies them, until the store is dropped.
async fn receive(
    shared: Arc<Shared>,
    local: Weak<dyn Local>,
    mut bus: BoxStream<'static, BusEvent>,
    mut tracking: Option<BoxStream<'static, TrackingEvent>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut checks = tokio::time::interval(shared.heartbeat);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut r = Receiving {
        shared,
        local,
        receiver: Receiver::default(),
        bus_up: false,
        own_heard: tokio::time::Instant::now(),
        heartbeat_lost: false,
    };
    let mut bus_open = true;
    loop {
        if r.local.strong_count() == 0 {
            return;
        }
        tokio::select! {
            event = bus.next(), if bus_open => match event {
                Some(event) => r.on_bus(event).await,
                None => {
                    bus_open = false;
                    r.on_bus(BusEvent::Disconnected {
                        reason: "the subscription ended".to_owned(),
                    })
                    .await;
                }
            },
            event = next_tracking(&mut tracking) => {
                let event = event.unwrap_or(TrackingEvent::Unavailable {
                    reason: "the tracking stream ended".to_owned(),
                });
                if matches!(event, TrackingEvent::Unavailable { .. }) {
                    tracking = None;
                }
                r.on_tracking(event).await;
            }
            _ = checks.tick() => r.on_check(),
            _ = stop.changed() => return,
        }
        r.refresh().await;
    }
}

impl Receiving {
    /// Drops what `req` selects from L1 after moving its generations; counts the entries.
    async fn drop_local(&self, req: &Invalidation) -> u64 {
        self.shared.generations.bump(&req.selector);
        let Some(local) = self.local.upgrade() else {
            return 0;
        };
        let n = local.drop_local(req).await;
        add(&self.shared.counters.l1_entries_dropped, n);
        n
    }

    async fn drop_lost(&self, lost: &Lost) {
        add(&self.shared.counters.l1_drops, 1);
        let req = match lost {
            Lost::Namespace(ns) => Invalidation::namespace(*ns),
            Lost::All => Invalidation::all(),
        };
        self.drop_local(&req).await;
    }

    async fn on_bus(&mut self, event: BusEvent) {
        match event {
            BusEvent::Connected => {
                self.bus_up = true;
                self.own_heard = tokio::time::Instant::now();
                self.heartbeat_lost = false;
                // Numbers heard before the disconnection do not continue into what comes
                // now; L1 was dropped when the bus went down.
                self.receiver.reset();
                self.shared.status.lock().bus = BusState::Connected;
            }
            BusEvent::Disconnected { reason } => {
                self.bus_up = false;
                self.shared.status.lock().bus = BusState::Disconnected(reason);
            }
            BusEvent::Message(payload) => self.on_message(&payload).await,
            // A future event kind: nothing to do.
            _ => {}
        }
    }

    async fn on_message(&mut self, payload: &[u8]) {
        let message = match Message::decode(payload) {
            Ok(m) => m,
            Err(e) => {
                // Something on our channel we cannot read may have been an invalidation.
                add(&self.shared.counters.malformed_messages, 1);
                tracing::warn!(error = %e, "unreadable message on the bus; dropping L1");
                self.drop_lost(&Lost::All).await;
                return;
            }
        };
        if message.node == self.shared.publisher.node {
            add(&self.shared.counters.own_messages_ignored, 1);
            self.own_heard = tokio::time::Instant::now();
            self.heartbeat_lost = false;
            self.shared.status.lock().heartbeat_heard = true;
            return;
        }
        add(&self.shared.counters.messages_received, 1);
        let sent_at = message.sent_at;
        let is_invalidation = matches!(message.body, Body::Invalidation { .. });
        let verdict = self.receiver.receive(message, tokio::time::Instant::now());
        for lost in &verdict.lost {
            tracing::info!(?lost, "a backplane message was lost; dropping L1");
            self.drop_lost(lost).await;
            // Counted once dropped, so a reader of the counter sees the drop done.
            add(&self.shared.counters.gaps_detected, 1);
        }
        if let Some(selector) = verdict.apply {
            self.drop_local(&Invalidation::new(selector)).await;
        }
        if is_invalidation {
            self.shared
                .lag
                .record(backplane::lag(&self.shared.clock, sent_at));
        }
    }

    async fn on_tracking(&mut self, event: TrackingEvent) {
        let state = match event {
            TrackingEvent::Armed => TrackingState::Armed,
            TrackingEvent::Invalidated(keys) => {
                add(
                    &self.shared.counters.tracking_invalidations,
                    keys.len() as u64,
                );
                for key in keys {
                    self.drop_local(&Invalidation::key(key)).await;
                }
                return;
            }
            TrackingEvent::Flushed => {
                add(&self.shared.counters.flushes, 1);
                self.drop_lost(&Lost::All).await;
                return;
            }
            TrackingEvent::Disconnected { reason } => TrackingState::Lost(reason),
            TrackingEvent::Unavailable { reason } => {
                tracing::warn!(%reason, "key tracking unavailable; the backplane alone serves");
                TrackingState::Unavailable(reason)
            }
            // A future event kind: be safe, drop L1.
            _ => {
                self.drop_lost(&Lost::All).await;
                return;
            }
        };
        self.shared.status.lock().tracking = state;
    }

    fn on_check(&mut self) {
        let now = tokio::time::Instant::now();
        let deadline = self.shared.heartbeat * self.shared.missed_heartbeats;
        if self.bus_up && !self.heartbeat_lost && now.duration_since(self.own_heard) > deadline {
            self.heartbeat_lost = true;
            add(&self.shared.counters.heartbeats_missed, 1);
            self.shared.status.lock().heartbeat_heard = false;
            tracing::warn!("this node's own heartbeats are not coming back; bypassing L1");
        }
        // Nodes silent for ten intervals are gone (or restarted under a new id).
        if let Some(before) = now.checked_sub(self.shared.heartbeat * 10) {
            self.receiver.forget_silent(before);
        }
    }

    /// Serves or bypasses L1 as the state now says; L1 is dropped on every change.
    async fn refresh(&mut self) {
        let allowed =
            self.bus_up && !self.heartbeat_lost && self.shared.status.lock().tracking.allows_l1();
        if allowed == self.shared.serving() {
            return;
        }
        if !allowed {
            self.shared.serving.store(false, Ordering::Release);
            self.shared.serving_tx.send_replace(false);
            add(&self.shared.counters.bypass_periods, 1);
        }
        add(&self.shared.counters.l1_drops, 1);
        self.drop_local(&Invalidation::all()).await;
        if allowed {
            self.shared.serving.store(true, Ordering::Release);
            self.shared.serving_tx.send_replace(true);
        }
    }
}
