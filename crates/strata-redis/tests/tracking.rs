//! Client-side tracking on real Redis: writes by any client are reported, FLUSHALL is
//! reported as a flush, a restart as a disconnection followed by a re-arm, and on a cluster
//! every master is tracked.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use common::key;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use strata_core::{Key, KeyTracking, SetOptions, Store, Tag, TrackingEvent};
use strata_redis::RedisStore;
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::{require_private_server, shared_cluster_urls};

async fn next(events: &mut BoxStream<'static, TrackingEvent>) -> TrackingEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("a tracking event within 10 s")
        .expect("the stream lasts")
}

/// Events until every key of `want` was reported invalidated.
async fn until_invalidated(events: &mut BoxStream<'static, TrackingEvent>, want: &[Key]) {
    let mut missing: HashSet<&Key> = want.iter().collect();
    while !missing.is_empty() {
        match next(events).await {
            TrackingEvent::Invalidated(keys) => {
                for k in &keys {
                    missing.remove(k);
                }
            }
            other => panic!("while waiting for {missing:?}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_by_any_client_flushes_and_restarts_are_reported() {
    let mut server = require_private_server();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut events = store.track();
    assert_eq!(next(&mut events).await, TrackingEvent::Armed);

    // A write by another client (as redis-cli would do it).
    server.command(&["SET", "strata:users:42", "x"]).unwrap();
    assert_eq!(
        next(&mut events).await,
        TrackingEvent::Invalidated(vec![key("users", "42")])
    );
    // A tagged write: the value key is reported, its tag set (outside the prefix) is not.
    let k = key("users", "7");
    store
        .set(
            &k,
            Bytes::from("v"),
            SetOptions::new().tag(Tag::new("t").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        next(&mut events).await,
        TrackingEvent::Invalidated(vec![k.clone()])
    );
    // Keys of another prefix are not reported.
    server.command(&["SET", "other:users:1", "x"]).unwrap();
    store.delete(&k).await.unwrap();
    assert_eq!(next(&mut events).await, TrackingEvent::Invalidated(vec![k]));

    server.command(&["FLUSHALL"]).unwrap();
    assert_eq!(next(&mut events).await, TrackingEvent::Flushed);

    server.restart().expect("restart the private server");
    assert!(
        matches!(next(&mut events).await, TrackingEvent::Disconnected { .. }),
        "writes during the restart were not seen"
    );
    assert_eq!(next(&mut events).await, TrackingEvent::Armed, "re-armed");
    server.command(&["SET", "strata:users:42", "y"]).unwrap();
    assert_eq!(
        next(&mut events).await,
        TrackingEvent::Invalidated(vec![key("users", "42")])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_master_of_a_cluster_is_tracked() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    let store = RedisStore::builder()
        .cluster(urls)
        .prefix(RunContext::new().prefix())
        .connect()
        .await
        .unwrap();
    let mut events = store.track();
    assert_eq!(next(&mut events).await, TrackingEvent::Armed);
    // 30 keys spread over the slots of all three masters.
    let keys: Vec<Key> = (0..30).map(|i| key("spread", &format!("k{i}"))).collect();
    let items = keys.iter().map(|k| (k.clone(), Bytes::from("v"))).collect();
    store.set_many(items, SetOptions::new()).await.unwrap();
    until_invalidated(&mut events, &keys).await;
}
