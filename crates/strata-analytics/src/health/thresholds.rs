//! The thresholds the health rules compare against.

use std::time::Duration;

use serde::Serialize;

/// Where each health rule draws its line (see docs/observability.md for the rules and their
/// weights).
///
/// ```
/// use std::time::Duration;
/// use strata_analytics::HealthThresholds;
/// let t = HealthThresholds::default().l1_hit_ratio(0.8).p95_latency(Duration::from_millis(2));
/// assert_eq!(t.min_requests, 1_000);
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthThresholds {
    /// The lowest acceptable L1 hit ratio (default 0.70).
    pub l1_hit_ratio: f64,
    /// The lowest acceptable overall hit ratio (default 0.60).
    pub overall_hit_ratio: f64,
    /// The highest acceptable share of operations that fail (default 0.01).
    pub error_rate: f64,
    /// The highest acceptable 95th percentile of `get` latency (default 5 ms).
    #[serde(rename = "p95_latency_ms", serialize_with = "ser_ms")]
    pub p95_latency: Duration,
    /// The highest acceptable share of a tier's memory in use (default 0.90).
    pub memory_pressure: f64,
    /// The longest acceptable delay for an invalidation to reach every node (default 1 s).
    #[serde(rename = "invalidation_lag_ms", serialize_with = "ser_ms")]
    pub invalidation_lag: Duration,
    /// Reads needed before hit ratios are judged (default 1,000); before that the cache is
    /// warming up.
    pub min_requests: u64,
    /// Latency samples needed before latency is judged (default 20).
    pub min_latency_samples: u64,
    /// Operations needed before the error rate is judged (default 100), so that one failed
    /// call among the first few does not mark the cache critical.
    pub min_operations: u64,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1_000.0)
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            l1_hit_ratio: 0.70,
            overall_hit_ratio: 0.60,
            error_rate: 0.01,
            p95_latency: Duration::from_millis(5),
            memory_pressure: 0.90,
            invalidation_lag: Duration::from_secs(1),
            min_requests: 1_000,
            min_latency_samples: 20,
            min_operations: 100,
        }
    }
}

impl HealthThresholds {
    /// Sets the operations needed before the error rate is judged.
    pub fn min_operations(mut self, n: u64) -> Self {
        self.min_operations = n;
        self
    }

    /// Sets the lowest acceptable L1 hit ratio.
    pub fn l1_hit_ratio(mut self, v: f64) -> Self {
        self.l1_hit_ratio = v;
        self
    }

    /// Sets the lowest acceptable overall hit ratio.
    pub fn overall_hit_ratio(mut self, v: f64) -> Self {
        self.overall_hit_ratio = v;
        self
    }

    /// Sets the highest acceptable error rate.
    pub fn error_rate(mut self, v: f64) -> Self {
        self.error_rate = v;
        self
    }

    /// Sets the highest acceptable p95 `get` latency.
    pub fn p95_latency(mut self, d: Duration) -> Self {
        self.p95_latency = d;
        self
    }

    /// Sets the highest acceptable memory pressure.
    pub fn memory_pressure(mut self, v: f64) -> Self {
        self.memory_pressure = v;
        self
    }

    /// Sets the longest acceptable invalidation lag.
    pub fn invalidation_lag(mut self, d: Duration) -> Self {
        self.invalidation_lag = d;
        self
    }

    /// Sets the reads needed before hit ratios are judged.
    pub fn min_requests(mut self, n: u64) -> Self {
        self.min_requests = n;
        self
    }

    /// Sets the latency samples needed before latency is judged.
    pub fn min_latency_samples(mut self, n: u64) -> Self {
        self.min_latency_samples = n;
        self
    }
}
