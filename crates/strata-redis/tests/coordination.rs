//! The coordination traits on real Redis: the distributed lock (standalone and cluster) and
//! the invalidation bus, including a server restart under a subscriber.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::key;
use futures_util::StreamExt;
use strata_core::{
    BusEvent, CompareAndSet, DistributedLock, InvalidationBus, SetOptions, SetOutcome, Store,
    TtlState, Version,
};
use strata_redis::RedisStore;
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::{require_private_server, shared_cluster_urls, shared_redis_url};

async fn shared_stores() -> Vec<RedisStore> {
    let mut stores = Vec::new();
    let prefix = RunContext::new().prefix();
    if let Some(url) = shared_redis_url() {
        stores.push(
            RedisStore::builder()
                .url(url)
                .prefix(prefix.clone())
                .connect()
                .await
                .unwrap(),
        );
    }
    if let Some(urls) = shared_cluster_urls() {
        stores.push(
            RedisStore::builder()
                .cluster(urls)
                .prefix(prefix)
                .connect()
                .await
                .unwrap(),
        );
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_has_one_holder_and_only_the_holder_releases_it() {
    for store in shared_stores().await {
        let k = key("lock", "report-42");
        let ttl = Duration::from_secs(10);
        let token = store.try_lock(&k, ttl).await.unwrap().expect("a free lock");
        assert!(store.try_lock(&k, ttl).await.unwrap().is_none(), "held");
        let other = store
            .try_lock(&key("lock", "other"), ttl)
            .await
            .unwrap()
            .unwrap();
        assert!(!store.unlock(&k, &other).await.unwrap(), "a foreign token");
        assert!(store.extend(&k, &token, ttl).await.unwrap());
        assert!(store.unlock(&k, &token).await.unwrap());
        assert!(!store.unlock(&k, &token).await.unwrap(), "already released");
        assert!(!store.extend(&k, &token, ttl).await.unwrap());

        // 16 tasks race for one lock: exactly one wins.
        let race = key("lock", "race");
        let store = Arc::new(store);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (store, race) = (store.clone(), race.clone());
                tokio::spawn(async move { store.try_lock(&race, ttl).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap().is_some());
        }
        assert_eq!(winners, 1, "{}", store.config().prefix());

        // A lock expires by itself (a crashed holder blocks nobody for long).
        let short = key("lock", "short");
        assert!(
            store
                .try_lock(&short, Duration::from_millis(100))
                .await
                .unwrap()
                .is_some()
        );
        // Real time must pass for Redis to expire the lock.
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            store.try_lock(&short, ttl).await.unwrap().is_some(),
            "expired"
        );
    }
}

async fn next(events: &mut futures_util::stream::BoxStream<'static, BusEvent>) -> BusEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("a bus event within 10 s")
        .expect("the stream lasts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_delivers_messages_and_reports_a_restart() {
    let mut server = require_private_server();
    let subscriber = RedisStore::connect(&server.url()).await.unwrap();
    let publisher = RedisStore::connect(&server.url()).await.unwrap();
    let mut events = subscriber.subscribe();
    assert_eq!(next(&mut events).await, BusEvent::Connected);
    assert_eq!(publisher.publish(Bytes::from("one")).await.unwrap(), 1);
    assert_eq!(
        next(&mut events).await,
        BusEvent::Message(Bytes::from("one"))
    );

    server.restart().expect("restart the private server");
    assert!(
        matches!(next(&mut events).await, BusEvent::Disconnected { .. }),
        "the subscriber learns it may have missed messages"
    );
    assert_eq!(
        next(&mut events).await,
        BusEvent::Connected,
        "and reconnects"
    );
    // The publisher's connection reconnects by itself too (the first call may see the drop).
    let mut delivered = 0;
    for _ in 0..20 {
        if let Ok(n) = publisher.publish(Bytes::from("two")).await {
            delivered = n;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered, 1);
    assert_eq!(
        next(&mut events).await,
        BusEvent::Message(Bytes::from("two"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_spans_a_cluster() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let connect = |seeds: Vec<String>| {
        RedisStore::builder()
            .cluster(seeds)
            .prefix(prefix.clone())
            .connect()
    };
    // Subscribe through the last seed, publish through the first: PUBLISH reaches every node.
    let mut reversed = urls.clone();
    reversed.reverse();
    let subscriber = connect(reversed).await.unwrap();
    let publisher = connect(urls).await.unwrap();
    let mut events = subscriber.subscribe();
    assert_eq!(next(&mut events).await, BusEvent::Connected);
    publisher.publish(Bytes::from("hello")).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        BusEvent::Message(Bytes::from("hello"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_set_writes_only_over_the_version_it_read_and_fences_stop_fills() {
    for store in shared_stores().await {
        let k = key("cas", "curve");
        let opts = || SetOptions::new().ttl(Duration::from_secs(60));
        assert_eq!(store.version(&k).await.unwrap(), Version::ABSENT);
        let stored = store
            .set_if_version(&k, &Version::ABSENT, Bytes::from("v1"), opts())
            .await
            .unwrap();
        assert_eq!(stored, SetOutcome::Stored);
        let v1 = store.version(&k).await.unwrap();
        assert!(!v1.is_absent());
        assert_eq!(
            store
                .set_if_version(&k, &Version::ABSENT, Bytes::from("stale"), opts())
                .await
                .unwrap(),
            SetOutcome::NotStored,
            "the key is no longer absent"
        );
        store.set(&k, Bytes::from("v2"), opts()).await.unwrap();
        assert_eq!(
            store
                .set_if_version(&k, &v1, Bytes::from("stale"), opts())
                .await
                .unwrap(),
            SetOutcome::NotStored,
            "a plain write moved the version"
        );
        assert_eq!(
            store.get(&k).await.unwrap().unwrap().value(),
            &Bytes::from("v2")
        );

        // A fence: reads see nothing, and no fill that read before it can write.
        let before = store.version(&k).await.unwrap();
        assert!(store.fence(&k, Duration::from_secs(5)).await.unwrap());
        assert!(store.get(&k).await.unwrap().is_none());
        assert_eq!(store.ttl(&k).await.unwrap(), TtlState::Missing);
        assert!(!store.expire(&k, strata_core::Ttl::secs(60)).await.unwrap());
        for seen in [&before, &Version::ABSENT] {
            assert_eq!(
                store
                    .set_if_version(&k, seen, Bytes::from("stale"), opts())
                    .await
                    .unwrap(),
                SetOutcome::NotStored,
                "{seen:?}"
            );
        }
        // A fill that began after the fence may write.
        let fenced = store.version(&k).await.unwrap();
        assert_eq!(
            store
                .set_if_version(&k, &fenced, Bytes::from("fresh"), opts())
                .await
                .unwrap(),
            SetOutcome::Stored
        );
        assert_eq!(
            store.get(&k).await.unwrap().unwrap().value(),
            &Bytes::from("fresh")
        );
        assert!(
            !store
                .fence(&key("cas", "never"), Duration::from_secs(5))
                .await
                .unwrap()
        );
        assert!(
            !store.delete(&key("cas", "never")).await.unwrap(),
            "a tombstone is not live"
        );

        // The race, many times: a fill reads, an invalidation fences, the fill tries to write.
        for i in 0..100 {
            let k = key("cas", &format!("race-{i}"));
            if i % 2 == 0 {
                store.set(&k, Bytes::from("old"), opts()).await.unwrap();
            }
            let seen = store.version(&k).await.unwrap();
            let (fill, fence) = tokio::join!(
                store.set_if_version(&k, &seen, Bytes::from("loaded"), opts()),
                store.fence(&k, Duration::from_secs(5)),
            );
            fence.unwrap();
            // Whichever ran first, the fence wins: after it, nothing is readable.
            let _ = fill.unwrap();
            assert!(store.get(&k).await.unwrap().is_none(), "race {i}");
        }
    }
}
