//! Every endpoint, through the router without a socket (`tower::ServiceExt::oneshot`), with
//! insta snapshots of the JSON shapes (volatile figures redacted).

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use common::*;
use serde_json::Value;
use strata::core::Timestamp;
use strata::{InvalidationReason, Key, Namespace, Store, StoreExt};
use strata_admin::{AdminConfig, TEST_NAMESPACE, router};

/// Reads and writes: two namespaces with hits and misses.
async fn traffic(system: &strata::CacheSystem) {
    let users = system.cache::<String>("users").unwrap();
    for i in 0..10 {
        users
            .set(&i.to_string(), format!("user {i}"))
            .await
            .unwrap();
    }
    for i in 0..20 {
        let _ = users.get(&i.to_string()).await.unwrap();
    }
}

#[tokio::test]
async fn cache_health_reports_the_assessment_the_store_and_each_cache() {
    let system = system().await;
    traffic(&system).await;
    let app = app(&system);
    let a = get(&app, "/cache-health").await;
    assert_eq!(a.status, StatusCode::OK);
    let v = a.json();
    assert_eq!(v["score"], 100);
    assert_eq!(v["status"], "warming_up"); // fewer than 1,000 reads
    assert_eq!(v["caches"]["users"]["hit_ratio"], 0.5);
    insta::assert_json_snapshot!("cache_health", v, {
        ".assessment.assessed_at_ms" => "[ms]",
        ".assessment.get_p95_ms" => "[ms]",
        ".assessment.l1_memory_pressure" => "[ratio]",
        ".store.latency" => "[duration]",
        ".store.details.bytes" => "[bytes]",
    });
}

#[tokio::test]
async fn cache_config_shows_the_effective_configuration_without_secrets() {
    let config = strata::config::Config::source()
        .env_vars([
            ("CACHE_BACKEND", "memory"),
            ("REDIS_URL", "redis://app:s3cret-password@127.0.0.1:6390/0"),
        ])
        .load()
        .unwrap();
    let system = strata::CacheSystem::start(config).await.unwrap();
    let app = app(&system);
    let a = get(&app, "/cache-config").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(!a.text.contains("s3cret-password"), "{}", a.text);
    assert!(!a.text.contains(READ) && !a.text.contains(WRITE));
    let v = a.json();
    assert_eq!(v["admin"]["read_keys"], 1);
    assert_eq!(v["governance"]["policy_version"], 1);
    insta::assert_json_snapshot!("cache_config", v);
}

#[tokio::test]
async fn put_cache_config_applies_a_valid_policy_and_lists_every_problem_of_a_bad_one() {
    let system = system().await;
    let app = app(&system);
    let governance = system.governance().unwrap();
    let curves = Namespace::new("curves").unwrap();

    // Invalid: 422, every problem with its path, nothing applied.
    let bad = r#"{"governance": "mode = \"sometimes\"\n[rules.curves]\nceiling = \"soon\"\nfloor = \"2h\"\n"}"#;
    let a = call(&app, Method::PUT, "/cache-config", Some(WRITE), Some(bad)).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let v = a.json();
    let paths: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(paths.len() >= 2, "{paths:?}");
    assert!(paths.iter().any(|p| p.contains("mode")), "{paths:?}");
    assert!(
        paths.iter().any(|p| p.contains("rules.curves")),
        "{paths:?}"
    );
    assert_eq!(governance.version(), 1);
    assert_eq!(governance.rule(&curves).ceiling, None);
    insta::assert_json_snapshot!("put_cache_config_invalid", v);

    // Valid: applied through the hot-reload path.
    let good = r#"{"governance": "[rules.curves]\nceiling = \"1h\"\nmode = \"clamp\"\n"}"#;
    let a = call(&app, Method::PUT, "/cache-config", Some(WRITE), Some(good)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = a.json();
    assert_eq!(v["applied"], true);
    assert_eq!(v["policy_version"], 2);
    assert_eq!(
        governance.rule(&curves).ceiling,
        Some(Duration::from_secs(3600))
    );
    // A write over the ceiling is clamped now.
    let cache = system.cache::<u32>("curves").unwrap();
    cache
        .set_with_ttl("CAISO", 1, Duration::from_secs(86_400))
        .await
        .unwrap();
    let key = Key::new(&curves, "CAISO").unwrap();
    match system.store().ttl(&key).await.unwrap() {
        strata::TtlState::Remaining(d) => assert!(d <= Duration::from_secs(3600), "{d:?}"),
        other => panic!("{other:?}"),
    }
    // And a later reload keeps it (the source was replaced).
    governance.reload().unwrap();
    assert_eq!(
        governance.rule(&curves).ceiling,
        Some(Duration::from_secs(3600))
    );

    // A body that is not the expected shape names the field.
    let a = call(
        &app,
        Method::PUT,
        "/cache-config",
        Some(WRITE),
        Some(r#"{"governance": 5}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["field"], "governance");
}

fn redact_latency(v: &mut Value) {
    // Latency figures and sampled counts change from run to run.
    if let Some(tiers) = v.pointer_mut("/analytics/tiers") {
        for tier in tiers.as_object_mut().unwrap().values_mut() {
            if let Some(l) = tier.get_mut("latency") {
                for summary in l.as_object_mut().unwrap().values_mut() {
                    for (_, f) in summary.as_object_mut().unwrap().iter_mut() {
                        *f = Value::String("[latency]".into());
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn cache_metrics_has_per_cache_namespace_and_tier_figures_with_percentiles() {
    let system = system().await;
    traffic(&system).await;
    let app = app(&system);
    let mut v = get(&app, "/cache-metrics").await.json();
    let users = &v["analytics"]["tiers"]["overall"]["namespaces"]["users"];
    assert_eq!(users["hits"], 10);
    assert_eq!(users["misses"], 10);
    assert_eq!(v["caches"]["caches"]["users"]["counts"]["hits"], 10);
    let get_latency = &v["analytics"]["tiers"]["overall"]["latency"];
    assert!(get_latency.as_object().is_some());
    redact_latency(&mut v);
    insta::assert_json_snapshot!("cache_metrics", v, {
        ".caches.store.bytes" => "[bytes]",
        ".analytics.tiers.overall.store_bytes" => "[bytes]",
    });
}

#[tokio::test]
async fn metrics_is_prometheus_text() {
    let system = system().await;
    traffic(&system).await;
    let app = app(&system);
    let _ = get(&app, "/cache-health").await; // a score to export
    let a = get(&app, "/metrics").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        a.content_type
    );
    for line in a.text.lines() {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
    }
    for expected in [
        "strata_cache_hits_total{tier=\"overall\",namespace=\"users\"} 10",
        "strata_cache_misses_total{tier=\"overall\",namespace=\"users\"} 10",
        "strata_cache_hit_ratio{tier=\"overall\",namespace=\"users\"} 0.5",
        "strata_cache_health_score 100",
        "strata_registry_cache_hits_total{cache=\"users\"} 10",
        "strata_governance_policy_version 1",
        "strata_admin_requests_total{outcome=\"accepted\"}",
        "# TYPE strata_cache_operation_latency_seconds gauge",
    ] {
        assert!(a.text.contains(expected), "missing {expected}:\n{}", a.text);
    }
}

#[tokio::test]
async fn cache_promotion_on_one_tier_says_so() {
    let system = system().await;
    traffic(&system).await;
    let app = app(&system);
    let v = get(&app, "/cache-promotion").await.json();
    assert_eq!(v["tiered"], false);
    insta::assert_json_snapshot!("cache_promotion_memory", v, {
        ".pressure.l1_bytes" => "[bytes]",
        ".pressure.l1_fill_ratio" => "[ratio]",
    });
}

#[tokio::test]
async fn cache_system_status_reports_version_uptime_backend_tasks_and_null_coherence() {
    let system = system().await;
    let app = app(&system);
    let v = get(&app, "/cache-system-status").await.json();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["backend"]["name"], "memory");
    assert!(v["coherence"].is_null());
    assert!(
        v["background_tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("maintenance"))
    );
    insta::assert_json_snapshot!("cache_system_status", v, {
        ".uptime_s" => "[seconds]",
        ".backend.latency_ms" => "[ms]",
        ".backend.details.bytes" => "[bytes]",
    });
}

#[tokio::test]
async fn cache_warmup_runs_the_configured_warming_or_a_key_list() {
    let system = system().await;
    let app = app(&system);
    let a = post(&app, "/cache-warmup", "").await; // an empty body: everything configured
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = a.json();
    assert_eq!(v["report"]["warmed"], 5);
    insta::assert_json_snapshot!("cache_warmup", v, { ".report.elapsed_ms" => "[ms]" });

    let v = post(
        &app,
        "/cache-warmup",
        r#"{"cache": "curves", "keys": ["X", "CAISO:0", "bad"]}"#,
    )
    .await
    .json();
    assert_eq!(v["report"]["warmed"], 1); // X
    assert_eq!(v["report"]["skipped"], 1); // CAISO:0, cached already
    assert_eq!(v["report"]["failed"], 1); // bad
    let curves = system.cache::<String>("curves").unwrap();
    assert_eq!(
        curves
            .get("X")
            .await
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("curve X")
    );

    let a = post(&app, "/cache-warmup", r#"{"cache": "nope"}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["field"], "cache");
    let a = post(&app, "/cache-warmup", r#"{"keys": ["a"]}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["field"], "cache");
}

#[tokio::test]
async fn cache_test_load_is_bounded_and_cleans_up() {
    let system = system().await;
    let app = app(&system);
    let a = post(
        &app,
        "/cache-test-load",
        r#"{"operations": 501, "concurrency": 4}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = a.json();
    assert_eq!(v["operations"], 501);
    assert_eq!(v["sets"], 251);
    assert_eq!(v["gets"], 250);
    assert_eq!(v["hits"], 250);
    assert_eq!(v["errors"], 0);
    assert_eq!(v["keys_removed"], 251);
    assert!(v["throughput_ops_per_sec"].as_f64().unwrap() > 0.0);
    let l = &v["latency_us"];
    assert!(l["p50"].as_f64().unwrap() <= l["p95"].as_f64().unwrap());
    assert!(l["p95"].as_f64().unwrap() <= l["p99"].as_f64().unwrap());
    assert!(l["p99"].as_f64().unwrap() <= l["max"].as_f64().unwrap());
    // Nothing is left in the test namespace.
    let ns = Namespace::new(TEST_NAMESPACE).unwrap();
    let left = system
        .store()
        .keys(&ns, &strata::Pattern::new("*").unwrap())
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    insta::assert_json_snapshot!("cache_test_load", v, {
        ".run" => "[run id]",
        ".elapsed_ms" => "[ms]",
        ".throughput_ops_per_sec" => "[ops/s]",
        ".latency_us.avg" => "[µs]",
        ".latency_us.p50" => "[µs]",
        ".latency_us.p95" => "[µs]",
        ".latency_us.p99" => "[µs]",
        ".latency_us.max" => "[µs]",
    });
}

#[tokio::test]
async fn cache_test_load_over_the_limit_is_400_and_runs_nothing() {
    let system = system().await;
    let app = app(&system);
    let sets_before = || {
        system
            .analytics()
            .unwrap()
            .snapshot()
            .tiers
            .values()
            .filter_map(|t| t.namespaces.get(TEST_NAMESPACE).map(|n| n.sets))
            .sum::<u64>()
    };
    for body in [
        r#"{"operations": 10001}"#,
        r#"{"operations": 0}"#,
        r#"{"operations": 10, "concurrency": 1000}"#,
        r#"{"operations": 10, "value_bytes": 100000000}"#,
    ] {
        let a = post(&app, "/cache-test-load", body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text);
    }
    let v = post(&app, "/cache-test-load", r#"{"operations": 10001}"#)
        .await
        .json();
    assert_eq!(v["field"], "operations");
    assert_eq!(v["max"], 10_000);
    insta::assert_json_snapshot!("cache_test_load_over_limit", v);
    assert_eq!(sets_before(), 0, "nothing ran");

    // A configured maximum.
    let small = router(system.clone(), keyed().max_test_operations(50)).unwrap();
    let a = post(&small, "/cache-test-load", r#"{"operations": 51}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        post(&small, "/cache-test-load", r#"{"operations": 50}"#)
            .await
            .status,
        StatusCode::OK
    );

    // A wrong type names the field.
    let a = post(&app, "/cache-test-load", r#"{"operations": "lots"}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["field"], "operations");
}

#[tokio::test]
async fn cache_explain_never_shows_the_value() {
    let system = system().await;
    let users = system.cache::<String>("users").unwrap();
    users
        .set_with_ttl(
            "42",
            "a very private value".into(),
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    let app = app(&system);
    let a = get(&app, "/cache-explain/users/42").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(!a.text.contains("very private"), "{}", a.text);
    let v = a.json();
    assert_eq!(v["tiers"][0]["present"], true);
    insta::assert_json_snapshot!("cache_explain", v, {
        ".tiers[].created_at_ms" => "[ms]",
        ".tiers[].age_ms" => "[ms]",
        ".tiers[].remaining_ms" => "[ms]",
    });
    // A key with a slash, percent-encoded.
    users.set("a/b", "x".into()).await.unwrap();
    let v = get(&app, "/cache-explain/users/a%2Fb").await.json();
    assert_eq!(v["key"], "users:a/b");
    // A bad namespace is a 400 naming it.
    let a = get(&app, "/cache-explain/bad%20ns/1").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["field"], "namespace");
}

async fn seed(system: &strata::CacheSystem) {
    let curves = system.cache::<u32>("curves").unwrap();
    for id in ["CAISO:1", "CAISO:2", "ERCOT:1"] {
        curves.set(id, 1).await.unwrap();
    }
    let users = system.cache::<u32>("users").unwrap();
    users.set_tagged("1", 1, &["team-a"]).await.unwrap();
    users.set_tagged("2", 2, &["team-b"]).await.unwrap();
}

#[tokio::test]
async fn cache_invalidate_by_key_pattern_tag_and_namespace_with_reason_and_triggered_by() {
    let system = system().await;
    seed(&system).await;
    let app = app(&system);
    let started = Timestamp::from_nanos(0);

    let v = post(
        &app,
        "/cache-invalidate",
        r#"{"namespace": "curves", "pattern": "CAISO*", "reason": "DATA_CHANGED", "triggered_by": "ops:alice"}"#,
    )
    .await
    .json();
    insta::assert_json_snapshot!("cache_invalidate_pattern", v);
    assert_eq!(v["removed"], 2);

    let v = post(
        &app,
        "/cache-invalidate",
        r#"{"namespace": "curves", "key": "ERCOT:1"}"#,
    )
    .await
    .json();
    assert_eq!(v["removed"], 1);
    assert_eq!(v["reason"], "MANUAL");
    assert_eq!(v["triggered_by"], "strata-admin");

    let v = post(&app, "/cache-invalidate", r#"{"tag": "team-a"}"#)
        .await
        .json();
    assert_eq!(v["removed"], 1);
    let v = post(
        &app,
        "/cache-invalidate",
        r#"{"namespace": "users", "reason": "PATTERN_BASED"}"#,
    )
    .await
    .json();
    assert_eq!(v["removed"], 1);

    let events = system.analytics().unwrap().invalidation_events(started);
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].reason, InvalidationReason::DataChanged);
    assert_eq!(events[0].triggered_by.as_deref(), Some("ops:alice"));
    assert_eq!(events[3].selector, "namespace users");

    for (body, field) in [
        (r#"{}"#, "namespace"),
        (r#"{"key": "1"}"#, "namespace"),
        (
            r#"{"namespace": "users", "key": "1", "pattern": "*"}"#,
            "key",
        ),
        (r#"{"namespace": "users", "tag": "a"}"#, "key"),
        (r#"{"namespace": "curves", "pattern": "[oops"}"#, "pattern"),
        (r#"{"namespace": "users", "reason": "BECAUSE"}"#, "reason"),
        (
            r#"{"namespace": "users", "everything": true}"#,
            "everything",
        ),
    ] {
        let a = post(&app, "/cache-invalidate", body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text);
        assert_eq!(a.json()["field"], field, "{body}: {}", a.text);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_and_bad_json_is_400() {
    let system = system().await;
    let app = router(system.clone(), keyed().max_body_bytes(256)).unwrap();
    let big = format!(
        r#"{{"namespace": "users", "triggered_by": "{}"}}"#,
        "x".repeat(1000)
    );
    let a = post(&app, "/cache-invalidate", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(a.json()["error"], "payload_too_large");
    // Without a length header (streamed), the limit holds too.
    let stream = futures_util::stream::iter(
        (0..8).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b' '; 100]))),
    );
    let mut req = request(Method::POST, "/cache-warmup", Some(WRITE), None);
    *req.body_mut() = axum::body::Body::from_stream(stream);
    let a = send(&app, req).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(a.json()["error"], "payload_too_large");

    let a = post(&app, "/cache-warmup", "{not json").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["error"], "invalid_json");
    insta::assert_json_snapshot!(
        "bad_field",
        post(&app, "/cache-test-load", r#"{"operations": -1}"#)
            .await
            .json()
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let system = system().await;
    let app = app(&system);
    let a = get(&app, "/nope").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["error"], "not_found");
    let a = call(&app, Method::DELETE, "/cache-health", Some(WRITE), None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(a.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn the_router_mounts_under_a_prefix() {
    let system = system().await;
    traffic(&system).await;
    let app: Router = Router::new().nest("/ops/cache", router(system.clone(), keyed()).unwrap());
    let a = get(&app, "/ops/cache/cache-health").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["score"], 100);
    let a = get(&app, "/ops/cache/cache-explain/users/1").await;
    assert_eq!(a.json()["key"], "users:1");
    let a = call(&app, Method::GET, "/ops/cache", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text.contains("Strata cache status"));
    // The page computes its base from its own path, so its fetches stay under the prefix.
    assert!(a.text.contains("location.pathname"));
    let a = call(&app, Method::GET, "/ops/cache/cache-health", None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // Nothing answers outside the prefix.
    assert_eq!(
        get(&app, "/cache-health").await.status,
        StatusCode::NOT_FOUND
    );
    drop(AdminConfig::new());
}
