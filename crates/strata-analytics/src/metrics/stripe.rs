//! Which thread writes which stripe of the read counters.
//!
//! Counting a read is the one write a hit makes into the analytics. An atomic
//! read-modify-write (`lock xadd` on x86) orders the thread's memory accesses around it: the
//! next lookup's cache misses wait for it, which cost an L1 hit about a tenth of its time
//! (docs/performance.md). A stripe written by one thread only needs no atomic
//! read-modify-write: a relaxed load and a relaxed store count exactly. So the first
//! [`owned`] threads to read each own a stripe until they exit; threads past them count on
//! one shared stripe, with atomic increments.
//!
//! Ownership is claimed with an acquire compare-and-swap and released with a release store
//! when the owning thread exits, so the next owner's loads see every count the last one
//! stored.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// The most stripes threads can own.
const MAX_OWNED: usize = 16;

/// Stripes and whether each has an owner.
struct Pool {
    owned: [AtomicBool; MAX_OWNED],
    len: usize,
}

impl Pool {
    fn new(len: usize) -> Self {
        Pool {
            owned: [const { AtomicBool::new(false) }; MAX_OWNED],
            len: len.min(MAX_OWNED),
        }
    }

    /// Takes a free stripe (acquiring what its last owner stored).
    fn take(&self) -> Option<usize> {
        self.owned[..self.len].iter().position(|slot| {
            slot.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })
    }

    /// Frees `stripe` (releasing what its owner stored to the next one).
    fn give_back(&self, stripe: usize) {
        self.owned[stripe].store(false, Ordering::Release);
    }
}

/// The process's stripes.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        Pool::new(
            std::thread::available_parallelism()
                .map_or(4, |n| n.get())
                .next_power_of_two(),
        )
    })
}

/// The number of stripes threads can own: the machine's parallelism rounded up to a power of
/// two, at most 16. The shared stripe is the next one ([`shared`]).
pub(crate) fn owned() -> usize {
    pool().len
}

/// The stripe of threads that own none.
pub(crate) fn shared() -> usize {
    owned()
}

/// Gives this thread's stripe back when the thread exits.
struct Owner {
    held: Cell<Option<(&'static Pool, usize)>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some((pool, stripe)) = self.held.take() {
            // Forget the stripe before giving it back: a read from a later thread-local
            // destructor of this thread counts on the shared stripe.
            super::sampler::forget_stripe(shared());
            pool.give_back(stripe);
        }
    }
}

thread_local! {
    static OWNER: Owner = const { Owner { held: Cell::new(None) } };
}

/// The stripe this thread owns in `pool`, taken now if it has none; `None` when every stripe
/// has an owner, or when the thread is exiting (it could not give one back).
fn claim_from(pool: &'static Pool) -> Option<usize> {
    OWNER
        .try_with(|owner| {
            if let Some((_, stripe)) = owner.held.get() {
                return Some(stripe);
            }
            let taken = pool.take()?;
            owner.held.set(Some((pool, taken)));
            Some(taken)
        })
        .ok()
        .flatten()
}

/// A stripe for this thread: one it owns when one is free, else the shared one. A thread
/// asks once (its read state remembers the answer).
#[cold]
pub(crate) fn claim() -> usize {
    claim_from(pool()).unwrap_or_else(shared)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    /// A pool of its own for each test, so tests running at once do not share stripes.
    fn private_pool(len: usize) -> &'static Pool {
        Box::leak(Box::new(Pool::new(len)))
    }

    #[test]
    fn a_thread_keeps_its_stripe_and_gives_it_back_when_it_exits() {
        let pool = private_pool(2);
        for _ in 0..5 {
            // One after the other: each thread finds stripe 0 free again.
            let (first, second) = std::thread::spawn(|| (claim_from(pool), claim_from(pool)))
                .join()
                .unwrap();
            assert_eq!((first, second), (Some(0), Some(0)));
        }
        assert!(pool.owned.iter().all(|s| !s.load(Ordering::Acquire)));
    }

    #[test]
    fn threads_running_at_once_never_own_the_same_stripe() {
        let pool = private_pool(3);
        let threads = 5;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let stripe = claim_from(pool);
                    // Hold the stripe until every thread has asked for one.
                    barrier.wait();
                    stripe
                })
            })
            .collect();
        let mut stripes: Vec<Option<usize>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        stripes.sort_unstable();
        assert_eq!(stripes, [None, None, Some(0), Some(1), Some(2)]);
        assert!(pool.owned.iter().all(|s| !s.load(Ordering::Acquire)));
    }

    #[test]
    fn the_process_pool_answers_a_stripe_in_range() {
        let stripe = std::thread::spawn(|| (claim(), claim())).join().unwrap();
        assert_eq!(stripe.0, stripe.1);
        assert!(stripe.0 <= shared());
        assert!((1..=MAX_OWNED).contains(&owned()));
    }
}
