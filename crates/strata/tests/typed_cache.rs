//! The typed cache and its load engine: single-flight, errors, cancellation, panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use strata::{Cache, CacheBuilder, ErrorKind, Loaded, ManualClock, SharedClock, TtlState};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Item {
    id: u32,
    label: String,
}

fn item(id: u32) -> Item {
    Item {
        id,
        label: format!("item-{id}"),
    }
}

fn cache_with_clock() -> (Cache<Item>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let cache = CacheBuilder::new()
        .namespace("items")
        .clock(clock.clone() as SharedClock)
        .build()
        .expect("cache");
    (cache, clock)
}

#[tokio::test]
async fn set_get_delete_exists_round_trip() {
    let (cache, _) = cache_with_clock();
    assert!(cache.get("1").await.unwrap().is_none());
    cache.set("1", item(1)).await.unwrap();
    assert_eq!(*cache.get("1").await.unwrap().unwrap(), item(1));
    assert!(cache.exists("1").await.unwrap());
    assert!(cache.delete("1").await.unwrap());
    assert!(!cache.exists("1").await.unwrap());
    assert!(!cache.delete("1").await.unwrap());
}

#[tokio::test]
async fn ttl_override_expires_on_the_clock() {
    let (cache, clock) = cache_with_clock();
    cache
        .set_with_ttl("1", item(1), Duration::from_secs(10))
        .await
        .unwrap();
    let key = cache.key("1").unwrap();
    assert!(matches!(
        strata::Store::ttl(cache.store(), &key).await.unwrap(),
        TtlState::Remaining(d) if d <= Duration::from_secs(10)
    ));
    clock.advance(Duration::from_secs(9));
    assert!(cache.get("1").await.unwrap().is_some());
    clock.advance(Duration::from_secs(2));
    assert!(cache.get("1").await.unwrap().is_none());
}

#[tokio::test]
async fn default_ttl_applies() {
    let clock = Arc::new(ManualClock::new());
    let cache: Cache<Item> = CacheBuilder::new()
        .clock(clock.clone() as SharedClock)
        .default_ttl(Duration::from_secs(5))
        .build()
        .unwrap();
    cache.set("a", item(1)).await.unwrap();
    clock.advance(Duration::from_secs(6));
    assert!(cache.get("a").await.unwrap().is_none());
}

#[tokio::test]
async fn batches_and_tags_and_patterns() {
    let (cache, _) = cache_with_clock();
    cache
        .set_many([("a1", item(1)), ("a2", item(2)), ("b1", item(3))])
        .await
        .unwrap();
    let got = cache.get_many(&["a1", "zz", "b1", "a1"]).await.unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].as_deref(), Some(&item(1)));
    assert!(got[1].is_none());
    assert_eq!(got[2].as_deref(), Some(&item(3)));
    assert_eq!(got[3].as_deref(), Some(&item(1)));

    let mut keys = cache.keys("a*").await.unwrap();
    keys.sort();
    assert_eq!(keys, vec!["a1", "a2"]);
    assert_eq!(cache.invalidate_pattern("a?").await.unwrap(), 2);
    assert!(cache.get("b1").await.unwrap().is_some());

    cache.set_tagged("t1", item(9), &["team:1"]).await.unwrap();
    cache
        .set_tagged("t2", item(8), &["team:1", "x"])
        .await
        .unwrap();
    assert_eq!(cache.invalidate_tag("team:1").await.unwrap(), 2);
    assert!(cache.get("t1").await.unwrap().is_none());
    assert_eq!(cache.clear().await.unwrap(), 1);
}

#[tokio::test]
async fn bad_input_is_a_typed_error_and_loses_nothing() {
    let (cache, _) = cache_with_clock();
    cache.set("ok", item(1)).await.unwrap();
    assert_eq!(
        cache.get("").await.unwrap_err().kind(),
        ErrorKind::InvalidKey
    );
    let long = "k".repeat(1025);
    assert_eq!(
        cache.set(&long, item(2)).await.unwrap_err().kind(),
        ErrorKind::InvalidKey
    );
    let err = cache
        .set_with_ttl("ok", item(3), Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(*cache.get("ok").await.unwrap().unwrap(), item(1));
    assert_eq!(
        CacheBuilder::new()
            .namespace("bad ns")
            .build::<Item>()
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidKey
    );
}

#[tokio::test]
async fn oversized_value_is_capacity_exceeded_and_evicts_nothing() {
    let cache: Cache<String> = CacheBuilder::new().max_bytes(4096).build().unwrap();
    cache.set("small", "x".repeat(100)).await.unwrap();
    let err = cache.set("big", "y".repeat(10_000)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CapacityExceeded);
    assert!(err.to_string().contains("4096"), "{err}");
    assert_eq!(cache.get("small").await.unwrap().unwrap().len(), 100);
    assert_eq!(cache.stats().evictions.capacity, 0);
}

#[tokio::test]
async fn schema_fingerprint_mismatch_reads_as_miss() {
    let store = strata::MemoryStore::new();
    let v1: Cache<Item> = CacheBuilder::new()
        .store(strata::SharedStore::new(store.clone()))
        .schema("Item", 1)
        .build()
        .unwrap();
    let v2: Cache<Item> = CacheBuilder::new()
        .store(strata::SharedStore::new(store))
        .schema("Item", 2)
        .build()
        .unwrap();
    v1.set("a", item(1)).await.unwrap();
    assert!(v1.get("a").await.unwrap().is_some());
    assert!(v2.get("a").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_misses_call_the_loader_once() {
    let (cache, _) = cache_with_clock();
    let calls = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Barrier::new(1000));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let cache = cache.clone();
        let calls = calls.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            cache
                .get_or_load("hot", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    // Hold the flight open long enough for every task to join it.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, std::io::Error>(item(7))
                })
                .await
        }));
    }
    for t in tasks {
        assert_eq!(*t.await.unwrap().unwrap(), item(7));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(cache.get("hot").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loader_error_reaches_every_waiter_and_is_not_cached() {
    let (cache, _) = cache_with_clock();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let cache = cache.clone();
        let calls = calls.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load("k", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    Err::<Item, _>(std::io::Error::other("database down"))
                })
                .await
        }));
    }
    let mut errors = 0;
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Loader);
        assert!(err.to_string().contains("database down"), "{err}");
        errors += 1;
    }
    assert_eq!(errors, 50);
    assert!(calls.load(Ordering::SeqCst) >= 1);
    assert!(cache.get("k").await.unwrap().is_none());
    // The next call loads again.
    let v = cache
        .get_or_load("k", || async { Ok::<_, std::io::Error>(item(1)) })
        .await
        .unwrap();
    assert_eq!(*v, item(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_does_not_strand_waiters() {
    let (cache, _) = cache_with_clock();
    let started = Arc::new(tokio::sync::Notify::new());
    let leader = {
        let cache = cache.clone();
        let started = started.clone();
        tokio::spawn(async move {
            cache
                .get_or_load("k", || async move {
                    started.notify_one();
                    // Never finishes: this task is aborted.
                    std::future::pending::<()>().await;
                    Ok::<_, std::io::Error>(item(0))
                })
                .await
        })
    };
    started.notified().await;
    let waiter = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_load("k", || async { Ok::<_, std::io::Error>(item(2)) })
                .await
        })
    };
    // Let the waiter join the flight, then cancel the leader.
    tokio::time::sleep(Duration::from_millis(20)).await;
    leader.abort();
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("waiter stuck after the leader was cancelled")
        .unwrap()
        .unwrap();
    assert_eq!(*got, item(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_loader_is_an_error_for_everyone() {
    let (cache, _) = cache_with_clock();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load("p", move || async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if i < 100 {
                        panic!("loader bug");
                    }
                    Ok::<_, std::io::Error>(item(1))
                })
                .await
        }));
    }
    for t in tokio::time::timeout(Duration::from_secs(5), futures_join(tasks))
        .await
        .expect("waiters stuck after a loader panic")
    {
        let err = t.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Loader);
        assert!(err.to_string().contains("loader bug"), "{err}");
    }
}

async fn futures_join<T>(
    tasks: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await);
    }
    out
}

#[tokio::test]
async fn loader_may_choose_the_ttl() {
    let (cache, clock) = cache_with_clock();
    cache
        .get_or_load("short", || async {
            Ok::<_, std::io::Error>(Loaded::new(item(1)).with_ttl(Duration::from_secs(2)))
        })
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3));
    assert!(cache.get("short").await.unwrap().is_none());
}

#[tokio::test]
async fn get_or_load_many_loads_only_the_missing_ids_once() {
    let (cache, _) = cache_with_clock();
    cache.set("a", item(1)).await.unwrap();
    let asked = Arc::new(parking_lot_free::Log::default());
    let log = asked.clone();
    let got = cache
        .get_or_load_many(&["a", "b", "c", "b"], move |ids| {
            let log = log.clone();
            async move {
                log.push(ids.clone());
                Ok::<_, std::io::Error>(
                    ids.into_iter()
                        .filter(|id| id != "c")
                        .map(|id| (id.clone(), Item { id: 2, label: id }))
                        .collect(),
                )
            }
        })
        .await
        .unwrap();
    assert_eq!(got[0].as_deref(), Some(&item(1)));
    assert_eq!(got[1].as_ref().unwrap().label, "b");
    assert!(got[2].is_none(), "the loader did not return c");
    assert_eq!(got[3].as_ref().unwrap().label, "b");
    let calls = asked.take();
    assert_eq!(calls.len(), 1);
    let mut asked_ids = calls[0].clone();
    asked_ids.sort();
    assert_eq!(asked_ids, vec!["b", "c"]);
    assert!(cache.get("b").await.unwrap().is_some());
    assert!(cache.get("c").await.unwrap().is_none());
}

mod parking_lot_free {
    use std::sync::Mutex;

    /// A tiny thread-safe log of loader calls.
    #[derive(Default)]
    pub(super) struct Log(Mutex<Vec<Vec<String>>>);

    impl Log {
        pub(super) fn push(&self, v: Vec<String>) {
            self.0.lock().unwrap().push(v);
        }
        pub(super) fn take(&self) -> Vec<Vec<String>> {
            std::mem::take(&mut self.0.lock().unwrap())
        }
    }
}
