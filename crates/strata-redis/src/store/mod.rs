//! [`RedisStore`]: the [`Store`] on Redis.

mod bulk;
mod cas;
mod health;
mod tags;
mod ttl_read;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use redis::{Cmd, RedisResult, Value};
use strata_core::{
    Capabilities, CodecId, Entry, Error, ErrorKind, Explain, Health, Invalidation, Key, Namespace,
    Now, Pattern, Result, Selector, SetMode, SetOptions, SetOutcome, Store, StoreInfo, StoreStats,
    TierReport, Timestamp, Ttl, TtlState,
};

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::builder::RedisStoreBuilder;
use crate::config::RedisConfig;
use crate::conn::{Conn, Routed, slot_of};
use crate::error::{self, BACKEND};
use crate::keys::KeyLayout;
use crate::retry::Idempotency;
use crate::scripts;
use crate::stats::{Counters, RedisStats};
use crate::value::{ValueFormat, Wire, is_integer};

/// A [`Store`] on a standalone Redis server or a Redis Cluster.
///
/// Cheap to clone (clones share the connection, the breaker and the counters). Keys are
/// written `<prefix>:<namespace>:<id>`, values as the core envelope (docs/format.md), counters
/// as plain integers so that INCRBY works on them. See the crate documentation for an example.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) conn: Conn,
    pub(crate) layout: KeyLayout,
    pub(crate) format: ValueFormat,
    pub(crate) config: RedisConfig,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) counters: Counters,
    /// `host:port` of the standalone server (for health reports).
    pub(crate) address: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.inner.config)
            .field("breaker", &self.inner.breaker.state())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A builder: give it a URL (or cluster nodes), then `connect().await`.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// Connects to the standalone server at `url` with every other setting at its default.
    pub async fn connect(url: &str) -> Result<RedisStore> {
        RedisStore::builder().url(url).connect().await
    }

    pub(crate) async fn from_config(config: RedisConfig) -> Result<RedisStore> {
        let layout = config.validate()?;
        let password = config.password.clone();
        let target = match &config.topology {
            Some(crate::config::Topology::Standalone(url)) => crate::secret::redact_url(url),
            Some(crate::config::Topology::Cluster(urls)) => urls
                .iter()
                .map(|u| crate::secret::redact_url(u))
                .collect::<Vec<_>>()
                .join(", "),
            None => String::new(),
        };
        let connecting = tokio::time::timeout(
            config.connect_timeout.saturating_mul(2),
            Conn::connect(&config),
        )
        .await;
        let conn = match connecting {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => {
                let err = error::map(&e, "connect", password.as_ref());
                return Err(Error::new(
                    err.kind(),
                    format!("cannot connect to Redis at {target}: {}", err.message()),
                )
                .with_retry(err.retry())
                .with_operation("connect")
                .with_backend(BACKEND));
            }
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "cannot connect to Redis at {target}: no answer within {:?}",
                        config.connect_timeout.saturating_mul(2)
                    ),
                )
                .with_operation("connect")
                .with_backend(BACKEND));
            }
        };
        let address = match &config.topology {
            Some(crate::config::Topology::Standalone(url)) => {
                use redis::IntoConnectionInfo;
                url.as_str()
                    .into_connection_info()
                    .map(|i| i.addr().to_string())
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        let format = ValueFormat {
            compression: config.compression,
            legacy_json: config.legacy_json,
            max_value_bytes: config.max_value_bytes,
        };
        let store = RedisStore {
            inner: Arc::new(Inner {
                breaker: CircuitBreaker::new(config.breaker, config.clock.clone()),
                conn,
                layout,
                format,
                config,
                counters: Counters::default(),
                address,
            }),
        };
        store.load_scripts().await?;
        Ok(store)
    }

    /// The configuration the store was built with (passwords hidden in `Debug`).
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// True when the store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.conn.is_cluster()
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// Figures specific to Redis: errors by kind, retries, OOM refusals, the breaker.
    pub fn redis_stats(&self) -> RedisStats {
        let c = &self.inner.counters;
        let (opened, rejected) = self.inner.breaker.counts();
        RedisStats {
            errors: Counters::get(&c.errors),
            timeouts: Counters::get(&c.timeouts),
            unavailable: Counters::get(&c.unavailable),
            out_of_memory: Counters::get(&c.out_of_memory),
            retries: Counters::get(&c.retries),
            script_loads: Counters::get(&c.script_loads),
            breaker_opened: opened,
            breaker_rejected: rejected,
        }
    }

    /// The Redis name of `key`: `<prefix>:<namespace>:<id>`.
    pub fn redis_key(&self, key: &Key) -> Vec<u8> {
        self.inner.layout.data_key(key)
    }

    pub(crate) fn conn(&self) -> &Conn {
        &self.inner.conn
    }

    pub(crate) fn lock_key(&self, key: &Key) -> Vec<u8> {
        self.inner.layout.lock_key(key)
    }

    pub(crate) fn bus_channel(&self) -> String {
        self.inner.layout.bus_channel()
    }

    /// A redis-rs client per server (per cluster seed) for connections the store does not
    /// multiplex, such as subscriptions (with either client library); with the store's
    /// credentials and TLS settings, in RESP3 when `resp3` is set.
    pub(crate) fn plain_clients(&self, resp3: bool) -> redis::RedisResult<Vec<redis::Client>> {
        use redis::IntoConnectionInfo;
        let urls: Vec<&String> = match &self.inner.config.topology {
            Some(crate::config::Topology::Standalone(url)) => vec![url],
            Some(crate::config::Topology::Cluster(urls)) => urls.iter().collect(),
            None => Vec::new(),
        };
        urls.into_iter()
            .map(|url| {
                crate::conn::client_for(
                    url.as_str().into_connection_info()?,
                    &self.inner.config,
                    resp3,
                )
            })
            .collect()
    }

    /// A redis-rs client for the cluster node `host:port`, with the credentials and TLS
    /// settings of the store (or of its first seed URL), in RESP3 when `resp3` is set.
    pub(crate) fn client_for_node(
        &self,
        addr: &str,
        resp3: bool,
    ) -> redis::RedisResult<redis::Client> {
        use redis::{ConnectionAddr, IntoConnectionInfo};
        let seed = match &self.inner.config.topology {
            Some(crate::config::Topology::Cluster(urls)) => urls.first().cloned(),
            Some(crate::config::Topology::Standalone(url)) => Some(url.clone()),
            None => None,
        }
        .unwrap_or_default();
        let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "6379"));
        let port: u16 = port.parse().map_err(|_| {
            redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "a cluster node address has no valid port",
            ))
        })?;
        let info = seed.as_str().into_connection_info()?;
        // Keep the seed's transport: a TLS seed means TLS to every node.
        let addr = match info.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            _ => ConnectionAddr::Tcp(host.to_owned(), port),
        };
        crate::conn::client_for(info.set_addr(addr), &self.inner.config, resp3)
    }

    /// The prefix client-side tracking watches: every value key, nothing else.
    pub(crate) fn tracking_prefix(&self) -> String {
        self.inner.layout.data_prefix()
    }

    /// The Strata key of a Redis value key, or `None` for anything else.
    pub(crate) fn parse_key(&self, raw: &[u8]) -> Option<Key> {
        self.inner.layout.parse(raw).ok()
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.inner.config.clock.now()
    }

    /// Runs `attempt` behind the breaker, within the command timeout (retries included),
    /// repeating it after errors that are safe to retry when `idempotency` allows.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        operation: &'static str,
        idempotency: Idempotency,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let inner = &self.inner;
        let permit = match inner.breaker.acquire() {
            Ok(p) => p,
            Err(e) => {
                let e = e.with_operation(operation).with_backend(BACKEND);
                inner.counters.record_error(&e);
                return Err(e);
            }
        };
        let timeout = inner.config.command_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut tries = 0u32;
        let result = loop {
            tries += 1;
            let bounded = if inner.conn.bounds_each_call() {
                // The client enforces the command timeout itself and never waits for a
                // reconnection: no timer of ours is needed.
                Ok(attempt().await)
            } else {
                tokio::time::timeout_at(deadline, attempt()).await
            };
            let outcome = match bounded {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(error::map(&e, operation, inner.config.password.as_ref())),
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!("Redis did not answer within the command timeout of {timeout:?}"),
                )
                .with_operation(operation)
                .with_backend(BACKEND)),
            };
            match outcome {
                Err(e) if inner.config.retry.should_retry(&e, idempotency, tries) => {
                    Counters::add(&inner.counters.retries, 1);
                    let wait = inner.config.retry.delay(tries);
                    if tokio::time::Instant::now() + wait >= deadline {
                        break Err(e);
                    }
                    tokio::time::sleep(wait).await;
                }
                other => break other,
            }
        };
        inner.breaker.record(permit, result.as_ref().map(|_| ()));
        if let Err(e) = &result {
            inner.counters.record_error(e);
        }
        result
    }

    /// Runs `script` on the Redis key `raw` (of `key`, named in errors) with `args`, behind
    /// the breaker and the timeout; sent at most once when `once` (a script that counts or
    /// compares), else retried like any idempotent call.
    pub(crate) async fn run_script<A: redis::ToRedisArgs>(
        &self,
        operation: &'static str,
        script: &scripts::LuaScript,
        raw: &[u8],
        args: &[A],
        key: &Key,
        once: bool,
    ) -> Result<Value> {
        let cmd = script.evalsha(raw, args);
        let idempotency = if once {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        self.call(operation, idempotency, || self.query_script(&cmd, once))
            .await
            .map_err(|e| e.with_key(key))
    }

    /// Sends an EVALSHA; when the server lost its scripts, loads them and sends it again.
    pub(crate) async fn query_script(&self, cmd: &Cmd, once: bool) -> RedisResult<Value> {
        let conn = &self.inner.conn;
        let send = || async {
            if once {
                conn.query_once(cmd).await
            } else {
                conn.query(cmd).await
            }
        };
        match send().await {
            Err(e) if e.code() == Some("NOSCRIPT") => {
                self.load_scripts_raw().await?;
                send().await
            }
            other => other,
        }
    }

    /// Sends a batch of idempotent commands that may include EVALSHA, reloading scripts once
    /// if a server lost them.
    pub(crate) async fn batch_scripts(&self, cmds: &[Routed]) -> RedisResult<Vec<Value>> {
        let copy = || {
            cmds.iter()
                .map(|r| Routed {
                    key: r.key.clone(),
                    cmd: r.cmd.clone(),
                })
                .collect::<Vec<_>>()
        };
        let replies = self.inner.conn.batch(copy()).await?;
        let lost = replies
            .iter()
            .any(|v| matches!(v, Value::ServerError(e) if e.code() == "NOSCRIPT"));
        if lost {
            self.load_scripts_raw().await?;
            return self.inner.conn.batch(copy()).await;
        }
        Ok(replies)
    }

    async fn load_scripts_raw(&self) -> RedisResult<()> {
        Counters::add(&self.inner.counters.script_loads, 1);
        for node in self.inner.conn.nodes().await? {
            for script in scripts::all() {
                self.inner.conn.query_node(node, &script.load_cmd()).await?;
            }
        }
        Ok(())
    }

    async fn load_scripts(&self) -> Result<()> {
        self.call("load_scripts", Idempotency::Idempotent, || {
            self.load_scripts_raw()
        })
        .await
    }

    fn decode(&self, key: &Key, value: Value) -> Result<Option<Entry>> {
        match value {
            Value::Nil => Ok(None),
            Value::BulkString(bytes) => {
                self.inner
                    .format
                    .decode_at(key, Bytes::from(bytes), || self.now())
            }
            Value::ServerError(e) => Err(error::map(
                &redis::RedisError::from(e),
                "get",
                self.inner.config.password.as_ref(),
            )
            .with_key(key)),
            other => Err(error::unexpected("get", format!("{other:?} for a GET")).with_key(key)),
        }
    }

    fn count_reads(&self, entries: &[Option<Entry>]) {
        let hits = entries.iter().filter(|e| e.is_some()).count() as u64;
        Counters::add(&self.inner.counters.hits, hits);
        Counters::add(&self.inner.counters.misses, entries.len() as u64 - hits);
    }

    /// The bytes stored for `value`: a plain integer (raw or JSON codec, no tags, no
    /// fingerprint) is written as is so INCRBY works on it; everything else in the envelope.
    fn encode<'a>(
        &self,
        key: &Key,
        value: &'a [u8],
        opts: &SetOptions,
        now: Timestamp,
    ) -> Result<Wire<'a>> {
        if matches!(opts.codec, CodecId::Raw | CodecId::Json)
            && opts.tags.is_empty()
            && opts.fingerprint.is_none()
            && opts.tti.is_none()
            && is_integer(value)
        {
            return Ok(Wire::Verbatim(value));
        }
        // With a fail-safe window the value lives on in Redis, stale, past its TTL.
        let (meta, _) = opts.meta(now, ttl_millis(opts.ttl).map(Duration::from_millis));
        self.inner.format.wire(key, meta, value)
    }

    /// The key's expiry in ms for `opts`: the TTL, or the time to idle when shorter (the key
    /// then expires first unless reads renew it).
    pub(crate) fn px(opts: &SetOptions) -> Option<u64> {
        let tti = opts
            .tti
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1));
        match (Self::physical_ttl(opts), tti) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long the value stays in Redis in ms: its TTL plus any fail-safe window.
    fn physical_ttl(opts: &SetOptions) -> Option<u64> {
        let (_, physical) = opts.lifetimes(ttl_millis(opts.ttl).map(Duration::from_millis));
        physical.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1))
    }

    /// [`RedisStore::physical_ttl`] as a `Ttl`, for the tag sets of the value.
    pub(crate) fn tag_ttl(opts: &SetOptions) -> Option<Ttl> {
        Self::physical_ttl(opts).map(Ttl::millis)
    }

    fn set_cmd(&self, key: &Key, value: &Wire<'_>, opts: &SetOptions) -> Cmd {
        let layout = &self.inner.layout;
        // Sized up front: SET, the key, the value, PX and its digits, NX or XX.
        let len = 3 + layout.data_key_len(key) + value.len() + 2 + 20 + 2;
        let mut cmd = Cmd::with_capacity(6, len);
        cmd.arg("SET").arg(layout.arg(key)).arg(value);
        if let Some(ms) = Self::px(opts) {
            cmd.arg("PX").arg(ms);
        }
        match opts.mode {
            SetMode::IfAbsent => {
                cmd.arg("NX");
            }
            SetMode::IfPresent => {
                cmd.arg("XX");
            }
            _ => {}
        }
        cmd
    }

    /// What every single-key write does before its command: checks the options, encodes
    /// the value, and adds the key to its tag sets (membership first: a crash between the
    /// two leaves a harmless extra member, never an untracked tagged value). Returns the
    /// value to write.
    pub(crate) async fn prepare_write<'a>(
        &self,
        key: &Key,
        value: &'a [u8],
        opts: &SetOptions,
    ) -> Result<Wire<'a>> {
        Self::check_options(opts)?;
        let wire = self.encode(key, value, opts, self.now())?;
        if !opts.tags.is_empty() {
            let raw = self.inner.layout.data_key(key);
            self.add_to_tags(&opts.tags, std::slice::from_ref(&raw), Self::tag_ttl(opts))
                .await
                .map_err(|e| e.with_key(key))?;
        }
        Ok(wire)
    }

    pub(crate) fn check_options(opts: &SetOptions) -> Result<()> {
        opts.validate()
    }

    /// Restarts the idle window of the entries read that have a time to idle (one pipeline
    /// per node; reads of entries without one cost nothing more).
    async fn touch(&self, keys: &[Key], entries: &[Option<Entry>]) -> Result<()> {
        let idle = |e: &Option<Entry>| e.as_ref().is_some_and(|e| e.meta().tti.is_some());
        if !entries.iter().any(idle) {
            return Ok(());
        }
        let now = self.now().as_millis().to_string();
        let routed: Vec<Routed> = keys
            .iter()
            .zip(entries)
            .filter(|(_, e)| idle(e))
            .map(|(k, _)| {
                let raw = self.inner.layout.data_key(k);
                let cmd = scripts::TOUCH.evalsha(&raw, std::slice::from_ref(&now));
                Routed { key: raw, cmd }
            })
            .collect();
        if routed.is_empty() {
            return Ok(());
        }
        self.call("touch", Idempotency::Idempotent, || {
            self.batch_scripts(&routed)
        })
        .await?;
        Ok(())
    }
}

/// A TTL in whole milliseconds (at least 1), or `None` for no expiry.
fn ttl_millis(ttl: Option<Ttl>) -> Option<u64> {
    match ttl {
        Some(Ttl::After(d)) => Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)),
        _ => None,
    }
}

fn expect_int(operation: &'static str, value: &Value) -> Result<i64> {
    match value {
        Value::Int(n) => Ok(*n),
        other => Err(error::unexpected(
            operation,
            format!("{other:?} where an integer was expected"),
        )),
    }
}

impl Store for RedisStore {
    fn info(&self) -> StoreInfo {
        let name = if self.is_cluster() {
            "redis-cluster"
        } else {
            "redis"
        };
        StoreInfo::new(name, Capabilities::REMOTE | Capabilities::TIME_TO_IDLE)
    }

    fn get_now(&self, _key: &Key) -> Now<Option<Entry>> {
        Now::Pending
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let mut cmd = Cmd::with_capacity(2, 3 + self.inner.layout.data_key_len(key));
        cmd.arg("GET").arg(self.inner.layout.arg(key));
        let value = self
            .call("get", Idempotency::Idempotent, || {
                self.inner.conn.query(&cmd)
            })
            .await
            .map_err(|e| e.with_key(key))?;
        let entry = self.decode(key, value)?;
        let read = std::slice::from_ref(&entry);
        self.count_reads(read);
        self.touch(std::slice::from_ref(key), read).await?;
        Ok(entry)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // On a cluster, one MGET per hash slot, which the connection sends as one pipeline per
        // node; on a standalone server, one MGET sent as it is.
        let (groups, replies): (Vec<Vec<usize>>, Vec<Value>) = if self.is_cluster() {
            let raws: Vec<Vec<u8>> = keys.iter().map(|k| self.inner.layout.data_key(k)).collect();
            let groups = group_by_slot(&raws, true);
            let routed: Vec<Routed> = groups
                .iter()
                .map(|members| {
                    let len: usize = members.iter().map(|&i| raws[i].len()).sum();
                    let mut cmd = Cmd::with_capacity(members.len() + 1, 4 + len);
                    cmd.arg("MGET");
                    for &i in members {
                        cmd.arg(&raws[i]);
                    }
                    Routed {
                        key: raws[members[0]].clone(),
                        cmd,
                    }
                })
                .collect();
            let replies = self
                .call("get_many", Idempotency::Idempotent, || {
                    self.inner.conn.batch(clone_routed(&routed))
                })
                .await?;
            (groups, replies)
        } else {
            // Sized up front: the arguments grow no buffer.
            let layout = &self.inner.layout;
            let len: usize = keys.iter().map(|k| layout.data_key_len(k)).sum();
            let mut cmd = Cmd::with_capacity(keys.len() + 1, 4 + len);
            cmd.arg("MGET");
            for k in keys {
                cmd.arg(layout.arg(k));
            }
            let reply = self
                .call("get_many", Idempotency::Idempotent, || {
                    self.inner.conn.query(&cmd)
                })
                .await?;
            (vec![(0..keys.len()).collect()], vec![reply])
        };
        let mut out: Vec<Option<Entry>> = vec![None; keys.len()];
        for (members, reply) in groups.iter().zip(replies) {
            let Value::Array(values) = reply else {
                if let Value::ServerError(e) = reply {
                    return Err(error::map(
                        &redis::RedisError::from(e),
                        "get_many",
                        self.inner.config.password.as_ref(),
                    ));
                }
                return Err(error::unexpected(
                    "get_many",
                    "MGET did not answer an array",
                ));
            };
            if values.len() != members.len() {
                return Err(error::unexpected(
                    "get_many",
                    "MGET answered the wrong count",
                ));
            }
            for (&i, v) in members.iter().zip(values) {
                out[i] = self.decode(&keys[i], v)?;
            }
        }
        self.count_reads(&out);
        self.touch(keys, &out).await?;
        Ok(out)
    }

    async fn set(&self, key: &Key, value: Bytes, opts: SetOptions) -> Result<SetOutcome> {
        let wire = self.prepare_write(key, &value, &opts).await?;
        let cmd = self.set_cmd(key, &wire, &opts);
        let reply = match opts.mode {
            SetMode::Always => {
                self.call("set", Idempotency::Idempotent, || {
                    self.inner.conn.query(&cmd)
                })
                .await
            }
            _ => {
                self.call("set", Idempotency::NotIdempotent, || {
                    self.inner.conn.query_once(&cmd)
                })
                .await
            }
        }
        .map_err(|e| e.with_key(key))?;
        match reply {
            Value::Nil => Ok(SetOutcome::NotStored),
            _ => {
                Counters::add(&self.inner.counters.sets, 1);
                Ok(SetOutcome::Stored)
            }
        }
    }

    async fn set_many(&self, items: Vec<(Key, Bytes)>, opts: SetOptions) -> Result<()> {
        Self::check_options(&opts)?;
        if items.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let mut routed = Vec::with_capacity(items.len());
        for (key, value) in &items {
            let wire = self.encode(key, value, &opts, now)?;
            let raw = self.inner.layout.data_key(key);
            let cmd = self.set_cmd(key, &wire, &opts);
            routed.push(Routed { key: raw, cmd });
        }
        if !opts.tags.is_empty() {
            let raws: Vec<Vec<u8>> = routed.iter().map(|r| r.key.clone()).collect();
            self.add_to_tags(&opts.tags, &raws, Self::tag_ttl(&opts))
                .await?;
        }
        let once = opts.mode != SetMode::Always;
        let idempotency = if once {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        let replies = self
            .call("set_many", idempotency, || {
                let cmds = clone_routed(&routed);
                async move {
                    if once {
                        self.inner.conn.batch_once(cmds).await
                    } else {
                        self.inner.conn.batch(cmds).await
                    }
                }
            })
            .await?;
        let mut stored = 0;
        for (reply, (key, _)) in replies.into_iter().zip(&items) {
            match reply {
                Value::ServerError(e) => {
                    return Err(error::map(
                        &redis::RedisError::from(e),
                        "set_many",
                        self.inner.config.password.as_ref(),
                    )
                    .with_key(key));
                }
                Value::Nil => {}
                _ => stored += 1,
            }
        }
        Counters::add(&self.inner.counters.sets, stored);
        Ok(())
    }

    async fn delete(&self, key: &Key) -> Result<bool> {
        let raw = self.inner.layout.data_key(key);
        let reply = self
            .run_script("delete", &scripts::DELETE, &raw, &[] as &[&str], key, false)
            .await?;
        let removed = expect_int("delete", &reply)? > 0;
        if removed {
            Counters::add(&self.inner.counters.removed, 1);
        }
        Ok(removed)
    }

    async fn expire(&self, key: &Key, ttl: Ttl) -> Result<bool> {
        let ttl = ttl.validate()?;
        let ms = ttl_millis(Some(ttl));
        let expiry = ms
            .map(|ms| {
                self.now()
                    .saturating_add(Duration::from_millis(ms))
                    .as_millis()
                    .max(1)
            })
            .unwrap_or(0);
        let mut fields = expiry.to_be_bytes().to_vec();
        fields.extend_from_slice(&expiry.to_be_bytes());
        let raw = self.inner.layout.data_key(key);
        let args: [Vec<u8>; 2] = [ms.unwrap_or(0).to_string().into_bytes(), fields];
        let reply = self
            .run_script("expire", &scripts::EXPIRE, &raw, &args, key, false)
            .await?;
        let Value::BulkString(bytes) = reply else {
            return Ok(false);
        };
        // Keep the value's tag sets alive as long as the value.
        if let Ok(Some(entry)) = self
            .inner
            .format
            .decode(key, Bytes::from(bytes), self.now())
            && !entry.meta().tags.is_empty()
        {
            self.add_to_tags(&entry.meta().tags, std::slice::from_ref(&raw), Some(ttl))
                .await
                .map_err(|e| e.with_key(key))?;
        }
        Ok(true)
    }

    async fn ttl(&self, key: &Key) -> Result<TtlState> {
        let raw = self.inner.layout.data_key(key);
        let reply = self
            .run_script("ttl", &scripts::TTL, &raw, &[] as &[&str], key, false)
            .await?;
        Ok(match expect_int("ttl", &reply)? {
            -2 => TtlState::Missing,
            -1 => TtlState::NoExpiry,
            ms if ms >= 0 => TtlState::Remaining(Duration::from_millis(ms as u64)),
            other => {
                return Err(error::unexpected("ttl", format!("PTTL answered {other}")));
            }
        })
    }

    async fn increment(&self, key: &Key, delta: i64) -> Result<i64> {
        let raw = self.inner.layout.data_key(key);
        let mut cmd = redis::cmd("INCRBY");
        cmd.arg(&raw).arg(delta);
        let reply = self
            .call("increment", Idempotency::NotIdempotent, || {
                self.inner.conn.query_once(&cmd)
            })
            .await
            .map_err(|e| {
                let kind = if e.message().contains("overflow") {
                    Some(ErrorKind::InvalidArgument)
                } else if e.message().contains("not an integer") {
                    Some(ErrorKind::Codec)
                } else {
                    None
                };
                match kind {
                    Some(kind) => Error::new(kind, format!("cannot add {delta}: {}", e.message()))
                        .with_operation("increment")
                        .with_backend(BACKEND),
                    None => e,
                }
                .with_key(key)
            })?;
        expect_int("increment", &reply)
    }

    fn scan(&self, namespace: &Namespace, pattern: &Pattern) -> BoxStream<'static, Result<Key>> {
        bulk::scan_keys(self.clone(), *namespace, pattern.clone())
    }

    async fn invalidate(&self, req: &Invalidation) -> Result<u64> {
        let removed = match &req.selector {
            Selector::Key(key) => u64::from(self.delete(key).await?),
            Selector::Pattern { namespace, pattern } => {
                let m = self.inner.layout.match_in(namespace, pattern);
                self.unlink_matching(&m).await?
            }
            Selector::Namespace(namespace) => {
                let m = self.inner.layout.match_in(namespace, &Pattern::all());
                self.unlink_matching(&m).await?
            }
            Selector::Tags(tags) => self.invalidate_tags(tags).await?,
            Selector::All => {
                let removed = self.unlink_matching(&self.inner.layout.match_all()).await?;
                self.unlink_matching(&self.inner.layout.match_all_tags())
                    .await?;
                removed
            }
            other => {
                return Err(Error::unsupported("this invalidation selector")
                    .with_backend(BACKEND)
                    .with_operation("invalidate")
                    .with_source(std::io::Error::other(other.to_string())));
            }
        };
        if !matches!(req.selector, Selector::Key(_)) {
            Counters::add(&self.inner.counters.removed, removed);
        }
        tracing::debug!(
            selector = %req.selector,
            reason = ?req.reason,
            triggered_by = req.triggered_by.as_deref().unwrap_or(""),
            removed,
            "redis invalidation"
        );
        Ok(removed)
    }

    async fn health(&self) -> Health {
        health::check(self).await
    }

    async fn explain(&self, key: &Key) -> Result<Explain> {
        // Not a read: no hit or miss is counted and no time to idle renewed.
        let (mut found, _) = self.read_with_ttl(std::slice::from_ref(key)).await?;
        let name = self.info().name;
        let tier = match found.pop().flatten() {
            Some((entry, ttl)) => TierReport::from_entry(name, &entry, self.now(), ttl),
            None => TierReport::absent(name),
        };
        let raw = String::from_utf8_lossy(&self.inner.layout.data_key(key)).into_owned();
        Ok(Explain::new(key)
            .tier(tier)
            .note(format!("Redis key `{raw}`")))
    }

    fn stats(&self) -> StoreStats {
        let c = &self.inner.counters;
        let mut stats = StoreStats::default();
        stats.hits = Counters::get(&c.hits);
        stats.misses = Counters::get(&c.misses);
        stats.sets = Counters::get(&c.sets);
        stats.evictions.invalidated = Counters::get(&c.removed);
        stats
    }
}

/// Indexes of `raws` grouped by hash slot (one group on a standalone server), groups in order
/// of first appearance.
fn group_by_slot(raws: &[Vec<u8>], cluster: bool) -> Vec<Vec<usize>> {
    if !cluster {
        return vec![(0..raws.len()).collect()];
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_slot: std::collections::HashMap<u16, usize> = std::collections::HashMap::new();
    for (i, raw) in raws.iter().enumerate() {
        let slot = slot_of(raw);
        let g = *by_slot.entry(slot).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

pub(crate) fn clone_routed(routed: &[Routed]) -> Vec<Routed> {
    routed
        .iter()
        .map(|r| Routed {
            key: r.key.clone(),
            cmd: r.cmd.clone(),
        })
        .collect()
}
