//! The circuit breaker in front of every Redis call: after repeated failures it fails fast
//! with [`ErrorKind::Unavailable`](strata_core::ErrorKind::Unavailable) instead of letting
//! each caller wait for a timeout, then lets one probe through to see whether Redis is back.
//!
//! The decision (when to open) is [`BreakerConfig`]; the mechanism (states, the probe) is
//! [`CircuitBreaker`]. States: closed (calls pass) → open (calls fail fast for
//! `open_for`) → half-open (one probe passes; success closes, failure re-opens).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use strata_core::{Error, ErrorKind, SharedClock};

/// When the breaker opens, and for how long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerConfig {
    /// False turns the breaker off (every call goes to Redis).
    pub enabled: bool,
    /// Opens after this many failures in a row.
    pub consecutive_failures: u32,
    /// Opens when at least `min_calls` calls in the current window failed at this rate
    /// (0 to 1).
    pub failure_rate: f64,
    /// The calls a window needs before `failure_rate` is judged.
    pub min_calls: u32,
    /// The length of a failure-rate window.
    pub window: Duration,
    /// How long it stays open before letting a probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    /// Opens after 5 failures in a row or a 50 % failure rate over at least 20 calls in
    /// 10 s; stays open 2 s.
    fn default() -> Self {
        BreakerConfig {
            enabled: true,
            consecutive_failures: 5,
            failure_rate: 0.5,
            min_calls: 20,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(2),
        }
    }
}

impl BreakerConfig {
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(self.failure_rate > 0.0 && self.failure_rate <= 1.0) {
            out.push(format!(
                "breaker.failure_rate is {}; it must be in (0, 1]",
                self.failure_rate
            ));
        }
        if self.consecutive_failures == 0 {
            out.push("breaker.consecutive_failures is 0; it must be at least 1".to_owned());
        }
        if self.window.is_zero() || self.open_for.is_zero() {
            out.push("breaker.window and breaker.open_for must be longer than zero".to_owned());
        }
        out
    }
}

/// A breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe call is allowed through.
    HalfOpen,
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// The breaker's mechanism. Lock-free: a call that passes a closed breaker costs one atomic
/// load before, and after it a clock read and one relaxed increment (the window's calls).
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    config: BreakerConfig,
    clock: SharedClock,
    state: AtomicU8,
    probing: AtomicBool,
    consecutive: AtomicU32,
    window_start_ms: AtomicU64,
    window_calls: AtomicU32,
    window_failures: AtomicU32,
    opened_at_ms: AtomicU64,
    opened: AtomicU64,
    rejected: AtomicU64,
}

/// A permit to call Redis; report the outcome with [`CircuitBreaker::record`].
#[derive(Debug)]
#[must_use]
pub(crate) struct Permit {
    probe: bool,
}

impl CircuitBreaker {
    pub(crate) fn new(config: BreakerConfig, clock: SharedClock) -> Self {
        let now = clock.now().as_millis();
        CircuitBreaker {
            config,
            clock,
            state: AtomicU8::new(CLOSED),
            probing: AtomicBool::new(false),
            consecutive: AtomicU32::new(0),
            window_start_ms: AtomicU64::new(now),
            window_calls: AtomicU32::new(0),
            window_failures: AtomicU32::new(0),
            opened_at_ms: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> BreakerState {
        match self.state.load(Ordering::Acquire) {
            OPEN => BreakerState::Open,
            HALF_OPEN => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }

    /// Times it opened, and calls it refused.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.opened.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
        )
    }

    /// A permit, or an `Unavailable` error while the breaker is open.
    pub(crate) fn acquire(&self) -> Result<Permit, Error> {
        if !self.config.enabled {
            return Ok(Permit { probe: false });
        }
        match self.state.load(Ordering::Acquire) {
            CLOSED => Ok(Permit { probe: false }),
            OPEN => {
                let since = self
                    .clock
                    .now()
                    .as_millis()
                    .saturating_sub(self.opened_at_ms.load(Ordering::Acquire));
                if u128::from(since) >= self.config.open_for.as_millis()
                    && self
                        .state
                        .compare_exchange(OPEN, HALF_OPEN, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    self.probing.store(true, Ordering::Release);
                    return Ok(Permit { probe: true });
                }
                Err(self.refuse())
            }
            _ => Err(self.refuse()),
        }
    }

    fn refuse(&self) -> Error {
        self.rejected.fetch_add(1, Ordering::Relaxed);
        Error::new(
            ErrorKind::Unavailable,
            "Redis circuit breaker is open after repeated failures; calls fail fast until a probe succeeds",
        )
    }

    /// Records how a call went. Only failures that say Redis is unwell count (unavailable,
    /// timeout); bad input or a full server does not.
    pub(crate) fn record(&self, permit: Permit, outcome: Result<(), &Error>) {
        if !self.config.enabled {
            return;
        }
        let failed = matches!(
            outcome,
            Err(e) if matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Timeout)
        );
        if permit.probe {
            self.probing.store(false, Ordering::Release);
            if failed {
                self.open();
            } else {
                self.consecutive.store(0, Ordering::Relaxed);
                self.reset_window(self.clock.now().as_millis());
                self.state.store(CLOSED, Ordering::Release);
            }
            return;
        }
        let now = self.clock.now().as_millis();
        let start = self.window_start_ms.load(Ordering::Relaxed);
        if u128::from(now.saturating_sub(start)) >= self.config.window.as_millis()
            && self
                .window_start_ms
                .compare_exchange(start, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.reset_window(now);
        }
        let calls = self.window_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if !failed {
            // Written only when it changes: every call on every thread passes here, and a
            // store would make them all write one cache line.
            if self.consecutive.load(Ordering::Relaxed) != 0 {
                self.consecutive.store(0, Ordering::Relaxed);
            }
            return;
        }
        let in_a_row = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = self.window_failures.fetch_add(1, Ordering::Relaxed) + 1;
        let rate_trips = calls >= self.config.min_calls
            && f64::from(failures) / f64::from(calls) >= self.config.failure_rate;
        if in_a_row >= self.config.consecutive_failures || rate_trips {
            self.open();
        }
    }

    fn reset_window(&self, now: u64) {
        self.window_start_ms.store(now, Ordering::Relaxed);
        self.window_calls.store(0, Ordering::Relaxed);
        self.window_failures.store(0, Ordering::Relaxed);
    }

    fn open(&self) {
        self.opened_at_ms
            .store(self.clock.now().as_millis(), Ordering::Release);
        if self.state.swap(OPEN, Ordering::AcqRel) != OPEN {
            self.opened.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("Redis circuit breaker opened");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use strata_core::ManualClock;

    fn breaker(clock: &Arc<ManualClock>) -> CircuitBreaker {
        CircuitBreaker::new(
            BreakerConfig {
                consecutive_failures: 3,
                min_calls: 10,
                failure_rate: 0.5,
                ..BreakerConfig::default()
            },
            clock.clone(),
        )
    }

    fn fail(b: &CircuitBreaker) {
        let err = Error::new(ErrorKind::Unavailable, "down");
        let p = b.acquire().unwrap();
        b.record(p, Err(&err));
    }

    fn succeed(b: &CircuitBreaker) {
        let p = b.acquire().unwrap();
        b.record(p, Ok(()));
    }

    #[test]
    fn opens_after_failures_in_a_row_then_probes_and_closes() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        fail(&b);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Closed);
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        let err = b.acquire().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        clock.advance(Duration::from_secs(2));
        let probe = b.acquire().unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.acquire().is_err(), "only one probe at a time");
        b.record(probe, Ok(()));
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.counts(), (1, 2));
    }

    #[test]
    fn a_failed_probe_reopens() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        for _ in 0..3 {
            fail(&b);
        }
        clock.advance(Duration::from_secs(2));
        fail(&b);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.acquire().is_err());
    }

    #[test]
    fn opens_on_failure_rate_and_ignores_bad_input() {
        let clock = Arc::new(ManualClock::new());
        let b = breaker(&clock);
        let codec = Error::codec("bad");
        for _ in 0..20 {
            let p = b.acquire().unwrap();
            b.record(p, Err(&codec));
        }
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "bad input is not an outage"
        );
        clock.advance(Duration::from_secs(11));
        for _ in 0..5 {
            succeed(&b);
            fail(&b);
        }
        assert_eq!(b.state(), BreakerState::Open, "50 % of 10 calls failed");
    }
}
