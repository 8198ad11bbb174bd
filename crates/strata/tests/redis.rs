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

#[tokio::test]
async fn a_typed_cache_reads_and_writes_through_redis() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let store = RedisStore::builder()
        .url(url)
        .prefix(RunContext::new().prefix())
        .connect()
        .await
        .unwrap();
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
