//! Reads counted from many threads at once, more threads than stripes, threads coming and
//! going: every hit and miss arrives in the snapshot, none twice.

use std::sync::{Arc, Barrier};

use futures_util::FutureExt;
use strata_analytics::{AnalyticsLayer, Tier};
use strata_core::{Bytes, Key, Namespace, SetOptions, Store, StoreExt};
use strata_memory::MemoryStore;

#[test]
fn every_read_from_every_thread_is_counted_once() {
    let analytics = AnalyticsLayer::new();
    let store = Arc::new(MemoryStore::new().layer(analytics.clone()));
    let namespaces = [
        Namespace::new("curves").unwrap(),
        Namespace::new("users").unwrap(),
    ];
    // Keys 0..50 are stored in each namespace; 50..100 are not.
    for ns in &namespaces {
        for i in 0..50u32 {
            let key = Key::new(ns, &i.to_string()).unwrap();
            let stored = store
                .set(&key, Bytes::from_static(b"v"), SetOptions::new())
                .now_or_never();
            assert!(matches!(stored, Some(Ok(_))), "{stored:?}");
        }
    }
    let parallelism = std::thread::available_parallelism().map_or(4, |n| n.get());
    // Waves one after the other: the threads of a wave run at once (more of them than
    // stripes, so some share), and each wave's threads take the stripes the last wave gave
    // back when its threads exited.
    let (waves, per_wave, reads_per_thread) = (3, 2 * parallelism + 3, 2_000u32);
    for _ in 0..waves {
        let barrier = Arc::new(Barrier::new(per_wave));
        let handles: Vec<_> = (0..per_wave)
            .map(|t| {
                let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..reads_per_thread {
                        // Alternate namespaces every 7 reads, so threads move between
                        // counters as a service's do.
                        let ns = &namespaces[((i / 7) as usize + t) % 2];
                        let key = Key::new(ns, &(i % 100).to_string()).unwrap();
                        let read = store.read(&key).now_or_never();
                        assert!(matches!(read, Some(Ok(_))), "{read:?}");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
    let snapshot = analytics.snapshot();
    let overall = &snapshot.tiers[&Tier::Overall];
    let reads = u64::from(reads_per_thread) * (waves * per_wave) as u64;
    let (hits, misses): (u64, u64) = overall
        .namespaces
        .values()
        .fold((0, 0), |(h, m), ns| (h + ns.hits, m + ns.misses));
    assert_eq!(hits + misses, reads);
    // Half the keys each thread reads are stored.
    assert_eq!(hits, reads / 2);
    assert_eq!(overall.totals.requests, reads);
}
