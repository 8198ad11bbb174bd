//! A fault-injecting layer: fail every Nth call, add latency, or take the store down, all
//! switchable at runtime through a shared [`FaultHandle`].
//!
//! With no fault configured, [`FaultStore`] is a transparent pass-through (even
//! [`Store::get_now`] forwards), which makes it the reference "do-nothing" layer for benchmarks
//! and for running the conformance suite through a layer.
//!
//! ```
//! use std::time::Duration;
//! use strata_core::ErrorKind;
//! use strata_testkit::fault::FaultLayer;
//!
//! let layer = FaultLayer::new()
//!     .fail_every(3, ErrorKind::Unavailable)
//!     .latency(Duration::from_millis(5));
//! let handle = layer.handle();
//! // ... wrap a store with `layer` (`StoreExt::layer`), exercise it, then:
//! handle.set_down(true); // every call now fails with ErrorKind::Unavailable
//! handle.set_down(false);
//! handle.set_fail_every(None);
//! assert_eq!(handle.injected_failures(), 0);
//! ```
//!
//! Counted calls are the data operations: `get_now` (when forwarded), `get`, `get_many`, `set`,
//! `set_many`, `delete`, `expire`, `ttl`, `increment`, `scan`, `invalidate` and `explain`. `info`,
//! `health` and `stats` are not counted and never fail; `health` reports unhealthy while the
//! store is down.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use strata_core::{
    Capabilities, Entry, Error, ErrorKind, Explain, Health, Invalidation, Key, Layer, Namespace,
    Now, Pattern, Result, SetOptions, SetOutcome, Store, StoreInfo, StoreStats, Ttl, TtlState,
};

/// The backend name injected errors carry.
const BACKEND: &str = "fault";

#[derive(Debug)]
struct FaultState {
    down: AtomicBool,
    /// Fail every Nth call; 0 means never.
    fail_every: AtomicU64,
    fail_kind: Mutex<ErrorKind>,
    /// Calls since `fail_every` was last set, so the Nth call is counted from then.
    since_armed: AtomicU64,
    latency_nanos: AtomicU64,
    calls: AtomicU64,
    injected: AtomicU64,
}

impl Default for FaultState {
    fn default() -> Self {
        FaultState {
            down: AtomicBool::new(false),
            fail_every: AtomicU64::new(0),
            fail_kind: Mutex::new(ErrorKind::Unavailable),
            since_armed: AtomicU64::new(0),
            latency_nanos: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        }
    }
}

/// Switches and counters shared by a [`FaultLayer`] and every [`FaultStore`] it made.
/// Cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct FaultHandle {
    state: Arc<FaultState>,
}

impl FaultHandle {
    /// A handle with no fault configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the store down (every counted call fails with [`ErrorKind::Unavailable`]) or
    /// brings it back.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// True while the store is down.
    pub fn is_down(&self) -> bool {
        self.state.down.load(Ordering::SeqCst)
    }

    /// Fails every `n`th counted call from now on (`Some(1)` fails all of them); `None` or
    /// `Some(0)` stops failing. Counting restarts at each call of this method.
    pub fn set_fail_every(&self, n: Option<u64>) {
        self.state.since_armed.store(0, Ordering::SeqCst);
        self.state
            .fail_every
            .store(n.unwrap_or(0), Ordering::SeqCst);
    }

    /// The current "fail every Nth call" setting.
    pub fn fail_every(&self) -> Option<u64> {
        match self.state.fail_every.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        }
    }

    /// The kind of the errors [`FaultHandle::set_fail_every`] injects (default
    /// [`ErrorKind::Unavailable`]).
    pub fn set_fail_kind(&self, kind: ErrorKind) {
        *self.fail_kind_lock() = kind;
    }

    /// The kind of injected every-Nth errors.
    pub fn fail_kind(&self) -> ErrorKind {
        *self.fail_kind_lock()
    }

    fn fail_kind_lock(&self) -> std::sync::MutexGuard<'_, ErrorKind> {
        // The guarded value is a plain Copy enum, so a poisoned lock still holds a valid one.
        self.state
            .fail_kind
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Delays every async call (and the first item of every scan) by `latency`; zero for none.
    pub fn set_latency(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.state.latency_nanos.store(nanos, Ordering::SeqCst);
    }

    /// The added latency.
    pub fn latency(&self) -> Duration {
        Duration::from_nanos(self.state.latency_nanos.load(Ordering::SeqCst))
    }

    /// True when no fault is configured, so the store is a pure pass-through.
    pub fn is_transparent(&self) -> bool {
        !self.is_down() && self.fail_every().is_none() && self.latency().is_zero()
    }

    /// Counted calls so far (see the module docs for which calls count).
    pub fn calls(&self) -> u64 {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// Failures injected so far (outage and every-Nth).
    pub fn injected_failures(&self) -> u64 {
        self.state.injected.load(Ordering::SeqCst)
    }

    /// Sets the call and failure counters back to zero.
    pub fn reset_counters(&self) {
        self.state.calls.store(0, Ordering::SeqCst);
        self.state.injected.store(0, Ordering::SeqCst);
    }

    /// Counts a call and decides whether it fails.
    fn check(&self, operation: &'static str) -> Result<()> {
        let call = self.state.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.is_down() {
            self.state.injected.fetch_add(1, Ordering::SeqCst);
            return Err(
                Error::new(ErrorKind::Unavailable, "fault injection: the store is down")
                    .with_operation(operation)
                    .with_backend(BACKEND),
            );
        }
        let every = self.state.fail_every.load(Ordering::SeqCst);
        if every > 0 {
            let n = self.state.since_armed.fetch_add(1, Ordering::SeqCst) + 1;
            if n.is_multiple_of(every) {
                self.state.injected.fetch_add(1, Ordering::SeqCst);
                return Err(Error::new(
                    self.fail_kind(),
                    format!("fault injection: call {call} failed (every {every}th call fails)"),
                )
                .with_operation(operation)
                .with_backend(BACKEND));
            }
        }
        Ok(())
    }

    /// Waits the configured latency, then counts the call and decides whether it fails.
    async fn enter(&self, operation: &'static str, key: Option<&Key>) -> Result<()> {
        let latency = self.latency();
        if !latency.is_zero() {
            // The injected latency: the point of this layer.
            tokio::time::sleep(latency).await;
        }
        self.check(operation).map_err(|e| match key {
            Some(key) => e.with_key(key),
            None => e,
        })
    }
}

/// A [`Layer`] wrapping stores in [`FaultStore`]s that share one [`FaultHandle`].
///
/// `FaultLayer::new()` configures nothing: the stores it makes are transparent until the
/// handle says otherwise.
#[derive(Clone, Debug, Default)]
pub struct FaultLayer {
    handle: FaultHandle,
}

impl FaultLayer {
    /// A layer with no fault configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer driven by an existing handle.
    pub fn with_handle(handle: FaultHandle) -> Self {
        FaultLayer { handle }
    }

    /// Fails every `n`th call with `kind` (`n = 0` fails none).
    pub fn fail_every(self, n: u64, kind: ErrorKind) -> Self {
        self.handle.set_fail_kind(kind);
        self.handle.set_fail_every(Some(n));
        self
    }

    /// Adds `latency` to every async call.
    pub fn latency(self, latency: Duration) -> Self {
        self.handle.set_latency(latency);
        self
    }

    /// Starts with the store down.
    pub fn down(self) -> Self {
        self.handle.set_down(true);
        self
    }

    /// The handle that switches faults and reads counters at runtime.
    pub fn handle(&self) -> FaultHandle {
        self.handle.clone()
    }
}

impl<S: Store> Layer<S> for FaultLayer {
    type Store = FaultStore<S>;

    fn layer(&self, inner: S) -> FaultStore<S> {
        FaultStore {
            inner,
            handle: self.handle.clone(),
        }
    }
}

/// A store that forwards every call to `S` unless its [`FaultHandle`] injects a fault.
#[derive(Clone, Debug)]
pub struct FaultStore<S> {
    inner: S,
    handle: FaultHandle,
}

impl<S: Store> FaultStore<S> {
    /// Wraps `inner` with its own fresh handle (no fault configured).
    pub fn new(inner: S) -> Self {
        FaultStore {
            inner,
            handle: FaultHandle::new(),
        }
    }

    /// The switches and counters.
    pub fn handle(&self) -> &FaultHandle {
        &self.handle
    }

    /// The wrapped store (calls to it bypass the faults and counters).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the store.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn name(&self) -> String {
        format!("fault({})", self.inner.info().name)
    }
}

/// `stream` after `latency`, or `stream` itself when there is none.
fn delayed<T: Send + 'static>(
    latency: Duration,
    stream: BoxStream<'static, T>,
) -> BoxStream<'static, T> {
    if latency.is_zero() {
        return stream;
    }
    stream::once(async move {
        // The injected latency, before the first item.
        tokio::time::sleep(latency).await;
        stream
    })
    .flatten()
    .boxed()
}

impl<S: Store> Store for FaultStore<S> {
    fn info(&self) -> StoreInfo {
        let mut capabilities = self.inner.info().capabilities;
        if !self.handle.is_transparent() {
            // With a fault configured, get_now answers Pending: no longer an in-process read.
            capabilities.remove(Capabilities::LOCAL);
        }
        StoreInfo::new(self.name(), capabilities)
    }

    fn get_now(&self, key: &Key) -> Now<Option<Entry>> {
        if !self.handle.is_transparent() {
            // Send the caller down the async path, where latency and failures apply. A Pending
            // answer is no read, so it is not counted.
            return Now::Pending;
        }
        match self.handle.check("get_now") {
            Ok(()) => self.inner.get_now(key),
            // A fault switched on between the two checks: the async path will report it.
            Err(_) => Now::Pending,
        }
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.handle.enter("get", Some(key)).await?;
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.handle.enter("get_many", None).await?;
        self.inner.get_many(keys).await
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        self.handle.enter("set", Some(key)).await?;
        self.inner.set(key, value, opts).await
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        self.handle.enter("set_many", None).await?;
        self.inner.set_many(items, opts).await
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        self.handle.enter("delete", Some(key)).await?;
        self.inner.delete(key).await
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        self.handle.enter("expire", Some(key)).await?;
        self.inner.expire(key, ttl).await
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        self.handle.enter("ttl", Some(key)).await?;
        self.inner.ttl(key).await
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        self.handle.enter("increment", Some(key)).await?;
        self.inner.increment(key, delta).await
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        let latency = self.handle.latency();
        match self.handle.check("scan") {
            Ok(()) => delayed(latency, self.inner.scan(namespace, pattern)),
            Err(e) => delayed(latency, stream::once(async move { Err(e) }).boxed()),
        }
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        self.handle.enter("invalidate", None).await?;
        self.inner.invalidate(req).await
    }

    async fn health(&self) -> Health {
        let latency = self.handle.latency();
        if !latency.is_zero() {
            // The injected latency applies to health checks too.
            tokio::time::sleep(latency).await;
        }
        if self.handle.is_down() {
            Health::unhealthy(self.name(), "fault injection: the store is down")
        } else {
            self.inner.health().await
        }
    }

    fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        self.handle.enter("explain", Some(key)).await?;
        self.inner.explain(key).await
    }
}

impl<S: strata_core::GetWithTtl> strata_core::GetWithTtl for FaultStore<S> {
    async fn get_with_ttl(&self, keys: &[Key]) -> Result<Vec<Option<(Entry, TtlState)>>> {
        self.handle.enter("get_with_ttl", None).await?;
        self.inner.get_with_ttl(keys).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use strata_core::{HealthStatus, ManualClock, StoreExt};

    use super::*;
    use crate::conformance::reference::MapStore;

    fn key(id: &str) -> Key {
        Key::new(&Namespace::new("fault").unwrap(), id).unwrap()
    }

    fn v(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    fn map() -> MapStore {
        MapStore::new(Arc::new(ManualClock::new()))
    }

    #[tokio::test]
    async fn without_faults_it_is_a_pass_through() {
        let layer = FaultLayer::new();
        let handle = layer.handle();
        let store = map().layer(layer);
        assert!(handle.is_transparent());
        let info = store.info();
        assert_eq!(info.name, "fault(map)");
        assert_eq!(info.capabilities, store.inner().info().capabilities);
        assert!(info.capabilities.contains(Capabilities::LOCAL));

        store
            .set(&key("a"), v("1"), SetOptions::new())
            .await
            .unwrap();
        let got = store.get(&key("a")).await.unwrap().unwrap();
        assert_eq!(got.value(), &v("1"));
        match store.get_now(&key("a")) {
            Now::Ready(Some(e)) => assert_eq!(e.value(), &v("1")),
            other => panic!("get_now forwards when transparent, got {other:?}"),
        }
        assert_eq!(store.increment(&key("n"), 2).await.unwrap(), 2);
        assert_eq!(
            store
                .keys(&Namespace::new("fault").unwrap(), &Pattern::all())
                .await
                .unwrap()
                .len(),
            2
        );
        assert!(store.delete(&key("a")).await.unwrap());
        assert_eq!(store.health().await.status, HealthStatus::Healthy);
        // set, get, get_now, increment, scan, delete.
        assert_eq!(handle.calls(), 6);
        assert_eq!(handle.injected_failures(), 0);
    }

    #[tokio::test]
    async fn fails_every_nth_call_with_the_chosen_kind() {
        let layer = FaultLayer::new().fail_every(3, ErrorKind::Timeout);
        let handle = layer.handle();
        let store = map().layer(layer);
        let mut outcomes = Vec::new();
        for i in 0..7 {
            let r = store
                .set(&key(&format!("k{i}")), v("x"), SetOptions::new())
                .await;
            outcomes.push(r.map_err(|e| e.kind()));
        }
        let failed: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_err())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            failed,
            vec![2, 5],
            "the 3rd and 6th calls fail: {outcomes:?}"
        );
        assert_eq!(outcomes[2], Err(ErrorKind::Timeout));
        assert_eq!(handle.calls(), 7);
        assert_eq!(handle.injected_failures(), 2);
        // A failed write never reached the inner store.
        assert!(store.inner().get(&key("k2")).await.unwrap().is_none());
        assert!(store.inner().get(&key("k3")).await.unwrap().is_some());
        // get_now goes through the async path while faults are configured.
        assert!(matches!(store.get_now(&key("k0")), Now::Pending));
        assert!(!store.info().capabilities.contains(Capabilities::LOCAL));

        // Switched off at runtime: everything passes again.
        handle.set_fail_every(None);
        for _ in 0..6 {
            store.get(&key("k0")).await.unwrap();
        }
        assert_eq!(handle.injected_failures(), 2);
        assert!(handle.is_transparent());
        assert!(matches!(store.get_now(&key("k0")), Now::Ready(Some(_))));
    }

    #[tokio::test]
    async fn injected_errors_name_the_operation_and_key() {
        let store = map().layer(FaultLayer::new().fail_every(1, ErrorKind::Backend));
        let err = store.get(&key("a")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert_eq!(err.context().operation, Some("get"));
        assert_eq!(err.context().key.as_deref(), Some("fault:a"));
        assert_eq!(err.context().backend.as_deref(), Some("fault"));
        assert!(err.message().contains("every 1th"), "{err}");
    }

    #[tokio::test]
    async fn down_fails_everything_until_brought_back() {
        let layer = FaultLayer::new();
        let handle = layer.handle();
        let store = map().layer(layer);
        store
            .set(&key("a"), v("1"), SetOptions::new())
            .await
            .unwrap();

        handle.set_down(true);
        let ns = Namespace::new("fault").unwrap();
        let kinds = vec![
            store.get(&key("a")).await.map(|_| ()).unwrap_err().kind(),
            store
                .get_many(&[key("a")])
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
            store
                .set(&key("a"), v("2"), SetOptions::new())
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
            store
                .set_many(vec![(key("b"), v("2"))], SetOptions::new())
                .await
                .unwrap_err()
                .kind(),
            store
                .delete(&key("a"))
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
            store
                .expire(&key("a"), Ttl::secs(1))
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
            store.ttl(&key("a")).await.map(|_| ()).unwrap_err().kind(),
            store
                .increment(&key("n"), 1)
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
            store
                .keys(&ns, &Pattern::all())
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
            store
                .invalidate(&Invalidation::all())
                .await
                .map(|_| ())
                .unwrap_err()
                .kind(),
        ];
        assert_eq!(kinds, vec![ErrorKind::Unavailable; 10]);
        assert!(matches!(store.get_now(&key("a")), Now::Pending));
        let health = store.health().await;
        assert_eq!(health.status, HealthStatus::Unhealthy);
        assert_eq!(health.backend, "fault(map)");
        assert_eq!(handle.injected_failures(), 10);

        handle.set_down(false);
        let got = store.get(&key("a")).await.unwrap().unwrap();
        assert_eq!(
            got.value(),
            &v("1"),
            "nothing written while down reached the store"
        );
        assert!(store.get(&key("b")).await.unwrap().is_none());
        assert_eq!(store.health().await.status, HealthStatus::Healthy);

        handle.reset_counters();
        assert_eq!((handle.calls(), handle.injected_failures()), (0, 0));
    }

    #[tokio::test]
    async fn latency_delays_async_calls_and_scans() {
        let latency = Duration::from_millis(40);
        let layer = FaultLayer::new().latency(latency);
        let handle = layer.handle();
        let store = map().layer(layer);
        assert!(matches!(store.get_now(&key("a")), Now::Pending));

        let start = Instant::now();
        store
            .set(&key("a"), v("1"), SetOptions::new())
            .await
            .unwrap();
        assert!(start.elapsed() >= latency, "set took {:?}", start.elapsed());

        let start = Instant::now();
        let keys = store
            .keys(&Namespace::new("fault").unwrap(), &Pattern::all())
            .await
            .unwrap();
        assert_eq!(keys, vec![key("a")]);
        assert!(
            start.elapsed() >= latency,
            "scan took {:?}",
            start.elapsed()
        );

        let start = Instant::now();
        store.health().await;
        assert!(
            start.elapsed() >= latency,
            "health took {:?}",
            start.elapsed()
        );

        handle.set_latency(Duration::ZERO);
        assert!(handle.is_transparent());
        assert!(matches!(store.get_now(&key("a")), Now::Ready(Some(_))));
    }

    #[tokio::test]
    async fn one_layer_shares_its_handle_between_stores() {
        let layer = FaultLayer::new();
        let handle = layer.handle();
        let first = map().layer(layer.clone());
        let second = map().layer(layer);
        first.get(&key("a")).await.unwrap();
        second.get(&key("a")).await.unwrap();
        assert_eq!(handle.calls(), 2);
        handle.set_down(true);
        assert!(first.get(&key("a")).await.is_err());
        assert!(second.get(&key("a")).await.is_err());
        // FaultStore::new has a handle of its own.
        let own = FaultStore::new(map());
        assert!(own.get(&key("a")).await.is_ok());
        assert_eq!(own.handle().calls(), 1);
    }
}
