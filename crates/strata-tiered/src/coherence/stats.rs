//! What coherence counts: messages, gaps, L1 entries dropped, fenced fills, and the
//! invalidation lag (publish to applied) in an hdrhistogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

/// Coherence counters of a tiered store ([`TieredStore::coherence_stats`]).
///
/// [`TieredStore::coherence_stats`]: crate::TieredStore::coherence_stats
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CoherenceStats {
    /// Invalidations this node published.
    pub messages_sent: u64,
    /// Publications that failed (the next heartbeat tells the others they missed one).
    pub publish_errors: u64,
    /// Heartbeats this node published.
    pub heartbeats_sent: u64,
    /// Backplane messages received from other nodes (invalidations and heartbeats).
    pub messages_received: u64,
    /// This node's own messages heard back and not applied.
    pub own_messages_ignored: u64,
    /// Bus payloads that were not backplane messages (each drops all of L1).
    pub malformed_messages: u64,
    /// Gaps in another node's sequence (a lost message), by a later message or a heartbeat.
    pub gaps_detected: u64,
    /// Times this node stopped hearing its own heartbeat while the bus said it was connected.
    pub heartbeats_missed: u64,
    /// Keys reported written by Redis client-side tracking.
    pub tracking_invalidations: u64,
    /// Flushes reported by tracking (FLUSHALL, FLUSHDB).
    pub flushes: u64,
    /// Times L1 was dropped whole or in part for a lost message, flush or connection.
    pub l1_drops: u64,
    /// L1 entries removed by coherence (remote invalidations, tracking, gaps, flushes).
    pub l1_entries_dropped: u64,
    /// Fills not written (to L2 or L1) because an invalidation came after their miss.
    pub fills_fenced: u64,
    /// Values served past their logical expiry (fail-safe copies) by this store.
    pub stale_served: u64,
    /// Times L1 was bypassed (not read, not filled) because the bus or tracking was down.
    pub bypass_periods: u64,
    /// True while L1 is served (bus connected, own heartbeat heard, tracking armed or
    /// unavailable).
    pub serving_l1: bool,
    /// Invalidation lag, publish to applied on this node, in milliseconds.
    pub lag: LagSummary,
}

/// Quantiles of the invalidation lag (publish on one node to applied on this one), in
/// milliseconds, from a histogram of microseconds. Across hosts it includes their clock skew.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LagSummary {
    /// Samples (remote invalidations applied).
    pub samples: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) messages_sent: AtomicU64,
    pub(crate) publish_errors: AtomicU64,
    pub(crate) heartbeats_sent: AtomicU64,
    pub(crate) messages_received: AtomicU64,
    pub(crate) own_messages_ignored: AtomicU64,
    pub(crate) malformed_messages: AtomicU64,
    pub(crate) gaps_detected: AtomicU64,
    pub(crate) heartbeats_missed: AtomicU64,
    pub(crate) tracking_invalidations: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) l1_drops: AtomicU64,
    pub(crate) l1_entries_dropped: AtomicU64,
    pub(crate) fills_fenced: AtomicU64,
    pub(crate) stale_served: AtomicU64,
    pub(crate) bypass_periods: AtomicU64,
}

pub(crate) fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// The lag histogram: microseconds from 1 µs to 10 minutes, 3 significant figures.
#[derive(Debug)]
pub(crate) struct Lag(Mutex<Histogram<u64>>);

impl Default for Lag {
    fn default() -> Self {
        let h = Histogram::new_with_bounds(1, 600_000_000, 3)
            .expect("constant bounds hdrhistogram accepts");
        Lag(Mutex::new(h))
    }
}

impl Lag {
    pub(crate) fn record(&self, lag: Duration) {
        let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX).max(1);
        self.0.lock().saturating_record(micros);
    }

    pub(crate) fn summary(&self) -> LagSummary {
        let h = self.0.lock();
        if h.is_empty() {
            return LagSummary::default();
        }
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
        LagSummary {
            samples: h.len(),
            p50_ms: ms(0.5),
            p90_ms: ms(0.9),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: h.max() as f64 / 1_000.0,
        }
    }

    pub(crate) fn reset(&self) {
        self.0.lock().reset();
    }
}

impl Counters {
    pub(crate) fn snapshot(&self, serving_l1: bool, lag: LagSummary) -> CoherenceStats {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CoherenceStats {
            messages_sent: g(&self.messages_sent),
            publish_errors: g(&self.publish_errors),
            heartbeats_sent: g(&self.heartbeats_sent),
            messages_received: g(&self.messages_received),
            own_messages_ignored: g(&self.own_messages_ignored),
            malformed_messages: g(&self.malformed_messages),
            gaps_detected: g(&self.gaps_detected),
            heartbeats_missed: g(&self.heartbeats_missed),
            tracking_invalidations: g(&self.tracking_invalidations),
            flushes: g(&self.flushes),
            l1_drops: g(&self.l1_drops),
            l1_entries_dropped: g(&self.l1_entries_dropped),
            fills_fenced: g(&self.fills_fenced),
            stale_served: g(&self.stale_served),
            bypass_periods: g(&self.bypass_periods),
            serving_l1,
            lag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_quantiles_in_milliseconds() {
        let lag = Lag::default();
        assert_eq!(lag.summary().samples, 0);
        for us in 1..=100u64 {
            lag.record(Duration::from_micros(us * 100));
        }
        let s = lag.summary();
        assert_eq!(s.samples, 100);
        assert!((s.p50_ms - 5.0).abs() < 0.1, "{s:?}");
        assert!((s.p99_ms - 9.9).abs() < 0.1, "{s:?}");
        assert!((s.max_ms - 10.0).abs() < 0.1, "{s:?}");
        lag.reset();
        assert_eq!(lag.summary().samples, 0);
    }
}
