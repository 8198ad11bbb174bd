//! A hit through the analytics layer over a memory store allocates nothing, timed reads (one
//! in 64) included, and is counted.
//!
//! This binary installs a counting global allocator (stats_alloc), which counts every thread:
//! it runs without the test harness (`harness = false`), whose own thread allocated while
//! starting up, sometimes inside the measured region (about a third of the runs failed).

use std::alloc::System;

use futures_util::FutureExt;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use strata_analytics::{AnalyticsLayer, Tier};
use strata_core::{Bytes, Key, Namespace, Now, SetOptions, Store, StoreExt};
use strata_memory::MemoryStore;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    analytics_hit_does_not_allocate();
    println!("test analytics_hit_does_not_allocate ... ok");
}

fn analytics_hit_does_not_allocate() {
    let analytics = AnalyticsLayer::new();
    let store = MemoryStore::new().layer(analytics.clone());
    let users = Key::new(&Namespace::new("users").unwrap(), "1").unwrap();
    let orders = Key::new(&Namespace::new("orders").unwrap(), "1").unwrap();
    for key in [&users, &orders] {
        let set = store.set(key, Bytes::from_static(b"{}"), SetOptions::new());
        assert!(set.now_or_never().unwrap().is_ok());
        // The first read of a namespace creates its counters and the first timed read its
        // histogram; both are done once.
        for _ in 0..128 {
            assert!(store.read(key).now_or_never().unwrap().unwrap().is_some());
        }
    }

    let region = Region::new(GLOBAL);
    for _ in 0..1_000 {
        // Alternating namespaces: the thread's remembered column changes on every read.
        for key in [&users, &orders] {
            assert!(matches!(store.get_now(key), Now::Ready(Some(_))));
            assert!(store.read(key).now_or_never().unwrap().unwrap().is_some());
            assert!(store.get(key).now_or_never().unwrap().unwrap().is_some());
        }
    }
    let stats = region.change();
    assert_eq!(
        (stats.allocations, stats.reallocations),
        (0, 0),
        "an analytics hit allocated: {stats:?}"
    );

    let snapshot = analytics.snapshot();
    let overall = &snapshot.tiers[&Tier::Overall];
    assert_eq!(overall.namespaces["users"].hits, 128 + 3_000);
    assert_eq!(overall.namespaces["orders"].hits, 128 + 3_000);
    assert_eq!(overall.totals.misses, 0);
    let timed = overall.latency[&strata_analytics::Operation::Get].samples;
    // The thread's second read is timed, then one in 64.
    let reads = 2 * (128 + 3_000);
    assert_eq!(timed, 1 + (reads - 2) / 64, "one read in 64 timed");
}
