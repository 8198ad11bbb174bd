//! Concurrency: bounds hold, nothing outlives its TTL, the listener hears each entry once.
//! Loops are bounded by count; the test takes well under a second in release.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use strata_core::{Clock, EvictionReason, ManualClock, SharedClock};
use strata_memory::{Cache, Compute, EntryOptions, EvictionPolicy};

#[test]
fn concurrent_writers_readers_and_a_moving_clock() {
    for policy in [
        EvictionPolicy::Lru,
        EvictionPolicy::TtlSoonest,
        EvictionPolicy::Random,
    ] {
        run(policy);
    }
}

fn run(policy: EvictionPolicy) {
    const MAX: u64 = 500;
    const THREADS: u64 = 4;
    const OPS: u64 = 20_000;
    let clock = Arc::new(ManualClock::new());
    let heard: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let log = heard.clone();
    // Values are unique per write: (thread << 32 | sequence, deadline bound); the listener
    // records them.
    let cache: Cache<u64, (u64, u64)> = Cache::builder()
        .max_entries(MAX)
        .eviction_policy(policy)
        .clock(clock.clone() as SharedClock)
        .eviction_listener(move |_k, v: &(u64, u64), _r: EvictionReason| {
            log.lock().unwrap().push(*v)
        })
        .build()
        .unwrap();
    let writes = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let cache = cache.clone();
            let clock = clock.clone();
            let writes = writes.clone();
            std::thread::spawn(move || {
                let mut x = t + 1;
                for i in 0..OPS {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let key = x % 2_000;
                    if i % 3 == 0 {
                        let ttl = Duration::from_millis(1 + x % 50);
                        cache
                            .insert_with(key, ((t << 32) | i, 0), EntryOptions::ttl(ttl))
                            .unwrap();
                        // An upper bound of the deadline the cache computed inside the insert:
                        // its clock read happened before this one.
                        let upper = clock.now().saturating_add(ttl);
                        // Record the bound beside the value through a second, atomic write
                        // only if our value is still there.
                        let replaced = cache
                            .compute(key, |cur| match cur {
                                Some(&(id, 0)) if id == (t << 32) | i => {
                                    (Compute::Replace((id, upper.as_nanos())), true)
                                }
                                _ => (Compute::Keep, false),
                            })
                            .unwrap();
                        if replaced {
                            writes.fetch_add(1, Ordering::Relaxed);
                        }
                        writes.fetch_add(1, Ordering::Relaxed);
                    } else {
                        // The cache reads the clock after this line, so a returned entry's
                        // deadline must lie after `before`.
                        let before = clock.now().as_nanos();
                        if let Some((_, upper)) = cache.get(&key) {
                            assert!(
                                upper == 0 || upper > before,
                                "returned an entry past its TTL"
                            );
                        }
                    }
                    if t == 0 && i % 64 == 0 {
                        clock.advance(Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    cache.run_pending_tasks();
    assert!(
        cache.entry_count() <= MAX,
        "{policy}: {} entries",
        cache.entry_count()
    );
    // Everything still held leaves now, so every write has been heard exactly once.
    cache.clear();
    let heard = heard.lock().unwrap();
    let unique: HashSet<(u64, u64)> = heard.iter().copied().collect();
    assert_eq!(
        unique.len(),
        heard.len(),
        "{policy}: an eviction was reported twice"
    );
    assert_eq!(
        heard.len() as u64,
        writes.load(Ordering::Relaxed),
        "{policy}"
    );
    assert_eq!(cache.entry_count(), 0);
    assert_eq!(cache.weighted_size(), 0);
}
