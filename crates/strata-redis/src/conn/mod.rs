//! The connection under a store: one multiplexed connection to a standalone server (redis-rs's
//! `ConnectionManager`, which reconnects by itself) or the async cluster client, or a fred
//! client (feature `fred`, see [`fred`]), behind one small set of calls the store uses.

#[cfg(feature = "fred")]
mod fred;
mod slots;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::try_join_all;
use parking_lot::RwLock;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisResult, ServerErrorKind, Value};

pub(crate) use slots::SlotMap;
pub(crate) use slots::slot_of;

use crate::config::{Client, RedisConfig, Topology};

/// Bytes buffered before a write is flushed.
const WRITE_BUFFER: usize = 64 * 1024;
/// Requests queued on the multiplexed connection before callers wait (redis-rs's default is
/// 50, which makes 64 concurrent tasks queue).
const PIPELINE_BUFFER: usize = 1_024;

/// A command of a batch and the key it touches (which decides its node on a cluster).
pub(crate) struct Routed {
    pub(crate) key: Vec<u8>,
    pub(crate) cmd: Cmd,
}

/// Where a per-node command goes: the standalone server, or the master owning a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) slot: Option<u16>,
}

/// A connection to a standalone server or a cluster; cheap to clone.
#[derive(Clone)]
pub(crate) enum Conn {
    Standalone(ConnectionManager),
    Cluster(Arc<ClusterConn>),
    /// A fred client, standalone or cluster (feature `fred`).
    #[cfg(feature = "fred")]
    Fred(Arc<fred::FredConn>),
}

pub(crate) struct ClusterConn {
    /// Follows redirections and reconnects, re-sending after a dropped connection: for
    /// idempotent commands.
    conn: ClusterConnection,
    /// Never re-sends: for commands that must not run twice.
    strict: ClusterConnection,
    slots: RwLock<SlotMap>,
    stale: AtomicBool,
}

impl Conn {
    /// Connects as `config` says (validated already).
    pub(crate) async fn connect(config: &RedisConfig) -> RedisResult<Conn> {
        match config.client {
            Client::RedisRs => Conn::connect_redis_rs(config).await,
            #[cfg(feature = "fred")]
            Client::Fred => Ok(Conn::Fred(Arc::new(fred::FredConn::connect(config).await?))),
        }
    }

    async fn connect_redis_rs(config: &RedisConfig) -> RedisResult<Conn> {
        match &config.topology {
            Some(Topology::Standalone(url)) => {
                let info = url.as_str().into_connection_info()?;
                let client = client_for(info, config, false)?;
                let manager_config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(config.connect_timeout))
                    .set_response_timeout(Some(config.command_timeout))
                    // Reconnection is retried in the background; a call made meanwhile fails
                    // (or times out) instead of queueing forever.
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500))
                    // A batch of up to 64 KiB leaves in one write (tokio-util's default
                    // flushes at 8 KiB), so the server reads it at once.
                    .set_write_backpressure_boundary(WRITE_BUFFER)
                    .set_pipeline_buffer_size(PIPELINE_BUFFER);
                let manager = client
                    .get_connection_manager_with_config(manager_config)
                    .await?;
                Ok(Conn::Standalone(manager))
            }
            Some(Topology::Cluster(urls)) => {
                let build = |retries: u32| {
                    let mut b = ClusterClientBuilder::new(urls.iter().map(String::as_str))
                        .connection_timeout(config.connect_timeout)
                        .response_timeout(config.command_timeout)
                        .write_backpressure_boundary(WRITE_BUFFER)
                        .retries(retries);
                    if let Some(user) = &config.username {
                        b = b.username(user);
                    }
                    if let Some(pw) = &config.password {
                        b = b.password(pw.expose());
                    }
                    #[cfg(feature = "tls")]
                    if let Some(certs) = config.tls.redis_certificates() {
                        b = b.certs(certs);
                    }
                    b.build()
                };
                let conn = build(config.retry.max_retries.max(1))?
                    .get_async_connection()
                    .await?;
                let strict = build(0)?.get_async_connection().await?;
                let cluster = ClusterConn {
                    conn,
                    strict,
                    slots: RwLock::new(SlotMap::default()),
                    stale: AtomicBool::new(true),
                };
                cluster.refresh_slots().await?;
                Ok(Conn::Cluster(Arc::new(cluster)))
            }
            None => Err(RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "no Redis server configured",
            ))),
        }
    }

    /// True when the client bounds every call by the command timeout itself, a reconnection
    /// included (fred with `fail_fast` and a per-command timeout).
    pub(crate) fn bounds_each_call(&self) -> bool {
        match self {
            #[cfg(feature = "fred")]
            Conn::Fred(_) => true,
            _ => false,
        }
    }

    /// True on a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        match self {
            Conn::Standalone(_) => false,
            Conn::Cluster(_) => true,
            #[cfg(feature = "fred")]
            Conn::Fred(f) => f.is_cluster(),
        }
    }

    /// Sends a command that may safely be sent again.
    pub(crate) async fn query(&self, cmd: &Cmd) -> RedisResult<Value> {
        lift(match self {
            Conn::Standalone(m) => m.clone().send_packed_command(cmd).await,
            Conn::Cluster(c) => c.conn.clone().req_packed_command(cmd).await,
            #[cfg(feature = "fred")]
            Conn::Fred(f) => f.query(cmd).await,
        })
    }

    /// Sends a command that must not run twice: it is repeated only after MOVED, ASK or
    /// TRYAGAIN (the server did not run it), never after a dropped connection or a timeout.
    pub(crate) async fn query_once(&self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            // The connection manager never re-sends a request: a dropped connection fails the
            // call and reconnects for the next one.
            Conn::Standalone(m) => lift(m.clone().send_packed_command(cmd).await),
            Conn::Cluster(c) => c.query_once(cmd).await,
            #[cfg(feature = "fred")]
            Conn::Fred(f) => f.query_once(cmd).await,
        }
    }

    /// Sends a batch: one pipeline on a standalone server, one pipeline per master on a
    /// cluster (sent concurrently). Replies are in request order; a command's own error is a
    /// `Value::ServerError` in its place.
    pub(crate) async fn batch(&self, cmds: Vec<Routed>) -> RedisResult<Vec<Value>> {
        self.batch_with(cmds, false).await
    }

    /// [`Conn::batch`] for commands that must not run twice: on a cluster the pipelines go
    /// through the connection that never re-sends after a drop (the others never do).
    pub(crate) async fn batch_once(&self, cmds: Vec<Routed>) -> RedisResult<Vec<Value>> {
        self.batch_with(cmds, true).await
    }

    async fn batch_with(&self, cmds: Vec<Routed>, once: bool) -> RedisResult<Vec<Value>> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Conn::Standalone(m) => {
                let mut pipe = Pipeline::with_capacity(cmds.len());
                for r in &cmds {
                    pipe.add_command(r.cmd.clone());
                }
                m.clone().send_packed_commands(&pipe, 0, cmds.len()).await
            }
            Conn::Cluster(c) => c.batch(cmds, once).await,
            #[cfg(feature = "fred")]
            Conn::Fred(f) => f.batch(cmds).await,
        }
    }

    /// Every node that holds data: the server, or each cluster master.
    pub(crate) async fn nodes(&self) -> RedisResult<Vec<Node>> {
        match self {
            Conn::Standalone(_) => Ok(vec![Node { slot: None }]),
            Conn::Cluster(c) => {
                c.refresh_if_stale().await?;
                Ok(c.slots
                    .read()
                    .master_slots()
                    .into_iter()
                    .map(|s| Node { slot: Some(s) })
                    .collect())
            }
            #[cfg(feature = "fred")]
            Conn::Fred(f) => f.nodes().await,
        }
    }

    /// `host:port` of each node, in [`Conn::nodes`] order (the URL host on standalone).
    pub(crate) fn node_names(&self, standalone: &str) -> Vec<String> {
        match self {
            Conn::Standalone(_) => vec![standalone.to_owned()],
            Conn::Cluster(c) => c.slots.read().masters().to_vec(),
            #[cfg(feature = "fred")]
            Conn::Fred(f) => f.node_names(standalone),
        }
    }

    /// Sends an idempotent command to one node (SCAN, INFO, PING).
    pub(crate) async fn query_node(&self, node: Node, cmd: &Cmd) -> RedisResult<Value> {
        match (self, node.slot) {
            (Conn::Cluster(c), Some(slot)) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::new(slot, SlotAddr::Master),
                ));
                lift(c.conn.clone().route_command(cmd.clone(), route).await)
            }
            #[cfg(feature = "fred")]
            (Conn::Fred(f), _) => f.query_node(node, cmd).await,
            _ => self.query(cmd).await,
        }
    }
}

/// A redis-rs client for `info` with the configured credentials (they override the URL's),
/// TLS certificates (feature `tls`), and RESP3 when `resp3` is set (for push messages).
pub(crate) fn client_for(
    info: redis::ConnectionInfo,
    config: &RedisConfig,
    resp3: bool,
) -> RedisResult<redis::Client> {
    let mut redis = info.redis_settings().clone();
    if let Some(user) = &config.username {
        redis = redis.set_username(user);
    }
    if let Some(pw) = &config.password {
        redis = redis.set_password(pw.expose());
    }
    if resp3 {
        redis = redis.set_protocol(redis::ProtocolVersion::RESP3);
    }
    let info = info.set_redis_settings(redis);
    #[cfg(feature = "tls")]
    if let Some(certs) = config.tls.redis_certificates() {
        return redis::Client::build_with_tls(info, certs);
    }
    redis::Client::open(info)
}

/// A single command's server error as an `Err` (redis-rs hands it back as a value).
pub(crate) fn lift(reply: RedisResult<Value>) -> RedisResult<Value> {
    match reply {
        Ok(Value::ServerError(e)) => Err(e.into()),
        other => other,
    }
}

impl ClusterConn {
    async fn refresh_slots(&self) -> RedisResult<()> {
        let reply = self
            .conn
            .clone()
            .route_command(
                redis::cmd("CLUSTER").arg("SLOTS").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            )
            .await?;
        let map = SlotMap::from_cluster_slots(&reply).ok_or_else(|| {
            RedisError::from((
                redis::ErrorKind::Parse,
                "CLUSTER SLOTS answered with an unexpected shape",
            ))
        })?;
        // A cluster still assigning slots gets its map read again on the next call.
        let complete = map.is_complete();
        *self.slots.write() = map;
        self.stale.store(!complete, Ordering::Release);
        Ok(())
    }

    async fn refresh_if_stale(&self) -> RedisResult<()> {
        if self.stale.load(Ordering::Acquire) {
            self.refresh_slots().await?;
        }
        Ok(())
    }

    async fn query_once(&self, cmd: &Cmd) -> RedisResult<Value> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let err = match lift(self.strict.clone().req_packed_command(cmd).await) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if attempt >= 5 {
                return Err(err);
            }
            match err.kind() {
                redis::ErrorKind::Server(ServerErrorKind::Moved) => {
                    // The client rebuilds its slot map on MOVED; give it a moment.
                    self.stale.store(true, Ordering::Release);
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                }
                redis::ErrorKind::Server(ServerErrorKind::Ask) => {
                    let Some((host, port)) = err.redirect_node() else {
                        return Err(err);
                    };
                    let mut pipe = redis::pipe();
                    pipe.cmd("ASKING").add_command(cmd.clone());
                    let route = SingleNodeRoutingInfo::ByAddress {
                        host: host.to_owned(),
                        port,
                    };
                    let mut replies = self
                        .strict
                        .clone()
                        .route_pipeline(pipe, 0, 2, route)
                        .await?;
                    match replies.pop() {
                        Some(Value::ServerError(e)) => {
                            let e = RedisError::from(e);
                            if !crate::error::is_redirect(&e) {
                                return Err(e);
                            }
                        }
                        Some(v) => return Ok(v),
                        None => {
                            return Err(RedisError::from((
                                redis::ErrorKind::Parse,
                                "ASKING pipeline returned no reply",
                            )));
                        }
                    }
                }
                redis::ErrorKind::Server(ServerErrorKind::TryAgain) => {
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
                _ => return Err(err),
            }
        }
    }

    async fn batch(&self, cmds: Vec<Routed>, once: bool) -> RedisResult<Vec<Value>> {
        self.refresh_if_stale().await?;
        // Group the commands by the master of their slot; keep each group's first slot to
        // route its pipeline.
        let mut groups: Vec<(u16, Vec<usize>)> = Vec::new();
        let mut unmapped = Vec::new();
        {
            let map = self.slots.read();
            let mut by_master: Vec<Option<usize>> = vec![None; map.masters().len()];
            for (i, r) in cmds.iter().enumerate() {
                let slot = slot_of(&r.key);
                match map.master_of(slot) {
                    Some(m) => match by_master[m] {
                        Some(g) => groups[g].1.push(i),
                        None => {
                            by_master[m] = Some(groups.len());
                            groups.push((slot, vec![i]));
                        }
                    },
                    None => unmapped.push(i),
                }
            }
        }
        let sends = groups.iter().map(|(slot, members)| {
            let mut pipe = Pipeline::with_capacity(members.len());
            for &i in members {
                pipe.add_command(cmds[i].cmd.clone());
            }
            let route = SingleNodeRoutingInfo::SpecificNode(Route::new(*slot, SlotAddr::Master));
            let mut conn = if once {
                self.strict.clone()
            } else {
                self.conn.clone()
            };
            let n = members.len();
            async move { conn.route_pipeline(pipe, 0, n, route).await }
        });
        let answers = try_join_all(sends).await?;
        let mut out = vec![Value::Nil; cmds.len()];
        let mut redo = unmapped;
        for ((_, members), replies) in groups.iter().zip(answers) {
            if replies.len() != members.len() {
                return Err(RedisError::from((
                    redis::ErrorKind::Parse,
                    "a pipeline returned a different number of replies than commands",
                )));
            }
            for (&i, v) in members.iter().zip(replies) {
                let moved = matches!(&v, Value::ServerError(e) if e.kind().is_some_and(|k| matches!(k, ServerErrorKind::Moved | ServerErrorKind::Ask | ServerErrorKind::TryAgain)));
                if moved {
                    redo.push(i);
                } else {
                    out[i] = v;
                }
            }
        }
        if !redo.is_empty() {
            // Slots moved under us: the server ran none of these, so sending each on its own
            // (the client follows the redirection) is safe.
            self.stale.store(true, Ordering::Release);
            let resend = redo.iter().map(|&i| {
                let mut conn = self.conn.clone();
                let cmd = &cmds[i].cmd;
                async move { conn.req_packed_command(cmd).await }
            });
            let values = try_join_all(resend).await?;
            for (i, v) in redo.into_iter().zip(values) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}
