//! What every handler shares.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use strata::CacheSystem;
use tokio::sync::Semaphore;

use crate::auth::Keys;
use crate::config::AdminConfig;

/// The router's state: the system, the configuration, the keys and the counters.
pub(crate) struct AppState {
    pub(crate) system: CacheSystem,
    pub(crate) config: AdminConfig,
    pub(crate) keys: Keys,
    pub(crate) counters: Counters,
    /// One test load at a time.
    pub(crate) test_load: Semaphore,
}

impl AppState {
    pub(crate) fn new(system: CacheSystem, config: AdminConfig, keys: Keys) -> Self {
        AppState {
            system,
            config,
            keys,
            counters: Counters::default(),
            test_load: Semaphore::new(1),
        }
    }
}

/// Authentication outcomes, counted.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) missing_key: AtomicU64,
    pub(crate) wrong_key: AtomicU64,
    pub(crate) wrong_role: AtomicU64,
    pub(crate) not_loopback: AtomicU64,
    pub(crate) test_loads: AtomicU64,
}

/// [`Counters`] at one moment.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct CountersSnapshot {
    /// Requests let through.
    pub(crate) accepted: u64,
    /// `401`: no `X-API-KEY` header.
    pub(crate) missing_key: u64,
    /// `401`: a key that is not configured.
    pub(crate) wrong_key: u64,
    /// `403`: a read key on a write endpoint.
    pub(crate) wrong_role: u64,
    /// `401`: open mode, a client not on loopback (or an unknown peer).
    pub(crate) not_loopback: u64,
    /// Test loads run.
    pub(crate) test_loads: u64,
}

impl Counters {
    pub(crate) fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CountersSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            accepted: get(&self.accepted),
            missing_key: get(&self.missing_key),
            wrong_key: get(&self.wrong_key),
            wrong_role: get(&self.wrong_role),
            not_loopback: get(&self.not_loopback),
            test_loads: get(&self.test_loads),
        }
    }
}
