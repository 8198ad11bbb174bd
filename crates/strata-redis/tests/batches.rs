//! Batches are one round trip, and bulk removal never sends one huge command: counted on a
//! private server with `INFO commandstats` and `INFO stats`.

mod common;

use std::time::Instant;

use bytes::Bytes;
use common::{calls, info_number, key};
use strata_core::{Invalidation, Namespace, SetOptions, Store};
use strata_redis::RedisStore;
use strata_testkit::redis_server::require_private_server;

/// The server's count of read events. A request that arrives in one write is one read event;
/// looking costs a few more (our INFO connection's own reads), so a measurement is compared
/// with the same measurement around one single-key GET.
fn reads(server: &strata_testkit::redis_server::RedisServer) -> u64 {
    info_number(server, "stats", "total_reads_processed")
}

/// Server read events around `f`.
async fn reads_during<F: std::future::Future>(
    server: &strata_testkit::redis_server::RedisServer,
    f: F,
) -> u64 {
    let before = reads(server);
    f.await;
    reads(server) - before
}

#[tokio::test]
async fn get_many_and_set_many_are_one_round_trip_each() {
    for client in common::clients() {
        one_round_trip(client).await;
    }
}

async fn one_round_trip(client: strata_redis::Client) {
    let server = require_private_server();
    let store = RedisStore::builder()
        .url(server.url())
        .client(client)
        .connect()
        .await
        .unwrap();
    let items: Vec<_> = (0..100)
        .map(|i| {
            (
                key("batch", &format!("k{i}")),
                Bytes::from(format!("value {i}")),
            )
        })
        .collect();
    let keys: Vec<_> = items.iter().map(|(k, _)| k.clone()).collect();

    let one_get = reads_during(&server, async {
        store.get(&keys[0]).await.unwrap();
    })
    .await;

    let sets = calls(&server, "set");
    let batch = reads_during(&server, async {
        store.set_many(items, SetOptions::new()).await.unwrap();
    })
    .await;
    assert_eq!(calls(&server, "set") - sets, 100, "one SET per item");
    if client == strata_redis::Client::RedisRs {
        assert_eq!(
            batch, one_get,
            "set_many of 100 values costs the reads of one GET"
        );
    } else {
        // fred pipelines without waiting for replies, but flushes its socket whenever its
        // queue runs dry, so the server may read the 100 SETs in several pieces.
        assert!(batch <= one_get + 100, "{client:?}: {batch} reads");
    }

    let (mgets, gets) = (calls(&server, "mget"), calls(&server, "get"));
    let mut got = Vec::new();
    let batch = reads_during(&server, async {
        got = store.get_many(&keys).await.unwrap();
    })
    .await;
    assert!(got.iter().all(Option::is_some));
    assert_eq!(calls(&server, "mget") - mgets, 1, "one MGET for 100 keys");
    assert_eq!(calls(&server, "get") - gets, 0, "no single GETs");
    assert_eq!(
        batch, one_get,
        "get_many of 100 keys costs the reads of one GET"
    );
    assert_eq!(got[42].as_ref().unwrap().value(), &Bytes::from("value 42"));
}

#[tokio::test]
async fn clearing_a_namespace_of_100_000_keys_uses_bounded_batches() {
    let server = require_private_server();
    let store = RedisStore::builder()
        .url(server.url())
        .bulk_sizes(1_000, 500)
        .connect()
        .await
        .unwrap();
    let ns = Namespace::new("big").unwrap();
    let other = key("other", "survivor");
    store
        .set(&other, "v".into(), SetOptions::new())
        .await
        .unwrap();
    for chunk in 0..100 {
        let items: Vec<_> = (0..1_000)
            .map(|i| {
                (
                    key("big", &format!("k{}", chunk * 1_000 + i)),
                    Bytes::from("x"),
                )
            })
            .collect();
        store.set_many(items, SetOptions::new()).await.unwrap();
    }
    let dbsize = server.command(&["DBSIZE"]).unwrap().as_int().unwrap();
    assert_eq!(dbsize, 100_001);
    let unlinks = calls(&server, "unlink");
    let started = Instant::now();
    let removed = store
        .invalidate(&Invalidation::namespace(ns))
        .await
        .unwrap();
    let took = started.elapsed();
    println!("cleared a namespace of 100,000 keys in {took:?}");
    assert_eq!(removed, 100_000);
    let batches = calls(&server, "unlink") - unlinks;
    assert!(
        batches >= 200,
        "at most 500 keys per UNLINK: {batches} UNLINKs"
    );
    assert_eq!(calls(&server, "keys"), 0, "KEYS is never sent");
    assert!(
        store.get(&other).await.unwrap().is_some(),
        "another namespace survives"
    );
}
