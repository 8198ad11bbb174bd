//! A typed cache over Redis (feature `redis`), on the shared server `cargo xtask test` starts.
#![cfg(feature = "redis")]

use std::time::Duration;

use strata::{CacheBuilder, RedisStore, StoreExt};
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::shared_redis_url;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Curve {
    market: String,
    points: Vec<f64>,
}

/// A store on the shared server under `prefix`, or `None` (with a notice) without one.
async fn shared_store(prefix: &str) -> Option<RedisStore> {
    let url = shared_redis_url()?;
    let store = RedisStore::builder()
        .url(url)
        .prefix(prefix)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to the shared test server: {e}"));
    Some(store)
}

#[tokio::test]
async fn a_typed_cache_reads_and_writes_through_redis() {
    let Some(store) = shared_store(&RunContext::new().prefix()).await else {
        return;
    };
    let curves = CacheBuilder::new()
        .namespace("curves")
        .default_ttl(Duration::from_secs(60))
        .store(store.clone().into_shared())
        .build::<Curve>()
        .unwrap();
    let curve = Curve {
        market: "ERCOT".into(),
        points: vec![41.5, 42.0],
    };
    curves.set("houston", curve.clone()).await.unwrap();
    assert_eq!(
        curves.get("houston").await.unwrap().as_deref(),
        Some(&curve)
    );
    let loads = std::sync::atomic::AtomicUsize::new(0);
    let loaded = curves
        .get_or_load("dallas", || async {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, std::io::Error>(curve.clone())
        })
        .await
        .unwrap();
    assert_eq!(*loaded, curve);
    assert!(
        curves.get("dallas").await.unwrap().is_some(),
        "the load was written to Redis"
    );
    assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    store.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_with_a_stampede_lock_call_the_loader_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let prefix = RunContext::new().prefix();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        // Two nodes: each its own store and connections, one shared prefix.
        let Some(store) = shared_store(&prefix).await else {
            return;
        };
        let cache = CacheBuilder::new()
            .namespace("reports")
            .store(store.clone().into_shared())
            .stampede_lock(strata::StampedeLock::new(Arc::new(store)))
            .build::<String>()
            .unwrap();
        nodes.push(cache);
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (cache, calls) = (nodes[i % 2].clone(), calls.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load("q3", || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        // A slow source, so that both nodes miss while it runs.
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        Ok::<_, std::io::Error>("done".to_owned())
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(*t.await.unwrap().unwrap(), "done");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn fail_safe_keeps_a_stale_copy_in_redis() {
    let Some(store) = shared_store(&RunContext::new().prefix()).await else {
        return;
    };
    let quotes = CacheBuilder::new()
        .namespace("quotes")
        .store(store.clone().into_shared())
        .default_ttl(Duration::from_millis(200))
        .fail_safe(Duration::from_secs(60))
        .build::<String>()
        .unwrap();
    quotes.set("EURUSD", "1.08".to_owned()).await.unwrap();
    // Real time must pass for the TTL to run out on the Redis side.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        quotes.get("EURUSD").await.unwrap().is_none(),
        "stale: a miss"
    );
    let served = quotes
        .get_or_load("EURUSD", || async {
            Err::<String, _>(std::io::Error::other("down"))
        })
        .await
        .unwrap();
    assert_eq!(*served, "1.08");
    assert_eq!(quotes.fail_safe_activations(), 1);
    store.clear().await.unwrap();
}
