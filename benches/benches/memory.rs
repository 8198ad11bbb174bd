//! In-memory cache records: `memory.get_hit.1t`, `memory.get_hit.2t`, `memory.insert.1t`,
//! `memory.mixed_zipf.2t` (Strata's `Cache<u64, u64>` against moka, quick_cache and a
//! mutex-guarded lru, all with the same keys and values) and `memory.store_get_hit.1t`
//! (`MemoryStore` through `Store::get` against its own cache core).
//!
//! Run through `cargo xtask bench`; see `benches/README.md`.

use std::num::NonZeroUsize;

use bytes::Bytes;
use futures_util::FutureExt;
use parking_lot::Mutex;
use strata_benches::workload::{
    self, CAPACITY, FULL_CAPACITY, MixedOp, WORKING_SET, ZIPF_CAPACITY, assert_all_hit, cycle,
    cycle_two_threads, insert_fresh, value_of,
};
use strata_benches::{Contender, Record, Runner};
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

    if runner.wants(MIXED_ZIPF_2T) {
        mixed_zipf_2t(&mut runner);
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

const MIXED_ZIPF_2T: &str = "memory.mixed_zipf.2t";

/// `memory.mixed_zipf.2t`: two threads at once run the same pre-generated sequence of 90 %
/// gets and 10 % inserts over Zipf(0.9)-distributed keys from a space ten times the cache,
/// starting half the sequence apart. Gets that miss insert nothing. Before the rounds, each
/// cache takes every key of the sequence as an insert (so it is full), then runs the
/// sequence once on one thread, which gives the hit ratios reported in `detail`.
fn mixed_zipf_2t(runner: &mut Runner) {
    let ops = workload::mixed_zipf_ops();
    let c = Caches::new(ZIPF_CAPACITY);
    for op in &ops {
        c.strata.insert(op.key, value_of(op.key)).expect("insert");
        c.moka.insert(op.key, value_of(op.key));
        c.quick_cache.insert(op.key, value_of(op.key));
        c.lru.lock().put(op.key, value_of(op.key));
    }
    c.moka.run_pending_tasks();
    let hit_ratios = [
        ("strata", hit_ratio(&ops, |op| c.strata_op(op))),
        ("moka", hit_ratio(&ops, |op| c.moka_op(op))),
        ("quick_cache", hit_ratio(&ops, |op| c.quick_cache_op(op))),
        ("lru", hit_ratio(&ops, |op| c.lru_op(op))),
    ];
    let measured = runner.measure(
        MIXED_ZIPF_2T,
        &mut [
            Contender::new("strata", 2, cycle_two_threads(&ops, |op| c.strata_op(op))),
            Contender::new("moka", 2, cycle_two_threads(&ops, |op| c.moka_op(op))),
            Contender::new(
                "quick_cache",
                2,
                cycle_two_threads(&ops, |op| c.quick_cache_op(op)),
            ),
            Contender::new("lru", 2, cycle_two_threads(&ops, |op| c.lru_op(op))),
        ],
    );
    assert!(
        c.strata.entry_count() <= ZIPF_CAPACITY as u64,
        "strata overflowed"
    );
    let Some(m) = measured else {
        return;
    };
    let mut r = Record::ops_per_sec(MIXED_ZIPF_2T, m.median_ops_per_sec("strata"));
    for peer in ["moka", "quick_cache", "lru"] {
        r = r.peer(peer, m.median_ops_per_sec(peer));
    }
    for (name, ratio) in hit_ratios {
        r = r.detail(&format!("{name}_hit_ratio"), ratio);
    }
    runner.emit(r);
}

/// The share of the gets of `ops` that hit when `op` runs the whole sequence once (`op`
/// returns whether a get hit, and `None` for an insert).
fn hit_ratio(ops: &[MixedOp], mut op: impl FnMut(&MixedOp) -> Option<bool>) -> f64 {
    let (mut gets, mut hits) = (0u64, 0u64);
    for o in ops {
        if let Some(hit) = op(o) {
            gets += 1;
            hits += u64::from(hit);
        }
    }
    hits as f64 / gets.max(1) as f64
}

impl Caches {
    /// Runs a mixed operation on Strata: `Some(hit)` for a get, `None` for an insert.
    fn strata_op(&self, op: &MixedOp) -> Option<bool> {
        if op.insert {
            self.strata
                .insert(op.key, value_of(op.key))
                .expect("insert");
            None
        } else {
            Some(self.strata.get(&op.key).is_some())
        }
    }

    /// [`Caches::strata_op`] on moka.
    fn moka_op(&self, op: &MixedOp) -> Option<bool> {
        if op.insert {
            self.moka.insert(op.key, value_of(op.key));
            None
        } else {
            Some(self.moka.get(&op.key).is_some())
        }
    }

    /// [`Caches::strata_op`] on quick_cache.
    fn quick_cache_op(&self, op: &MixedOp) -> Option<bool> {
        if op.insert {
            self.quick_cache.insert(op.key, value_of(op.key));
            None
        } else {
            Some(self.quick_cache.get(&op.key).is_some())
        }
    }

    /// [`Caches::strata_op`] on the mutex-guarded lru.
    fn lru_op(&self, op: &MixedOp) -> Option<bool> {
        if op.insert {
            self.lru.lock().put(op.key, value_of(op.key));
            None
        } else {
            Some(self.lru.lock().get(&op.key).is_some())
        }
    }
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
