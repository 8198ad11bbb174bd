//! Latency sampling, one operation in N timed, counted per thread so deciding costs one
//! thread-local decrement; and where the thread counted its last read.
//!
//! Async operations decide before they start ([`sample`]). The synchronous read path counts
//! down before each read ([`tick`]; [`count`] on the traced path); when a thread's countdown
//! reaches zero, its next read is timed ([`take_timing`]). The countdown and where the thread
//! counted its last read (a place on its [`ThreadStripe`]) share one thread-local value, so
//! an untimed read in the namespace of the thread's last read reads it once and writes one
//! word.

use std::cell::Cell;
use std::sync::Once;

use strata_core::counters::ThreadStripe;

/// A thread's read state: the sampling countdown and where the counters of the namespace it
/// read last are, in one thread-local value (each field its own `Cell`, so the read path
/// writes only the countdown).
struct ReadState {
    /// Reads until the next timed one; 0 means the next read is timed.
    left: Cell<u32>,
    /// The read table (by id, 0 for none) and namespace (by its interned address) of the last
    /// read, and the place of its counters on this thread's stripe in that table.
    table: Cell<u64>,
    namespace: Cell<usize>,
    place: Cell<usize>,
}

thread_local! {
    /// Async operations until the next timed one.
    static ASYNC_LEFT: Cell<u32> = const { Cell::new(1) };
    static READS: ReadState = const {
        ReadState {
            left: Cell::new(1),
            table: Cell::new(0),
            namespace: Cell::new(0),
            place: Cell::new(0),
        }
    };
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

/// Makes this thread find its counters' place again on its next read (its stripe is being
/// given back).
fn forget_place() {
    let _ = READS.try_with(|s| s.table.set(0));
}

/// What [`tick`] decided about a read.
pub(crate) enum Tick {
    /// Untimed and counted down: its counters are at this place.
    Counted(usize),
    /// To be timed (the countdown ran out; [`take_timing`] restarts it).
    Timed,
    /// Untimed, but this thread's last read was in another namespace or table: find the
    /// place, [`remember`] it, and [`count`] the read.
    Elsewhere,
}

/// For a read in `namespace` (its interned address) counted in table `table`. On the common
/// path, one thread-local read of four words and one write.
#[inline]
pub(crate) fn tick(table: u64, namespace: usize) -> Tick {
    READS.with(|s| {
        let left = s.left.get();
        if left == 0 {
            Tick::Timed
        } else if s.table.get() != table || s.namespace.get() != namespace {
            Tick::Elsewhere
        } else {
            s.left.set(left - 1);
            Tick::Counted(s.place.get())
        }
    })
}

/// Remembers `place` as where this thread counts reads of `namespace` in table `table`
/// (until the thread gives its stripe back).
pub(crate) fn remember(table: u64, namespace: usize, place: usize) {
    static FORGET_ON_RELEASE: Once = Once::new();
    FORGET_ON_RELEASE.call_once(|| ThreadStripe::on_release(forget_place));
    READS.with(|s| {
        s.table.set(table);
        s.namespace.set(namespace);
        s.place.set(place);
    });
}

/// Counts a read done untimed; after `every` of them, this thread's next read is timed.
#[inline]
pub(crate) fn count() {
    READS.with(|s| s.left.set(s.left.get().saturating_sub(1)));
}

/// Whether to time this read; when so, `every - 1` untimed reads follow before the next.
#[inline]
pub(crate) fn take_timing(every: u32) -> bool {
    READS.with(|s| {
        if s.left.get() == 0 {
            s.left.set(every.max(1) - 1);
            true
        } else {
            false
        }
    })
}
