//! The shard lock: a reader-writer lock whose readers are spread over a few lock words by
//! thread, so hits on different cores never write the same cache line, while a writer pays
//! for only as many words as the machine runs threads at once (at most [`MAX_SLOTS`]).
//!
//! Why not `crossbeam_utils::sync::ShardedLock`, which does the same: it always has eight
//! words (a write locks all eight, even on two cores: sixteen `lock`-prefixed instructions,
//! which sampling put at a fifth of an evicting insert's time), each a `std` lock with poison
//! checks, and it finds the reader's word through a thread-local of its own, next to the
//! counters' stripe (`strata_core::counters::ThreadStripe`) that a hit reads anyway; here the
//! hit looks its stripe up once for both. Measured on two cores (docs/performance.md, "The
//! shard lock, landed"): an evicting insert 1,395 → 1,194 instructions and about a fifth
//! less time.
//!
//! This is the only module of the crate with `unsafe` code: the value lives in an
//! `UnsafeCell` that the slots' locking protocol guards, as in any lock. The words are
//! `parking_lot`'s raw locks (a `std` `RwLock<()>` per word would need its guards kept in the
//! write guard, which cost back most of the saving).
#![allow(unsafe_code)]

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use parking_lot::RawRwLock;
use parking_lot::lock_api::RawRwLock as _;

/// The most lock words per shard (a write takes every one).
const MAX_SLOTS: usize = 8;

/// One lock word on its own pair of cache lines (adjacent-line prefetch pulls lines in pairs).
#[repr(align(128))]
struct Slot(RawRwLock);

/// A reader-writer lock with reader slots: a reader shares one slot (chosen by its thread's
/// stripe), a writer holds all of them exclusively.
///
/// The protocol: `&T` is handed out only while the caller holds some slot shared or every
/// slot exclusively; `&mut T` only while it holds every slot exclusively. An exclusive hold
/// of every slot excludes any shared hold of any slot, so a `&mut T` never coexists with
/// another reference. Writers take the slots in index order, so two writers never deadlock.
pub(crate) struct StripedLock<T> {
    /// All [`MAX_SLOTS`] words, of which the first `mask + 1` are used: a fixed array, so a
    /// reader's index needs no bounds check and no pointer load.
    slots: [Slot; MAX_SLOTS],
    mask: usize,
    value: UnsafeCell<T>,
}

// SAFETY: sending the lock sends the `T` inside it, which needs `T: Send`, as for
// `std::sync::RwLock`.
unsafe impl<T: Send> Send for StripedLock<T> {}
// SAFETY: through a shared lock, several threads may read `&T` at once (`T: Sync`) and one
// at a time may get `&mut T` (`T: Send`); the protocol on `StripedLock` keeps the two apart.
unsafe impl<T: Send + Sync> Sync for StripedLock<T> {}

impl<T> StripedLock<T> {
    /// A lock around `value` with `slots` reader slots (rounded up to a power of two,
    /// between 1 and [`MAX_SLOTS`]).
    pub(crate) fn new(value: T, slots: usize) -> Self {
        let n = slots.clamp(1, MAX_SLOTS).next_power_of_two();
        StripedLock {
            slots: [const { Slot(RawRwLock::INIT) }; MAX_SLOTS],
            mask: n - 1,
            value: UnsafeCell::new(value),
        }
    }

    /// The number of reader slots.
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.used().len()
    }

    /// The words in use.
    #[inline]
    fn used(&self) -> &[Slot] {
        &self.slots[..=self.mask]
    }

    /// Shared access, through the slot of `stripe` (any number: it is masked).
    #[inline]
    pub(crate) fn read(&self, stripe: usize) -> ReadGuard<'_, T> {
        // `MAX_SLOTS - 1` bounds the index for the compiler; `mask` is below it anyway.
        let slot = &self.slots[stripe & self.mask & (MAX_SLOTS - 1)].0;
        slot.lock_shared();
        ReadGuard {
            value: &self.value,
            slot,
            _not_send: PhantomData,
        }
    }

    /// Exclusive access: every slot, in index order.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        for slot in self.used() {
            slot.0.lock_exclusive();
        }
        WriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// Shared access to the value of a [`StripedLock`]; releases its slot when dropped.
pub(crate) struct ReadGuard<'a, T> {
    value: &'a UnsafeCell<T>,
    slot: &'a RawRwLock,
    /// Released on the thread that took it, like `std`'s guards.
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds its slot shared, so no writer holds every slot: no `&mut T`
        // exists while the returned reference (bound to the guard) lives.
        unsafe { &*self.value.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard took this slot shared in `StripedLock::read` and releases it once.
        unsafe { self.slot.unlock_shared() }
    }
}

/// Exclusive access to the value of a [`StripedLock`]; releases every slot when dropped.
pub(crate) struct WriteGuard<'a, T> {
    lock: &'a StripedLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard holds every slot exclusively: no other reference to the value
        // exists but those borrowed from the guard itself.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow from the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        for slot in self.lock.used().iter().rev() {
            // SAFETY: the guard took every slot exclusively in `StripedLock::write` and
            // releases each once.
            unsafe { slot.0.unlock_exclusive() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    #[test]
    fn slots_are_a_power_of_two_within_bounds() {
        assert_eq!(StripedLock::new((), 0).slots(), 1);
        assert_eq!(StripedLock::new((), 3).slots(), 4);
        assert_eq!(StripedLock::new((), 8).slots(), 8);
        assert_eq!(StripedLock::new((), 1_000).slots(), MAX_SLOTS);
    }

    #[test]
    fn readers_on_any_stripe_see_what_the_writer_wrote() {
        let lock = StripedLock::new(vec![1u32], 4);
        lock.write().push(2);
        for stripe in [0, 1, 3, 4, 17, usize::MAX] {
            assert_eq!(*lock.read(stripe), vec![1, 2]);
        }
    }

    #[test]
    fn readers_on_different_slots_hold_the_lock_together() {
        let lock = StripedLock::new(5u32, 2);
        let a = lock.read(0);
        let b = lock.read(1);
        let c = lock.read(0);
        assert_eq!(*a + *b + *c, 15);
    }

    #[test]
    fn a_writer_waits_for_a_reader_on_any_slot() {
        for stripe in 0..4 {
            let lock = Arc::new(StripedLock::new(0u64, 4));
            let wrote = Arc::new(AtomicBool::new(false));
            let guard = lock.read(stripe);
            let writer = {
                let (lock, wrote) = (Arc::clone(&lock), Arc::clone(&wrote));
                std::thread::spawn(move || {
                    *lock.write() = 1;
                    wrote.store(true, Ordering::SeqCst);
                })
            };
            // Long enough for an unblocked writer to finish many times over.
            std::thread::sleep(Duration::from_millis(20));
            assert!(
                !wrote.load(Ordering::SeqCst),
                "wrote past a reader on slot {stripe}"
            );
            assert_eq!(*guard, 0);
            drop(guard);
            writer.join().unwrap();
            assert_eq!(*lock.read(stripe), 1);
        }
    }

    #[test]
    fn a_panic_while_holding_the_lock_releases_it() {
        let lock = Arc::new(StripedLock::new(0u32, 4));
        for stripe in [None, Some(0), Some(3)] {
            let l = Arc::clone(&lock);
            let panicked = std::thread::spawn(move || {
                let _guard = match stripe {
                    None => {
                        let mut g = l.write();
                        *g += 1;
                        drop(g);
                        l.write()
                    }
                    Some(s) => {
                        let _r = l.read(s);
                        panic!("a reader panics");
                    }
                };
                panic!("a writer panics");
            })
            .join();
            assert!(panicked.is_err());
            // Every slot is free again: a writer gets in, and readers on every slot after it.
            *lock.write() += 10;
            for s in 0..4 {
                assert!(*lock.read(s) >= 11);
            }
        }
        assert_eq!(*lock.read(0), 31);
    }

    /// Writers keep two halves equal, each write in two steps; readers on every slot must
    /// never see them differ, and no write may be lost.
    #[test]
    fn readers_never_see_a_write_half_done() {
        const WRITES: u64 = 20_000;
        let lock = Arc::new(StripedLock::new((0u64, 0u64), 4));
        let torn = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|stripe| {
                let (lock, torn, done) = (Arc::clone(&lock), Arc::clone(&torn), Arc::clone(&done));
                std::thread::spawn(move || {
                    // Bounded: the writers finish after 2 × WRITES writes.
                    while !done.load(Ordering::Relaxed) {
                        let g = lock.read(stripe);
                        if g.0 != g.1 {
                            torn.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..WRITES {
                        let mut g = lock.write();
                        g.0 += 1;
                        std::hint::black_box(&mut *g);
                        g.1 += 1;
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(torn.load(Ordering::Relaxed), 0);
        assert_eq!(*lock.read(0), (2 * WRITES, 2 * WRITES));
    }
}
