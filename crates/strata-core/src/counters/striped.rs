//! [`Striped`]: one value per thread slot, each on its own cache line; [`StripedCounter`]: a
//! relaxed counter built on it.

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// One stripe on its own cache line (128 bytes covers adjacent-line prefetching).
#[repr(align(128))]
#[derive(Default)]
struct Padded<T>(T);

/// The number of stripes: the machine's parallelism rounded up to a power of two, at most 16.
fn stripes() -> usize {
    static STRIPES: OnceLock<usize> = OnceLock::new();
    *STRIPES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(4, |n| n.get())
            .next_power_of_two()
            .min(16)
    })
}

/// This thread's slot: threads are numbered in the order they first use a stripe.
#[inline]
fn thread_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SLOT.with(|slot| {
        let mut s = slot.get();
        if s == usize::MAX {
            s = NEXT.fetch_add(1, Ordering::Relaxed);
            slot.set(s);
        }
        s
    })
}

/// One `T` per stripe, each on its own cache line: a thread updates [`Striped::local`] (its
/// stripe, shared only with threads beyond the stripe count), readers combine
/// [`Striped::iter`]. Put the counters one operation updates together in one `T`, so the
/// operation finds its stripe once.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use strata_core::counters::Striped;
///
/// #[derive(Default)]
/// struct Reads { hits: AtomicU64, bytes: AtomicU64 }
///
/// let reads: Striped<Reads> = Striped::new();
/// let mine = reads.local();
/// mine.hits.fetch_add(1, Relaxed);
/// mine.bytes.fetch_add(120, Relaxed);
/// let bytes: u64 = reads.iter().map(|r| r.bytes.load(Relaxed)).sum();
/// assert_eq!(bytes, 120);
/// ```
pub struct Striped<T> {
    cells: Box<[Padded<T>]>,
}

impl<T: Default> Striped<T> {
    /// One default `T` per stripe.
    pub fn new() -> Self {
        Striped {
            cells: (0..stripes()).map(|_| Padded::default()).collect(),
        }
    }
}

impl<T: Default> Default for Striped<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Striped<T> {
    /// The calling thread's stripe.
    #[inline]
    pub fn local(&self) -> &T {
        &self.cells[thread_slot() & (self.cells.len() - 1)].0
    }

    /// Every stripe.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.cells.iter().map(|c| &c.0)
    }
}

/// A monotonically increasing counter whose additions are relaxed and land on the calling
/// thread's stripe; [`StripedCounter::sum`] adds the stripes up (a reader may miss additions
/// racing with it, never see a count go backwards).
#[derive(Default)]
pub struct StripedCounter {
    cells: Striped<AtomicU64>,
}

impl StripedCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.cells.local().fetch_add(n, Ordering::Relaxed);
    }

    /// The total.
    pub fn sum(&self) -> u64 {
        self.cells
            .iter()
            .fold(0u64, |acc, c| acc.wrapping_add(c.load(Ordering::Relaxed)))
    }
}

impl fmt::Debug for StripedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StripedCounter").field(&self.sum()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_add_up() {
        let c = Arc::new(StripedCounter::new());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || (0..1000).for_each(|_| c.add(1)))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        c.add(5);
        assert_eq!(c.sum(), 4005);
    }
}
