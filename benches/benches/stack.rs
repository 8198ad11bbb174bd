//! Records of the full stack: `stack.typed_get_hit` (a typed `strata::Cache<T>` hit against
//! a moka cache of `Arc<T>`) and the async-dispatch decision, an L1 hit through two
//! pass-through layers three ways: native nested futures, a type-erased `SharedStore` at each
//! level (one boxed future per level), and the erased stack's synchronous `get_now`
//! (`core.two_layers.boxed_over_native`, `core.two_layers.get_now_over_native`); and what the
//! governance and analytics layers cost on an L1 hit (`stack.governance_overhead`,
//! `stack.analytics_overhead`).
//!
//! Run through `cargo xtask bench`; see `benches/README.md`.

use std::sync::Arc;

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use strata_analytics::AnalyticsLayer;
use strata_benches::paired;
use strata_benches::workload::{
    self, CAPACITY, WORKING_SET, assert_all_hit, cycle, filled_memory_store, one_at_a_time,
};
use strata_benches::{Contender, PassThrough, Record, Runner, Settings};
use strata_core::{Key, Now, SharedStore, Store, StoreExt};
use strata_governance::GovernanceLayer;

/// The typed value: a small struct, as a service would cache.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    score: f64,
}

const BOXED_OVER_NATIVE: &str = "core.two_layers.boxed_over_native";
const GET_NOW_OVER_NATIVE: &str = "core.two_layers.get_now_over_native";
const GOVERNANCE_OVERHEAD: &str = "stack.governance_overhead";
const ANALYTICS_OVERHEAD: &str = "stack.analytics_overhead";

fn main() {
    let mut runner = Runner::from_env();

    if runner.wants("stack.typed_get_hit") {
        typed_get_hit(&mut runner);
    }
    if runner.wants(BOXED_OVER_NATIVE) || runner.wants(GET_NOW_OVER_NATIVE) {
        two_layers(&mut runner);
    }
    if runner.wants(GOVERNANCE_OVERHEAD) || runner.wants(ANALYTICS_OVERHEAD) {
        layer_overhead(&mut runner);
    }

    runner.finish();
}

fn typed_get_hit(runner: &mut Runner) {
    let ids: Vec<String> = (0..WORKING_SET).map(|i| format!("k{i}")).collect();
    let strata: strata::Cache<Profile> = strata::CacheBuilder::new()
        .namespace("bench")
        .max_entries(CAPACITY as u64)
        .build()
        .expect("a valid typed cache");
    let moka: moka::sync::Cache<String, Arc<Profile>> = moka::sync::Cache::new(CAPACITY as u64);
    for (i, id) in ids.iter().enumerate() {
        let profile = Profile {
            id: i as u64,
            name: format!("user {i}"),
            score: i as f64 / 7.0,
        };
        match strata.set(id, profile.clone()).now_or_never() {
            Some(Ok(())) => {}
            other => panic!("typed set of {id}: {other:?}"),
        }
        moka.insert(id.clone(), Arc::new(profile));
    }
    moka.run_pending_tasks();
    let order = workload::shuffled(&ids, 0x5EED);
    let strata_get = |id: &String| match strata.get(id).now_or_never() {
        Some(Ok(hit)) => hit,
        other => panic!("a typed memory get completes without waiting: {other:?}"),
    };
    assert_all_hit("strata", &order, |id| strata_get(id).is_some());
    assert_all_hit("moka", &order, |id| moka.get(id.as_str()).is_some());
    runner.speed(
        "stack.typed_get_hit",
        &mut [
            Contender::new("strata", 1, cycle(&order, strata_get)),
            Contender::new("moka", 1, cycle(&order, |id| moka.get(id.as_str()))),
        ],
    );
}

/// An L1 hit on the bare memory store, behind the governance layer (built-in policy) and
/// behind the analytics layer (defaults: 1 in 64 reads timed, no subscriber, no exporter),
/// each read two ways: `StoreExt::read` (the synchronous `get_now` fast path, which the typed
/// cache takes) and `Store::get` polled once. Each record is the layer's time ÷ the bare
/// store's time on the `read` path, timed in alternating pairs of short batches
/// ([`paired`]); criterion's ratios of the `read` and `get` paths are in `detail`.
fn layer_overhead(runner: &mut Runner) {
    let (memory, order) = filled_memory_store();
    let governed = memory.clone().layer(GovernanceLayer::built_in());
    let analysed = memory.clone().layer(AnalyticsLayer::new());

    fn read<S: Store>(store: &S, k: &Key) -> Option<strata_core::Entry> {
        match store.read(k).now_or_never() {
            Some(Ok(hit)) => hit,
            _ => panic!("an in-memory read completes without waiting"),
        }
    }
    fn get<S: Store>(store: &S, k: &Key) -> Option<strata_core::Entry> {
        match store.get(k).now_or_never() {
            Some(Ok(hit)) => hit,
            _ => panic!("a memory get completes without waiting"),
        }
    }
    assert_all_hit("memory", &order, |k| read(&memory, k).is_some());
    assert_all_hit("governance", &order, |k| read(&governed, k).is_some());
    assert_all_hit("analytics", &order, |k| get(&analysed, k).is_some());

    let Some(m) = runner.measure(
        "stack.layer_overhead",
        &mut [
            Contender::new("memory_read", 1, cycle(&order, |k| read(&memory, k))),
            Contender::new("governance_read", 1, cycle(&order, |k| read(&governed, k))),
            Contender::new("analytics_read", 1, cycle(&order, |k| read(&analysed, k))),
            Contender::new("memory_get", 1, cycle(&order, |k| get(&memory, k))),
            Contender::new("governance_get", 1, cycle(&order, |k| get(&governed, k))),
            Contender::new("analytics_get", 1, cycle(&order, |k| get(&analysed, k))),
        ],
    ) else {
        return;
    };
    // The figure: the same reads timed in pairs of short batches, bare store and layer in
    // turn (see `strata_benches::paired`), which a shared machine's bursts of load move far
    // less than criterion's second-long measurements; criterion's ratios stay as details.
    let pairs = if *runner.settings() == Settings::quick() {
        301
    } else {
        1_001
    };
    // Generic, so both sides compile to the same direct calls (no `dyn` on one side only).
    fn against_bare<B: Store, L: Store>(
        pairs: usize,
        order: &[Key],
        bare: &B,
        layered: &L,
    ) -> paired::Paired {
        paired::measure(
            pairs,
            PAIRED_BATCH,
            one_at_a_time(order, 0, |k| read(bare, k)),
            one_at_a_time(order, order.len() / 2, |k| read(layered, k)),
        )
    }
    for (record, layer, paired) in [
        (
            GOVERNANCE_OVERHEAD,
            "governance",
            against_bare(pairs, &order, &memory, &governed),
        ),
        (
            ANALYTICS_OVERHEAD,
            "analytics",
            against_bare(pairs, &order, &memory, &analysed),
        ),
    ] {
        let (read_c, get_c) = (format!("{layer}_read"), format!("{layer}_get"));
        let (bare_ns, layer_ns) = paired.median_ns();
        runner.emit(
            Record::ratio(record, paired.median_ratio())
                .detail("pairs", pairs as f64)
                .detail("ratio_p25", paired.ratio_quantile(0.25))
                .detail("ratio_p75", paired.ratio_quantile(0.75))
                .detail("paired_memory_read_ns_per_op", bare_ns)
                .detail("paired_layer_read_ns_per_op", layer_ns)
                .detail(
                    "criterion_read_ratio",
                    m.median_time_ratio(&read_c, "memory_read"),
                )
                .detail("memory_read_ns_per_op", m.median_ns_per_op("memory_read"))
                .detail("layer_read_ns_per_op", m.median_ns_per_op(&read_c))
                .detail("get_ratio", m.median_time_ratio(&get_c, "memory_get"))
                .detail("memory_get_ns_per_op", m.median_ns_per_op("memory_get"))
                .detail("layer_get_ns_per_op", m.median_ns_per_op(&get_c)),
        );
    }
}

/// Reads per batch of the paired timing: about half a millisecond on the bare store.
const PAIRED_BATCH: usize = 2_000;

fn two_layers(runner: &mut Runner) {
    let (memory, order) = filled_memory_store();

    // (a) Generic: `Layer<Layer<MemoryStore>>`, nested futures, nothing boxed.
    let native = PassThrough::new(PassThrough::new(memory.clone()));
    // (b), (c) Erased at each level as the builder does: one boxed future per level on `get`.
    let erased = SharedStore::new(PassThrough::new(SharedStore::new(PassThrough::new(
        SharedStore::new(memory),
    ))));

    let native_get = |k: &Key| match native.get(k).now_or_never() {
        Some(Ok(hit)) => hit,
        _ => panic!("a memory get completes without waiting"),
    };
    let boxed_get = |k: &Key| match erased.get(k).now_or_never() {
        Some(Ok(hit)) => hit,
        _ => panic!("a memory get completes without waiting"),
    };
    let get_now = |k: &Key| match erased.get_now(k) {
        Now::Ready(hit) => hit,
        Now::Pending => panic!("a memory store answers get_now"),
    };
    assert_all_hit("native", &order, |k| native_get(k).is_some());
    assert_all_hit("boxed", &order, |k| boxed_get(k).is_some());
    assert_all_hit("get_now", &order, |k| get_now(k).is_some());

    let Some(m) = runner.measure(
        "core.two_layers",
        &mut [
            Contender::new("native", 1, cycle(&order, native_get)),
            Contender::new("boxed", 1, cycle(&order, boxed_get)),
            Contender::new("get_now", 1, cycle(&order, get_now)),
        ],
    ) else {
        return;
    };
    let with_times = |r: Record| {
        r.detail("native_ns_per_op", m.median_ns_per_op("native"))
            .detail("boxed_ns_per_op", m.median_ns_per_op("boxed"))
            .detail("get_now_ns_per_op", m.median_ns_per_op("get_now"))
    };
    runner.emit(with_times(Record::ratio(
        BOXED_OVER_NATIVE,
        m.median_time_ratio("boxed", "native"),
    )));
    runner.emit(with_times(Record::ratio(
        GET_NOW_OVER_NATIVE,
        m.median_time_ratio("get_now", "native"),
    )));
}
