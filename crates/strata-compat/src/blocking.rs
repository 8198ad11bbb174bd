//! [`BlockingCache`]: the classic interface for synchronous callers, served by a runtime
//! thread the wrapper owns.
//!
//! The store is built inside that thread's runtime (a Redis connection belongs to the
//! runtime that opened it), so the wrapper works the same with no runtime, from a
//! `current_thread` runtime and from a `multi_thread` runtime: a call hands its work to the
//! owned thread and waits on a plain channel, so it never calls `block_on` on the caller's
//! runtime (which would panic) and never waits for the caller's runtime to make progress
//! (which would deadlock a `current_thread` runtime). Every wait is bounded by the call
//! timeout. Blocking an async worker thread is still blocking it: from async code, prefer
//! the async types.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::Value;
use strata::config::Config;
use strata::system::CacheSystem;
use strata::{Error, ErrorKind, Health, Result, SharedStore, TtlState};
use tokio::sync::mpsc;

use crate::classic::{CacheStats, CompatCache};
use crate::error::worker_gone;
use crate::options::CompatOptions;

type Job = Box<dyn FnOnce(CompatCache) -> BoxFuture<'static, ()> + Send>;

/// How long a call waits for its answer unless told otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The classic interface, blocking. Dropping it stops its thread (calls in flight are
/// abandoned and answer `Unavailable`).
///
/// ```
/// use serde_json::json;
/// use strata::{MemoryStore, StoreExt};
/// use strata_compat::{BlockingCache, CompatOptions};
///
/// // No runtime here: the wrapper brings its own.
/// let cache = BlockingCache::new(|| async { Ok(MemoryStore::new().into_shared()) }, CompatOptions::new())?;
/// cache.set("greeting", json!("hello"), None)?;
/// assert_eq!(cache.get("greeting")?, Some(json!("hello")));
/// # Ok::<(), strata::Error>(())
/// ```
pub struct BlockingCache {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
    timeout: Duration,
    namespace: String,
}

impl fmt::Debug for BlockingCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingCache")
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .field("running", &self.jobs.is_some())
            .finish()
    }
}

impl BlockingCache {
    /// Starts the runtime thread, builds the store there with `make_store` (waiting at most
    /// [`DEFAULT_CALL_TIMEOUT`]) and puts the classic interface over it with `options`.
    pub fn new<F, Fut>(make_store: F, options: CompatOptions) -> Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<SharedStore>> + 'static,
    {
        Self::with_timeout(make_store, options, DEFAULT_CALL_TIMEOUT)
    }

    /// As [`BlockingCache::new`], with `timeout` for start-up and for every call.
    pub fn with_timeout<F, Fut>(
        make_store: F,
        options: CompatOptions,
        timeout: Duration,
    ) -> Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<SharedStore>> + 'static,
    {
        let namespace = options.namespace_name().to_owned();
        Self::start(
            move || async move {
                let cache = CompatCache::new(make_store().await?, options)?;
                Ok((cache, None))
            },
            namespace,
            timeout,
        )
    }

    /// Starts a [`CacheSystem`] from the environment (`CACHE_BACKEND`, `REDIS_URL`, ...;
    /// docs/configuration.md) inside the wrapper's runtime thread, and serves the classic
    /// interface over it in namespace `general`. Dropping the wrapper shuts the system down
    /// (within `STRATA_SHUTDOWN_TIMEOUT`).
    ///
    /// # Errors
    ///
    /// `InvalidConfig` listing every bad variable; `Unavailable` or `Timeout` when the
    /// configured Redis cannot be reached or the system is not up within
    /// [`DEFAULT_CALL_TIMEOUT`].
    pub fn from_env() -> Result<Self> {
        Self::from_config(Config::from_env()?, CompatOptions::new())
    }

    /// As [`BlockingCache::from_env`], with a configuration given in code, and `options`'
    /// namespace and default TTL (the system's layers are used, not the options').
    ///
    /// ```
    /// use serde_json::json;
    /// use strata::config::Config;
    /// use strata_compat::{BlockingCache, CompatOptions};
    ///
    /// let config = Config::source().env_vars([("CACHE_BACKEND", "memory")]).load()?;
    /// let cache = BlockingCache::from_config(config, CompatOptions::new())?;
    /// cache.set("k", json!(1), None)?;
    /// assert_eq!(cache.get("k")?, Some(json!(1)));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn from_config(config: Config, options: CompatOptions) -> Result<Self> {
        let namespace = options.namespace_name().to_owned();
        Self::start(
            move || async move {
                let system = CacheSystem::start(config).await?;
                match CompatCache::from_system(&system, options) {
                    Ok(cache) => Ok((cache, Some(system))),
                    Err(e) => {
                        system.shutdown(system.config().shutdown_timeout).await;
                        Err(e)
                    }
                }
            },
            namespace,
            DEFAULT_CALL_TIMEOUT,
        )
    }

    /// Starts the runtime thread, builds the cache there with `make` and serves calls until
    /// the wrapper is dropped; a system `make` started is shut down on the way out.
    fn start<F, Fut>(make: F, namespace: String, timeout: Duration) -> Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(CompatCache, Option<CacheSystem>)>> + 'static,
    {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = std_mpsc::sync_channel::<Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name("strata-compat-blocking".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::new(
                            ErrorKind::Unavailable,
                            format!("the blocking cache could not start its runtime: {e}"),
                        )));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let (cache, system) = match make().await {
                        Ok(made) => made,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    // Ends when the BlockingCache drops its sender.
                    while let Some(job) = queue.recv().await {
                        tokio::spawn(job(cache.clone()));
                    }
                    if let Some(system) = system {
                        system.shutdown(system.config().shutdown_timeout).await;
                    }
                });
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("the blocking cache could not start its thread: {e}"),
                )
            })?;
        let mut cache = BlockingCache {
            jobs: Some(jobs),
            thread: Some(thread),
            timeout,
            namespace,
        };
        match ready_rx.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(cache),
            Ok(Err(e)) => {
                cache.stop();
                Err(e)
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {
                // The thread is left to finish building on its own; dropping the sender
                // ends it as soon as the build returns.
                cache.jobs = None;
                cache.thread = None;
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the blocking cache's store was not ready within {timeout:?}"),
                )
                .with_operation("BlockingCache::new"))
            }
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                cache.stop();
                Err(worker_gone("BlockingCache::new"))
            }
        }
    }

    /// Over the embedded in-memory store.
    pub fn memory(options: CompatOptions) -> Result<Self> {
        Self::new(
            || async { Ok(strata::StoreExt::into_shared(strata::MemoryStore::new())) },
            options,
        )
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs `op` on the owned runtime and waits for its answer (at most the call timeout).
    pub fn call<R, F, Fut>(&self, operation: &'static str, op: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(CompatCache) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R>> + Send + 'static,
    {
        let jobs = self.jobs.as_ref().ok_or_else(|| worker_gone(operation))?;
        let (reply_tx, reply_rx) = std_mpsc::sync_channel::<Result<R>>(1);
        let job: Job = Box::new(move |cache| {
            async move {
                let _ = reply_tx.send(op(cache).await);
            }
            .boxed()
        });
        jobs.send(job).map_err(|_| worker_gone(operation))?;
        match reply_rx.recv_timeout(self.timeout) {
            Ok(answer) => answer,
            Err(std_mpsc::RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorKind::Timeout,
                format!("no answer within {:?}", self.timeout),
            )
            .with_operation(operation)),
            // The job was dropped unanswered: the runtime stopped, or the task panicked.
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                if self.thread.as_ref().is_none_or(JoinHandle::is_finished) {
                    Err(worker_gone(operation))
                } else {
                    Err(Error::new(
                        ErrorKind::Backend,
                        "the operation ended without an answer: its task panicked",
                    )
                    .with_operation(operation))
                }
            }
        }
    }

    /// See [`CompatCache::get`].
    pub fn get(&self, key: &str) -> Result<Option<Value>> {
        let key = key.to_owned();
        self.call("get", move |c| async move { c.get(&key).await })
    }

    /// See [`CompatCache::set`].
    pub fn set(&self, key: &str, value: Value, ttl: Option<Duration>) -> Result<bool> {
        let key = key.to_owned();
        self.call("set", move |c| async move { c.set(&key, value, ttl).await })
    }

    /// See [`CompatCache::delete`].
    pub fn delete(&self, key: &str) -> Result<bool> {
        let key = key.to_owned();
        self.call("delete", move |c| async move { c.delete(&key).await })
    }

    /// See [`CompatCache::clear`].
    pub fn clear(&self) -> Result<u64> {
        self.call("clear", |c| async move { c.clear().await })
    }

    /// See [`CompatCache::exists`].
    pub fn exists(&self, key: &str) -> Result<bool> {
        let key = key.to_owned();
        self.call("exists", move |c| async move { c.exists(&key).await })
    }

    /// See [`CompatCache::keys`].
    pub fn keys(&self, pattern: Option<&str>) -> Result<Vec<String>> {
        let pattern = pattern.map(str::to_owned);
        self.call(
            "keys",
            move |c| async move { c.keys(pattern.as_deref()).await },
        )
    }

    /// See [`CompatCache::mget`].
    pub fn mget(&self, keys: &[&str]) -> Result<BTreeMap<String, Value>> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.call("mget", move |c| async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            c.mget(&refs).await
        })
    }

    /// See [`CompatCache::mset`].
    pub fn mset(&self, items: BTreeMap<String, Value>, ttl: Option<Duration>) -> Result<bool> {
        self.call("mset", move |c| async move { c.mset(items, ttl).await })
    }

    /// See [`CompatCache::increment`].
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        let key = key.to_owned();
        self.call("increment", move |c| async move {
            c.increment(&key, delta).await
        })
    }

    /// See [`CompatCache::expire`].
    pub fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        let key = key.to_owned();
        self.call("expire", move |c| async move { c.expire(&key, ttl).await })
    }

    /// See [`CompatCache::ttl`].
    pub fn ttl(&self, key: &str) -> Result<TtlState> {
        let key = key.to_owned();
        self.call("ttl", move |c| async move { c.ttl(&key).await })
    }

    /// See [`CompatCache::get_stats`].
    pub fn get_stats(&self) -> Result<CacheStats> {
        self.call("get_stats", |c| async move { c.get_stats().await })
    }

    /// See [`CompatCache::health_check`].
    pub fn health_check(&self) -> Result<Health> {
        self.call(
            "health_check",
            |c| async move { Ok(c.health_check().await) },
        )
    }

    /// Stops the thread and waits for it (bounded: the loop ends as soon as the sender is
    /// gone, and tasks in flight are cancelled with the runtime).
    fn stop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BlockingCache {
    fn drop(&mut self) {
        self.stop();
    }
}
