//! What a store writes on Redis, read back with a plain client: the key layout, compression,
//! tag sets and their expiry; and what it does with bytes it did not write.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{calls, key};
use strata_core::{CodecId, ErrorKind, Invalidation, SetOptions, Store, StoreExt, Tag};
use strata_redis::{Compression, RedisStore};
use strata_testkit::redis_server::{Reply, require_private_server};

fn int(reply: Reply) -> i64 {
    reply.as_int().expect("an integer reply")
}

#[tokio::test]
async fn foreign_values_are_codec_errors_naming_the_key_or_legacy_json() {
    let server = require_private_server();
    server
        .command(&["SET", "strata:legacy:plain", "hello"])
        .unwrap();
    server
        .command(&["SET", "strata:legacy:json", r#"{"curve":[1,2,3]}"#])
        .unwrap();
    server.command(&["SADD", "strata:legacy:set", "m"]).unwrap();
    let store = RedisStore::connect(&server.url()).await.unwrap();

    let err = store.get(&key("legacy", "plain")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Codec);
    assert!(err.to_string().contains("legacy:plain"), "{err}");
    insta::assert_snapshot!("foreign_value", err.to_string());
    let err = store
        .get_many(&[key("legacy", "json"), key("legacy", "missing")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Codec, "{err}");
    let err = store.get(&key("legacy", "set")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Codec, "another data type: {err}");

    let legacy = RedisStore::builder()
        .url(server.url())
        .legacy_json(true)
        .connect()
        .await
        .unwrap();
    let entry = legacy.get(&key("legacy", "json")).await.unwrap().unwrap();
    assert_eq!(entry.meta().codec, CodecId::Json);
    assert_eq!(entry.value(), &Bytes::from(r#"{"curve":[1,2,3]}"#));
    let err = legacy.get(&key("legacy", "plain")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Codec, "not JSON either: {err}");
    // Nothing was changed by the failed reads.
    assert_eq!(
        server
            .command(&["GET", "strata:legacy:plain"])
            .unwrap()
            .as_text(),
        Some("hello".into())
    );
}

#[tokio::test]
async fn keys_values_and_compression_on_the_wire() {
    let server = require_private_server();
    let store = RedisStore::builder()
        .url(server.url())
        .prefix("app-1")
        .compression(Compression::Lz4, 1024)
        .connect()
        .await
        .unwrap();
    let big = Bytes::from("abcdefgh".repeat(2_500));
    store
        .set(&key("docs", "big"), big.clone(), SetOptions::new())
        .await
        .unwrap();
    store
        .set(
            &key("docs", "small"),
            Bytes::from("tiny"),
            SetOptions::new(),
        )
        .await
        .unwrap();
    store.increment(&key("docs", "hits"), 5).await.unwrap();
    let stored = int(server.command(&["STRLEN", "app-1:docs:big"]).unwrap());
    assert!(
        stored < 20_000 / 10,
        "20 kB of repetition stored in {stored} bytes"
    );
    let head = server
        .command(&["GETRANGE", "app-1:docs:big", "0", "4"])
        .unwrap();
    let Reply::Bulk(head) = head else {
        panic!("GETRANGE: {head:?}")
    };
    assert_eq!(&head[..3], &[0xFF, 0x53, 1], "magic and version");
    assert_eq!(head[4] & 0b11, 1, "the lz4 flag");
    let small = int(server.command(&["STRLEN", "app-1:docs:small"]).unwrap());
    assert_eq!(small, 31 + 4, "no compression under the threshold");
    assert_eq!(
        server
            .command(&["GET", "app-1:docs:hits"])
            .unwrap()
            .as_text(),
        Some("5".into()),
        "counters are plain integers"
    );
    assert_eq!(
        store
            .get(&key("docs", "big"))
            .await
            .unwrap()
            .unwrap()
            .value(),
        &big
    );
}

#[tokio::test]
async fn tag_sets_outlive_their_longest_member() {
    let server = require_private_server();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let tag = Tag::new("org:7").unwrap();
    let pttl = || int(server.command(&["PTTL", "strata#tag:org:7"]).unwrap());
    let tagged = |ttl: Option<u64>| {
        let opts = SetOptions::new().tag(tag.clone());
        match ttl {
            Some(s) => opts.ttl(Duration::from_secs(s)),
            None => opts,
        }
    };
    store
        .set(&key("t", "a"), "v".into(), tagged(Some(60)))
        .await
        .unwrap();
    let first = pttl();
    assert!((60_000..=61_000).contains(&first), "{first}");
    store
        .set(&key("t", "b"), "v".into(), tagged(Some(10)))
        .await
        .unwrap();
    assert!(
        pttl() >= 59_000,
        "a shorter member does not shorten the set"
    );
    store
        .set(&key("t", "c"), "v".into(), tagged(Some(600)))
        .await
        .unwrap();
    assert!(pttl() >= 600_000, "a longer member stretches it");
    store
        .expire(&key("t", "b"), strata_core::Ttl::secs(3_600))
        .await
        .unwrap();
    assert!(
        pttl() >= 3_600_000,
        "expire stretches the tag sets of the value"
    );
    store
        .set(&key("t", "d"), "v".into(), tagged(None))
        .await
        .unwrap();
    assert_eq!(
        pttl(),
        -1,
        "a member without expiry makes the set persistent"
    );
    let card = || int(server.command(&["ZCARD", "strata#tag:org:7"]).unwrap());
    assert_eq!(card(), 4);

    // Members of values that expired are pruned by the next tagged write.
    let short = SetOptions::new()
        .tag(tag.clone())
        .ttl(Duration::from_millis(50));
    store
        .set(&key("t", "brief"), "v".into(), short)
        .await
        .unwrap();
    assert_eq!(card(), 5);
    // Real time must pass: the member's value expires in Redis after 50 ms, and pruning
    // keeps members for a second of clock slack after that.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    store
        .set(&key("t", "e"), "v".into(), tagged(Some(60)))
        .await
        .unwrap();
    assert_eq!(card(), 5, "the expired member went, the new one came");

    store.delete(&key("t", "a")).await.unwrap();
    assert_eq!(
        store
            .invalidate(&Invalidation::tag(tag.clone()))
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        card(),
        0,
        "invalidation empties the set, including members already gone"
    );
}

#[tokio::test]
async fn oversized_values_are_refused_before_they_are_sent() {
    let server = require_private_server();
    let store = RedisStore::builder()
        .url(server.url())
        .max_value_bytes(1_024)
        .connect()
        .await
        .unwrap();
    let sets = calls(&server, "set");
    let err = store
        .set(
            &key("big", "k"),
            Bytes::from(vec![b'x'; 2_000]),
            SetOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    insta::assert_snapshot!("oversized", err.to_string());
    let err = store
        .set_many(
            vec![
                (key("big", "ok"), Bytes::from("fine")),
                (key("big", "no"), Bytes::from(vec![b'x'; 2_000])),
            ],
            SetOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(calls(&server, "set"), sets, "nothing was sent");
    assert!(!store.exists(&key("big", "ok")).await.unwrap());
}

#[tokio::test]
async fn health_reports_the_server_figures() {
    let server = require_private_server();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let health = store.health().await;
    assert_eq!(
        health.status,
        strata_core::HealthStatus::Healthy,
        "{health:?}"
    );
    let nodes = health.details["nodes"].as_object().unwrap();
    let node = &nodes[&format!("127.0.0.1:{}", server.port())];
    let mut fields: Vec<&String> = node.as_object().unwrap().keys().collect();
    fields.sort();
    insta::assert_debug_snapshot!("health_node_fields", fields);
    assert!(node["used_memory"].as_u64().unwrap() > 0);
    assert_eq!(health.details["breaker"], "closed");
}

#[tokio::test]
async fn health_covers_every_master_of_a_cluster() {
    let Some(urls) = strata_testkit::redis_server::shared_cluster_urls() else {
        return;
    };
    let store = RedisStore::builder().cluster(urls).connect().await.unwrap();
    let health = store.health().await;
    assert_eq!(
        health.status,
        strata_core::HealthStatus::Healthy,
        "{health:?}"
    );
    assert_eq!(health.backend, "redis-cluster");
    let nodes = health.details["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    for (name, node) in nodes {
        assert!(node["used_memory"].as_u64().unwrap() > 0, "{name}");
        assert!(node["ping_ms"].as_f64().is_some(), "{name}");
    }
}
