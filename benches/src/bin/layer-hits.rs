//! A bare loop of L1 hits on a memory store, alone or behind the governance or analytics
//! layer, for instruction counts under callgrind and quick timings:
//! `layer-hits <memory|governance|analytics> <reads> [keys]`. The same 50,000 shuffled keys
//! as `stack.*_overhead` (or the first `keys` of them: a few hundred fit in the CPU's caches,
//! which separates the layer's instructions from the store's memory traffic); prints
//! nanoseconds per read.

use std::hint::black_box;
use std::time::Instant;

use futures_util::FutureExt;
use strata_analytics::AnalyticsLayer;
use strata_benches::workload::{self};
use strata_core::{Key, Store, StoreExt};
use strata_governance::GovernanceLayer;

#[inline(never)]
fn run<S: Store>(store: &S, order: &[Key], reads: usize) -> f64 {
    let start = Instant::now();
    let mut found = 0usize;
    for i in 0..reads {
        let key = black_box(&order[i % order.len()]);
        match store.read(key).now_or_never() {
            Some(Ok(hit)) => found += usize::from(hit.is_some()),
            _ => panic!("an in-memory read completes without waiting"),
        }
    }
    assert_eq!(found, reads, "every read hits");
    start.elapsed().as_nanos() as f64 / reads.max(1) as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "memory".to_owned());
    let reads: usize = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("a count"));
    let (memory, mut order) = workload::filled_memory_store();
    if let Some(n) = args.next() {
        order.truncate(n.parse().expect("a key count"));
    }
    let ns_per_read = match which.as_str() {
        "memory" => run(&memory, &order, reads),
        "governance" => run(&memory.layer(GovernanceLayer::built_in()), &order, reads),
        "analytics" => run(&memory.layer(AnalyticsLayer::new()), &order, reads),
        other => panic!("unknown store {other}: memory, governance or analytics"),
    };
    println!("{which}: {reads} reads, {ns_per_read:.1} ns/read");
}
