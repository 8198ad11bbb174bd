//! The cache system's lifecycle on the in-memory backend: start, use, shut down with no
//! task left; `auto` without Redis; disabled caching; the registry; warming.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use strata::config::Config;
use strata::registry::CacheType;
use strata::warming::{WarmLoader, WarmingConfig};
use strata::{CacheSystem, ErrorKind};

fn config(vars: &[(&str, &str)]) -> Config {
    Config::source()
        .env_vars(vars.iter().copied())
        .load()
        .unwrap()
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_use_shutdown_leaves_no_task_running() {
    let before = alive_tasks();
    let loader = WarmLoader::from_async(|id: String| async move {
        Ok::<_, std::io::Error>(Some(format!("v-{id}")))
    });
    let system = CacheSystem::builder(config(&[
        ("CACHE_BACKEND", "memory"),
        ("CACHE_WARM_ON_STARTUP", "true"),
        ("STRATA_WARM_INTERVAL", "50ms"),
    ]))
    .maintenance_interval(Duration::from_millis(20))
    .warming("users", WarmingConfig::new(["1", "2"], loader))
    .start()
    .await
    .unwrap();
    let report = system
        .startup_warming()
        .await
        .expect("start-up warming ran");
    assert_eq!(report.warmed, 2);
    let users = system.cache::<String>("users").unwrap();
    assert_eq!(
        users.get("1").await.unwrap().as_deref().map(String::as_str),
        Some("v-1")
    );
    let running = system.background_tasks();
    assert!(
        running.contains(&"maintenance (expiry sweep)"),
        "{running:?}"
    );
    assert!(running.contains(&"warming (interval)"), "{running:?}");
    assert!(alive_tasks() >= before + 2);

    let report = system.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.tasks_aborted, 0, "{report:?}");
    assert!(report.tasks_stopped >= 2, "{report:?}");
    assert!(report.connections_closed);
    assert!(system.background_tasks().is_empty());
    // A finished task leaves the runtime's count a moment after its handle resolves.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while alive_tasks() > before && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(alive_tasks(), before, "a background task outlived shutdown");
    // Callers still holding a cache get a clear error, and a second shutdown does nothing.
    let err = users.get("1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    insta::assert_snapshot!("after_shutdown", err.to_string());
    assert!(
        !system
            .shutdown(Duration::from_secs(1))
            .await
            .connections_closed
    );
}

#[tokio::test]
async fn auto_without_redis_runs_on_memory() {
    // No address at all.
    let system = CacheSystem::start(config(&[])).await.unwrap();
    assert_eq!(system.backend(), "memory");
    system.shutdown(Duration::from_secs(1)).await;
    // An address where nothing answers (port 1 on loopback): memory, after a short try.
    let system = CacheSystem::start(config(&[
        ("REDIS_URL", "redis://127.0.0.1:1"),
        ("STRATA_REDIS_CONNECT_TIMEOUT", "500ms"),
    ]))
    .await
    .unwrap();
    assert_eq!(system.backend(), "memory");
    system.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_configuration_with_problems_does_not_start() {
    let bad = Config {
        memory: strata::config::MemorySettings {
            l1_size_ratio: 7.0,
            ..Default::default()
        },
        namespace: "no spaces".into(),
        ..Config::default()
    };
    let err = CacheSystem::start(bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("does_not_start", err.to_string());
}

#[tokio::test]
async fn disabled_caching_always_misses_and_never_fails() {
    let system = CacheSystem::start(config(&[("CACHE_ENABLED", "false")]))
        .await
        .unwrap();
    assert_eq!(system.backend(), "disabled");
    let c = system.cache::<u64>("counters").unwrap();
    c.set("a", 1).await.unwrap();
    assert_eq!(c.get("a").await.unwrap(), None);
    assert!(!c.exists("a").await.unwrap());
    assert!(!c.delete("a").await.unwrap());
    assert_eq!(c.clear().await.unwrap(), 0);
    assert!(c.keys("*").await.unwrap().is_empty());
    let calls = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let calls = calls.clone();
        let v = c
            .get_or_load("a", || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(7)
            })
            .await
            .unwrap();
        assert_eq!(*v, 7);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "nothing is cached, so every call loads"
    );
    assert_eq!(
        system.health_all().await.status,
        strata::HealthStatus::Healthy
    );
    system.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn the_registry_makes_one_cache_per_name_with_its_ttl() {
    let clock = Arc::new(strata::ManualClock::new());
    let system = CacheSystem::builder(config(&[
        ("CACHE_BACKEND", "memory"),
        ("CACHE_SESSION_TTL", "120"),
    ]))
    .clock(clock.clone())
    .start()
    .await
    .unwrap();
    let sessions = system.cache_for::<String>(CacheType::Session).unwrap();
    let tools = system.cache_for::<String>(CacheType::Tool).unwrap();
    sessions.set("s1", "ada".into()).await.unwrap();
    tools.set("t1", "grep".into()).await.unwrap();
    let s1 = sessions.key("s1").unwrap();
    assert_eq!(
        strata::Store::ttl(system.store(), &s1).await.unwrap(),
        strata::TtlState::Remaining(Duration::from_secs(120))
    );
    let t1 = tools.key("t1").unwrap();
    assert_eq!(
        strata::Store::ttl(system.store(), &t1).await.unwrap(),
        strata::TtlState::Remaining(Duration::from_secs(3600))
    );
    // The same name gives the same cache (shared counters); another type is an error.
    let again = system.cache_for::<String>(CacheType::Session).unwrap();
    assert!(again.get("s1").await.unwrap().is_some());
    assert!(again.get("nope").await.unwrap().is_none());
    let err = system.cache::<u32>("session").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let stats = system.stats_all();
    assert_eq!(stats.caches["session"].counts.hits, 1);
    assert_eq!(stats.caches["session"].counts.misses, 1);
    assert_eq!(stats.caches["session"].ttl_seconds, Some(120.0));
    assert_eq!(stats.total.sets, 2);
    assert_eq!(stats.store.entries, 2);
    insta::assert_json_snapshot!("stats_all", stats);
    // Values expire with the registry's TTL.
    clock.advance(Duration::from_secs(121));
    assert!(sessions.get("s1").await.unwrap().is_none());
    assert!(tools.get("t1").await.unwrap().is_some());

    let health = system.health_all().await;
    assert_eq!(health.status, strata::HealthStatus::Healthy);
    assert_eq!(health.caches.len(), 2);
    system.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn warming_goes_on_past_a_failing_key_and_skips_what_is_cached() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let loader = WarmLoader::from_sync(move |id: &str| {
        counted.fetch_add(1, Ordering::SeqCst);
        match id {
            "broken" => Err("the source refused".to_owned()),
            "absent" => Ok(None),
            other => Ok(Some(other.to_uppercase())),
        }
    });
    let keys = ["a", "broken", "b", "absent", "c"];
    let system = CacheSystem::builder(config(&[("CACHE_BACKEND", "memory")]))
        .warming("letters", WarmingConfig::new(keys, loader).concurrency(2))
        .start()
        .await
        .unwrap();
    // CACHE_WARM_ON_STARTUP is false: nothing ran yet.
    assert!(system.startup_warming().await.is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let report = system.warm().await;
    assert_eq!((report.warmed, report.failed, report.skipped), (3, 1, 1));
    assert_eq!(report.failures[0].key, "broken");
    assert!(report.failures[0].error.contains("the source refused"));
    let letters = system.cache::<String>("letters").unwrap();
    assert_eq!(
        letters
            .get("c")
            .await
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("C")
    );
    // A second run skips the keys already cached and loads only the others.
    let before = calls.load(Ordering::SeqCst);
    let report = system.warm().await;
    assert_eq!((report.warmed, report.failed, report.skipped), (0, 1, 4));
    assert_eq!(calls.load(Ordering::SeqCst) - before, 2);
    system.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn warmed_values_get_their_namespace_ttl() {
    let clock = Arc::new(strata::ManualClock::new());
    let loader = WarmLoader::from_sync(|id: &str| Ok::<_, std::io::Error>(Some(id.len() as u64)));
    let system = CacheSystem::builder(config(&[("CACHE_BACKEND", "memory")]))
        .clock(clock.clone())
        .warming("curves", WarmingConfig::new(["caiso:rt"], loader))
        .start()
        .await
        .unwrap();
    assert_eq!(system.warm().await.warmed, 1);
    let curves = system.cache::<u64>("curves").unwrap();
    let key = curves.key("caiso:rt").unwrap();
    // The curves namespace's TTL: 300 s (the governance layer, where present, agrees).
    assert_eq!(
        strata::Store::ttl(system.store(), &key).await.unwrap(),
        strata::TtlState::Remaining(Duration::from_secs(300))
    );
    system.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn interval_warming_runs_in_the_background_without_blocking_reads() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let loader = WarmLoader::from_async(move |_id: String| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            // A slow source: reads must not wait for it.
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, std::io::Error>(None::<u32>)
        }
    });
    let system = CacheSystem::builder(config(&[("CACHE_BACKEND", "memory")]))
        .warming(
            "slow",
            WarmingConfig::new(["k"], loader).interval(Duration::from_secs(60)),
        )
        .start()
        .await
        .unwrap();
    let slow = system.cache::<u32>("slow").unwrap();
    for round in 1..=3 {
        tokio::time::sleep(Duration::from_secs(61)).await;
        // The warming of this round is under way (sleeping in its loader); a read answers.
        let started = tokio::time::Instant::now();
        assert_eq!(slow.get("k").await.unwrap(), None);
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(calls.load(Ordering::SeqCst), round);
    }
    let report = system.shutdown(Duration::from_secs(1)).await;
    assert_eq!(report.tasks_stopped + report.tasks_aborted, 2);
}
