//! The store's counters: relaxed atomics, read as a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::{Error, ErrorKind};

/// Counters of one store (and its clones).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) sets: AtomicU64,
    pub(crate) removed: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) unavailable: AtomicU64,
    pub(crate) out_of_memory: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) script_loads: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        // Adding nothing writes nothing (a read of one key adds 0 to hits or to misses).
        if n != 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_error(&self, err: &Error) {
        Self::add(&self.errors, 1);
        match err.kind() {
            ErrorKind::Timeout => Self::add(&self.timeouts, 1),
            ErrorKind::Unavailable => Self::add(&self.unavailable, 1),
            ErrorKind::Backend if err.message().starts_with("Redis is out of memory") => {
                Self::add(&self.out_of_memory, 1);
            }
            _ => {}
        }
    }

    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Figures specific to Redis, beside the common [`StoreStats`](strata_core::StoreStats).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedisStats {
    /// Calls that ended in an error (after retries).
    pub errors: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls that found Redis unreachable (or the breaker open).
    pub unavailable: u64,
    /// Writes Redis refused with OOM (maxmemory reached).
    pub out_of_memory: u64,
    /// Attempts repeated after an error that was safe to retry.
    pub retries: u64,
    /// Times the Lua scripts were (re)loaded onto the servers.
    pub script_loads: u64,
    /// Times the circuit breaker opened.
    pub breaker_opened: u64,
    /// Calls the open breaker refused.
    pub breaker_rejected: u64,
}
