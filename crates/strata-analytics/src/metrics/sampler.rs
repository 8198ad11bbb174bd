//! Latency sampling: one operation in N is timed, counted per thread so deciding costs one
//! thread-local decrement.
//!
//! Async operations decide before they start ([`sample`]). The synchronous read path decides
//! after each read ([`count`]) and times the thread's next read ([`timing_next`],
//! [`take_timing`]), so nothing but one thread-local load runs ahead of its lookup.

use std::cell::Cell;

thread_local! {
    static COUNTDOWN: Cell<u32> = const { Cell::new(1) };
    static TIME_NEXT: Cell<bool> = const { Cell::new(false) };
}

/// True for one call in `every` on this thread (`every` of 0 or 1 samples every call).
#[inline]
pub(crate) fn sample(every: u32) -> bool {
    COUNTDOWN.with(|c| {
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

/// Counts a read done untimed; the `every`-th marks this thread's next read for timing.
#[inline]
pub(crate) fn count(every: u32) {
    if sample(every) {
        TIME_NEXT.with(|t| t.set(true));
    }
}

/// True when this thread's next read is to be timed.
#[inline]
pub(crate) fn timing_next() -> bool {
    TIME_NEXT.with(Cell::get)
}

/// Whether to time this read, clearing the mark.
#[inline]
pub(crate) fn take_timing() -> bool {
    TIME_NEXT.with(|t| t.replace(false))
}
