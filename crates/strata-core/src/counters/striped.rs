//! [`Striped`]: one value per thread slot, each on its own cache line; [`StripedCounter`]: a
//! relaxed counter built on it.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use super::thread_stripe::{ThreadStripe, stripes};

/// One stripe on its own cache line (128 bytes covers adjacent-line prefetching).
#[repr(align(128))]
#[derive(Default)]
struct Padded<T>(T);

/// One `T` per stripe, each on its own cache line: a thread updates [`Striped::local`] (its
/// [`ThreadStripe`]'s: one it owns, or the stripe shared by threads beyond the owned ones),
/// readers combine [`Striped::iter`]. Put the counters one operation updates together in one
/// `T`, so the operation finds its stripe once, and count with [`LocalStripe::add`] (no atomic
/// read-modify-write on an owned stripe).
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
/// mine.add(|r| &r.hits, 1);
/// mine.add(|r| &r.bytes, 120);
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
    pub fn local(&self) -> LocalStripe<'_, T> {
        self.at(ThreadStripe::current())
    }

    /// The stripe of `stripe`, for a caller that already holds the thread's
    /// [`ThreadStripe`] (looked up once for several uses).
    #[inline]
    pub fn at(&self, stripe: ThreadStripe) -> LocalStripe<'_, T> {
        // The table was sized by `stripes()`, which never changes: the index is in range
        // (the last cell, the shared stripe's, stands in should it ever not be).
        let cell = match self.cells.get(stripe.index()) {
            Some(cell) => cell,
            None => &self.cells[self.cells.len() - 1],
        };
        LocalStripe {
            cell: &cell.0,
            stripe,
        }
    }

    /// Every stripe.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.cells.iter().map(|c| &c.0)
    }
}

/// The calling thread's `T` of a [`Striped`], from [`Striped::local`].
pub struct LocalStripe<'a, T> {
    cell: &'a T,
    stripe: ThreadStripe,
}

impl<T> LocalStripe<'_, T> {
    /// Adds `n` to the counter `field` picks out of this stripe's `T` (with a relaxed load
    /// and store when the thread owns the stripe, else an atomic add).
    #[inline]
    pub fn add(&self, field: impl FnOnce(&T) -> &AtomicU64, n: u64) {
        self.stripe.add(field(self.cell), n);
    }
}

impl<T> Deref for LocalStripe<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.cell
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
        self.cells.local().add(|c| c, n);
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
