//! [`InvalidationBus`] on Redis PUBLISH/SUBSCRIBE, on the channel `<prefix>#bus`.
//!
//! A subscription is a task with its own connection (a subscribed connection can do nothing
//! else) that reports `Connected`, forwards messages, reports `Disconnected` when the
//! connection drops, and reconnects with backoff (on a cluster, to the next seed node: a
//! message published on any node reaches every node's subscribers). It ends when the stream
//! is dropped.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use strata_core::{BusEvent, InvalidationBus, Result};
use tokio::sync::mpsc;

use super::reconnect;
use crate::retry::Idempotency;
use crate::store::RedisStore;

impl InvalidationBus for RedisStore {
    async fn publish(&self, payload: Bytes) -> Result<u64> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(self.bus_channel()).arg(payload.as_ref());
        // Publishing twice only repeats an invalidation, which is harmless.
        let reply = self
            .call("publish", Idempotency::Idempotent, || {
                self.conn().query(&cmd)
            })
            .await?;
        Ok(match reply {
            redis::Value::Int(n) => u64::try_from(n).unwrap_or(0),
            _ => 0,
        })
    }

    fn subscribe(&self) -> BoxStream<'static, BusEvent> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return stream::iter([BusEvent::Disconnected {
                reason: "subscribe needs a tokio runtime".to_owned(),
            }])
            .boxed();
        };
        let (tx, rx) = mpsc::channel(reconnect::BUFFER);
        let clients = self.plain_clients(false);
        let channel = self.bus_channel();
        let connect_timeout = self.config().connect_timeout;
        let password = self.config().password.clone();
        runtime.spawn(async move {
            let clients = match clients {
                Ok(c) if !c.is_empty() => c,
                Ok(_) => return,
                Err(e) => {
                    let _ = tx
                        .send(BusEvent::Disconnected {
                            reason: e.to_string(),
                        })
                        .await;
                    return;
                }
            };
            let mut failures = 0u32;
            for seed in (0..clients.len()).cycle() {
                if tx.is_closed() {
                    return;
                }
                let connecting =
                    tokio::time::timeout(connect_timeout, clients[seed].get_async_pubsub()).await;
                let reason = match connecting {
                    Ok(Ok(mut pubsub)) => match pubsub.subscribe(&channel).await {
                        Ok(()) => {
                            failures = 0;
                            if tx.send(BusEvent::Connected).await.is_err() {
                                return;
                            }
                            let mut messages = pubsub.on_message();
                            loop {
                                tokio::select! {
                                    msg = messages.next() => match msg {
                                        Some(msg) => {
                                            let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
                                            if tx.send(BusEvent::Message(payload)).await.is_err() {
                                                return;
                                            }
                                        }
                                        None => break,
                                    },
                                    () = tx.closed() => return,
                                }
                            }
                            "the subscription connection closed".to_owned()
                        }
                        Err(e) => format!("SUBSCRIBE failed: {e}"),
                    },
                    Ok(Err(e)) => format!("cannot connect: {e}"),
                    Err(_) => format!("cannot connect within {connect_timeout:?}"),
                };
                let reason = crate::secret::scrub(&reason, password.as_ref());
                if !reconnect::lost(&tx, &mut failures, BusEvent::Disconnected { reason }).await {
                    return;
                }
            }
        });
        reconnect::events(rx)
    }
}
