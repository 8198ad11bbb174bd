//! Publishing invalidations to every node.

use std::future::Future;

use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::error::Result;

/// What a subscriber sees: messages, and the state of its connection. Between a
/// `Disconnected` and the next `Connected`, messages may have been lost: a consumer must treat
/// what it caches from the shared store as possibly stale (drop it, or stop serving it) until
/// it is connected again.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusEvent {
    /// Subscribed (first, and again after each reconnection).
    Connected,
    /// A published payload, as the publisher sent it.
    Message(Bytes),
    /// The subscription was lost; the bus reconnects by itself.
    Disconnected {
        /// Why, for logs.
        reason: String,
    },
}

/// A broadcast channel between the nodes sharing a backend. Payloads are opaque bytes (the
/// tiering layer defines their format); every subscriber, including the publisher's own,
/// receives each message published while it is connected.
pub trait InvalidationBus: Send + Sync + 'static {
    /// Publishes `payload`; returns how many subscribers received it, when the backend
    /// knows.
    fn publish(&self, payload: Bytes) -> impl Future<Output = Result<u64>> + Send;

    /// A stream of events that lasts until it is dropped, reconnecting by itself.
    fn subscribe(&self) -> BoxStream<'static, BusEvent>;
}
