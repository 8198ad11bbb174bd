//! Latency sampling: one operation in N is timed, counted per thread so deciding costs one
//! thread-local decrement.
//!
//! Async operations decide before they start ([`sample`]). The synchronous read path counts
//! after each read ([`count`]); when a thread's countdown reaches zero, its next read is
//! timed ([`timing_next`], [`take_timing`]). Both live in one thread-local cell, so the read
//! path touches one thread-local word.

use std::cell::Cell;

thread_local! {
    /// Async operations until the next timed one.
    static ASYNC_LEFT: Cell<u32> = const { Cell::new(1) };
    /// Reads until the next timed one; 0 means the next read is timed.
    static READS_LEFT: Cell<u32> = const { Cell::new(1) };
}

/// True for one call in `every` on this thread (`every` of 0 or 1 samples every call).
#[inline]
pub(crate) fn sample(every: u32) -> bool {
    ASYNC_LEFT.with(|c| {
        let left = c.get();
        if left <= 1 {
            c.set(every.max(1));
            true
        } else {
            c.set(left - 1);
            false
        }
    })
}

/// Counts a read done untimed; after `every` of them, this thread's next read is timed.
#[inline]
pub(crate) fn count() {
    READS_LEFT.with(|c| c.set(c.get().saturating_sub(1)));
}

/// True when this thread's next read is to be timed.
#[inline]
pub(crate) fn timing_next() -> bool {
    READS_LEFT.with(Cell::get) == 0
}

/// Whether to time this read; when so, `every - 1` untimed reads follow before the next.
#[inline]
pub(crate) fn take_timing(every: u32) -> bool {
    READS_LEFT.with(|c| {
        if c.get() == 0 {
            c.set(every.max(1) - 1);
            true
        } else {
            false
        }
    })
}
