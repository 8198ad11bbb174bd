//! [`ReadTable`]: one tier's hits and misses, per thread stripe and namespace, in one table.
//!
//! A read is the hot path. Its counters sit at a place computed from the thread's stripe
//! (from the thread-local word the sampling countdown shares) and the namespace's slot index
//! in the tier's [`NamespaceMap`](strata_core::counters::NamespaceMap): no pointer to follow
//! after the namespace lookup, and one relaxed increment once the read has answered. Each
//! stripe's row starts on a line of its own, so threads counting reads do not write each
//! other's lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The hits and misses of one namespace on one stripe.
#[derive(Default)]
pub(crate) struct Reads {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Reads {
    /// Counts one read: a hit when it found a value, else a miss.
    #[inline]
    pub(crate) fn count(&self, hit: bool) {
        let c = if hit { &self.hits } else { &self.misses };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Reads of 8 namespaces: 128 bytes, aligned so no line holds two stripes' counters.
#[repr(align(128))]
#[derive(Default)]
struct Line([Reads; 8]);

/// The number of stripes: the machine's parallelism rounded up to a power of two, at most 16
/// (as strata-core's striped counters).
pub(crate) fn stripes() -> usize {
    static STRIPES: OnceLock<usize> = OnceLock::new();
    *STRIPES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(4, |n| n.get())
            .next_power_of_two()
            .min(16)
    })
}

/// Hits and misses by (stripe, column); a column is a namespace slot, the overflow or the
/// operations without a namespace. Cloning gives another handle to the same counters (a store
/// keeps one, so its read path reaches its counters from the store itself).
#[derive(Clone)]
pub(crate) struct ReadTable {
    lines: Arc<[Line]>,
    /// Lines per stripe.
    row: usize,
    /// Stripes − 1 (a power of two).
    mask: usize,
    /// Unique among the tables of the process (threads cache a namespace's column by it).
    id: u64,
}

impl ReadTable {
    pub(crate) fn new(columns: usize) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let row = columns.div_ceil(8).max(1);
        let stripes = stripes();
        ReadTable {
            lines: (0..row * stripes).map(|_| Line::default()).collect(),
            row,
            mask: stripes - 1,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The table's id, unique in the process (never 0).
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The counters of `column` on `stripe` (any number: it is reduced to a stripe).
    #[inline]
    pub(crate) fn at(&self, stripe: usize, column: usize) -> &Reads {
        self.at_place(self.place(stripe, column))
    }

    /// Where the counters of `column` on `stripe` are, for [`ReadTable::at_place`].
    #[inline]
    pub(crate) fn place(&self, stripe: usize, column: usize) -> usize {
        ((stripe & self.mask) * self.row + column / 8) * 8 + column % 8
    }

    /// The counters at `place` (from [`ReadTable::place`]).
    #[inline]
    pub(crate) fn at_place(&self, place: usize) -> &Reads {
        &self.lines[place / 8].0[place % 8]
    }

    /// `(hits, misses)` of `column` over every stripe.
    pub(crate) fn sum(&self, column: usize) -> (u64, u64) {
        (0..=self.mask).fold((0, 0), |(h, m), stripe| {
            let r = self.at(stripe, column);
            (
                h.wrapping_add(r.hits.load(Ordering::Relaxed)),
                m.wrapping_add(r.misses.load(Ordering::Relaxed)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_stripes_add_up_apart() {
        let table = Arc::new(ReadTable::new(20));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let table = Arc::clone(&table);
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        table.at(t, 19).count(true);
                        table.at(t, i % 3).count(i % 2 == 0);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(table.sum(19), (4000, 0));
        let all: (u64, u64) = (0..3)
            .map(|c| table.sum(c))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        assert_eq!(all, (2000, 2000));
        assert_eq!(table.sum(7), (0, 0));
    }
}
