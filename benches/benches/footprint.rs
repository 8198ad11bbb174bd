//! `memory.bytes_per_entry`: the live heap a `Cache<u64, u64>` grows by per entry, beyond the
//! 16 bytes of the key and value themselves, against moka and quick_cache.
//!
//! No criterion here: a counting global allocator (`stats_alloc`) tells how many bytes are
//! live. Each run snapshots the counters, builds a cache with a capacity of
//! [`ENTRIES`], inserts [`ENTRIES`] distinct keys (moka then runs its pending tasks), snapshots
//! again while the cache is alive, and takes `(allocated - freed) / ENTRIES - 16`. The key
//! list is made before the first snapshot, so it is not counted. The contenders run in
//! interleaved rounds (Strata, moka, quick_cache, then again); each figure is the median of
//! [`RUNS`] runs. `cargo test --benches` runs each contender once with a few keys and reports
//! nothing.
//!
//! Run through `cargo xtask bench`; see `benches/README.md`.

use std::alloc::System;
use std::hint::black_box;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use strata_benches::record::BYTES;
use strata_benches::runner::median;
use strata_benches::workload::{self, value_of};
use strata_benches::{Record, Runner};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The record's name.
const BYTES_PER_ENTRY: &str = "memory.bytes_per_entry";

/// Entries (and capacity) of each measured cache.
const ENTRIES: usize = 1_000_000;

/// Entries of the smoke test (`cargo test --benches`).
const SMOKE_ENTRIES: usize = 10_000;

/// Runs per contender; the figure is their median.
const RUNS: usize = 3;

/// The bytes of one entry's key and value (`u64` and `u64`), which every cache must hold.
const PAYLOAD: f64 = 16.0;

/// What one run found.
struct Footprint {
    /// Live heap bytes per inserted key, less [`PAYLOAD`].
    overhead: f64,
    /// Entries the cache held when measured.
    held: u64,
}

/// One contender: builds a cache with room for `keys.len()` entries, inserts `keys`, and
/// measures.
type Measure = fn(&[u64]) -> Footprint;

fn main() {
    let mut runner = Runner::from_env();
    if !runner.wants(BYTES_PER_ENTRY) {
        runner.finish();
        return;
    }
    let benchmarking = runner.is_benchmarking();
    let (entries, runs) = if benchmarking {
        (ENTRIES, RUNS)
    } else {
        (SMOKE_ENTRIES, 1)
    };
    let keys = workload::keys(entries);
    let contenders: [(&str, Measure); 3] = [
        ("strata", strata),
        ("moka", moka),
        ("quick_cache", quick_cache),
    ];
    let mut found: Vec<Vec<Footprint>> = contenders.iter().map(|_| Vec::new()).collect();
    for run in 0..runs {
        for ((name, measure), results) in contenders.iter().zip(&mut found) {
            let f = measure(&keys);
            if (f.held as f64) < 0.99 * keys.len() as f64 {
                eprintln!(
                    "warning: {BYTES_PER_ENTRY}/{name}: the cache held only {} of {} entries, \
                     so the figure (per inserted key) understates its footprint per entry",
                    f.held,
                    keys.len()
                );
            }
            if benchmarking {
                println!(
                    "{BYTES_PER_ENTRY}/{name}/r{run}: {:.1} bytes per entry beyond the key and \
                     value, {} entries held",
                    f.overhead, f.held
                );
            }
            results.push(f);
        }
    }
    if !benchmarking {
        runner.finish();
        return;
    }
    let figure = |i: usize| median(&found[i].iter().map(|f| f.overhead).collect::<Vec<_>>());
    let mut record = Record::new(BYTES_PER_ENTRY, BYTES, false, figure(0));
    for (i, (name, _)) in contenders.iter().enumerate().skip(1) {
        record = record.peer(name, figure(i));
    }
    for ((name, _), results) in contenders.iter().zip(&found) {
        let held = results.iter().map(|f| f.held).min().unwrap_or(0);
        record = record.detail(&format!("{name}_entries_held"), held as f64);
    }
    runner.emit(record);
    runner.finish();
}

/// Live heap bytes (allocated less freed) since `region` began.
fn live_bytes(region: &Region<'_, System>) -> f64 {
    let change = region.change();
    change.bytes_allocated as f64 - change.bytes_deallocated as f64
}

/// The footprint from the live growth `live` after inserting `keys`.
fn footprint(live: f64, keys: &[u64], held: u64) -> Footprint {
    Footprint {
        overhead: live / keys.len() as f64 - PAYLOAD,
        held,
    }
}

/// `strata_memory::Cache<u64, u64>`.
fn strata(keys: &[u64]) -> Footprint {
    let region = Region::new(GLOBAL);
    let cache = strata_memory::Cache::<u64, u64>::builder()
        .max_entries(keys.len() as u64)
        .build()
        .expect("a valid strata cache");
    for &k in keys {
        cache.insert(k, value_of(k)).expect("insert");
    }
    let live = live_bytes(&region);
    let held = cache.entry_count();
    black_box(&cache);
    footprint(live, keys, held)
}

/// `moka::sync::Cache<u64, u64>`, measured after `run_pending_tasks`.
fn moka(keys: &[u64]) -> Footprint {
    let region = Region::new(GLOBAL);
    let cache = moka::sync::Cache::<u64, u64>::new(keys.len() as u64);
    for &k in keys {
        cache.insert(k, value_of(k));
    }
    cache.run_pending_tasks();
    let live = live_bytes(&region);
    let held = cache.entry_count();
    black_box(&cache);
    footprint(live, keys, held)
}

/// `quick_cache::sync::Cache<u64, u64>`.
fn quick_cache(keys: &[u64]) -> Footprint {
    let region = Region::new(GLOBAL);
    let cache = quick_cache::sync::Cache::<u64, u64>::new(keys.len());
    for &k in keys {
        cache.insert(k, value_of(k));
    }
    let live = live_bytes(&region);
    let held = cache.len() as u64;
    black_box(&cache);
    footprint(live, keys, held)
}
