//! `get_or_load` and `get_or_load_many` over any store.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::single_flight::{Claim, SingleFlight};
use crate::clock::{SharedClock, SystemClock};
use crate::codec::ValueCodec;
use crate::coordination::DynLock;
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::key::{Key, Tag};
use crate::options::{SetOptions, Ttl};
use crate::store::{Now, Store};

/// Options for a load: how the loaded value is written, and whether nodes coordinate.
#[non_exhaustive]
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Write options for the loaded value (TTL, tags, time to idle).
    pub set: SetOptions,
    /// A lock shared by every node, so that nodes missing the same key call the loader once
    /// (the others wait and read the value from the shared store).
    pub stampede: Option<StampedeLock>,
    /// The longest a loader may run (hard timeout): past it the load fails with
    /// [`ErrorKind::Timeout`] (answered by a stale value under fail-safe) and the loader's
    /// future is dropped.
    pub loader_timeout: Option<Duration>,
}

/// The distributed lock of a load and how long to hold it and wait for it.
#[derive(Clone)]
pub struct StampedeLock {
    lock: Arc<dyn DynLock>,
    /// How long the lock is held at most (a crashed loader frees it after this).
    pub hold: Duration,
    /// How often a node that lost the race looks for the winner's value.
    pub poll: Duration,
    /// How long it waits before loading anyway (the winner may be slow or gone).
    pub max_wait: Duration,
}

impl StampedeLock {
    /// A stampede lock on `lock`: held at most 10 s, polled every 20 ms, waited for at most
    /// 10 s.
    pub fn new(lock: Arc<dyn DynLock>) -> Self {
        StampedeLock {
            lock,
            hold: Duration::from_secs(10),
            poll: Duration::from_millis(20),
            max_wait: Duration::from_secs(10),
        }
    }

    /// Sets how long the lock is held at most and waited for at most.
    pub fn hold(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self.max_wait = hold;
        self
    }
}

impl fmt::Debug for StampedeLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StampedeLock")
            .field("hold", &self.hold)
            .field("poll", &self.poll)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl LoadOptions {
    /// Default options: the store's default TTL, no tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// The TTL of loaded values (a loader may override it per value with [`Loaded::with_ttl`]).
    pub fn ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.set.ttl = Some(ttl.into());
        self
    }

    /// Tags for loaded values.
    pub fn tags(mut self, tags: impl IntoIterator<Item = Tag>) -> Self {
        self.set.tags.extend(tags);
        self
    }

    /// Uses `set` as the write options.
    pub fn set_options(mut self, set: SetOptions) -> Self {
        self.set = set;
        self
    }

    /// Bounds each loader call by `timeout` (a hard timeout).
    pub fn loader_timeout(mut self, timeout: Duration) -> Self {
        self.loader_timeout = Some(timeout);
        self
    }

    /// Coordinates loads across nodes with `lock`.
    pub fn stampede_lock(mut self, lock: StampedeLock) -> Self {
        self.stampede = Some(lock);
        self
    }
}

/// A loaded value and, optionally, the TTL the loader chose for it.
///
/// A loader can return a plain `T`; it converts into `Loaded<T>` with no TTL override.
#[derive(Clone, Debug)]
pub struct Loaded<T> {
    /// The value.
    pub value: T,
    /// A TTL chosen from the value, overriding [`LoadOptions`].
    pub ttl: Option<Ttl>,
}

impl<T> Loaded<T> {
    /// A loaded value without a TTL override.
    pub fn new(value: T) -> Self {
        Loaded { value, ttl: None }
    }

    /// Sets the TTL for this value.
    pub fn with_ttl(mut self, ttl: impl Into<Ttl>) -> Self {
        self.ttl = Some(ttl.into());
        self
    }
}

impl<T> From<T> for Loaded<T> {
    fn from(value: T) -> Self {
        Loaded::new(value)
    }
}

/// Runs loads with single-flight over any [`Store`].
///
/// ```
/// use std::sync::Arc;
/// use strata_core::load::{LoadEngine, LoadOptions, Loaded};
/// use strata_core::{Key, Namespace, Result, Store, ValueCodec};
///
/// async fn user_name(engine: &LoadEngine, store: &impl Store, id: &str) -> Result<Arc<String>> {
///     let key = Key::new(&Namespace::new("users")?, id)?;
///     engine
///         .get_or_load(store, &key, &ValueCodec::default(), &LoadOptions::new(), || async {
///             // Fetch from the database; choose the TTL from what came back.
///             let name = "Ada".to_string();
///             Ok::<_, std::io::Error>(Loaded::new(name).with_ttl(std::time::Duration::from_secs(60)))
///         })
///         .await
/// }
/// ```
#[derive(Debug)]
pub struct LoadEngine {
    flights: SingleFlight,
    clock: SharedClock,
    fail_safe_activations: AtomicU64,
    /// Keys being refreshed in the background (each at most once at a time).
    refreshing: parking_lot::Mutex<std::collections::HashSet<Key>>,
    refreshes: AtomicU64,
}

impl Default for LoadEngine {
    fn default() -> Self {
        LoadEngine {
            flights: SingleFlight::default(),
            clock: SystemClock::shared(),
            fail_safe_activations: AtomicU64::new(0),
            refreshing: parking_lot::Mutex::new(std::collections::HashSet::new()),
            refreshes: AtomicU64::new(0),
        }
    }
}

/// What a lookup found.
enum Found<T> {
    /// A value within its TTL.
    Fresh(Arc<T>),
    /// A value past its TTL but inside its fail-safe window: served only if loading fails.
    Stale(Arc<T>),
    /// Nothing usable.
    Miss,
}

/// Runs a loader within the options' hard timeout, if any.
async fn run_bounded<F, Fut, L, E>(loader: F, opts: &LoadOptions) -> Result<L>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = std::result::Result<L, E>>,
    E: Into<BoxError>,
{
    match opts.loader_timeout {
        Some(limit) => tokio::time::timeout(limit, run_loader(loader))
            .await
            .unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the loader did not finish within {limit:?}"),
                ))
            }),
        None => run_loader(loader).await,
    }
}

/// Runs a loader, turning its error and any panic into an [`Error`].
async fn run_loader<F, Fut, L, E>(loader: F) -> Result<L>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = std::result::Result<L, E>>,
    E: Into<BoxError>,
{
    let fut = std::panic::catch_unwind(AssertUnwindSafe(loader)).map_err(panic_error)?;
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::from_loader(e.into())),
        Err(payload) => Err(panic_error(payload)),
    }
}

fn panic_error(payload: Box<dyn std::any::Any + Send>) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    Error::new(ErrorKind::Loader, format!("loader panicked: {msg}"))
}

/// Whether a failed write of a loaded value fails the load. Transient backend trouble does
/// not (the value was loaded; the caller gets it); a problem with the caller's input does.
fn write_error_fails_load(e: &Error) -> bool {
    !matches!(
        e.kind(),
        ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Backend
    )
}

/// What waiting for the shared lock gave.
enum Locked<T> {
    /// Another node loaded the value meanwhile.
    Found(Arc<T>),
    /// This node holds the lock and loads.
    Held(crate::coordination::LockToken),
    /// Load without the lock (it could not be reached, or waiting took too long).
    LoadAnyway,
}

impl LoadEngine {
    /// An engine with no flights, telling stale from fresh by the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// An engine telling stale from fresh by `clock` (the stores' clock).
    pub fn with_clock(clock: SharedClock) -> Self {
        LoadEngine {
            clock,
            ..Self::default()
        }
    }

    /// Background loads started by [`LoadEngine::load_in_background`].
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Loads `key` in a background task (eager refresh, or a load a soft timeout stopped
    /// waiting for) and stores the result, unless one is already under way for `key`. Hands
    /// back the load's outcome for whoever wants to wait on it; callers may drop it and go
    /// on reading the current value. A failed load leaves the value as it was. `None` when a
    /// background load of `key` is already running, or there is no tokio runtime.
    #[allow(clippy::type_complexity)]
    pub fn load_in_background<S, T, F, Fut, L, E>(
        self: &Arc<Self>,
        store: S,
        key: Key,
        codec: ValueCodec,
        opts: LoadOptions,
        loader: F,
    ) -> Option<tokio::sync::oneshot::Receiver<Result<Arc<T>>>>
    where
        S: Store + 'static,
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<L, E>> + Send + 'static,
        L: Into<Loaded<T>> + Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        if !self.refreshing.lock().insert(key.clone()) {
            return None;
        }
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let engine = self.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let outcome = match engine.flights.claim::<Option<Arc<T>>>(&key) {
                Claim::Leader(leader) => {
                    let outcome = match run_bounded(loader, &opts).await {
                        Ok(loaded) => {
                            engine
                                .store_loaded(&store, &key, &codec, &opts, loaded.into())
                                .await
                        }
                        Err(e) => Err(e.with_key(&key).with_operation("refresh")),
                    };
                    leader.complete(outcome.clone().map(Some));
                    outcome
                }
                Claim::Follower(f) => match f.wait().await {
                    Some(Ok(Some(v))) => Ok(v),
                    Some(Err(e)) => Err(e),
                    _ => Err(Error::new(ErrorKind::Loader, "the other load gave up")),
                },
            };
            engine.refreshing.lock().remove(&key);
            let _ = tx.send(outcome);
        });
        Some(rx)
    }

    /// Counts a stale answer given on the engine's behalf (a soft timeout).
    pub fn count_fail_safe(&self) {
        self.fail_safe_activations.fetch_add(1, Ordering::Relaxed);
    }

    /// Loads that failed and were answered with a stale value instead (fail-safe).
    pub fn fail_safe_activations(&self) -> u64 {
        self.fail_safe_activations.load(Ordering::Relaxed)
    }

    /// How many loads are in progress.
    pub fn in_flight(&self) -> usize {
        self.flights.in_flight()
    }

    /// Reads `key` as a `T`, telling a fresh value from a stale (fail-safe) one.
    async fn find<S, T>(&self, store: &S, key: &Key, codec: &ValueCodec) -> Result<Found<T>>
    where
        S: Store,
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let entry = match store.get_now(key) {
            Now::Ready(e) => e,
            Now::Pending => store.get(key).await?,
        };
        let Some(entry) = entry else {
            return Ok(Found::Miss);
        };
        let Ok(Some(value)) = codec.decode_entry::<T>(&entry) else {
            return Ok(Found::Miss);
        };
        Ok(if entry.meta().is_stale_at(self.clock.now()) {
            Found::Stale(value)
        } else {
            Found::Fresh(value)
        })
    }

    /// Returns the value under `key`, calling `loader` on a miss and storing its result.
    ///
    /// Concurrent callers for one key share one loader call. A loader error (or panic) is
    /// returned to every waiter and nothing is stored. If the leading caller is cancelled,
    /// a waiting caller takes over with its own loader.
    pub async fn get_or_load<S, T, F, Fut, L, E>(
        &self,
        store: &S,
        key: &Key,
        codec: &ValueCodec,
        opts: &LoadOptions,
        loader: F,
    ) -> Result<Arc<T>>
    where
        S: Store,
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<L, E>>,
        L: Into<Loaded<T>>,
        E: Into<BoxError>,
    {
        // A stale value (past its TTL, inside its fail-safe window) is the fallback when the
        // load fails.
        let mut stale = match self.find::<S, T>(store, key, codec).await? {
            Found::Fresh(v) => return Ok(v),
            Found::Stale(v) => Some(v),
            Found::Miss => None,
        };
        let mut loader = Some(loader);
        loop {
            match self.flights.claim::<Option<Arc<T>>>(key) {
                Claim::Follower(f) => match f.wait().await {
                    Some(Ok(Some(v))) => return Ok(v),
                    Some(Err(e)) => return Err(e),
                    // The leader found nothing (a batch load) or gave up: claim again.
                    Some(Ok(None)) | None => continue,
                },
                Claim::Leader(leader) => {
                    // A load may have finished between the first lookup and the claim.
                    match self.find::<S, T>(store, key, codec).await {
                        Ok(Found::Fresh(v)) => {
                            leader.complete(Ok(Some(v.clone())));
                            return Ok(v);
                        }
                        Ok(Found::Stale(v)) => stale = Some(v),
                        _ => {}
                    }
                    let Some(loader) = loader.take() else {
                        let e = Error::new(ErrorKind::Loader, "loader already used");
                        leader.complete(Err(e.clone()));
                        return Err(e);
                    };
                    // Across nodes: take the shared lock, or wait for the node that has it.
                    let mut token = None;
                    if let Some(stampede) = &opts.stampede {
                        match self.await_lock::<S, T>(store, key, codec, stampede).await {
                            Locked::Found(v) => {
                                leader.complete(Ok(Some(v.clone())));
                                return Ok(v);
                            }
                            Locked::Held(t) => token = Some(t),
                            Locked::LoadAnyway => {}
                        }
                    }
                    let outcome = match run_bounded(loader, opts).await {
                        Ok(loaded) => {
                            self.store_loaded(store, key, codec, opts, loaded.into())
                                .await
                        }
                        Err(e) => Err(e.with_key(key).with_operation("get_or_load")),
                    };
                    if let (Some(stampede), Some(token)) = (&opts.stampede, token) {
                        // Expiry frees it anyway; a failed release only delays the others.
                        let _ = stampede.lock.unlock_dyn(key, &token).await;
                    }
                    // Fail-safe: the load failed, the last value is still there.
                    let outcome = match (outcome, stale) {
                        (Err(_), Some(v)) => {
                            self.fail_safe_activations.fetch_add(1, Ordering::Relaxed);
                            Ok(v)
                        }
                        (outcome, _) => outcome,
                    };
                    leader.complete(outcome.clone().map(Some));
                    return outcome;
                }
            }
        }
    }

    /// Takes the shared lock of `key`, or waits (polling the store) for the node holding it
    /// to write the value. After `max_wait`, or when the lock cannot be reached, the caller
    /// loads anyway: the lock saves work, it must never block a load for good.
    async fn await_lock<S, T>(
        &self,
        store: &S,
        key: &Key,
        codec: &ValueCodec,
        stampede: &StampedeLock,
    ) -> Locked<T>
    where
        S: Store,
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let deadline = tokio::time::Instant::now() + stampede.max_wait;
        loop {
            match stampede.lock.try_lock_dyn(key, stampede.hold).await {
                Ok(Some(token)) => {
                    // The holder before us may have written the value just now.
                    if let Ok(Found::Fresh(v)) = self.find::<S, T>(store, key, codec).await {
                        let _ = stampede.lock.unlock_dyn(key, &token).await;
                        return Locked::Found(v);
                    }
                    return Locked::Held(token);
                }
                Ok(None) => {}
                Err(_) => return Locked::LoadAnyway,
            }
            if tokio::time::Instant::now() + stampede.poll > deadline {
                return Locked::LoadAnyway;
            }
            tokio::time::sleep(stampede.poll).await;
            if let Ok(Found::Fresh(v)) = self.find::<S, T>(store, key, codec).await {
                return Locked::Found(v);
            }
        }
    }

    async fn store_loaded<S, T>(
        &self,
        store: &S,
        key: &Key,
        codec: &ValueCodec,
        opts: &LoadOptions,
        loaded: Loaded<T>,
    ) -> Result<Arc<T>>
    where
        S: Store,
        T: Serialize + Send + Sync + 'static,
    {
        let value = Arc::new(loaded.value);
        let bytes = codec.encode(&*value).map_err(|e| e.with_key(key))?;
        let mut set = codec
            .prepare(opts.set.clone(), Some(value.clone()))
            .as_fill();
        if let Some(ttl) = loaded.ttl {
            set.ttl = Some(ttl);
        }
        match store.set(key, bytes, set).await {
            Err(e) if write_error_fails_load(&e) => Err(e),
            _ => Ok(value),
        }
    }

    /// Returns the values under `keys` (in order), loading the missing ones with one call of
    /// `loader`, which receives the keys to load and returns the pairs it found; keys it does
    /// not return are `None` and not cached.
    ///
    /// Keys already being loaded by another caller are awaited, not loaded again. `loader`
    /// may be called again for keys whose leader was cancelled.
    pub async fn get_or_load_many<S, T, F, Fut, E>(
        &self,
        store: &S,
        keys: &[Key],
        codec: &ValueCodec,
        opts: &LoadOptions,
        loader: F,
    ) -> Result<Vec<Option<Arc<T>>>>
    where
        S: Store,
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: Fn(Vec<Key>) -> Fut,
        Fut: Future<Output = std::result::Result<Vec<(Key, T)>, E>>,
        E: Into<BoxError>,
    {
        let entries = store.get_many(keys).await?;
        let mut found: HashMap<Key, Option<Arc<T>>> = HashMap::new();
        let mut pending: Vec<Key> = Vec::new();
        // Values past their TTL, kept as fail-safe fallbacks: loaded again, and answered
        // when the load fails.
        let mut stale: HashMap<Key, Arc<T>> = HashMap::new();
        let now = self.clock.now();
        for (key, entry) in keys.iter().zip(entries) {
            let value = entry.and_then(|e| {
                let v = codec.decode_entry::<T>(&e).ok().flatten()?;
                Some((v, e.meta().is_stale_at(now)))
            });
            match value {
                Some((v, false)) => {
                    found.insert(key.clone(), Some(v));
                }
                other if !found.contains_key(key) && !pending.contains(key) => {
                    if let Some((v, true)) = other {
                        stale.insert(key.clone(), v);
                    }
                    pending.push(key.clone())
                }
                _ => {}
            }
        }
        while !pending.is_empty() {
            let mut leaders = Vec::new();
            let mut followers = Vec::new();
            for key in pending.drain(..) {
                match self.flights.claim::<Option<Arc<T>>>(&key) {
                    Claim::Leader(l) => leaders.push((key, l)),
                    Claim::Follower(f) => followers.push((key, f)),
                }
            }
            if !leaders.is_empty() {
                let wanted: Vec<Key> = leaders.iter().map(|(k, _)| k.clone()).collect();
                let loaded = match run_bounded(|| loader(wanted), opts).await {
                    Ok(pairs) => pairs,
                    // Fail-safe: every key of the failed load has its last value.
                    Err(_) if leaders.iter().all(|(k, _)| stale.contains_key(k)) => {
                        for (key, leader) in leaders.drain(..) {
                            let v = stale.get(&key).cloned();
                            self.fail_safe_activations.fetch_add(1, Ordering::Relaxed);
                            leader.complete(Ok(v.clone()));
                            found.insert(key, v);
                        }
                        Vec::new()
                    }
                    Err(e) => {
                        let e = e.with_operation("get_or_load_many");
                        for (_, l) in leaders {
                            l.complete(Err(e.clone()));
                        }
                        return Err(e);
                    }
                };
                let mut by_key: HashMap<Key, T> = loaded.into_iter().collect();
                let mut writes = Vec::new();
                let mut results = Vec::new();
                for (key, leader) in leaders {
                    let value = by_key.remove(&key).map(Arc::new);
                    if let Some(v) = &value {
                        match codec.encode(&**v) {
                            Ok(bytes) => writes.push((key.clone(), bytes)),
                            Err(e) => {
                                let e = e.with_key(&key);
                                leader.complete(Err(e.clone()));
                                return Err(e);
                            }
                        }
                    }
                    results.push((key, leader, value));
                }
                if !writes.is_empty() {
                    let set = codec.prepare::<T>(opts.set.clone(), None).as_fill();
                    if let Err(e) = store.set_many(writes, set).await
                        && write_error_fails_load(&e)
                    {
                        for (_, l, _) in results {
                            l.complete(Err(e.clone()));
                        }
                        return Err(e);
                    }
                }
                for (key, leader, value) in results {
                    leader.complete(Ok(value.clone()));
                    found.insert(key, value);
                }
            }
            for (key, follower) in followers {
                match follower.wait().await {
                    Some(Ok(v)) => {
                        found.insert(key, v);
                    }
                    Some(Err(_)) if stale.contains_key(&key) => {
                        self.fail_safe_activations.fetch_add(1, Ordering::Relaxed);
                        found.insert(key.clone(), stale.get(&key).cloned());
                    }
                    Some(Err(e)) => return Err(e),
                    None => pending.push(key),
                }
            }
        }
        Ok(keys
            .iter()
            .map(|k| found.get(k).cloned().flatten())
            .collect())
    }
}
