//! [`ReadTable`]: one tier's hits and misses, per thread stripe and namespace, in one table.
//!
//! A read is the hot path. Its counters sit at a place computed from the thread's stripe
//! (from the thread-local word the sampling countdown shares) and the namespace's slot index
//! in the tier's [`NamespaceMap`](strata_core::counters::NamespaceMap): no pointer to follow
//! after the namespace lookup, and one increment once the read has answered: a relaxed load
//! and store on a stripe the thread owns, an atomic add on the shared one (see
//! [`ThreadStripe`]). Each stripe's row starts on a line of its own, so threads counting
//! reads do not write each other's lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::counters::{ThreadStripe, striped_add, stripes};

/// The hits and misses of one namespace on one stripe.
#[derive(Default)]
pub(crate) struct Reads {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Reads {
    /// Counts one read: a hit when it found a value, else a miss. `owned` says the calling
    /// thread owns the stripe these counters are on (see [`striped_add`]).
    #[inline]
    fn count(&self, hit: bool, owned: bool) {
        striped_add(if hit { &self.hits } else { &self.misses }, 1, owned);
    }
}

/// Reads of 8 namespaces: 128 bytes, aligned so no line holds two stripes' counters.
#[repr(align(128))]
#[derive(Default)]
struct Line([Reads; 8]);

/// Hits and misses by (stripe, column); a column is a namespace slot, the overflow or the
/// operations without a namespace. Cloning gives another handle to the same counters (a store
/// keeps one, so its read path reaches its counters from the store itself).
#[derive(Clone)]
pub(crate) struct ReadTable {
    lines: Arc<[Line]>,
    /// Lines per stripe.
    row: usize,
    /// The shared stripe (the last; the ones before it each have one owner at a time).
    shared: usize,
    /// The first place on the shared stripe.
    shared_from: usize,
    /// Unique among the tables of the process (threads cache a namespace's column by it).
    id: u64,
}

impl ReadTable {
    pub(crate) fn new(columns: usize) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let row = columns.div_ceil(8).max(1);
        let shared = stripes() - 1;
        ReadTable {
            lines: (0..row * (shared + 1)).map(|_| Line::default()).collect(),
            row,
            shared,
            shared_from: shared * row * 8,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The table's id, unique in the process (never 0).
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Where the counters of `column` on `stripe` are, for [`ReadTable::count`] (a stripe
    /// past the last is the shared one).
    #[inline]
    pub(crate) fn place(&self, stripe: usize, column: usize) -> usize {
        (stripe.min(self.shared) * self.row + column / 8) * 8 + column % 8
    }

    /// Counts one read (a hit when it found a value) at `place`, which the calling thread
    /// computed from its own [`ThreadStripe`]: a place on a stripe another thread owns could
    /// lose counts (never memory safety).
    #[inline]
    pub(crate) fn count(&self, place: usize, hit: bool) {
        self.at(place).count(hit, place < self.shared_from);
    }

    /// The counters at `place`.
    #[inline]
    fn at(&self, place: usize) -> &Reads {
        &self.lines[place / 8].0[place % 8]
    }

    /// Where the calling thread counts reads of `column`.
    #[inline]
    pub(crate) fn my_place(&self, column: usize) -> usize {
        self.place(ThreadStripe::current().index(), column)
    }

    /// `(hits, misses)` of `column` over every stripe.
    pub(crate) fn sum(&self, column: usize) -> (u64, u64) {
        (0..=self.shared).fold((0, 0), |(h, m), stripe| {
            let r = self.at(self.place(stripe, column));
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
        // More threads than stripes: the first ones own a stripe each, the rest share one;
        // every count arrives either way.
        let table = Arc::new(ReadTable::new(20));
        let threads = stripes() + 3;
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let table = Arc::clone(&table);
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        table.count(table.my_place(19), true);
                        table.count(table.my_place(i % 3), i % 2 == 0);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let n = threads as u64;
        assert_eq!(table.sum(19), (1000 * n, 0));
        let all: (u64, u64) = (0..3)
            .map(|c| table.sum(c))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        assert_eq!(all, (500 * n, 500 * n));
        assert_eq!(table.sum(7), (0, 0));
    }

    #[test]
    fn a_stripe_past_the_last_is_the_shared_one() {
        let table = ReadTable::new(9);
        let shared = stripes() - 1;
        assert_eq!(table.place(shared + 5, 3), table.place(shared, 3));
        table.count(table.place(usize::MAX, 8), false);
        assert_eq!(table.sum(8), (0, 1));
    }
}
