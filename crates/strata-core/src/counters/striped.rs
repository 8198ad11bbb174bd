//! [`StripedCounter`]: one relaxed counter spread over cache lines.

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// One counter cell on its own cache line (128 bytes covers adjacent-line prefetching).
#[repr(align(128))]
#[derive(Default)]
struct Cell128(AtomicU64);

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

/// This thread's slot: threads are numbered in the order they first count.
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

/// A monotonically increasing counter whose additions are relaxed and land on the calling
/// thread's stripe; [`StripedCounter::sum`] adds the stripes up (a reader may miss additions
/// racing with it, never see a count go backwards).
pub struct StripedCounter {
    cells: Box<[Cell128]>,
}

impl StripedCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        StripedCounter {
            cells: (0..stripes()).map(|_| Cell128::default()).collect(),
        }
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        let i = thread_slot() & (self.cells.len() - 1);
        self.cells[i].0.fetch_add(n, Ordering::Relaxed);
    }

    /// The total.
    pub fn sum(&self) -> u64 {
        self.cells
            .iter()
            .fold(0u64, |acc, c| acc.wrapping_add(c.0.load(Ordering::Relaxed)))
    }
}

impl Default for StripedCounter {
    fn default() -> Self {
        Self::new()
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
