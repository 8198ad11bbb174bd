//! Latency histograms per operation (hdrhistogram), fed by sampled operations.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::operation::Operation;

/// The longest latency recorded exactly (60 s); longer ones are recorded as 60 s.
const MAX_NANOS: u64 = 60_000_000_000;

/// One histogram per operation, created when the operation is first sampled.
#[derive(Default)]
pub(crate) struct Latencies {
    /// `None` only if hdrhistogram refused the (constant) bounds; nothing is recorded then.
    by_op: [OnceLock<Option<Mutex<Histogram<u64>>>>; Operation::ALL.len()],
}

impl Latencies {
    pub(crate) fn record(&self, op: Operation, d: Duration) {
        let slot = self.by_op[op.index()].get_or_init(|| {
            // Two significant figures from 1 ns to 60 s: about 20 KiB per histogram.
            Histogram::new_with_bounds(1, MAX_NANOS, 2)
                .ok()
                .map(Mutex::new)
        });
        let Some(h) = slot else { return };
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
        h.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .saturating_record(nanos.min(MAX_NANOS));
    }

    pub(crate) fn summary(&self, op: Operation) -> Option<LatencySummary> {
        let h = self.by_op[op.index()].get()?.as_ref()?;
        let h = h.lock().unwrap_or_else(PoisonError::into_inner);
        (!h.is_empty()).then(|| LatencySummary {
            samples: h.len(),
            avg_us: h.mean() / 1_000.0,
            p50_us: h.value_at_quantile(0.50) as f64 / 1_000.0,
            p95_us: h.value_at_quantile(0.95) as f64 / 1_000.0,
            p99_us: h.value_at_quantile(0.99) as f64 / 1_000.0,
            max_us: h.max() as f64 / 1_000.0,
        })
    }
}

/// An operation's latency over its samples, in microseconds.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Operations timed (one in `sample_every`).
    pub samples: u64,
    /// Mean.
    pub avg_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 95th percentile.
    pub p95_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Slowest.
    pub max_us: f64,
}
