//! [`CacheCounts`]: what one typed cache did (its reads, writes and loads), kept in striped
//! relaxed counters so that counting costs a hit no more than an uncontended atomic add.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use strata_core::counters::Striped;

#[derive(Default)]
pub(crate) struct Cells {
    hits: AtomicU64,
    misses: AtomicU64,
    sets: AtomicU64,
    loads: AtomicU64,
    load_errors: AtomicU64,
}

/// The live counters of a cache and its clones.
#[derive(Default)]
pub(crate) struct Counters(Striped<Cells>);

impl Counters {
    #[inline]
    pub(crate) fn read(&self, hit: bool) {
        let c = self.0.local();
        if hit {
            c.add(|c| &c.hits, 1);
        } else {
            c.add(|c| &c.misses, 1);
        }
    }

    pub(crate) fn sets(&self, n: u64) {
        self.0.local().add(|c| &c.sets, n);
    }

    pub(crate) fn load(&self, ok: bool) {
        let c = self.0.local();
        c.add(|c| &c.loads, 1);
        if !ok {
            c.add(|c| &c.load_errors, 1);
        }
    }

    pub(crate) fn snapshot(&self) -> CacheCounts {
        let mut s = CacheCounts::default();
        for c in self.0.iter() {
            s.hits += c.hits.load(Relaxed);
            s.misses += c.misses.load(Relaxed);
            s.sets += c.sets.load(Relaxed);
            s.loads += c.loads.load(Relaxed);
            s.load_errors += c.load_errors.load(Relaxed);
        }
        s
    }
}

/// What one typed cache (and its clones) did, from [`Cache::counts`](crate::Cache::counts).
/// The store's own figures, shared by every cache over it, are in
/// [`Cache::stats`](crate::Cache::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheCounts {
    /// Reads that found a value (`get`, `get_many`, and `get_or_load` calls that did not
    /// run the loader).
    pub hits: u64,
    /// Reads that found none (and `get_or_load` calls that ran the loader).
    pub misses: u64,
    /// Values written by `set` and its siblings.
    pub sets: u64,
    /// Loader calls.
    pub loads: u64,
    /// Loader calls that failed (or timed out).
    pub load_errors: u64,
}

impl CacheCounts {
    /// hits ÷ (hits + misses), or `None` before the first read.
    pub fn hit_ratio(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}
