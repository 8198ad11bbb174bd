//! Tiered records (`TieredStore<MemoryStore, RedisStore>` on the standalone server that
//! `cargo xtask bench` starts):
//!
//! - `tiered.l1_hit` (ns per read, lower is better): a read L1 answers, through
//!   `Store::get` polled once; peers `moka` (a bare `moka::sync::Cache` get) and `redis_rs`
//!   (one sequential raw GET, the latency an L1 hit saves).
//! - `tiered.l2_hit_promote` (ns per read): a read L1 misses and L2 answers, promoted into L1
//!   with its remaining TTL (the key is dropped from L1 before each read); peer `redis_rs`
//!   (one sequential raw GET).
//! - `tiered.stampede_loader_calls` and `tiered.stampede_loader_calls_nolock` (calls, lower
//!   is better, no peers): loader calls for 1,000 concurrent misses of one key over 3 nodes,
//!   with and without the distributed stampede lock.
//! - `tiered.invalidation_lag_p50_ms` and `tiered.invalidation_lag_p99_ms` (ms, lower is
//!   better, no peers; goal p99 < 5 ms): two coherent nodes (`Coherence::over` the server,
//!   each with its own connections) over loopback; node A writes a key node B holds, one
//!   write at a time, and B's histogram of publish-to-applied lag gives the quantiles
//!   (detail: samples, p90, p99.9, max).
//!
//! Run through `cargo xtask bench`; see `benches/README.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use redis::AsyncCommands;
use strata_benches::workload::cycle;
use strata_benches::{Contender, Record, Runner};
use strata_core::load::{LoadEngine, LoadOptions, StampedeLock};
use strata_core::{CodecId, Key, Namespace, SetOptions, Store, ValueCodec};
use strata_memory::MemoryStore;
use strata_redis::RedisStore;
use strata_tiered::{Coherence, TieredStore};
use tokio::runtime::Runtime;

const KEYS: usize = 1_000;

fn main() {
    let mut runner = Runner::from_env();
    let names = [
        "tiered.l1_hit",
        "tiered.l2_hit_promote",
        "tiered.stampede_loader_calls",
        "tiered.stampede_loader_calls_nolock",
        "tiered.invalidation_lag_p50_ms",
        "tiered.invalidation_lag_p99_ms",
    ];
    if names.iter().any(|n| runner.wants(n)) {
        match std::env::var("STRATA_REDIS_URL") {
            Ok(url) if !url.is_empty() => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                hits(&mut runner, &rt, &url);
                stampedes(&mut runner, &rt, &url);
                lag(&mut runner, &rt, &url);
            }
            _ => eprintln!(
                "skipping tiered.* records: STRATA_REDIS_URL is not set (run `cargo xtask bench`)"
            ),
        }
    }
    runner.finish();
}

fn hits(runner: &mut Runner, rt: &Runtime, url: &str) {
    let l2 = rt
        .block_on(
            RedisStore::builder()
                .url(url)
                .prefix("bench-tiered")
                .connect(),
        )
        .expect("a store on the bench server");
    let tiered = TieredStore::builder(MemoryStore::new(), l2.clone()).build();
    let ns = Namespace::new("bench").expect("namespace");
    let keys: Vec<Key> = (0..KEYS)
        .map(|i| Key::new(&ns, &format!("k{i}")).expect("key"))
        .collect();
    let raw_keys: Vec<Vec<u8>> = keys.iter().map(|k| l2.redis_key(k)).collect();
    let value = Bytes::from(vec![b'v'; 64]);
    let items: Vec<_> = keys.iter().map(|k| (k.clone(), value.clone())).collect();
    rt.block_on(tiered.set_many(items, SetOptions::new().ttl(Duration::from_secs(600))))
        .expect("fill");
    let moka: moka::sync::Cache<Key, Bytes> = moka::sync::Cache::new(KEYS as u64 * 2);
    for k in &keys {
        moka.insert(k.clone(), value.clone());
    }
    let raw = rt
        .block_on(async { redis::Client::open(url)?.get_connection_manager().await })
        .expect("a raw connection");
    let raw_get = |k: &Vec<u8>| {
        let mut c = raw.clone();
        let v: Option<Vec<u8>> = rt.block_on(c.get(k)).expect("raw GET");
        assert!(v.is_some());
    };

    if runner.wants("tiered.l1_hit") {
        let tiered_get = |k: &Key| match tiered.get(k).now_or_never() {
            Some(Ok(Some(hit))) => hit,
            other => panic!("an L1 hit completes at once: {other:?}"),
        };
        let m = runner.measure(
            "tiered.l1_hit",
            &mut [
                Contender::new("strata", 1, cycle(&keys, tiered_get)),
                Contender::new("moka", 1, cycle(&keys, |k| moka.get(k))),
                Contender::new("redis_rs", 1, cycle(&raw_keys, raw_get)),
            ],
        );
        if let Some(m) = m {
            runner.emit(
                Record::new("tiered.l1_hit", "ns", false, m.median_ns_per_op("strata"))
                    .peer("moka", m.median_ns_per_op("moka"))
                    .peer("redis_rs", m.median_ns_per_op("redis_rs")),
            );
        }
    }

    if runner.wants("tiered.l2_hit_promote") {
        let promote = |k: &Key| {
            rt.block_on(async {
                tiered.l1().delete(k).await.expect("L1 delete");
                let hit = tiered.get(k).await.expect("tiered get");
                assert!(hit.is_some());
            })
        };
        let m = runner.measure(
            "tiered.l2_hit_promote",
            &mut [
                Contender::new("strata", 1, cycle(&keys, promote)),
                Contender::new("redis_rs", 1, cycle(&raw_keys, raw_get)),
            ],
        );
        if let Some(m) = m {
            runner.emit(
                Record::new(
                    "tiered.l2_hit_promote",
                    "ns",
                    false,
                    m.median_ns_per_op("strata"),
                )
                .peer("redis_rs", m.median_ns_per_op("redis_rs")),
            );
        }
    }
}

/// Loader calls for 1,000 concurrent misses of one key over 3 nodes.
async fn stampede(url: &str, prefix: &str, with_lock: bool) -> usize {
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let l2 = RedisStore::builder()
            .url(url)
            .prefix(prefix)
            .connect()
            .await
            .expect("a store on the bench server");
        let mut opts = LoadOptions::new().ttl(Duration::from_secs(60));
        if with_lock {
            opts = opts.stampede_lock(StampedeLock::new(Arc::new(l2.clone())));
        }
        let store = TieredStore::builder(MemoryStore::new(), l2).build();
        nodes.push(Arc::new((store, LoadEngine::new(), opts)));
    }
    let key = Key::new(&Namespace::new("stampede").expect("ns"), "k").expect("key");
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..1_000)
        .map(|i| {
            let (node, key, calls) = (nodes[i % 3].clone(), key.clone(), calls.clone());
            tokio::spawn(async move {
                let (store, engine, opts) = &*node;
                engine
                    .get_or_load(
                        store,
                        &key,
                        &ValueCodec::new(CodecId::Json),
                        opts,
                        || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            // A slow source, so every caller misses while it runs.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Ok::<_, std::io::Error>(42u64)
                        },
                    )
                    .await
                    .expect("a load")
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a caller panicked");
    }
    let _ = nodes[0]
        .0
        .l2()
        .invalidate(&strata_core::Invalidation::all())
        .await;
    calls.load(Ordering::SeqCst)
}

fn stampedes(runner: &mut Runner, rt: &Runtime, url: &str) {
    for (name, with_lock) in [
        ("tiered.stampede_loader_calls", true),
        ("tiered.stampede_loader_calls_nolock", false),
    ] {
        if runner.wants(name) {
            let prefix = format!("bench-stampede-{with_lock}");
            let calls = rt.block_on(stampede(url, &prefix, with_lock));
            runner.emit(Record::new(name, "calls", false, calls as f64));
        }
    }
}

/// Writes on node A measured as applied on node B (sequential: each write waits until B
/// applied it, so the lag is the path's, not a queue's).
async fn invalidation_lag(url: &str, writes: usize) -> strata_tiered::LagSummary {
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let l2 = RedisStore::builder()
            .url(url)
            .prefix("bench-lag")
            .connect()
            .await
            .expect("a store on the bench server");
        let node = TieredStore::builder(MemoryStore::new(), l2.clone())
            .coherence(Coherence::over(&l2))
            .expect("coherence settings")
            .build();
        assert!(node.wait_coherent(Duration::from_secs(10)).await);
        nodes.push(node);
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    let key = Key::new(&Namespace::new("lag").expect("ns"), "k").expect("key");
    let applied =
        |n: &TieredStore<MemoryStore, RedisStore>| n.coherence_stats().map_or(0, |s| s.lag.samples);
    b.reset_invalidation_lag();
    for i in 0..writes {
        let before = applied(b);
        a.set(&key, Bytes::from(format!("v{i}")), SetOptions::new())
            .await
            .expect("a write");
        // Bounded: 2 s per write at most.
        for _ in 0..20_000 {
            if applied(b) > before {
                break;
            }
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
    }
    let lag = b.coherence_stats().expect("coherence is on").lag;
    let _ = a.l2().invalidate(&strata_core::Invalidation::all()).await;
    lag
}

fn lag(runner: &mut Runner, rt: &Runtime, url: &str) {
    let names = [
        "tiered.invalidation_lag_p50_ms",
        "tiered.invalidation_lag_p99_ms",
    ];
    if !names.iter().any(|n| runner.wants(n)) {
        return;
    }
    let writes = if runner.is_benchmarking() { 5_000 } else { 100 };
    let lag = rt.block_on(invalidation_lag(url, writes));
    for (name, value) in [(names[0], lag.p50_ms), (names[1], lag.p99_ms)] {
        if runner.wants(name) {
            runner.emit(
                Record::new(name, "ms", false, value)
                    .detail("samples", lag.samples as f64)
                    .detail("p90_ms", lag.p90_ms)
                    .detail("p999_ms", lag.p999_ms)
                    .detail("max_ms", lag.max_ms),
            );
        }
    }
}
