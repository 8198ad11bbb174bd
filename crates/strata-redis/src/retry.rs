//! Which failed calls are repeated, and how long to wait between attempts.

use std::time::Duration;

use strata_core::{Error, Retry};

/// Whether an operation may be sent twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Repeating it leaves the same state (GET, SET, DEL, PEXPIRE, SCAN, ...): retried after
    /// errors that are safe to retry, with backoff.
    Idempotent,
    /// Repeating it could apply it twice (INCRBY, conditional SET, scripts that count): never
    /// retried after a dropped connection or a timeout, because the first attempt may have
    /// been applied. Cluster redirections (MOVED, ASK, TRYAGAIN) are still followed: the
    /// server answered them without running the command.
    NotIdempotent,
}

/// Exponential backoff with full jitter for errors that are safe to retry.
///
/// Attempt `n` (from 1) waits a random time in `[0, min(max_delay, base_delay × 2^(n-1))]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 turns retrying off.
    pub max_retries: u32,
    /// The ceiling of the first wait.
    pub base_delay: Duration,
    /// The largest wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, waits up to 20 ms then 40 ms (capped at 500 ms).
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub const NONE: RetryPolicy = RetryPolicy {
        max_retries: 0,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// The wait before retry `attempt` (1-based), jittered.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// True when `err`, from an operation of `idempotency`, should be tried again after
    /// `attempt` attempts.
    pub(crate) fn should_retry(&self, err: &Error, idempotency: Idempotency, attempt: u32) -> bool {
        attempt <= self.max_retries
            && idempotency == Idempotency::Idempotent
            && err.retry() == Retry::Safe
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.max_retries > 0 && self.base_delay > self.max_delay {
            out.push(format!(
                "retry.base_delay ({:?}) is over retry.max_delay ({:?})",
                self.base_delay, self.max_delay
            ));
        }
        if self.max_retries > 10 {
            out.push(format!(
                "retry.max_retries is {}; more than 10 retries only delays the error",
                self.max_retries
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::ErrorKind;

    #[test]
    fn delays_grow_and_stay_bounded() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(35),
        };
        for _ in 0..200 {
            assert!(p.delay(1) <= Duration::from_millis(10));
            assert!(p.delay(2) <= Duration::from_millis(20));
            assert!(p.delay(5) <= Duration::from_millis(35));
            assert!(p.delay(u32::MAX) <= Duration::from_millis(35));
        }
    }

    #[test]
    fn only_safe_errors_of_idempotent_calls_are_retried() {
        let p = RetryPolicy::default();
        let unavailable = Error::new(ErrorKind::Unavailable, "connection refused");
        let codec = Error::codec("bad bytes");
        assert!(p.should_retry(&unavailable, Idempotency::Idempotent, 1));
        assert!(p.should_retry(&unavailable, Idempotency::Idempotent, 2));
        assert!(!p.should_retry(&unavailable, Idempotency::Idempotent, 3));
        assert!(!p.should_retry(&unavailable, Idempotency::NotIdempotent, 1));
        assert!(!p.should_retry(&codec, Idempotency::Idempotent, 1));
        assert!(!RetryPolicy::NONE.should_retry(&unavailable, Idempotency::Idempotent, 1));
    }
}
