//! Latency sampling, one operation in N timed, counted per thread so deciding costs one
//! thread-local decrement; and the thread's stripe for the read counters.
//!
//! Async operations decide before they start ([`sample`]). The synchronous read path counts
//! down before each read ([`tick`]; [`count`] on the traced path); when a thread's countdown
//! reaches zero, its next read is timed ([`take_timing`]). The countdown and the thread's
//! stripe share one thread-local cell, so an untimed read reads and writes it once.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

/// The stripe of a thread that has not asked for one yet.
const NO_STRIPE: u32 = u32::MAX;

/// A thread's read state: the sampling countdown, its stripe and the column of the namespace
/// it read last, in one thread-local cell.
#[derive(Clone, Copy)]
struct ReadState {
    /// Reads until the next timed one; 0 means the next read is timed.
    left: u32,
    /// This thread's stripe, [`NO_STRIPE`] until first asked.
    stripe: u32,
    /// The read table (by id, 0 for none) and namespace (by its interned address) of the last
    /// column looked up, and the column.
    table: u64,
    namespace: usize,
    column: usize,
}

thread_local! {
    /// Async operations until the next timed one.
    static ASYNC_LEFT: Cell<u32> = const { Cell::new(1) };
    static READS: Cell<ReadState> = const {
        Cell::new(ReadState { left: 1, stripe: NO_STRIPE, table: 0, namespace: 0, column: 0 })
    };
}

/// Numbers a thread on its first read: threads get stripes in the order they first read.
#[cold]
fn new_stripe() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Wraps after 4 billion threads, to a stripe in use: counts stay exact (the increments
    // are atomic), only shared.
    NEXT.fetch_add(1, Ordering::Relaxed) & (NO_STRIPE >> 1)
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

/// This thread's stripe.
#[inline]
pub(crate) fn stripe() -> usize {
    READS.with(|c| {
        let mut st = c.get();
        if st.stripe == NO_STRIPE {
            st.stripe = new_stripe();
            c.set(st);
        }
        st.stripe as usize
    })
}

/// What [`tick`] tells an untimed read.
pub(crate) struct Untimed {
    /// This thread's stripe.
    pub(crate) stripe: usize,
    /// The column of the namespace in the table asked about, when this thread looked it up
    /// last ([`remember`]).
    pub(crate) column: Option<usize>,
}

/// For a read in `namespace` (its interned address) counted in table `table`: `Some` when it
/// goes untimed (counted down), with the thread's stripe and the namespace's column if
/// remembered; `None`, counting nothing, when this thread's countdown has run out and the
/// read is to be timed (then [`take_timing`] restarts the countdown). One thread-local read
/// and write.
#[inline]
pub(crate) fn tick(table: u64, namespace: usize) -> Option<Untimed> {
    READS.with(|c| {
        let mut st = c.get();
        if st.left == 0 {
            return None;
        }
        if st.stripe == NO_STRIPE {
            st.stripe = new_stripe();
        }
        st.left -= 1;
        c.set(st);
        Some(Untimed {
            stripe: st.stripe as usize,
            column: (st.table == table && st.namespace == namespace).then_some(st.column),
        })
    })
}

/// Remembers `column` as the column of `namespace` in table `table` for this thread's next
/// reads.
#[cold]
pub(crate) fn remember(table: u64, namespace: usize, column: usize) {
    READS.with(|c| {
        c.set(ReadState {
            table,
            namespace,
            column,
            ..c.get()
        });
    });
}

/// Counts a read done untimed; after `every` of them, this thread's next read is timed.
#[inline]
pub(crate) fn count() {
    READS.with(|c| {
        let mut st = c.get();
        st.left = st.left.saturating_sub(1);
        c.set(st);
    });
}

/// Whether to time this read; when so, `every - 1` untimed reads follow before the next.
#[inline]
pub(crate) fn take_timing(every: u32) -> bool {
    READS.with(|c| {
        let mut st = c.get();
        if st.left == 0 {
            st.left = every.max(1) - 1;
            c.set(st);
            true
        } else {
            false
        }
    })
}
