//! [`KeyTracking`] on Redis: RESP3 client-side tracking in broadcast mode
//! (`CLIENT TRACKING ON BCAST PREFIX <prefix>:`), armed on every master of a cluster, so a
//! write to a value key by any client (even `redis-cli`) is reported, and a FLUSHALL or
//! FLUSHDB is reported as `Flushed`. Tag sets and locks (`<prefix>#...`) are outside the
//! tracked prefix.
//!
//! Neither redis-rs nor the server re-arms tracking after a reconnection, so a tracking
//! stream is a task that owns one RESP3 connection per master: it reports `Armed`, forwards
//! invalidations, and on a dropped connection (a restart, a failover) or a change in the set
//! of masters (checked every second on a cluster) reports `Disconnected`, drops its
//! connections and arms fresh ones with backoff. On a fresh connection the prefix cannot
//! overlap one armed before; should the server still answer that it overlaps, the prefix is
//! already tracked on that connection and the answer is taken as success.
//!
//! A server that refuses tracking with an error reply (a managed Redis that disables or
//! renames `CLIENT`, an ACL user without `client|tracking`, a server without RESP3) is not
//! retried: the stream reports `Unavailable` with the server's answer and ends, so the
//! consumer knows only its own channel keeps local copies coherent.
//!
//! [`KeyTracking`]: strata_core::KeyTracking

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};
use strata_core::{KeyTracking, TrackingEvent};
use tokio::sync::mpsc;

use super::reconnect;
use crate::conn::SlotMap;
use crate::store::RedisStore;

/// How often a cluster's set of masters is compared with the one tracking was armed on.
const TOPOLOGY_CHECK: Duration = Duration::from_secs(1);

impl KeyTracking for RedisStore {
    fn track(&self) -> BoxStream<'static, TrackingEvent> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return stream::iter([TrackingEvent::Disconnected {
                reason: "track needs a tokio runtime".to_owned(),
            }])
            .boxed();
        };
        let (tx, rx) = mpsc::channel(reconnect::BUFFER);
        let store = self.clone();
        runtime.spawn(async move {
            let mut failures = 0u32;
            loop {
                if tx.is_closed() {
                    return;
                }
                let (push_tx, mut pushes) = mpsc::unbounded_channel::<PushInfo>();
                let reason = match store.arm_tracking(push_tx).await {
                    Ok((connections, masters)) => {
                        failures = 0;
                        if tx.send(TrackingEvent::Armed).await.is_err() {
                            return;
                        }
                        let reason = loop {
                            tokio::select! {
                                push = pushes.recv() => match push {
                                    Some(push) if push.kind == PushKind::Invalidate => {
                                        let event = store.invalidation_event(push.data);
                                        if let Some(event) = event
                                            && tx.send(event).await.is_err()
                                        {
                                            return;
                                        }
                                    }
                                    Some(push) if push.kind == PushKind::Disconnection => {
                                        break "a tracking connection closed".to_owned();
                                    }
                                    Some(_) => {}
                                    None => break "the tracking connections ended".to_owned(),
                                },
                                () = tokio::time::sleep(TOPOLOGY_CHECK), if store.is_cluster() => {
                                    match store.masters().await {
                                        Ok(now) if now != masters => {
                                            break "the cluster's masters changed".to_owned();
                                        }
                                        Ok(_) => {}
                                        Err(e) => break format!("cannot read the cluster's slots: {e}"),
                                    }
                                }
                                () = tx.closed() => return,
                            }
                        };
                        drop(connections);
                        reason
                    }
                    Err(ArmError::Retry(e)) => e,
                    Err(ArmError::Refused(reason)) => {
                        let _ = tx.send(TrackingEvent::Unavailable { reason }).await;
                        return;
                    }
                };
                if !reconnect::lost(&tx, &mut failures, TrackingEvent::Disconnected { reason })
                    .await
                {
                    return;
                }
            }
        });
        reconnect::events(rx)
    }
}

/// Why tracking could not be armed.
enum ArmError {
    /// A connection problem: try again with backoff.
    Retry(String),
    /// The server answered `CLIENT TRACKING` with an error: it will not track.
    Refused(String),
}

/// True when `e` is the server's refusal (an error reply), not a transport failure or a
/// transient cluster state.
fn refused(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        return false;
    }
    !matches!(
        e.kind(),
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::Moved
                | ServerErrorKind::Ask
        ) | ErrorKind::ClusterConnectionNotFound
    )
}

impl RedisStore {
    /// `host:port` of every node holding data, sorted.
    async fn masters(&self) -> Result<Vec<String>, String> {
        if !self.is_cluster() {
            return Ok(Vec::new());
        }
        let reply = self
            .conn()
            .query(redis::cmd("CLUSTER").arg("SLOTS"))
            .await
            .map_err(|e| crate::secret::scrub(&e.to_string(), self.config().password.as_ref()))?;
        let map = SlotMap::from_cluster_slots(&reply)
            .ok_or_else(|| "CLUSTER SLOTS answered with an unexpected shape".to_owned())?;
        let mut masters = map.masters().to_vec();
        masters.sort();
        Ok(masters)
    }

    /// Opens a RESP3 connection to each master, pushing into `pushes`, and arms broadcast
    /// tracking of the value prefix on each. Returns the connections (tracking lasts while
    /// they do) and the masters they reach.
    async fn arm_tracking(
        &self,
        pushes: mpsc::UnboundedSender<PushInfo>,
    ) -> Result<(Vec<redis::aio::MultiplexedConnection>, Vec<String>), ArmError> {
        let scrub = |e: &dyn std::fmt::Display| {
            crate::secret::scrub(&e.to_string(), self.config().password.as_ref())
        };
        let clients: Vec<(String, redis::Client)> = if self.is_cluster() {
            let masters = self.masters().await.map_err(ArmError::Retry)?;
            let mut out = Vec::new();
            for addr in masters {
                let client = self
                    .client_for_node(&addr, true)
                    .map_err(|e| ArmError::Retry(scrub(&e)))?;
                out.push((addr, client));
            }
            out
        } else {
            let clients = self
                .plain_clients(true)
                .map_err(|e| ArmError::Retry(scrub(&e)))?;
            clients.into_iter().map(|c| (String::new(), c)).collect()
        };
        let prefix = self.tracking_prefix();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config().connect_timeout))
            .set_response_timeout(Some(self.config().command_timeout()))
            .set_push_sender(pushes);
        let mut connections = Vec::new();
        let mut masters = Vec::new();
        for (addr, client) in clients {
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| {
                    let reason = format!("cannot connect for tracking: {}", scrub(&e));
                    if e.kind() == redis::ErrorKind::RESP3NotSupported {
                        ArmError::Refused(reason)
                    } else {
                        ArmError::Retry(reason)
                    }
                })?;
            let mut cmd = redis::cmd("CLIENT");
            cmd.arg("TRACKING")
                .arg("ON")
                .arg("BCAST")
                .arg("PREFIX")
                .arg(&prefix);
            match cmd.query_async::<()>(&mut conn).await {
                Ok(()) => {}
                Err(e) if e.to_string().contains("overlap") => {}
                Err(e) => {
                    let reason = format!("CLIENT TRACKING failed: {}", scrub(&e));
                    return Err(if refused(&e) {
                        ArmError::Refused(reason)
                    } else {
                        ArmError::Retry(reason)
                    });
                }
            }
            connections.push(conn);
            masters.push(addr);
        }
        masters.sort();
        if !self.is_cluster() {
            masters.clear();
        }
        Ok((connections, masters))
    }

    /// The event of an `invalidate` push: keys (those that are Strata keys), or `Flushed`
    /// when the server sent no list (FLUSHALL, FLUSHDB).
    fn invalidation_event(&self, data: Vec<Value>) -> Option<TrackingEvent> {
        match data.into_iter().next() {
            None | Some(Value::Nil) => Some(TrackingEvent::Flushed),
            Some(Value::Array(keys) | Value::Set(keys)) => {
                let keys: Vec<_> = keys
                    .into_iter()
                    .filter_map(|k| match k {
                        Value::BulkString(raw) => self.parse_key(&raw),
                        _ => None,
                    })
                    .collect();
                (!keys.is_empty()).then_some(TrackingEvent::Invalidated(keys))
            }
            Some(_) => None,
        }
    }
}
