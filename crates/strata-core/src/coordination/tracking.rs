//! Hearing about writes to the shared store made by anyone, so local copies can be dropped.

use futures_util::stream::BoxStream;

use crate::key::Key;

/// What a tracking stream reports.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackingEvent {
    /// Tracking is on (first, and again after each re-arm). Writes made while it was off were
    /// not reported: drop local copies, or do not serve them, until this arrives.
    Armed,
    /// These keys were written, deleted or expired (by any client).
    Invalidated(Vec<Key>),
    /// Everything may have changed (the backend was flushed): drop every local copy.
    Flushed,
    /// Tracking was lost (disconnection, restart, topology change); it re-arms by itself.
    Disconnected {
        /// Why, for logs.
        reason: String,
    },
    /// The backend refuses tracking (a server that disables `CLIENT TRACKING`, an ACL that
    /// denies it, a client without it). The last event of its stream: no `Armed` follows,
    /// and writes by other clients are not reported, so only an application channel (the
    /// invalidation bus) keeps local copies coherent.
    Unavailable {
        /// Why, for health reports.
        reason: String,
    },
}

/// A store that reports writes to its keys made by any client (Redis client-side tracking).
pub trait KeyTracking: Send + Sync + 'static {
    /// A stream of events that lasts until it is dropped, re-arming by itself.
    fn track(&self) -> BoxStream<'static, TrackingEvent>;
}
