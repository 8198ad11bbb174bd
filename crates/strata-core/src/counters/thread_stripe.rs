//! [`ThreadStripe`]: which stripe of a striped counter the calling thread writes, and whether
//! it writes it alone.
//!
//! Counting a hit is the one write a cache hit makes into its counters. An atomic
//! read-modify-write (`lock xadd` on x86) orders the thread's memory accesses around it: the
//! next lookup's cache misses wait for it, which measured about a tenth of an L1 hit's time
//! behind the analytics layer (docs/performance.md). A stripe written by one thread only needs
//! none: a relaxed load and a relaxed store count exactly. So the first threads to count (as
//! many as the machine runs at once, rounded up to a power of two, at most 16) each own a
//! stripe until they exit; threads past them share one more stripe, where additions are
//! atomic.
//!
//! A stripe is taken with an acquire compare-and-swap and given back with a release store
//! when its thread exits, so its next owner's loads see every count the last one stored.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// The most stripes threads can own.
const MAX_OWNED: usize = 16;

/// The encoded stripe of a thread that has not asked for one yet.
const UNSET: usize = usize::MAX;

/// The stripe the calling thread counts on: an index below [`stripes`], owned by this thread
/// alone or the shared one.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use strata_core::counters::{ThreadStripe, stripes};
///
/// // One counter per stripe; each thread adds to its own.
/// let hits: Vec<AtomicU64> = (0..stripes()).map(|_| AtomicU64::new(0)).collect();
/// let mine = ThreadStripe::current();
/// mine.add(&hits[mine.index()], 1);
/// assert_eq!(hits.iter().map(|h| h.load(Relaxed)).sum::<u64>(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadStripe {
    index: usize,
    owned: bool,
}

impl ThreadStripe {
    /// The calling thread's stripe (taken on its first call: one it owns while one is free,
    /// else the shared one).
    #[inline]
    pub fn current() -> ThreadStripe {
        let encoded = STRIPE.try_with(Cell::get).unwrap_or(UNSET);
        if encoded == UNSET {
            return claim();
        }
        ThreadStripe::decode(encoded)
    }

    /// Its index, below [`stripes`].
    #[inline]
    pub fn index(self) -> usize {
        self.index
    }

    /// Whether this thread alone writes the stripe (else it is the shared one).
    #[inline]
    pub fn is_owned(self) -> bool {
        self.owned
    }

    /// Adds `n` to `counter`, which must be on this stripe (the counters of
    /// [`ThreadStripe::index`]): with a relaxed load and store when the thread owns the
    /// stripe, an atomic add on the shared one. A counter of another thread's stripe could
    /// lose counts (never memory safety).
    #[inline]
    pub fn add(self, counter: &AtomicU64, n: u64) {
        striped_add(counter, n, self.owned);
    }

    /// Runs `hook` on each thread that gives its stripe back (as it exits), before the
    /// stripe is free: a caller that cached the stripe (or a place computed from it) forgets
    /// it there. Registering a hook twice runs it once.
    pub fn on_release(hook: fn()) {
        let mut hooks = HOOKS.lock().unwrap_or_else(PoisonError::into_inner);
        if !hooks.contains(&hook) {
            hooks.push(hook);
        }
    }

    fn encode(self) -> usize {
        (self.index << 1) | usize::from(self.owned)
    }

    fn decode(encoded: usize) -> ThreadStripe {
        ThreadStripe {
            index: encoded >> 1,
            owned: encoded & 1 == 1,
        }
    }

    fn shared() -> ThreadStripe {
        ThreadStripe {
            index: pool().len,
            owned: false,
        }
    }
}

/// Adds `n` to `counter`, a counter on a stripe the calling thread owns (`owned`: a relaxed
/// load and store, no atomic read-modify-write) or on the shared one (an atomic add). For a
/// caller that remembers whether its place is owned instead of holding a [`ThreadStripe`]
/// (the analytics read table); [`ThreadStripe::add`] is this with the thread's own stripe.
#[inline]
pub fn striped_add(counter: &AtomicU64, n: u64, owned: bool) {
    if owned {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    } else {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The number of stripes: one per thread the machine runs at once (rounded up to a power of
/// two, at most 16), plus the shared one (the last).
pub fn stripes() -> usize {
    pool().len + 1
}

/// Stripes threads can own, and whether each has an owner.
struct Pool {
    owned: [AtomicBool; MAX_OWNED],
    len: usize,
}

impl Pool {
    fn new(len: usize) -> Self {
        Pool {
            owned: [const { AtomicBool::new(false) }; MAX_OWNED],
            len: len.clamp(1, MAX_OWNED),
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

/// Hooks to run when a thread gives its stripe back.
static HOOKS: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// Gives this thread's stripe back when the thread exits.
struct Owner {
    held: Cell<Option<(&'static Pool, usize)>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some((pool, stripe)) = self.held.take() {
            // Forget the stripe before giving it back: a count from a later thread-local
            // destructor of this thread lands on the shared stripe.
            let _ = STRIPE.try_with(|s| s.set(ThreadStripe::shared().encode()));
            let hooks = HOOKS.lock().unwrap_or_else(PoisonError::into_inner).clone();
            for hook in hooks {
                hook();
            }
            pool.give_back(stripe);
        }
    }
}

thread_local! {
    /// This thread's stripe, encoded ([`UNSET`] until asked).
    static STRIPE: Cell<usize> = const { Cell::new(UNSET) };
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

/// Takes this thread's stripe and remembers it.
#[cold]
fn claim() -> ThreadStripe {
    let stripe = match claim_from(pool()) {
        Some(index) => ThreadStripe { index, owned: true },
        None => ThreadStripe::shared(),
    };
    let _ = STRIPE.try_with(|s| s.set(stripe.encode()));
    stripe
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
    fn a_thread_asks_once_and_gets_a_stripe_in_range() {
        let (a, b) = std::thread::spawn(|| (ThreadStripe::current(), ThreadStripe::current()))
            .join()
            .unwrap();
        assert_eq!(a, b);
        assert!(a.index() < stripes());
        assert_eq!(a.is_owned(), a.index() < stripes() - 1);
        assert!((2..=MAX_OWNED + 1).contains(&stripes()));
    }

    #[test]
    fn owned_and_shared_additions_both_count_exactly() {
        // More threads than stripes: some add with plain stores, the rest atomically.
        let counters: Arc<Vec<AtomicU64>> =
            Arc::new((0..stripes()).map(|_| AtomicU64::new(0)).collect());
        let threads = stripes() + 3;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (counters, barrier) = (Arc::clone(&counters), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let mine = ThreadStripe::current();
                    for _ in 0..10_000 {
                        mine.add(&counters[mine.index()], 1);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let total: u64 = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        assert_eq!(total, 10_000 * threads as u64);
    }

    #[test]
    fn encoding_round_trips() {
        for stripe in [
            ThreadStripe {
                index: 0,
                owned: true,
            },
            ThreadStripe {
                index: 7,
                owned: false,
            },
            ThreadStripe {
                index: 16,
                owned: false,
            },
        ] {
            assert_eq!(ThreadStripe::decode(stripe.encode()), stripe);
        }
    }
}
