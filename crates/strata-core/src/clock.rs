//! Time, from one place: every TTL decision in Strata reads a [`Clock`].
//!
//! Production code uses [`SystemClock`] (wall time that never goes backwards); tests use
//! [`ManualClock`] and advance it instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A point in time: nanoseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// From milliseconds since the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis.saturating_mul(1_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Milliseconds since the epoch (truncated).
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }

    /// `self + d`, saturating at the far future.
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(nanos))
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}ms)", self.as_millis())
    }
}

/// A source of time. Implementations must be cheap: the memory store reads it on every hit.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// A clock shared between stores and layers.
pub type SharedClock = Arc<dyn Clock>;

/// Wall-clock time anchored once and advanced by the monotonic clock, so it never jumps back.
#[derive(Debug)]
pub struct SystemClock {
    anchor_wall: u64,
    anchor: Instant,
}

impl SystemClock {
    /// A clock anchored at the current wall time.
    pub fn new() -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        SystemClock {
            anchor_wall: wall,
            anchor: Instant::now(),
        }
    }

    /// The process-wide system clock.
    pub fn shared() -> SharedClock {
        static CLOCK: OnceLock<SharedClock> = OnceLock::new();
        CLOCK.get_or_init(|| Arc::new(SystemClock::new())).clone()
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.anchor_wall).saturating_add(self.anchor.elapsed())
    }
}

/// A clock that only moves when told to. For tests.
///
/// ```
/// use std::time::Duration;
/// use strata_core::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now().saturating_duration_since(t0), Duration::from_secs(5));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A manual clock starting at 2024-01-01T00:00:00Z, so timestamps look plausible.
    pub fn new() -> Self {
        Self::starting_at(Timestamp::from_millis(1_704_067_200_000))
    }

    /// A manual clock starting at `t`.
    pub fn starting_at(t: Timestamp) -> Self {
        ManualClock {
            now: AtomicU64::new(t.as_nanos()),
        }
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.now.fetch_add(nanos, Ordering::SeqCst);
    }

    /// Sets the time (it may go backwards; tests decide).
    pub fn set(&self, t: Timestamp) {
        self.now.store(t.as_nanos(), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_monotonic_and_near_wall_time() {
        let c = SystemClock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let diff = (wall.as_millis() as i128 - a.as_millis() as i128).abs();
        assert!(diff < 5_000, "{diff}");
    }

    #[test]
    fn timestamp_arithmetic_saturates() {
        let t = Timestamp::from_nanos(u64::MAX - 1);
        assert_eq!(
            t.saturating_add(Duration::from_secs(1)).as_nanos(),
            u64::MAX
        );
        assert_eq!(
            Timestamp::EPOCH.saturating_duration_since(t),
            Duration::ZERO
        );
        assert_eq!(Timestamp::from_millis(1500).as_millis(), 1500);
    }
}
