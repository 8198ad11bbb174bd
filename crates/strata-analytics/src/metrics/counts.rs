//! One namespace's counters in one tier.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use strata_core::ErrorKind;

/// The error kinds counted apart; a kind added to strata-core later is counted as `other`.
pub(crate) const ERROR_KINDS: [&str; 12] = [
    "invalid_key",
    "invalid_argument",
    "invalid_config",
    "codec",
    "unsupported",
    "unavailable",
    "timeout",
    "capacity_exceeded",
    "rejected",
    "backend",
    "loader",
    "other",
];

fn error_index(kind: ErrorKind) -> usize {
    let name = kind.as_str();
    ERROR_KINDS
        .iter()
        .position(|k| *k == name)
        .unwrap_or(ERROR_KINDS.len() - 1)
}

/// Counters of one namespace in one tier, but for reads (hits and misses), which the tier
/// keeps in its [`ReadTable`](super::reads::ReadTable): plain relaxed atomics.
#[derive(Default)]
pub(crate) struct Counts {
    sets: AtomicU64,
    bytes_written: AtomicU64,
    deletes: AtomicU64,
    other_operations: AtomicU64,
    errors: [AtomicU64; ERROR_KINDS.len()],
}

impl Counts {
    pub(crate) fn set(&self, bytes: usize) {
        self.sets.fetch_add(1, Ordering::Relaxed);
        self.bytes_written
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn delete(&self) {
        self.deletes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn other(&self) {
        self.other_operations.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn error(&self, kind: ErrorKind) {
        self.errors[error_index(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// The namespace's figures, with its `(hits, misses)` from the tier's read table.
    pub(crate) fn snapshot(&self, (hits, misses): (u64, u64)) -> NamespaceStats {
        let errors = ERROR_KINDS
            .iter()
            .zip(&self.errors)
            .filter_map(|(k, n)| {
                let n = n.load(Ordering::Relaxed);
                (n > 0).then(|| ((*k).to_owned(), n))
            })
            .collect();
        NamespaceStats {
            requests: hits + misses,
            hits,
            misses,
            hit_ratio: ratio(hits, hits + misses),
            sets: self.sets.load(Ordering::Relaxed),
            deletes: self.deletes.load(Ordering::Relaxed),
            other_operations: self.other_operations.load(Ordering::Relaxed),
            errors,
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
        }
    }
}

pub(crate) fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The counts of one namespace (or a total) in one tier.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NamespaceStats {
    /// Reads of one key: hits plus misses.
    pub requests: u64,
    /// Reads that found a value.
    pub hits: u64,
    /// Reads that found none.
    pub misses: u64,
    /// hits ÷ requests, `None` before the first read.
    pub hit_ratio: Option<f64>,
    /// Values written.
    pub sets: u64,
    /// Deletes.
    pub deletes: u64,
    /// Other calls (`expire`, `ttl`, `increment`, `scan`, `invalidate`, `explain`).
    pub other_operations: u64,
    /// Errors by kind (`timeout`, `unavailable`, ...); kinds never seen are left out.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// Bytes of the values written.
    pub bytes_written: u64,
}

impl NamespaceStats {
    /// Every call counted: requests, sets, deletes and the others.
    pub fn operations(&self) -> u64 {
        self.requests + self.sets + self.deletes + self.other_operations
    }

    /// Errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds `other`'s counts (for totals).
    pub(crate) fn add(&mut self, other: &NamespaceStats) {
        self.requests += other.requests;
        self.hits += other.hits;
        self.misses += other.misses;
        self.hit_ratio = ratio(self.hits, self.requests);
        self.sets += other.sets;
        self.deletes += other.deletes;
        self.other_operations += other.other_operations;
        for (k, n) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += n;
        }
        self.bytes_written += other.bytes_written;
    }
}
