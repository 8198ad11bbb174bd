//! A bare loop of `Cache<u64, u64>` operations, Strata's or quick_cache's, for instruction
//! counts under callgrind and quick timings:
//! `cache-ops <get|insert|mixed> <strata|quick_cache> <operations>`.
//!
//! `get` reads the 50,000 keys of `memory.get_hit.*` in their shuffled order from a cache of
//! 100,000 entries; `insert` writes fresh keys into a full cache of 50,000, every insert
//! evicting one (the shape of `memory.insert.1t`); `mixed` runs the operations of
//! `memory.mixed_zipf.2t` (90 % gets, 10 % inserts, Zipf keys) on one thread against a cache
//! of 100,000 filled with every key of the sequence in order (the record itself also runs the
//! sequence once more before timing). Prints nanoseconds per operation. Under
//! callgrind, `--toggle-collect='cache_ops::run*'` counts the loop alone.

use std::hint::black_box;
use std::time::Instant;

use strata_benches::workload::{
    self, CAPACITY, FULL_CAPACITY, MixedOp, WORKING_SET, ZIPF_CAPACITY, value_of,
};

/// What the loop does: read `order` round and round, insert fresh keys, or run the mixed
/// sequence round and round.
#[derive(Clone, Copy)]
enum Op {
    Get,
    Insert,
    Mixed,
}

/// The first fresh key (beyond every key the cache was filled with).
const FRESH: u64 = 1 << 40;

/// The loop: `get` reads `order` round and round, `insert` writes fresh keys, `mixed` runs
/// `mixed` round and round.
#[inline(never)]
fn run(
    get: impl Fn(&u64) -> Option<u64>,
    insert: impl Fn(u64, u64),
    op: Op,
    (order, mixed): (&[u64], &[MixedOp]),
    n: usize,
) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        match op {
            Op::Get => sum += get(black_box(&order[i % order.len()])).unwrap_or(0),
            Op::Insert => {
                let k = workload::splitmix64(FRESH + i as u64);
                insert(black_box(k), value_of(k));
            }
            Op::Mixed => {
                let m = mixed[i % mixed.len()];
                if m.insert {
                    insert(black_box(m.key), value_of(m.key));
                } else {
                    sum += get(black_box(&m.key)).unwrap_or(0);
                }
            }
        }
    }
    sum
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "cache-ops <get|insert|mixed> <strata|quick_cache> <operations>";
    let op = match args.next().as_deref() {
        Some("get") => Op::Get,
        Some("insert") => Op::Insert,
        Some("mixed") => Op::Mixed,
        _ => panic!("usage: {usage}"),
    };
    let which = args.next().unwrap_or_else(|| panic!("usage: {usage}"));
    let n: usize = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("a count"));
    // What each operation runs over: the keys the cache is filled with, the read order, the
    // mixed sequence, and the cache's capacity.
    let (keys, order, mixed, capacity) = match op {
        Op::Get | Op::Insert => {
            let keys = workload::keys(WORKING_SET);
            let order = workload::shuffled(&keys, 0x5EED);
            let capacity = if matches!(op, Op::Get) {
                CAPACITY
            } else {
                FULL_CAPACITY
            };
            (keys, order, Vec::new(), capacity)
        }
        Op::Mixed => {
            let mixed = workload::mixed_zipf_ops();
            let keys = mixed.iter().map(|m| m.key).collect();
            (keys, Vec::new(), mixed, ZIPF_CAPACITY)
        }
    };
    let start;
    let sum = match which.as_str() {
        "strata" => {
            let c = strata_memory::Cache::builder()
                .max_entries(capacity as u64)
                .build()
                .expect("a valid cache");
            for &k in &keys {
                c.insert(k, value_of(k)).expect("insert");
            }
            start = Instant::now();
            run(
                |k| c.get(k),
                |k, v| c.insert(k, v).expect("insert"),
                op,
                (&order, &mixed),
                n,
            )
        }
        "quick_cache" => {
            let c = quick_cache::sync::Cache::new(capacity);
            for &k in &keys {
                c.insert(k, value_of(k));
            }
            start = Instant::now();
            run(|k| c.get(k), |k, v| c.insert(k, v), op, (&order, &mixed), n)
        }
        other => panic!("unknown cache {other}: strata or quick_cache"),
    };
    let ns = start.elapsed().as_nanos() as f64 / n.max(1) as f64;
    println!("{which}: {n} operations, {ns:.1} ns each (checksum {sum})");
}
