//! Latency sampling: one operation in N is timed, counted per thread so deciding costs one
//! thread-local decrement.

use std::cell::Cell;

thread_local! {
    static COUNTDOWN: Cell<u32> = const { Cell::new(1) };
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
