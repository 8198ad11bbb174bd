//! `memory.replay.P12`: seconds for one replay of the P12 trace at 160,000 entries (get, and
//! insert on a miss), Strata's default policy against quick_cache. Lower is better.
//!
//! No criterion here: one replay takes seconds, so each contender is timed directly over
//! [`RUNS`] interleaved runs (Strata, quick_cache, Strata, ...) and the figure is the median.
//! moka is left out for time (it replays tens of times slower). The hit ratios go into the
//! record's `detail`. The trace is the ARC paper's (see `trace::CITATION`); it is read from
//! `shared/traces` beside the repository, or from `STRATA_TRACES` when set. A missing trace
//! fails the run loudly. `cargo test --benches` replays a short prefix once and reports
//! nothing.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use strata_benches::runner::median;
use strata_benches::trace;
use strata_benches::{Record, Runner};

/// The record's name.
const REPLAY_P12: &str = "memory.replay.P12";
/// The cache size of the replay.
const ENTRIES: u64 = 160_000;
/// Timed replays per contender.
const RUNS: usize = 3;
/// Requests replayed by the smoke test.
const SMOKE_REQUESTS: usize = 100_000;

fn trace_path() -> PathBuf {
    match std::env::var_os("STRATA_TRACES") {
        Some(dir) => PathBuf::from(dir).join("P12.lis.zst"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/P12.lis.zst"),
    }
}

/// Replays `pages` (get, insert on a miss); returns (seconds, hit ratio).
fn replay(pages: &[u64], get: impl Fn(u64) -> bool, insert: impl Fn(u64)) -> (f64, f64) {
    let start = Instant::now();
    let mut hits = 0u64;
    for &p in pages {
        if get(p) {
            hits += 1;
        } else {
            insert(p);
        }
    }
    (
        start.elapsed().as_secs_f64(),
        hits as f64 / pages.len().max(1) as f64,
    )
}

/// Replays `pages` through a Strata cache with the default policy.
fn strata(pages: &[u64]) -> (f64, f64) {
    let cache: strata_memory::Cache<u64, ()> = strata_memory::Cache::builder()
        .max_entries(ENTRIES)
        .build()
        .expect("a valid cache");
    let out = replay(
        pages,
        |p| cache.get(&p).is_some(),
        |p| cache.insert(p, ()).expect("unit values always fit"),
    );
    black_box(&cache);
    out
}

/// Replays `pages` through quick_cache.
fn quick_cache(pages: &[u64]) -> (f64, f64) {
    let cache = quick_cache::sync::Cache::<u64, ()>::new(ENTRIES as usize);
    let out = replay(pages, |p| cache.get(&p).is_some(), |p| cache.insert(p, ()));
    black_box(&cache);
    out
}

fn main() {
    let mut runner = Runner::from_env();
    if !runner.wants(REPLAY_P12) {
        runner.finish();
        return;
    }
    let path = trace_path();
    let mut pages = match trace::load(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: {REPLAY_P12} needs the P12 trace: {e} (set STRATA_TRACES to the folder that holds P12.lis.zst)"
            );
            std::process::exit(1);
        }
    };
    if !runner.is_benchmarking() {
        pages.truncate(SMOKE_REQUESTS);
        black_box(strata(&pages));
        black_box(quick_cache(&pages));
        runner.finish();
        return;
    }
    let (mut s_secs, mut q_secs) = (Vec::new(), Vec::new());
    let (mut s_hit, mut q_hit) = (0.0, 0.0);
    for _ in 0..RUNS {
        let (secs, hit) = strata(&pages);
        s_secs.push(secs);
        s_hit = hit;
        let (secs, hit) = quick_cache(&pages);
        q_secs.push(secs);
        q_hit = hit;
    }
    let record = Record::new(REPLAY_P12, "s", false, median(&s_secs))
        .peer("quick_cache", median(&q_secs))
        .detail("strata_hit_ratio", s_hit)
        .detail("quick_cache_hit_ratio", q_hit)
        .detail("requests", pages.len() as f64);
    println!("Traces: {}", trace::CITATION);
    runner.emit(record);
    runner.finish();
}
