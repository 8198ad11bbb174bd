//! One test per row of docs/migration.md: each older call, through its replacement, on the
//! in-memory store and on the shared Redis server.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use common::{Backend, assert_ttl, backends};
use serde_json::{Value, json};
use strata::analytics::{AnalyticsLayer, Status};
use strata::config::Config;
use strata::governance::{GovernanceLayer, PolicySource};
use strata::system::CacheSystem;
use strata::{
    ErrorKind, HealthStatus, InvalidationReason, Key, ManualClock, Namespace, Store, StoreExt,
    TtlState,
};
use strata_compat::{
    CacheFactory, CacheManagerCompat, CacheNamespace, CacheType, CacheWarmingConfig, CompatCache,
    CompatOptions, EnhancedCacheManagerCompat, TtlPolicy, UnifiedCacheManager, WorkflowCache,
    parse_cache_type,
};

/// Options whose analytics run on a manual clock and time every operation, so latencies
/// (0 ms) and event times are the same on every run.
fn options() -> CompatOptions {
    let clock = Arc::new(ManualClock::new());
    let analytics = AnalyticsLayer::builder()
        .clock(clock)
        .sample_every(1)
        .build()
        .expect("analytics");
    CompatOptions::new().analytics(analytics)
}

fn manager(b: &Backend) -> UnifiedCacheManager {
    UnifiedCacheManager::new(b.store.clone(), options()).expect("manager")
}

fn classic(b: &Backend) -> CompatCache {
    CompatCache::new(b.store.clone(), options()).expect("classic cache")
}

fn key(ns: &str, id: &str) -> Key {
    Key::new(&Namespace::new(ns).unwrap(), id).unwrap()
}

// ---- CacheInterface → CompatCache ------------------------------------------------------------

#[tokio::test]
async fn classic_get_set_with_ttl() {
    for b in backends().await {
        let cache = classic(&b);
        assert_eq!(cache.get("user:123").await.unwrap(), None);
        assert!(
            cache
                .set(
                    "user:123",
                    json!({"name": "John"}),
                    Some(Duration::from_secs(60))
                )
                .await
                .unwrap()
        );
        assert_eq!(
            cache.get("user:123").await.unwrap(),
            Some(json!({"name": "John"}))
        );
        assert_ttl(
            &b,
            cache.ttl("user:123").await.unwrap(),
            Duration::from_secs(60),
        );
        // No TTL: the namespace's governance TTL (general: 1800 s).
        cache.set("plain", json!(1), None).await.unwrap();
        assert_ttl(
            &b,
            cache.ttl("plain").await.unwrap(),
            Duration::from_secs(1800),
        );
        // Typed values.
        cache.set_as("n", &vec![1u32, 2], None).await.unwrap();
        assert_eq!(
            cache.get_as::<Vec<u32>>("n").await.unwrap(),
            Some(vec![1, 2])
        );
        let err = cache.get_as::<String>("n").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Codec);
        let zero = cache
            .set("z", json!(0), Some(Duration::ZERO))
            .await
            .unwrap_err();
        assert_eq!(zero.kind(), ErrorKind::InvalidArgument, "{}", b.name);
        insta::assert_snapshot!("zero_ttl", zero.to_string());
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_delete() {
    for b in backends().await {
        let cache = classic(&b);
        cache.set("k", json!("v"), None).await.unwrap();
        assert!(cache.delete("k").await.unwrap());
        assert!(!cache.delete("k").await.unwrap());
        assert_eq!(cache.get("k").await.unwrap(), None);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_clear_touches_one_namespace() {
    for b in backends().await {
        let m = manager(&b);
        let general = m.cache(CacheNamespace::General).unwrap();
        let sessions = m.cache(CacheNamespace::Session).unwrap();
        general.set("a", json!(1), None).await.unwrap();
        general.set("b", json!(2), None).await.unwrap();
        sessions.set("s", json!(3), None).await.unwrap();
        assert_eq!(general.clear().await.unwrap(), 2, "{}", b.name);
        assert_eq!(general.get("a").await.unwrap(), None);
        assert_eq!(sessions.get("s").await.unwrap(), Some(json!(3)));
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_exists() {
    for b in backends().await {
        let cache = classic(&b);
        assert!(!cache.exists("k").await.unwrap());
        cache.set("k", json!(null), None).await.unwrap();
        assert!(cache.exists("k").await.unwrap());
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_keys_by_pattern() {
    for b in backends().await {
        let cache = classic(&b);
        for k in ["user:1", "user:2", "order:1"] {
            cache.set(k, json!(k), None).await.unwrap();
        }
        assert_eq!(
            cache.keys(Some("user:*")).await.unwrap(),
            ["user:1", "user:2"]
        );
        assert_eq!(
            cache.keys(None).await.unwrap(),
            ["order:1", "user:1", "user:2"]
        );
        let bad = cache.keys(Some("user[")).await.unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidArgument);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_mget_mset() {
    for b in backends().await {
        let cache = classic(&b);
        let users = [
            ("user:1", json!({"name": "Alice"})),
            ("user:2", json!({"name": "Bob"})),
        ];
        assert!(
            cache
                .mset(users.clone(), Some(Duration::from_secs(3600)))
                .await
                .unwrap()
        );
        let found = cache.mget(&["user:1", "user:2", "user:3"]).await.unwrap();
        assert_eq!(found.len(), 2, "misses are left out");
        assert_eq!(found["user:2"], json!({"name": "Bob"}));
        assert_ttl(
            &b,
            cache.ttl("user:1").await.unwrap(),
            Duration::from_secs(3600),
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_increment() {
    for b in backends().await {
        let cache = classic(&b);
        assert_eq!(cache.increment("page_views", 1).await.unwrap(), 1);
        assert_eq!(cache.increment("page_views", 41).await.unwrap(), 42);
        assert_eq!(cache.get("page_views").await.unwrap(), Some(json!(42)));
        cache.set("text", json!("x"), None).await.unwrap();
        assert_eq!(
            cache.increment("text", 1).await.unwrap_err().kind(),
            ErrorKind::Codec
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_expire_and_ttl() {
    for b in backends().await {
        let cache = classic(&b);
        assert_eq!(cache.ttl("missing").await.unwrap(), TtlState::Missing);
        assert!(
            !cache
                .expire("missing", Duration::from_secs(5))
                .await
                .unwrap()
        );
        cache.set("k", json!(1), None).await.unwrap();
        assert!(cache.expire("k", Duration::from_secs(5)).await.unwrap());
        assert_ttl(&b, cache.ttl("k").await.unwrap(), Duration::from_secs(5));
        if b.exact_ttls() {
            b.advance(Duration::from_secs(6));
            assert_eq!(cache.get("k").await.unwrap(), None);
            assert_eq!(cache.ttl("k").await.unwrap(), TtlState::Missing);
        }
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_get_stats() {
    for b in backends().await {
        let cache = classic(&b);
        cache.set("a", json!(1), None).await.unwrap();
        cache.set("b", json!(2), None).await.unwrap();
        cache.get("a").await.unwrap();
        cache.get("missing").await.unwrap();
        cache.delete("b").await.unwrap();
        let stats = cache.get_stats().await.unwrap();
        assert_eq!(
            (
                stats.total_entries,
                stats.cache_hits,
                stats.cache_misses,
                stats.sets,
                stats.deletes
            ),
            (1, 1, 1, 2, 1),
            "{}",
            b.name
        );
        assert_eq!(stats.hit_rate, Some(0.5));
        if b.name == "memory" {
            insta::assert_json_snapshot!("classic_stats_memory", stats);
        }
        b.cleanup().await;
    }
}

#[tokio::test]
async fn classic_health_check() {
    for b in backends().await {
        let health = classic(&b).health_check().await;
        assert_eq!(
            health.status,
            HealthStatus::Healthy,
            "{}: {health:?}",
            b.name
        );
        assert!(health.backend.contains(b.name), "{}", health.backend);
        b.cleanup().await;
    }
}

// ---- UnifiedCacheManager --------------------------------------------------------------------

#[tokio::test]
async fn unified_get_set_by_namespace_gets_the_namespace_ttl() {
    for b in backends().await {
        let m = manager(&b);
        let expected = [
            (CacheNamespace::Curves, 300),
            (CacheNamespace::Metadata, 1800),
            (CacheNamespace::Scenarios, 60),
            (CacheNamespace::EiaData, 600),
            (CacheNamespace::ExternalData, 1800),
            (CacheNamespace::UserData, 3600),
            (CacheNamespace::SystemConfig, 86_400),
            (CacheNamespace::General, 1800),
        ];
        for (ns, secs) in expected {
            m.set("key", json!(ns.as_str()), ns, None).await.unwrap();
            assert_eq!(m.get("key", ns).await.unwrap(), Some(json!(ns.as_str())));
            let ttl = b.store.ttl(&key(ns.as_str(), "key")).await.unwrap();
            assert_ttl(&b, ttl, Duration::from_secs(secs));
            assert_eq!(
                m.namespace_ttl(ns).unwrap(),
                Some(Duration::from_secs(secs))
            );
        }
        // A custom namespace follows the policy's fallback rule (general).
        let reports = CacheNamespace::custom("reports").unwrap();
        m.set("q3", json!(1), reports, None).await.unwrap();
        assert_ttl(
            &b,
            m.cache(reports).unwrap().ttl("q3").await.unwrap(),
            Duration::from_secs(1800),
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_set_with_ttl_policy() {
    for b in backends().await {
        let m = manager(&b);
        for tier in TtlPolicy::ALL {
            m.set(tier.as_str(), json!(1), CacheNamespace::General, Some(tier))
                .await
                .unwrap();
            let ttl = m
                .cache(CacheNamespace::General)
                .unwrap()
                .ttl(tier.as_str())
                .await
                .unwrap();
            assert_ttl(&b, ttl, tier.duration());
        }
        m.set_as(
            "typed",
            &(1, "a"),
            CacheNamespace::Curves,
            Some(TtlPolicy::UltraShort),
        )
        .await
        .unwrap();
        assert_eq!(
            m.get_as::<(u8, String)>("typed", CacheNamespace::Curves)
                .await
                .unwrap(),
            Some((1, "a".to_owned()))
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_invalidate_pattern_records_reason_and_trigger() {
    for b in backends().await {
        let m = manager(&b);
        for loc in ["ZONE1", "ZONE2"] {
            m.cache_curve_data(json!(1), "CAISO", "RT", loc)
                .await
                .unwrap();
        }
        m.cache_curve_data(json!(1), "ERCOT", "RT", "HOUSTON")
            .await
            .unwrap();
        // The older call named the namespace inside the pattern too: `curves:` is dropped.
        let removed = m
            .invalidate_pattern(
                "curves:CAISO:*",
                CacheNamespace::Curves,
                strata_compat::reason("data_update").unwrap(),
                Some("curve_service"),
            )
            .await
            .unwrap();
        assert_eq!(removed, 2, "{}", b.name);
        assert!(
            m.get_curve_data("ERCOT", "RT", "HOUSTON")
                .await
                .unwrap()
                .is_some()
        );
        let removed = m
            .invalidate_pattern(
                "ERCOT:*",
                CacheNamespace::Curves,
                InvalidationReason::Manual,
                None,
            )
            .await
            .unwrap();
        assert_eq!(removed, 1);
        let events = m.get_invalidation_events(UNIX_EPOCH);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].reason, InvalidationReason::DataChanged);
        assert_eq!(events[0].triggered_by.as_deref(), Some("curve_service"));
        assert_eq!(events[0].selector, "pattern curves:CAISO:*");
        assert_eq!(events[0].count, 2);
        insta::assert_json_snapshot!("invalidation_events", events);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_get_invalidation_events_since() {
    for b in backends().await {
        let clock = Arc::new(ManualClock::new());
        let analytics = AnalyticsLayer::builder()
            .clock(clock.clone())
            .build()
            .unwrap();
        let m =
            UnifiedCacheManager::new(b.store.clone(), CompatOptions::new().analytics(analytics))
                .unwrap();
        m.invalidate_namespace(
            CacheNamespace::Scenarios,
            InvalidationReason::Manual,
            Some("a"),
        )
        .await
        .unwrap();
        let first = clock.now_system();
        clock.advance(Duration::from_secs(3600));
        m.invalidate_namespace(
            CacheNamespace::Scenarios,
            InvalidationReason::DataChanged,
            Some("b"),
        )
        .await
        .unwrap();
        assert_eq!(m.get_invalidation_events(UNIX_EPOCH).len(), 2);
        let recent = m.get_invalidation_events(first + Duration::from_secs(1));
        assert_eq!(recent.len(), 1, "{}", b.name);
        assert_eq!(recent[0].triggered_by.as_deref(), Some("b"));
        b.cleanup().await;
    }
}

/// `ManualClock`'s reading as a `SystemTime`.
trait NowSystem {
    fn now_system(&self) -> std::time::SystemTime;
}

impl NowSystem for ManualClock {
    fn now_system(&self) -> std::time::SystemTime {
        use strata::Clock;
        UNIX_EPOCH + Duration::from_millis(self.now().as_millis())
    }
}

#[tokio::test]
async fn unified_get_analytics() {
    for b in backends().await {
        let m = manager(&b);
        m.set("a", json!(1), CacheNamespace::Curves, None)
            .await
            .unwrap();
        m.get("a", CacheNamespace::Curves).await.unwrap();
        m.get("a", CacheNamespace::Curves).await.unwrap();
        m.get("b", CacheNamespace::Curves).await.unwrap();
        m.get("x", CacheNamespace::Metadata).await.unwrap();
        m.invalidate_pattern(
            "*",
            CacheNamespace::Curves,
            InvalidationReason::Manual,
            None,
        )
        .await
        .unwrap();
        let analytics = m.get_analytics();
        assert_eq!(analytics.unified_cache.total_requests, 4, "{}", b.name);
        assert_eq!(
            analytics.unified_cache.namespace_stats["curves"].hit_rate,
            Some(2.0 / 3.0)
        );
        // The same JSON on both stores (the analytics run on a manual clock).
        insta::assert_json_snapshot!("unified_analytics", analytics);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_get_health() {
    for b in backends().await {
        let m = manager(&b);
        m.get("a", CacheNamespace::General).await.unwrap();
        let health = m.get_health().await;
        assert!(health.is_healthy, "{}: {health:?}", b.name);
        assert_eq!(health.status, Status::WarmingUp);
        assert_eq!(health.error_rate, Some(0.0));
        assert_eq!(health.backend, Some(HealthStatus::Healthy));
        if b.name == "memory" {
            insta::assert_json_snapshot!("unified_health_memory", health);
        }
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_configure_warming_and_warm() {
    for b in backends().await {
        let m = manager(&b);
        let err = m.warm_cache().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        insta::assert_snapshot!("warming_not_configured", err.to_string());
        m.set("cached", json!("old"), CacheNamespace::Metadata, None)
            .await
            .unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let config = CacheWarmingConfig::new(
            ["a", "broken", "cached", "none", "b"],
            move |key: String| {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    match key.as_str() {
                        "broken" => Err(std::io::Error::other("source down")),
                        "none" => Ok(None),
                        _ => Ok(Some(json!({ "warmed": key }))),
                    }
                }
            },
        )
        .namespace(CacheNamespace::Metadata)
        .concurrency(2);
        m.configure_warming(config).unwrap();
        let mut report = m.warm_cache().await.unwrap();
        assert_eq!(
            (report.warmed, report.skipped, report.failed),
            (2, 2, 1),
            "{}",
            b.name
        );
        report.elapsed_ms = 0; // timing varies
        insta::assert_json_snapshot!("warming_report", report);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "the cached key is not fetched"
        );
        assert_eq!(
            m.get("a", CacheNamespace::Metadata).await.unwrap(),
            Some(json!({"warmed": "a"}))
        );
        // Written with the namespace's governance TTL.
        let ttl = m
            .cache(CacheNamespace::Metadata)
            .unwrap()
            .ttl("b")
            .await
            .unwrap();
        assert_ttl(&b, ttl, Duration::from_secs(1800));
        // A blocking fetcher (the general namespace's TTL), and a zero concurrency refused.
        let sync =
            CacheWarmingConfig::from_sync(["s"], |k: &str| Ok::<_, std::io::Error>(Some(json!(k))));
        m.configure_warming(sync).unwrap();
        assert_eq!(m.warm_cache().await.unwrap().warmed, 1);
        assert_ttl(
            &b,
            m.cache(CacheNamespace::General)
                .unwrap()
                .ttl("s")
                .await
                .unwrap(),
            Duration::from_secs(1800),
        );
        // Warming writes go through the registry's cache of the namespace: it counts them.
        assert_eq!(m.registry().stats_all().caches["metadata"].counts.sets, 3);
        let zero = CacheWarmingConfig::from_sync(["s"], |_: &str| Ok::<_, std::io::Error>(None))
            .concurrency(0);
        let err = m.configure_warming(zero).unwrap_err();
        insta::assert_snapshot!("warming_zero_concurrency", err.to_string());
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_background_warming() {
    for b in backends().await {
        let m = manager(&b);
        let config = CacheWarmingConfig::new(["k"], |k: String| async move {
            Ok::<_, std::io::Error>(Some(json!(k)))
        });
        m.configure_warming(config).unwrap();
        let warming = m
            .start_background_warming(Duration::from_millis(10))
            .unwrap();
        // Bounded: at most 500 polls of 10 ms for two runs.
        for _ in 0..500 {
            if warming.runs() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(warming.runs() >= 2, "{}: {} runs", b.name, warming.runs());
        assert_eq!(
            m.get("k", CacheNamespace::General).await.unwrap(),
            Some(json!("k"))
        );
        warming.stop();
        b.cleanup().await;
    }
}

#[test]
fn background_warming_needs_a_runtime() {
    let m = UnifiedCacheManager::new(
        strata::MemoryStore::new().into_shared(),
        CompatOptions::new(),
    )
    .unwrap();
    m.configure_warming(CacheWarmingConfig::from_sync(["k"], |_: &str| {
        Ok::<_, std::io::Error>(None)
    }))
    .unwrap();
    let err = m
        .start_background_warming(Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("background_warming_without_runtime", err.to_string());
}

#[tokio::test]
async fn unified_cache_curve_data_key_layout() {
    for b in backends().await {
        let m = manager(&b);
        m.cache_curve_data(json!([41.5, 42.0]), "CAISO", "RT", "ZONE1")
            .await
            .unwrap();
        assert_eq!(
            m.get_curve_data("CAISO", "RT", "ZONE1").await.unwrap(),
            Some(json!([41.5, 42.0]))
        );
        // The documented layout: namespace `curves`, key `<iso>:<market>:<location>`.
        let k = key("curves", "CAISO:RT:ZONE1");
        assert!(b.store.exists(&k).await.unwrap());
        assert_ttl(&b, b.store.ttl(&k).await.unwrap(), Duration::from_secs(300));
        if let (Some(prefix), Some(url)) =
            (&b.prefix, strata_testkit::redis_server::shared_redis_url())
        {
            // On Redis: `<prefix>:curves:CAISO:RT:ZONE1`.
            let raw = format!("{prefix}:curves:CAISO:RT:ZONE1");
            let reply = strata_testkit::redis_server::command_at(&url, &["EXISTS", &raw]).unwrap();
            assert_eq!(reply, strata_testkit::redis_server::Reply::Integer(1));
        }
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_domain_helpers_use_their_namespaces() {
    for b in backends().await {
        let m = manager(&b);
        m.cache_metadata(json!("m"), "iso", "CAISO").await.unwrap();
        m.cache_scenario_data(json!("s"), "sc-1").await.unwrap();
        m.cache_eia_data(json!("e"), "ELEC.PRICE").await.unwrap();
        m.cache_external_data(json!("x"), "noaa", "temps")
            .await
            .unwrap();
        m.cache_user_data(json!("u"), "42", "prefs").await.unwrap();
        m.cache_system_config(json!("c"), "flags").await.unwrap();
        assert_eq!(
            m.get_metadata("iso", "CAISO").await.unwrap(),
            Some(json!("m"))
        );
        assert_eq!(m.get_scenario_data("sc-1").await.unwrap(), Some(json!("s")));
        assert_eq!(
            m.get_eia_data("ELEC.PRICE").await.unwrap(),
            Some(json!("e"))
        );
        assert_eq!(
            m.get_external_data("noaa", "temps").await.unwrap(),
            Some(json!("x"))
        );
        assert_eq!(
            m.get_user_data("42", "prefs").await.unwrap(),
            Some(json!("u"))
        );
        assert_eq!(
            m.get_system_config("flags").await.unwrap(),
            Some(json!("c"))
        );
        let layout = [
            ("metadata", "iso:CAISO", 1800),
            ("scenarios", "sc-1", 60),
            ("eia_data", "ELEC.PRICE", 600),
            ("external_data", "noaa:temps", 1800),
            ("user_data", "42:prefs", 3600),
            ("system_config", "flags", 86_400),
        ];
        for (ns, id, secs) in layout {
            assert_ttl(
                &b,
                b.store.ttl(&key(ns, id)).await.unwrap(),
                Duration::from_secs(secs),
            );
        }
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_invalidate_curve_data() {
    for b in backends().await {
        let m = manager(&b);
        m.cache_curve_data(json!(1), "CAISO", "RT", "Z1")
            .await
            .unwrap();
        m.cache_curve_data(json!(1), "CAISO", "DA", "Z1")
            .await
            .unwrap();
        m.cache_curve_data(json!(1), "PJM", "RT", "Z1")
            .await
            .unwrap();
        assert_eq!(
            m.invalidate_curve_data("CAISO", Some("RT")).await.unwrap(),
            1
        );
        assert_eq!(m.invalidate_curve_data("CAISO", None).await.unwrap(), 1);
        assert!(m.get_curve_data("PJM", "RT", "Z1").await.unwrap().is_some());
        b.cleanup().await;
    }
}

#[tokio::test]
async fn unified_key_parts_with_colons_are_refused() {
    let m = manager(&common::memory());
    let err = m
        .cache_curve_data(json!(1), "CAISO", "RT:DA", "Z1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey);
    insta::assert_snapshot!("key_part_with_colon", err.to_string());
    let err = m.get_metadata("", "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey);
}

#[test]
fn reason_strings_parse() {
    assert_eq!(
        strata_compat::reason("data_update").unwrap(),
        InvalidationReason::DataChanged
    );
    assert_eq!(
        strata_compat::reason("TTL-EXPIRED").unwrap(),
        InvalidationReason::TtlExpired
    );
    assert_eq!(
        strata_compat::reason("capacity_limit").unwrap(),
        InvalidationReason::CapacityLimit
    );
    let err = strata_compat::reason("because").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    insta::assert_snapshot!("unknown_reason", err.to_string());
}

#[test]
fn namespaces_parse() {
    assert_eq!(
        "CURVES".parse::<CacheNamespace>().unwrap(),
        CacheNamespace::Curves
    );
    assert_eq!(
        "system-config".parse::<CacheNamespace>().unwrap(),
        CacheNamespace::SystemConfig
    );
    let err = CacheNamespace::custom("bad name").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey);
    insta::assert_snapshot!("bad_namespace", err.to_string());
}

// ---- CacheManager / CacheManagerCompat -------------------------------------------------------

fn compat_manager(b: &Backend) -> CacheManagerCompat {
    CacheManagerCompat::new(b.store.clone(), options()).unwrap()
}

#[tokio::test]
async fn manager_cache_curve_data_with_ttl() {
    for b in backends().await {
        let m = compat_manager(&b);
        m.cache_curve_data(
            json!({"p": 1}),
            "CAISO",
            "RT",
            "ZONE1",
            Some(Duration::from_secs(120)),
        )
        .await
        .unwrap();
        assert_eq!(
            m.get_curve_data("CAISO", "RT", "ZONE1").await.unwrap(),
            Some(json!({"p": 1}))
        );
        assert_ttl(
            &b,
            b.store.ttl(&key("curves", "CAISO:RT:ZONE1")).await.unwrap(),
            Duration::from_secs(120),
        );
        m.cache_curve_data(json!({"p": 2}), "CAISO", "RT", "ZONE2", None)
            .await
            .unwrap();
        assert_ttl(
            &b,
            b.store.ttl(&key("curves", "CAISO:RT:ZONE2")).await.unwrap(),
            Duration::from_secs(300),
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn manager_get_with_default_set_with_tags_invalidate_by_tags() {
    for b in backends().await {
        let m = compat_manager(&b);
        assert_eq!(m.get("analytics_data", json!({})).await.unwrap(), json!({}));
        m.set(
            "analytics_data",
            json!([1]),
            Some(Duration::from_secs(600)),
            &["analytics"],
        )
        .await
        .unwrap();
        m.set("other", json!([2]), None, &["analytics", "other"])
            .await
            .unwrap();
        m.set("untagged", json!([3]), None, &[]).await.unwrap();
        assert_eq!(
            m.get("analytics_data", json!({})).await.unwrap(),
            json!([1])
        );
        assert_eq!(
            m.invalidate_by_tags(&["analytics"]).await.unwrap(),
            2,
            "{}",
            b.name
        );
        assert_eq!(m.get("other", Value::Null).await.unwrap(), Value::Null);
        assert!(m.delete("untagged").await.unwrap());
        m.set("x", json!(1), None, &[]).await.unwrap();
        assert_eq!(m.clear().await.unwrap(), 1);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn manager_invalidate_pattern() {
    for b in backends().await {
        let m = compat_manager(&b);
        for k in ["metrics_cpu", "metrics_mem", "keep"] {
            m.set(k, json!(k), None, &[]).await.unwrap();
        }
        assert_eq!(m.invalidate_pattern("metrics_*").await.unwrap(), 2);
        assert_eq!(m.get("keep", Value::Null).await.unwrap(), json!("keep"));
        b.cleanup().await;
    }
}

#[tokio::test]
async fn manager_get_metrics_and_cache_info() {
    for b in backends().await {
        let m = compat_manager(&b);
        m.set("a", json!(1), None, &[]).await.unwrap();
        m.get("a", Value::Null).await.unwrap();
        m.get("b", Value::Null).await.unwrap();
        let metrics = m.get_metrics();
        assert_eq!((metrics.hits, metrics.misses), (1, 1), "{}", b.name);
        assert_eq!(metrics.hit_rate, Some(0.5));
        // The analytics clock stands still: every sampled read takes the histogram's least value.
        assert!(
            metrics.avg_get_time_ms.is_some_and(|ms| ms < 0.001),
            "{metrics:?}"
        );
        insta::assert_json_snapshot!("manager_metrics", metrics);
        let info = m.get_cache_info().await;
        assert_eq!(info.namespace, "general");
        assert_eq!(info.default_ttl_s, Some(1800));
        assert!(info.store.contains(b.name), "{}", info.store);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn manager_warm_cache() {
    for b in backends().await {
        let m = compat_manager(&b);
        let config = CacheWarmingConfig::new(
            ["system_metrics", "memory_insights"],
            |k: String| async move { Ok::<_, std::io::Error>(Some(json!({ "for": k }))) },
        );
        let report = m.warm_cache(config).await.unwrap();
        assert_eq!(report.warmed, 2);
        assert_eq!(
            m.get("memory_insights", Value::Null).await.unwrap(),
            json!({"for": "memory_insights"})
        );
        b.cleanup().await;
    }
}

// ---- EnhancedCacheManager / EnhancedCacheManagerCompat ----------------------------------------

#[tokio::test]
async fn enhanced_namespace_first_get_set() {
    for b in backends().await {
        let m = EnhancedCacheManagerCompat::new(b.store.clone(), options()).unwrap();
        m.set("sentiment_analysis", "AAPL", json!({"score": 0.7}))
            .await
            .unwrap();
        assert_eq!(
            m.get("sentiment_analysis", "AAPL").await.unwrap(),
            Some(json!({"score": 0.7}))
        );
        // An undeclared namespace gets the fallback rule's TTL (general, 1800 s).
        assert_ttl(
            &b,
            b.store
                .ttl(&key("sentiment_analysis", "AAPL"))
                .await
                .unwrap(),
            Duration::from_secs(1800),
        );
        m.set_with_ttl("market_data", "MSFT", json!(1), Duration::from_secs(30))
            .await
            .unwrap();
        assert_ttl(
            &b,
            b.store.ttl(&key("market_data", "MSFT")).await.unwrap(),
            Duration::from_secs(30),
        );
        assert!(m.delete("market_data", "MSFT").await.unwrap());
        assert_eq!(m.clear_namespace("sentiment_analysis").await.unwrap(), 1);
        let bad = m.get("bad namespace", "x").await.unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidKey);
        b.cleanup().await;
    }
}

#[tokio::test]
async fn enhanced_health_assessment_and_trends() {
    for b in backends().await {
        let m = EnhancedCacheManagerCompat::new(b.store.clone(), options()).unwrap();
        let health = m.perform_health_assessment().await;
        assert_eq!(health.score, 100, "{}: {health:?}", b.name);
        assert_eq!(health.status, Status::WarmingUp);
        let trend = m.get_performance_trends().await;
        assert_eq!(trend.current_average, Some(100.0));
        b.cleanup().await;
    }
}

// ---- CacheFactory ------------------------------------------------------------------------------

#[tokio::test]
async fn factory_create_cache_per_type_ttls() {
    for b in backends().await {
        let factory = CacheFactory::new(b.store.clone(), options()).unwrap();
        let expected = [
            (CacheType::ModelRegistry, 1800),
            (CacheType::Workflow, 3600),
            (CacheType::Tool, 3600),
            (CacheType::Session, 300),
            (CacheType::General, 1800),
        ];
        for (t, secs) in expected {
            let cache = factory.create_cache(t).unwrap();
            assert_eq!(cache.default_ttl(), Some(Duration::from_secs(secs)), "{t}");
            cache.set("k", json!(t.name()), None).await.unwrap();
            assert_ttl(&b, cache.ttl("k").await.unwrap(), Duration::from_secs(secs));
        }
        assert_eq!(
            factory.create_tool_cache().unwrap().namespace().as_str(),
            "tool"
        );
        assert_eq!(
            factory.create_session_cache().unwrap().namespace().as_str(),
            "session"
        );
        assert_eq!(
            factory.get_general_cache().unwrap().namespace().as_str(),
            "general"
        );
        let custom = factory
            .create_cache_with_ttl(CacheType::Tool, Duration::from_secs(90))
            .unwrap();
        custom.set("c", json!(1), None).await.unwrap();
        assert_ttl(&b, custom.ttl("c").await.unwrap(), Duration::from_secs(90));
        b.cleanup().await;
    }
}

#[tokio::test]
async fn factory_type_ttl_from_cache_type_ttl_env() {
    for b in backends().await {
        // CACHE_<TYPE>_TTL, read by the governance policy (here from a list, not the process).
        let source = PolicySource::new().env_vars([
            ("CACHE_MODEL_REGISTRY_TTL", "900"),
            ("CACHE_SESSION_TTL", "60"),
        ]);
        let governance = GovernanceLayer::from_source(source).unwrap();
        let factory = CacheFactory::new(b.store.clone(), options().governance(governance)).unwrap();
        let registry = factory.create_cache(CacheType::ModelRegistry).unwrap();
        assert_eq!(registry.default_ttl(), Some(Duration::from_secs(900)));
        registry.set("k", json!(1), None).await.unwrap();
        assert_ttl(
            &b,
            registry.ttl("k").await.unwrap(),
            Duration::from_secs(900),
        );
        let sessions = factory.create_cache(CacheType::Session).unwrap();
        sessions.set("s", json!(1), None).await.unwrap();
        assert_ttl(
            &b,
            sessions.ttl("s").await.unwrap(),
            Duration::from_secs(60),
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn factory_model_registry_default_provider() {
    for b in backends().await {
        let registry = CacheFactory::new(b.store.clone(), options())
            .unwrap()
            .create_model_registry_cache()
            .unwrap();
        assert_eq!(registry.get_default_provider("chat").await.unwrap(), None);
        registry
            .set_default_provider("chat", "openai")
            .await
            .unwrap();
        registry
            .set_default_provider("embedding", "cohere")
            .await
            .unwrap();
        assert_eq!(
            registry
                .get_default_provider("chat")
                .await
                .unwrap()
                .as_deref(),
            Some("openai")
        );
        assert!(
            b.store
                .exists(&key("model_registry", "default_provider:chat"))
                .await
                .unwrap()
        );
        assert!(registry.invalidate_default_provider("chat").await.unwrap());
        assert_eq!(registry.get_default_provider("chat").await.unwrap(), None);
        assert_eq!(registry.cache().namespace().as_str(), "model_registry");
        b.cleanup().await;
    }
}

#[tokio::test]
async fn factory_workflow_cache_by_provider_type_config() {
    for b in backends().await {
        let workflows = CacheFactory::new(b.store.clone(), options())
            .unwrap()
            .create_workflow_cache()
            .unwrap();
        let config = json!({"temperature": 0.7, "max_tokens": 100});
        let reordered = json!({"max_tokens": 100, "temperature": 0.7});
        assert_eq!(
            workflows.get("openai", "chat", &config).await.unwrap(),
            None
        );
        workflows
            .put("openai", "chat", &config, json!({"graph": ["a", "b"]}))
            .await
            .unwrap();
        assert_eq!(
            workflows.get("openai", "chat", &reordered).await.unwrap(),
            Some(json!({"graph": ["a", "b"]})),
            "key order does not matter"
        );
        assert_eq!(
            workflows
                .get("openai", "chat", &json!({"temperature": 0.9}))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            workflows.get("anthropic", "chat", &config).await.unwrap(),
            None
        );
        let k = WorkflowCache::key("openai", "chat", &config).unwrap();
        assert!(
            k.starts_with("openai:chat:") && k.len() == "openai:chat:".len() + 16,
            "{k}"
        );
        assert_ttl(
            &b,
            workflows.cache().ttl(&k).await.unwrap(),
            Duration::from_secs(3600),
        );
        // A value under the key whose stored configuration differs (a hash collision) is a miss.
        workflows
            .cache()
            .set(
                &k,
                json!({"config": {"other": 1}, "workflow": "wrong"}),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            workflows.get("openai", "chat", &config).await.unwrap(),
            None
        );
        assert!(
            workflows
                .invalidate("openai", "chat", &config)
                .await
                .unwrap()
        );
        b.cleanup().await;
    }
}

#[tokio::test]
async fn factory_stats_all_and_health_all() {
    for b in backends().await {
        let factory = CacheFactory::new(b.store.clone(), options()).unwrap();
        factory
            .create_cache(CacheType::Tool)
            .unwrap()
            .set("t", json!(1), None)
            .await
            .unwrap();
        let sessions = factory.create_cache(CacheType::Session).unwrap();
        sessions.set("s", json!(1), None).await.unwrap();
        sessions.get("s").await.unwrap();
        sessions.get("gone").await.unwrap();
        // The registry's figures: every type present, the sums, the hit ratio.
        let all = factory.get_stats_all().unwrap();
        assert_eq!(all.caches.len(), 5, "{}: {:?}", b.name, all.caches.keys());
        assert_eq!(all.total.sets, 2);
        assert_eq!((all.total.hits, all.total.misses), (1, 1));
        assert_eq!(all.hit_ratio, Some(0.5));
        assert_eq!(all.caches["session"].counts.hits, 1);
        assert_eq!(all.caches["session"].ttl_seconds, Some(300.0));
        assert_eq!(
            all.caches,
            factory.registry().stats_all().caches,
            "one place adds up"
        );
        let health = factory.health_check_all().await.unwrap();
        assert_eq!(health.status, HealthStatus::Healthy);
        assert_eq!(health.caches.len(), 5);
        assert_eq!(health.caches["session"].hit_ratio, Some(0.5));
        b.cleanup().await;
    }
}

#[test]
fn cache_type_parse() {
    assert_eq!(
        parse_cache_type("model_registry").unwrap(),
        CacheType::ModelRegistry
    );
    assert_eq!(
        parse_cache_type("MODEL-REGISTRY").unwrap(),
        CacheType::ModelRegistry
    );
    assert_eq!(parse_cache_type("Session").unwrap(), CacheType::Session);
    assert_eq!(
        CacheType::Session,
        strata::CacheType::Session,
        "the one type"
    );
    let err = parse_cache_type("sessions").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    insta::assert_snapshot!("unknown_cache_type", err.to_string());
}

// ---- deprecated names ---------------------------------------------------------------------------

#[tokio::test]
#[allow(deprecated)]
async fn deprecated_aliases_still_work() {
    use strata_compat::{
        AsyncCache, CacheInterface, CacheManager, EnhancedCacheManager, UnifiedModelRegistryCache,
        UnifiedWorkflowCache,
    };
    for b in backends().await {
        let cache: AsyncCache = AsyncCache::new(b.store.clone(), options()).unwrap();
        cache.set("k", json!(1), None).await.unwrap();
        let same: &CacheInterface = &cache;
        assert_eq!(same.get("k").await.unwrap(), Some(json!(1)));
        let manager: CacheManager = CacheManager::new(b.store.clone(), options()).unwrap();
        assert_eq!(manager.get("k", Value::Null).await.unwrap(), json!(1));
        let enhanced: EnhancedCacheManager =
            EnhancedCacheManager::new(b.store.clone(), options()).unwrap();
        assert_eq!(enhanced.get("general", "k").await.unwrap(), Some(json!(1)));
        let factory = CacheFactory::new(b.store.clone(), options()).unwrap();
        let _: UnifiedModelRegistryCache = factory.create_model_registry_cache().unwrap();
        let _: UnifiedWorkflowCache = factory.create_workflow_cache().unwrap();
        b.cleanup().await;
    }
}

// ---- environment variables: the umbrella's configuration, through `from_system` --------------------

/// A cache system from these variables (given as a list: the process environment is left
/// alone), as `CacheSystem::from_env()` would start it.
async fn system_from(vars: &[(&str, &str)]) -> CacheSystem {
    let config = Config::source()
        .env_vars(vars.iter().copied())
        .load()
        .expect("config");
    CacheSystem::start(config).await.expect("system")
}

/// The variables that put a system on the shared Redis server under the backend's prefix.
fn on_redis<'a>(b: &'a Backend, url: &'a str) -> [(&'static str, &'a str); 2] {
    [
        ("REDIS_URL", url),
        ("STRATA_REDIS_PREFIX", b.prefix.as_deref().expect("prefix")),
    ]
}

/// A TTL a write got on a store keeping real time: at most `secs`, and close to it.
fn assert_about(ttl: TtlState, secs: u64) {
    match ttl {
        TtlState::Remaining(d) => assert!(
            d <= Duration::from_secs(secs) && d > Duration::from_secs(secs.saturating_sub(10)),
            "{d:?} is not about {secs} s"
        ),
        other => panic!("{other:?}, expected about {secs} s"),
    }
}

async fn stop(system: &CacheSystem) {
    let report = system.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.tasks_aborted, 0, "{report:?}");
}

#[tokio::test]
async fn env_cache_type_ttl_from_config() {
    // CACHE_<TYPE>_TTL read by the configuration: the registry gives the type's cache that TTL.
    let system = system_from(&[
        ("CACHE_BACKEND", "memory"),
        ("CACHE_MODEL_REGISTRY_TTL", "900"),
        ("CACHE_SESSION_TTL", "1m"),
    ])
    .await;
    let factory = CacheFactory::from_system(&system).unwrap();
    let registry = factory.create_cache(CacheType::ModelRegistry).unwrap();
    assert_eq!(registry.default_ttl(), Some(Duration::from_secs(900)));
    registry.set("k", json!(1), None).await.unwrap();
    assert_about(registry.ttl("k").await.unwrap(), 900);
    let sessions = factory.create_session_cache().unwrap();
    sessions.set("s", json!(1), None).await.unwrap();
    assert_about(sessions.ttl("s").await.unwrap(), 60);
    // The factory's caches are the system's: its stats_all counts them.
    let all = system.stats_all();
    assert_eq!(all.caches["model_registry"].ttl_seconds, Some(900.0));
    assert_eq!(all.caches["session"].counts.sets, 1);
    stop(&system).await;
}

#[tokio::test]
async fn env_cache_backend_selects_the_store() {
    let memory = system_from(&[("CACHE_BACKEND", "memory")]).await;
    assert_eq!(memory.backend(), "memory");
    let m = UnifiedCacheManager::from_system(&memory).unwrap();
    m.set("k", json!("in memory"), CacheNamespace::General, None)
        .await
        .unwrap();
    assert_eq!(
        m.get("k", CacheNamespace::General).await.unwrap(),
        Some(json!("in memory"))
    );
    assert_eq!(m.system().map(CacheSystem::backend), Some("memory"));
    // The system's own layers serve the manager (one analytics layer counts both).
    assert_eq!(m.get_analytics().unified_cache.hits, 1);
    assert_eq!(memory.stats_all().caches["general"].counts.hits, 1);
    stop(&memory).await;

    let err = Config::source()
        .env_vars([("CACHE_BACKEND", "floppy")])
        .load()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("unknown_backend", err.to_string());

    let Some(b) = common::redis().await else {
        return;
    };
    let url = strata_testkit::redis_server::shared_redis_url().expect("url");
    let [u, p] = on_redis(&b, &url);
    let redis = system_from(&[("CACHE_BACKEND", "redis"), u, p]).await;
    assert_eq!(redis.backend(), "redis");
    let m = UnifiedCacheManager::from_system(&redis).unwrap();
    m.set("k", json!("on redis"), CacheNamespace::General, None)
        .await
        .unwrap();
    let raw = b.redis.as_ref().unwrap();
    assert!(raw.get(&key("general", "k")).await.unwrap().is_some());
    stop(&redis).await;
    b.cleanup().await;
}

#[tokio::test]
async fn env_cache_enabled_false_disables_caching() {
    let system = system_from(&[("CACHE_ENABLED", "false"), ("CACHE_BACKEND", "memory")]).await;
    assert_eq!(system.backend(), "disabled");
    let m = UnifiedCacheManager::from_system(&system).unwrap();
    // Calls succeed and store nothing: loaders run every time, nothing errors.
    m.set("k", json!(1), CacheNamespace::General, None)
        .await
        .unwrap();
    assert_eq!(m.get("k", CacheNamespace::General).await.unwrap(), None);
    m.cache_curve_data(json!([1]), "CAISO", "RT", "Z1")
        .await
        .unwrap();
    assert_eq!(m.get_curve_data("CAISO", "RT", "Z1").await.unwrap(), None);
    let factory = CacheFactory::from_unified(m.clone());
    let health = factory.health_check_all().await.unwrap();
    assert_eq!(health.status, HealthStatus::Healthy);
    assert_eq!(health.store.backend, "disabled");
    assert_eq!(factory.get_stats_all().unwrap().total.misses, 2);
    stop(&system).await;
}

#[tokio::test]
async fn env_redis_host_and_port() {
    let Some(b) = common::redis().await else {
        return;
    };
    let url = strata_testkit::redis_server::shared_redis_url().expect("url");
    let authority = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or_default();
    let (host, port) = authority.rsplit_once(':').expect("host:port in the URL");
    let prefix = b.prefix.clone().expect("prefix");
    let system = system_from(&[
        ("CACHE_BACKEND", "redis"),
        ("REDIS_HOST", host),
        ("REDIS_PORT", port),
        ("STRATA_REDIS_PREFIX", &prefix),
    ])
    .await;
    assert!(
        system.description().contains(authority),
        "{}",
        system.description()
    );
    let cache = CacheFactory::from_system(&system)
        .unwrap()
        .create_tool_cache()
        .unwrap();
    cache.set("t", json!("tool"), None).await.unwrap();
    let raw = b.redis.as_ref().unwrap();
    assert!(raw.get(&key("tool", "t")).await.unwrap().is_some());
    assert_ttl(&b, cache.ttl("t").await.unwrap(), Duration::from_secs(3600));
    stop(&system).await;
    b.cleanup().await;
}

#[tokio::test]
async fn env_cache_l1_size_ratio() {
    // Out of range: one InvalidConfig naming the variable, nothing started.
    let err = Config::source()
        .env_vars([("CACHE_L1_SIZE_RATIO", "1.5")])
        .load()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("bad_l1_size_ratio", err.to_string());

    let Some(b) = common::redis().await else {
        return;
    };
    let url = strata_testkit::redis_server::shared_redis_url().expect("url");
    let [u, p] = on_redis(&b, &url);
    let system = system_from(&[
        ("CACHE_BACKEND", "multi_tier"),
        ("CACHE_MAX_MEMORY_SIZE", "1000"),
        ("CACHE_L1_SIZE_RATIO", "0.25"),
        u,
        p,
    ])
    .await;
    assert_eq!(system.backend(), "multi_tier");
    assert!(
        system.description().contains("memory L1 (250 entries)"),
        "{}",
        system.description()
    );
    let m = UnifiedCacheManager::from_system(&system).unwrap();
    m.cache_metadata(json!({"v": 1}), "kind", "id")
        .await
        .unwrap();
    // Written through to L2.
    let raw = b.redis.as_ref().unwrap();
    assert!(
        raw.get(&key("metadata", "kind:id"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        m.get_metadata("kind", "id").await.unwrap(),
        Some(json!({"v": 1}))
    );
    stop(&system).await;
    b.cleanup().await;
}

#[tokio::test]
async fn env_cache_warm_on_startup() {
    let warming = || {
        CacheWarmingConfig::new(["a", "b"], |k: String| async move {
            Ok::<_, std::io::Error>(Some(json!({ "warmed": k })))
        })
        .namespace(CacheNamespace::Metadata)
    };
    let config = |on: &str| {
        Config::source()
            .env_vars([("CACHE_BACKEND", "memory"), ("CACHE_WARM_ON_STARTUP", on)])
            .load()
            .unwrap()
    };
    // true: the system warms the older config's keys as it starts.
    let system = warming()
        .add_to(CacheSystem::builder(config("true")))
        .unwrap()
        .start()
        .await
        .unwrap();
    let report = system.startup_warming().await.expect("a start-up warming");
    assert_eq!((report.warmed, report.failed), (2, 0));
    let m = UnifiedCacheManager::from_system(&system).unwrap();
    assert_eq!(
        m.get("a", CacheNamespace::Metadata).await.unwrap(),
        Some(json!({"warmed": "a"}))
    );
    assert_about(
        m.cache(CacheNamespace::Metadata)
            .unwrap()
            .ttl("b")
            .await
            .unwrap(),
        1800,
    );
    stop(&system).await;

    // false: nothing at start-up; `warm()` runs it on demand.
    let system = warming()
        .add_to(CacheSystem::builder(config("false")))
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(system.startup_warming().await, None);
    let m = UnifiedCacheManager::from_system(&system).unwrap();
    assert_eq!(m.get("a", CacheNamespace::Metadata).await.unwrap(), None);
    assert_eq!(system.warm().await.warmed, 2);
    stop(&system).await;
}

#[tokio::test]
async fn env_redis_url_builds_the_store() {
    // REDIS_URL → the system's Redis store; the manager over it reads and writes through
    // the server.
    let Some(b) = common::redis().await else {
        return;
    };
    let url = strata_testkit::redis_server::shared_redis_url().expect("url");
    let [u, p] = on_redis(&b, &url);
    // `auto` picks Redis when an address is set and answers.
    let system = system_from(&[u, p]).await;
    assert_eq!(system.backend(), "redis");
    let m = UnifiedCacheManager::from_system(&system).unwrap();
    m.set("k", json!("via redis"), CacheNamespace::General, None)
        .await
        .unwrap();
    let raw = b
        .redis
        .as_ref()
        .unwrap()
        .get(&key("general", "k"))
        .await
        .unwrap();
    assert!(raw.is_some());
    stop(&system).await;
    b.cleanup().await;
}

#[tokio::test]
async fn env_max_memory_size_and_eviction_policy() {
    // CACHE_MAX_MEMORY_SIZE=100, CACHE_EVICTION_POLICY=lru → the system's memory store.
    let system = system_from(&[
        ("CACHE_BACKEND", "memory"),
        ("CACHE_MAX_MEMORY_SIZE", "100"),
        ("CACHE_EVICTION_POLICY", "lru"),
    ])
    .await;
    assert_eq!(system.description(), "memory (100 entries, lru eviction)");
    stop(&system).await;
    // The same store in code: MemoryStore::builder().max_entries(100).eviction_policy(Lru).
    let store = strata::MemoryStore::builder()
        .max_entries(100)
        .eviction_policy(strata::EvictionPolicy::Lru)
        .build()
        .unwrap();
    let cache = CompatCache::new(store.clone().into_shared(), options()).unwrap();
    for i in 0..150 {
        cache.set(&format!("k{i}"), json!(i), None).await.unwrap();
    }
    store.run_pending_tasks();
    let stats = cache.get_stats().await.unwrap();
    assert!(stats.total_entries <= 100, "{}", stats.total_entries);
    assert!(stats.evictions >= 50, "{}", stats.evictions);
    assert_eq!(
        cache.get("k149").await.unwrap(),
        Some(json!(149)),
        "the newest stays under LRU"
    );
}

#[test]
fn env_redis_cluster_names_the_seeds() {
    // REDIS_CLUSTER=true: the Redis URL is a cluster seed; a list names the seeds.
    let config = Config::source()
        .env_vars([
            ("REDIS_URL", "redis://10.0.0.1:7000"),
            ("REDIS_CLUSTER", "true"),
        ])
        .load()
        .unwrap();
    assert_eq!(
        config.redis.cluster_seeds(),
        Some(vec!["redis://10.0.0.1:7000".to_owned()])
    );
    let config = Config::source()
        .env_vars([("REDIS_CLUSTER", "10.0.0.1:7000,10.0.0.2:7000")])
        .load()
        .unwrap();
    assert_eq!(config.redis.cluster_seeds().map(|s| s.len()), Some(2));
}

/// Every row of docs/migration.md names tests that exist (the check the document promises).
#[test]
fn every_migration_row_names_a_test() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(dir.join("../../docs/migration.md")).unwrap();
    let mut sources = String::new();
    for entry in std::fs::read_dir(dir.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            sources.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let mut rows = 0;
    for line in doc.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(last) = cells.iter().rev().find(|c| !c.is_empty()) else {
            continue;
        };
        if *last == "test" || last.starts_with("---") || !line.contains('`') {
            continue;
        }
        // The key-layout table has no test column; its rows are covered by the helpers' tests.
        if !doc_has_test_column(&doc, line) {
            continue;
        }
        rows += 1;
        let names: Vec<&str> = last
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|n| {
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        assert!(!names.is_empty(), "a row without a test: {line}");
        for name in names {
            assert!(
                sources.contains(&format!("fn {name}(")),
                "docs/migration.md names `{name}`, which is not a test in tests/"
            );
        }
    }
    assert!(rows >= 40, "only {rows} rows checked");
}

/// True when the table holding `line` has a `test` column.
fn doc_has_test_column(doc: &str, line: &str) -> bool {
    let mut header = "";
    for l in doc.lines() {
        if !l.starts_with('|') {
            header = "";
            continue;
        }
        if header.is_empty() {
            header = l;
        }
        if l == line {
            return header.trim_end().ends_with("| test |");
        }
    }
    false
}
