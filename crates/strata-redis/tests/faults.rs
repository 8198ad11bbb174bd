//! Faults on private servers: an outage in the middle of a load, and a full server.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::key;
use strata_core::{ErrorKind, SetOptions, Store, Tag};
use strata_redis::{BreakerConfig, BreakerState, Client, RedisStore};
use strata_testkit::redis_server::{RedisServer, require_private_server};

const TIMEOUT: Duration = Duration::from_millis(300);
/// Scheduling slack on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct Op {
    at: Duration,
    took: Duration,
    outcome: Result<(), ErrorKind>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_mid_load_gives_typed_errors_in_time_and_the_store_recovers() {
    for client in common::clients() {
        outage(client).await;
    }
}

async fn outage(client: Client) {
    let mut server = require_private_server();
    let store = RedisStore::builder()
        .url(server.url())
        .client(client)
        .command_timeout(TIMEOUT)
        .breaker(BreakerConfig {
            open_for: Duration::from_millis(500),
            ..BreakerConfig::default()
        })
        .connect()
        .await
        .unwrap();
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (store, stop) = (store.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut ops = Vec::new();
            let tag = Tag::new("load").unwrap();
            // Bounded: at most 20,000 operations per task, and the main task stops us.
            for i in 0..20_000u32 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = key("outage", &format!("t{t}-{}", i % 50));
                let began = Instant::now();
                let outcome = if i % 2 == 0 {
                    store
                        .set(&k, Bytes::from("v"), SetOptions::new().tag(tag.clone()))
                        .await
                        .map(drop)
                } else {
                    store.get(&k).await.map(drop)
                };
                ops.push(Op {
                    at: began - start,
                    took: began.elapsed(),
                    outcome: outcome.map_err(|e| e.kind()),
                });
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            ops
        }));
    }
    // The timeline: 300 ms of load, a 1 s outage, then load until well after recovery. The
    // sleeps are the outage itself, not waiting for a result.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped_at = start.elapsed();
    server.stop();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let breaker_during = store.breaker_state();
    server.restart().expect("restart the private server");
    let restarted_at = start.elapsed();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut ops = Vec::new();
    for t in tasks {
        ops.extend(t.await.expect("a load task panicked"));
    }
    ops.sort_by_key(|o| o.at);

    let errors: Vec<&Op> = ops.iter().filter(|o| o.outcome.is_err()).collect();
    let slowest = ops.iter().map(|o| o.took).max().unwrap_or_default();
    let first_error = errors.first().map(|o| o.at);
    let recovered = ops
        .iter()
        .filter(|o| o.at > restarted_at && o.outcome.is_ok())
        .map(|o| o.at)
        .next();
    println!(
        "{client:?} outage timeline: {} ops, {} errors; stopped at {stopped_at:?}, first error at \
         {first_error:?}, breaker {breaker_during:?} during the outage, restarted at \
         {restarted_at:?}, first success after restart at {recovered:?}, slowest call \
         {slowest:?}; stats {:?}",
        ops.len(),
        errors.len(),
        store.redis_stats()
    );
    assert!(!errors.is_empty(), "the outage was noticed");
    for e in &errors {
        assert!(
            matches!(e.outcome, Err(ErrorKind::Unavailable | ErrorKind::Timeout)),
            "{e:?}"
        );
    }
    assert!(slowest <= TIMEOUT + SLACK, "a call took {slowest:?}");
    assert_eq!(breaker_during, BreakerState::Open, "the breaker opened");
    let recovered = recovered.expect("the store recovered after the restart");
    assert!(
        recovered - restarted_at < Duration::from_secs(2),
        "recovered {:?} after the restart",
        recovered - restarted_at
    );
    let tail: Vec<&Op> = ops.iter().rev().take(40).collect();
    assert!(
        tail.iter().all(|o| o.outcome.is_ok()),
        "the last operations succeed: {tail:?}"
    );
    assert_eq!(store.breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn a_full_server_refuses_writes_clearly_and_keeps_serving_reads() {
    let server = RedisServer::builder()
        .args(["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"])
        .start()
        .unwrap_or_else(|e| panic!("this test needs a private redis-server: {e}"));
    let store = RedisStore::builder()
        .url(server.url())
        .compression(strata_redis::Compression::None, 0)
        .connect()
        .await
        .unwrap();
    let first = key("full", "first");
    store
        .set(&first, Bytes::from("kept"), SetOptions::new())
        .await
        .unwrap();
    let big = Bytes::from(vec![b'x'; 16 * 1024]);
    let mut refusal = None;
    for i in 0..1_000 {
        match store
            .set(
                &key("full", &format!("k{i}")),
                big.clone(),
                SetOptions::new(),
            )
            .await
        {
            Ok(_) => {}
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    let err = refusal.expect("a 2 MB server fills up within 16 MB of writes");
    assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
    assert!(err.to_string().contains("out of memory"), "{err}");
    assert!(store.redis_stats().out_of_memory >= 1);
    assert_eq!(
        store.breaker_state(),
        BreakerState::Closed,
        "a full server is not down"
    );
    let read = store
        .get(&first)
        .await
        .unwrap()
        .expect("reads keep working");
    assert_eq!(read.value(), &Bytes::from("kept"));
    let health = store.health().await;
    assert!(health.details.contains_key("out_of_memory_errors"));
}
