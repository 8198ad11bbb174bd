//! Write-back: writes land in L1 at once and reach L2 in batches; a full queue is a clear
//! back-pressure error; order per key holds; shutdown flushes and reports; and no
//! acknowledged write is lost across an L2 outage.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use strata_core::{ErrorKind, Key, Layer, Namespace, SetOptions, Store};
use strata_memory::MemoryStore;
use strata_redis::{BreakerConfig, RedisStore};
use strata_testkit::fault::{FaultLayer, FaultStore};
use strata_testkit::redis_server::RedisServer;
use strata_tiered::{TieredStore, WriteBackConfig};

fn key(id: &str) -> Key {
    Key::new(&Namespace::new("wb").unwrap(), id).unwrap()
}

fn config(queue: usize, batch: usize) -> WriteBackConfig {
    WriteBackConfig {
        queue,
        batch,
        linger: Duration::from_millis(5),
    }
}

#[tokio::test]
async fn the_flushed_copy_keeps_the_time_of_the_write() {
    let clock = Arc::new(strata_core::ManualClock::new());
    let memory = || MemoryStore::builder().clock(clock.clone()).build().unwrap();
    let l2 = memory();
    let tiered = TieredStore::builder(memory(), l2.clone())
        .write_back(config(1_000, 50))
        .unwrap()
        .build();
    let k = key("aged");
    tiered.set(&k, "v".into(), SetOptions::new()).await.unwrap();
    let written = tiered
        .l1()
        .get(&k)
        .await
        .unwrap()
        .unwrap()
        .meta()
        .created_at;
    clock.advance(Duration::from_secs(30));
    let report = tiered.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.flushed, 1, "{report:?}");
    let copy = l2.get(&k).await.unwrap().unwrap();
    assert_eq!(copy.meta().created_at, written, "not the time of the flush");
}

#[tokio::test]
async fn writes_land_in_l1_at_once_and_reach_l2_on_flush() {
    let l2 = MemoryStore::new();
    let tiered = TieredStore::builder(MemoryStore::new(), l2.clone())
        .write_back(config(1_000, 50))
        .unwrap()
        .build();
    assert!(tiered.is_write_back());
    for i in 0..100 {
        let k = key(&format!("k{i}"));
        tiered
            .set(&k, Bytes::from(format!("v{i}")), SetOptions::new())
            .await
            .unwrap();
        assert!(
            tiered.l1().get(&k).await.unwrap().is_some(),
            "in L1 at once"
        );
    }
    // Order per key: a later write wins, a delete after a write removes it.
    tiered
        .set(&key("k1"), "newer".into(), SetOptions::new())
        .await
        .unwrap();
    tiered.delete(&key("k2")).await.unwrap();
    let report = tiered.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.unflushed, 0, "{report:?}");
    assert_eq!(report.flushed, 102, "{report:?}");
    assert_eq!(
        l2.get(&key("k0")).await.unwrap().unwrap().value(),
        &Bytes::from("v0")
    );
    assert_eq!(
        l2.get(&key("k1")).await.unwrap().unwrap().value(),
        &Bytes::from("newer")
    );
    assert!(l2.get(&key("k2")).await.unwrap().is_none());
    let err = tiered
        .set(&key("late"), "v".into(), SetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Unavailable,
        "no writes after shutdown"
    );
}

#[tokio::test]
async fn a_full_queue_is_back_pressure_and_nothing_acknowledged_is_lost() {
    let faults = FaultLayer::new();
    let handle = faults.handle();
    let memory = MemoryStore::new();
    let l2: FaultStore<MemoryStore> = faults.layer(memory.clone());
    let tiered = TieredStore::builder(MemoryStore::new(), l2)
        .write_back(config(8, 4))
        .unwrap()
        .build();
    handle.set_down(true);
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..100 {
        let k = key(&format!("k{i}"));
        match tiered
            .set(&k, Bytes::from(format!("v{i}")), SetOptions::new())
            .await
        {
            Ok(_) => acknowledged.push(k),
            Err(e) => {
                refused = Some((k, e));
                break;
            }
        }
        // Let the flusher take a batch and start retrying it.
        tokio::task::yield_now().await;
    }
    let (k, e) = refused.expect("a queue of 8 fills up while L2 is down");
    assert_eq!(e.kind(), ErrorKind::CapacityExceeded, "{e}");
    assert!(e.to_string().contains("write-back queue is full"), "{e}");
    assert!(
        tiered.l1().get(&k).await.unwrap().is_none(),
        "a refused write is not served"
    );
    assert!(tiered.tier_stats().write_back_pending > 0);
    handle.set_down(false);
    let report = tiered.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.unflushed, 0, "{report:?}");
    assert!(report.failed_attempts > 0, "{report:?}");
    for k in &acknowledged {
        assert!(
            memory.get(k).await.unwrap().is_some(),
            "{k} was acknowledged"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_across_a_redis_outage() {
    // Persistence on, so what reached Redis before the stop survives the restart.
    let mut server = RedisServer::builder()
        .args(["--appendonly", "yes", "--appendfsync", "always"])
        .start()
        .unwrap_or_else(|e| panic!("this test needs a private redis-server: {e}"));
    let l2 = RedisStore::builder()
        .url(server.url())
        .command_timeout(Duration::from_millis(300))
        .breaker(BreakerConfig {
            open_for: Duration::from_millis(200),
            ..BreakerConfig::default()
        })
        .connect()
        .await
        .unwrap();
    let tiered = Arc::new(
        TieredStore::builder(MemoryStore::new(), l2)
            .write_back(config(100_000, 100))
            .unwrap()
            .build(),
    );
    let started = Instant::now();
    let writer = {
        let tiered = tiered.clone();
        tokio::spawn(async move {
            let mut acknowledged = HashMap::new();
            // Bounded: 3,000 writes over about 3 s.
            for i in 0..3_000u32 {
                let k = key(&format!("k{}", i % 500));
                let v = Bytes::from(format!("v{i}"));
                if tiered.set(&k, v.clone(), SetOptions::new()).await.is_ok() {
                    acknowledged.insert(k, v);
                }
                if i % 100 == 0 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            acknowledged
        })
    };
    // The outage: 1 s without Redis in the middle of the writes.
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.stop();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    server.restart().expect("restart the private server");
    let acknowledged = writer.await.expect("the writer panicked");
    let report = tiered.shutdown(Duration::from_secs(20)).await;
    println!(
        "write-back through an outage: {} keys acknowledged, {report:?}, {:?}",
        acknowledged.len(),
        started.elapsed()
    );
    assert_eq!(report.unflushed, 0, "{report:?}");
    assert!(
        report.failed_attempts > 0,
        "the outage was felt: {report:?}"
    );
    let check = RedisStore::connect(&server.url()).await.unwrap();
    for (k, v) in &acknowledged {
        let got = check.get(k).await.unwrap();
        assert_eq!(got.as_ref().map(|e| e.value()), Some(v), "{k}");
    }
}
