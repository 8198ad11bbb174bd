//! Fail-safe through the tiers while Redis is down: a typed cache over memory-over-Redis keeps
//! answering with stale values when both the loader and Redis fail, never hangs past the
//! timeouts, and serves fresh values again once both are back.
#![cfg(all(feature = "redis", feature = "tiered", feature = "memory"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use strata::{CacheBuilder, MemoryStore, RedisStore, StoreExt, TieredStore};
use strata_testkit::redis_server::require_private_server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_values_are_served_while_redis_and_the_source_are_down() {
    let mut server = require_private_server();
    let l2 = RedisStore::builder()
        .url(server.url())
        .command_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    let tiered = TieredStore::builder(MemoryStore::new(), l2).build();
    let prices = CacheBuilder::new()
        .namespace("prices")
        .store(tiered.into_shared())
        .default_ttl(Duration::from_millis(200))
        .fail_safe(Duration::from_secs(60))
        .build::<u64>()
        .unwrap();
    let source_up = Arc::new(AtomicBool::new(true));
    let load = |i: u64| {
        let up = source_up.clone();
        move || async move {
            if up.load(Ordering::SeqCst) {
                Ok(i * 10)
            } else {
                Err(std::io::Error::other("the price source is down"))
            }
        }
    };
    for i in 0..20u64 {
        assert_eq!(
            *prices.get_or_load(&format!("p{i}"), load(i)).await.unwrap(),
            i * 10
        );
    }
    // The TTL runs out (real time: Redis keeps the clock), then the source and Redis go down.
    tokio::time::sleep(Duration::from_millis(300)).await;
    source_up.store(false, Ordering::SeqCst);
    server.stop();
    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        for i in 0..20u64 {
            let started = Instant::now();
            let v = prices.get_or_load(&format!("p{i}"), load(i)).await;
            slowest = slowest.max(started.elapsed());
            assert_eq!(
                *v.unwrap_or_else(|e| panic!("round {round}, p{i}: {e}")),
                i * 10
            );
        }
    }
    println!(
        "fail-safe during the outage: 60 stale answers, {} activations, slowest {slowest:?}",
        prices.fail_safe_activations()
    );
    assert_eq!(prices.fail_safe_activations(), 60);
    assert!(slowest < Duration::from_millis(800), "{slowest:?}");

    server.restart().expect("restart the private server");
    source_up.store(true, Ordering::SeqCst);
    let fresh = prices
        .get_or_load("p3", || async { Ok::<_, std::io::Error>(31) })
        .await
        .unwrap();
    assert_eq!(*fresh, 31, "a working source replaces the stale value");
}
