//! Values the older managers wrote to Redis as raw JSON (a plain `SET`), read through the
//! compat types with the legacy reader on, and refused with a clear error without it.
#![cfg(feature = "redis")]

mod common;

use serde_json::json;
use strata::ErrorKind;
use strata_compat::{
    CacheManagerCompat, CacheNamespace, CompatOptions, UnifiedCacheManager, legacy,
};
use strata_testkit::redis_server::{command_at, shared_redis_url};

#[tokio::test]
async fn legacy_json_values_written_by_older_managers_are_read() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let Some(b) = common::redis_with(legacy::legacy_json).await else {
        return;
    };
    let prefix = b.prefix.clone().unwrap();
    // What the older manager wrote: json.dumps(value) under <prefix>:<namespace>:<key>.
    let raw = |k: &str, v: &str| {
        command_at(&url, &["SET", &format!("{prefix}:{k}"), v]).unwrap();
    };
    raw(
        "curves:CAISO:RT:ZONE1",
        r#"{"points":[41.5,42.0],"unit":"USD/MWh"}"#,
    );
    raw("general:greeting", r#""hello""#);
    raw("general:count", "7");
    raw("general:not-json", "{oops");

    let m = UnifiedCacheManager::new(b.store.clone(), CompatOptions::new()).unwrap();
    assert_eq!(
        m.get_curve_data("CAISO", "RT", "ZONE1").await.unwrap(),
        Some(json!({"points": [41.5, 42.0], "unit": "USD/MWh"}))
    );
    let general = CacheManagerCompat::from_unified(m.clone());
    assert_eq!(
        general.get("greeting", json!(null)).await.unwrap(),
        json!("hello")
    );
    assert_eq!(general.get("count", json!(null)).await.unwrap(), json!(7));
    let err = m
        .get("not-json", CacheNamespace::General)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Codec);
    let message = err.to_string().replace(&prefix, "<prefix>");
    insta::assert_snapshot!("legacy_value_not_json", message);
    // New writes are envelopes, read back as usual.
    m.set("greeting", json!("hi"), CacheNamespace::General, None)
        .await
        .unwrap();
    assert_eq!(
        general.get("greeting", json!(null)).await.unwrap(),
        json!("hi")
    );

    // The same raw JSON through legacy::connect_legacy_redis.
    let store = legacy::connect_legacy_redis(&url, &prefix).await.unwrap();
    let m2 = UnifiedCacheManager::new(store, CompatOptions::new()).unwrap();
    assert!(
        m2.get_curve_data("CAISO", "RT", "ZONE1")
            .await
            .unwrap()
            .is_some()
    );
    b.cleanup().await;
}

#[tokio::test]
async fn without_the_legacy_reader_raw_json_is_a_codec_error() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let Some(b) = common::redis().await else {
        return;
    };
    let prefix = b.prefix.clone().unwrap();
    command_at(
        &url,
        &["SET", &format!("{prefix}:curves:PJM:RT:WEST"), "[1,2]"],
    )
    .unwrap();
    let m = UnifiedCacheManager::new(b.store.clone(), CompatOptions::new()).unwrap();
    let err = m.get_curve_data("PJM", "RT", "WEST").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Codec);
    insta::assert_snapshot!(
        "legacy_reader_off",
        err.to_string().replace(&prefix, "<prefix>")
    );
    b.cleanup().await;
}
