//! In-memory cache records: `memory.get_hit.1t`, `memory.get_hit.2t`, `memory.insert.1t`
//! (Strata's `Cache<u64, u64>` against moka, quick_cache and a mutex-guarded lru, all with
//! the same keys and values) and `memory.store_get_hit.1t` (`MemoryStore` through
//! `Store::get` against its own cache core).
//!
//! Run through `cargo xtask bench`; see `benches/README.md`.

use std::num::NonZeroUsize;

use bytes::Bytes;
use futures_util::FutureExt;
use parking_lot::Mutex;
use strata_benches::workload::{
    self, CAPACITY, FULL_CAPACITY, WORKING_SET, assert_all_hit, cycle, cycle_two_threads,
    insert_fresh, value_of,
};
use strata_benches::{Contender, Runner};
use strata_core::{Key, Namespace, SetOptions, Store};
use strata_memory::MemoryStore;

/// The four contenders over `u64 -> u64`, each holding `capacity` entries at most.
struct Caches {
    strata: strata_memory::Cache<u64, u64>,
    moka: moka::sync::Cache<u64, u64>,
    quick_cache: quick_cache::sync::Cache<u64, u64>,
    lru: Mutex<lru::LruCache<u64, u64>>,
}

impl Caches {
    /// Empty caches of `capacity` entries.
    fn new(capacity: usize) -> Self {
        Caches {
            strata: strata_memory::Cache::builder()
                .max_entries(capacity as u64)
                .build()
                .expect("a valid strata cache"),
            moka: moka::sync::Cache::new(capacity as u64),
            quick_cache: quick_cache::sync::Cache::new(capacity),
            lru: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(capacity).expect("a non-zero capacity"),
            )),
        }
    }

    /// Caches of `capacity` entries holding `keys`.
    fn filled(capacity: usize, keys: &[u64]) -> Self {
        let c = Caches::new(capacity);
        for &k in keys {
            c.strata.insert(k, value_of(k)).expect("insert");
            c.moka.insert(k, value_of(k));
            c.quick_cache.insert(k, value_of(k));
            c.lru.lock().put(k, value_of(k));
        }
        c.moka.run_pending_tasks();
        c
    }

    /// Panics unless every contender holds every key of `order`.
    fn assert_all_hit(&self, order: &[u64]) {
        assert_all_hit("strata", order, |k| self.strata.get(k).is_some());
        assert_all_hit("moka", order, |k| self.moka.get(k).is_some());
        assert_all_hit("quick_cache", order, |k| self.quick_cache.get(k).is_some());
        assert_all_hit("lru", order, |k| self.lru.lock().get(k).is_some());
    }
}

fn main() {
    let mut runner = Runner::from_env();
    let keys = workload::keys(WORKING_SET);
    let order = workload::shuffled(&keys, 0x5EED);

    if runner.wants("memory.get_hit.1t") || runner.wants("memory.get_hit.2t") {
        let c = Caches::filled(CAPACITY, &keys);
        c.assert_all_hit(&order);
        runner.speed(
            "memory.get_hit.1t",
            &mut [
                Contender::new("strata", 1, cycle(&order, |k| c.strata.get(k))),
                Contender::new("moka", 1, cycle(&order, |k| c.moka.get(k))),
                Contender::new("quick_cache", 1, cycle(&order, |k| c.quick_cache.get(k))),
                Contender::new("lru", 1, cycle(&order, |k| c.lru.lock().get(k).copied())),
            ],
        );
        runner.speed(
            "memory.get_hit.2t",
            &mut [
                Contender::new("strata", 2, cycle_two_threads(&order, |k| c.strata.get(k))),
                Contender::new("moka", 2, cycle_two_threads(&order, |k| c.moka.get(k))),
                Contender::new(
                    "quick_cache",
                    2,
                    cycle_two_threads(&order, |k| c.quick_cache.get(k)),
                ),
                Contender::new(
                    "lru",
                    2,
                    cycle_two_threads(&order, |k| c.lru.lock().get(k).copied()),
                ),
            ],
        );
        c.assert_all_hit(&order);
    }

    if runner.wants("memory.insert.1t") {
        // Full from the start: every insert of a fresh key evicts one.
        let c = Caches::filled(FULL_CAPACITY, &keys);
        runner.speed(
            "memory.insert.1t",
            &mut [
                Contender::new(
                    "strata",
                    1,
                    insert_fresh(|k, v| c.strata.insert(k, v).expect("insert")),
                ),
                Contender::new("moka", 1, insert_fresh(|k, v| c.moka.insert(k, v))),
                Contender::new(
                    "quick_cache",
                    1,
                    insert_fresh(|k, v| c.quick_cache.insert(k, v)),
                ),
                Contender::new("lru", 1, insert_fresh(|k, v| c.lru.lock().put(k, v))),
            ],
        );
        assert!(
            c.strata.entry_count() <= FULL_CAPACITY as u64,
            "strata overflowed"
        );
    }

    if runner.wants("memory.store_get_hit.1t") {
        let (store, order) = id_keyed_store();
        let peer = store.clone();
        runner.speed(
            "memory.store_get_hit.1t",
            &mut [
                Contender::new(
                    "strata",
                    1,
                    cycle(&order, |k| match store.get(k).now_or_never() {
                        Some(Ok(hit)) => hit,
                        _ => panic!("a memory store get completes without waiting"),
                    }),
                ),
                Contender::new("cache_core", 1, cycle(&order, |k| peer.cache().get(k))),
            ],
        );
    }

    runner.finish();
}

/// A `MemoryStore` holding the working set under 64-bit-id-sized keys (`bench:12345`), and
/// those keys in a shuffled order.
fn id_keyed_store() -> (MemoryStore, Vec<Key>) {
    let ns = Namespace::new("bench").expect("a valid namespace");
    let keys: Vec<Key> = (0..WORKING_SET)
        .map(|i| Key::new(&ns, &(10_000 + i).to_string()).expect("a valid key"))
        .collect();
    let store = MemoryStore::builder()
        .max_entries(CAPACITY as u64)
        .build()
        .expect("a valid memory store");
    for (i, key) in keys.iter().enumerate() {
        let value = Bytes::from((i as u64).to_le_bytes().to_vec());
        match store.set(key, value, SetOptions::new()).now_or_never() {
            Some(Ok(_)) => {}
            other => panic!("memory store set of {key:?}: {other:?}"),
        }
    }
    let order = workload::shuffled(&keys, 0x5EED);
    assert_all_hit("memory store", &order, |k| store.cache().peek(k).is_some());
    (store, order)
}
