//! [`AnalyticsBuilder`]: sampling, the event log's size, key recording, the clock, health
//! thresholds and the trend window.

use std::collections::VecDeque;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strata_core::{Error, Result, SharedClock, SystemClock, Timestamp};

use crate::events::EventLog;
use crate::health::{HealthThresholds, History};
use crate::layer::AnalyticsLayer;
use crate::metrics::Registry;
use crate::tier::Tier;

/// The state every store of one analytics layer (and its [`AnalyticsLayer::for_tier`]
/// siblings) shares.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) events: EventLog,
    pub(crate) clock: SharedClock,
    pub(crate) sample_every: u32,
    pub(crate) record_keys: bool,
    pub(crate) thresholds: HealthThresholds,
    pub(crate) trend_window: Duration,
    pub(crate) history: Mutex<History>,
    pub(crate) lags: Mutex<VecDeque<(Timestamp, Duration)>>,
    /// The last assessment's score, -1 before the first.
    pub(crate) last_score: AtomicI64,
}

/// Configures an [`AnalyticsLayer`].
///
/// ```
/// use std::time::Duration;
/// use strata_analytics::{AnalyticsLayer, HealthThresholds};
/// let analytics = AnalyticsLayer::builder()
///     .sample_every(16)
///     .event_capacity(10_000)
///     .thresholds(HealthThresholds::default().l1_hit_ratio(0.8))
///     .trend_window(Duration::from_secs(600))
///     .build()?;
/// # Ok::<(), strata_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AnalyticsBuilder {
    sample_every: u32,
    event_capacity: usize,
    namespace_slots: usize,
    record_keys: bool,
    clock: Option<SharedClock>,
    thresholds: HealthThresholds,
    trend_window: Duration,
}

impl Default for AnalyticsBuilder {
    fn default() -> Self {
        AnalyticsBuilder {
            sample_every: 64,
            event_capacity: 1024,
            namespace_slots: 1024,
            record_keys: false,
            clock: None,
            thresholds: HealthThresholds::default(),
            trend_window: Duration::from_secs(300),
        }
    }
}

impl AnalyticsBuilder {
    /// Times one operation in `n` per thread for the latency histograms (default 64; 1 times
    /// every operation).
    pub fn sample_every(mut self, n: u32) -> Self {
        self.sample_every = n;
        self
    }

    /// How many invalidation events the log keeps (default 1,024; the oldest go first).
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n;
        self
    }

    /// How many namespaces get counters of their own before the rest are counted together
    /// (default 1,024).
    pub fn namespace_slots(mut self, n: usize) -> Self {
        self.namespace_slots = n;
        self
    }

    /// Records key ids in tracing spans (default off: keys can be personal data). Values are
    /// never recorded.
    pub fn record_keys(mut self, on: bool) -> Self {
        self.record_keys = on;
        self
    }

    /// The clock for event times, latencies and the trend (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The health thresholds.
    pub fn thresholds(mut self, t: HealthThresholds) -> Self {
        self.thresholds = t;
        self
    }

    /// The trend's window: the score's mean over the last window is compared with the one
    /// before (default 5 minutes).
    pub fn trend_window(mut self, d: Duration) -> Self {
        self.trend_window = d;
        self
    }

    /// The layer (recording [`Tier::Overall`]); a zero sampling rate or trend window is
    /// [`ErrorKind::InvalidConfig`](strata_core::ErrorKind::InvalidConfig).
    pub fn build(self) -> Result<AnalyticsLayer> {
        if self.sample_every == 0 {
            return Err(Error::invalid_config(
                "sample_every must be at least 1 (1 times every operation)",
            ));
        }
        if self.trend_window.is_zero() {
            return Err(Error::invalid_config(
                "trend_window must be longer than zero",
            ));
        }
        for (name, v) in [
            ("l1_hit_ratio", self.thresholds.l1_hit_ratio),
            ("overall_hit_ratio", self.thresholds.overall_hit_ratio),
            ("error_rate", self.thresholds.error_rate),
            ("memory_pressure", self.thresholds.memory_pressure),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::invalid_config(format!(
                    "health threshold {name} is {v}; it must be between 0 and 1"
                )));
            }
        }
        let shared = Shared {
            registry: Registry::new(self.namespace_slots),
            events: EventLog::new(self.event_capacity),
            clock: self.clock.unwrap_or_else(SystemClock::shared),
            sample_every: self.sample_every,
            record_keys: self.record_keys,
            thresholds: self.thresholds,
            trend_window: self.trend_window,
            history: Mutex::new(History::default()),
            lags: Mutex::new(VecDeque::new()),
            last_score: AtomicI64::new(-1),
        };
        Ok(AnalyticsLayer::from_shared(Arc::new(shared), Tier::Overall))
    }
}
