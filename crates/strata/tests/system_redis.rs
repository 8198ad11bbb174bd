//! The cache system from the environment against the real servers `cargo xtask test`
//! starts: `auto` picking Redis, the redis, redis_cluster and multi_tier backends, and
//! shutdown closing everything.
#![cfg(feature = "redis")]

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use strata::CacheSystem;
use strata::config::Config;
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::{shared_cluster_urls, shared_redis_url};
use strata_testkit::resp::{Reply, encode_command, read_reply};

fn config(vars: &[(&str, &str)]) -> Config {
    Config::source()
        .env_vars(vars.iter().copied())
        .load()
        .unwrap()
}

/// One command on a plain connection (what `redis-cli` would see).
fn raw(url: &str, args: &[&str]) -> Reply {
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&encode_command(args)).unwrap();
    read_reply(&mut BufReader::new(s)).unwrap()
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_picks_redis_when_the_url_answers_and_shutdown_closes_it() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let before = alive_tasks();
    let system = CacheSystem::start(config(&[
        ("REDIS_URL", &url),
        ("STRATA_REDIS_PREFIX", &prefix),
    ]))
    .await
    .unwrap();
    assert_eq!(system.backend(), "redis");
    assert!(system.description().contains(url.trim_end_matches('/')));
    let users = system.cache::<String>("users").unwrap();
    users.set("42", "Ada".into()).await.unwrap();
    // Written with the SET family: a plain string key another client can read.
    let key = format!("{prefix}:users:42");
    assert_eq!(
        raw(&url, &["TYPE", &key]).as_text().as_deref(),
        Some("string")
    );
    assert_eq!(
        users
            .get("42")
            .await
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("Ada")
    );
    users.delete("42").await.unwrap();
    drop(users);

    let report = system.shutdown(Duration::from_secs(5)).await;
    assert!(report.connections_closed);
    // The connection's driver task ends once the store is let go of.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while alive_tasks() > before && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(alive_tasks(), before, "a task outlived shutdown");
}

#[tokio::test]
async fn an_unreachable_backend_is_an_error_naming_the_address() {
    let err = CacheSystem::start(config(&[
        ("CACHE_BACKEND", "redis"),
        ("REDIS_URL", "redis://127.0.0.1:1"),
        ("STRATA_REDIS_CONNECT_TIMEOUT", "500ms"),
    ]))
    .await
    .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            strata::ErrorKind::Unavailable | strata::ErrorKind::Timeout
        ),
        "{err}"
    );
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}

#[tokio::test]
async fn redis_host_and_port_reach_the_server() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let (host, port) = addr.rsplit_once(':').unwrap();
    let prefix = RunContext::new().prefix();
    let system = CacheSystem::start(config(&[
        ("CACHE_BACKEND", "redis"),
        ("REDIS_HOST", host),
        ("REDIS_PORT", port),
        ("STRATA_REDIS_PREFIX", &prefix),
    ]))
    .await
    .unwrap();
    assert_eq!(system.backend(), "redis");
    let c = system.cache::<u32>("n").unwrap();
    c.set("a", 1).await.unwrap();
    assert_eq!(
        raw(&url, &["EXISTS", &format!("{prefix}:n:a")]).as_int(),
        Some(1)
    );
    c.clear().await.unwrap();
    system.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn redis_cluster_from_a_node_list() {
    let Some(nodes) = shared_cluster_urls() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let list = nodes.join(",");
    for backend in ["redis_cluster", "redis"] {
        let system = CacheSystem::start(config(&[
            ("CACHE_BACKEND", backend),
            ("REDIS_CLUSTER", &list),
            ("STRATA_REDIS_PREFIX", &prefix),
        ]))
        .await
        .unwrap();
        assert_eq!(system.backend(), "redis_cluster", "{backend}");
        let c = system.cache::<String>("spread").unwrap();
        for i in 0..20 {
            c.set(&i.to_string(), format!("v{i}")).await.unwrap();
        }
        assert_eq!(c.keys("*").await.unwrap().len(), 20);
        assert_eq!(c.clear().await.unwrap(), 20);
        system.shutdown(Duration::from_secs(5)).await;
    }
    // REDIS_CLUSTER=true: the URL is a seed.
    let system = CacheSystem::start(config(&[
        ("CACHE_BACKEND", "redis"),
        ("REDIS_URL", &nodes[0]),
        ("REDIS_CLUSTER", "true"),
        ("STRATA_REDIS_PREFIX", &prefix),
    ]))
    .await
    .unwrap();
    assert_eq!(system.backend(), "redis_cluster");
    system.shutdown(Duration::from_secs(5)).await;
}

#[cfg(feature = "tiered")]
#[tokio::test]
async fn multi_tier_write_back_is_flushed_by_shutdown() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let system = CacheSystem::start(config(&[
        ("CACHE_BACKEND", "hybrid"),
        ("REDIS_URL", &url),
        ("STRATA_REDIS_PREFIX", &prefix),
        ("STRATA_WRITE_MODE", "back"),
        ("CACHE_MAX_MEMORY_SIZE", "1000"),
        ("CACHE_L1_SIZE_RATIO", "0.5"),
    ]))
    .await
    .unwrap();
    assert_eq!(system.backend(), "multi_tier");
    assert!(
        system.description().contains("500 entries"),
        "{}",
        system.description()
    );
    assert!(
        system.description().contains("write-back"),
        "{}",
        system.description()
    );
    let c = system.cache::<u32>("queued").unwrap();
    for i in 0..200u32 {
        c.set(&i.to_string(), i).await.unwrap();
    }
    let report = system.shutdown(Duration::from_secs(10)).await;
    assert_eq!(report.write_back_flushed, 200, "{report:?}");
    assert_eq!(report.write_back_unflushed, 0, "{report:?}");
    // Everything reached Redis.
    for i in [0u32, 99, 199] {
        let key = format!("{prefix}:queued:{i}");
        assert_eq!(raw(&url, &["EXISTS", &key]).as_int(), Some(1), "{key}");
        raw(&url, &["DEL", &key]);
    }
    let rest = raw(&url, &["KEYS", &format!("{prefix}:queued:*")]);
    for k in rest.as_array().unwrap_or_default() {
        raw(&url, &["DEL", &k.as_text().unwrap()]);
    }
}

#[cfg(feature = "tiered")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_tier_nodes_stay_coherent_and_shutdown_leaves_no_task() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let before = alive_tasks();
    let vars = [
        ("CACHE_BACKEND", "multi_tier"),
        ("REDIS_URL", url.as_str()),
        ("STRATA_REDIS_PREFIX", prefix.as_str()),
        ("STRATA_COHERENCE_HEARTBEAT", "100ms"),
    ];
    let a = CacheSystem::start(config(&vars)).await.unwrap();
    let b = CacheSystem::start(config(&vars)).await.unwrap();
    assert!(a.description().ends_with("coherent"), "{}", a.description());
    let (ca, cb) = (
        a.cache::<u32>("prices").unwrap(),
        b.cache::<u32>("prices").unwrap(),
    );
    ca.set("p", 1).await.unwrap();
    assert_eq!(cb.get("p").await.unwrap().as_deref(), Some(&1)); // now in B's L1 too
    ca.set("p", 2).await.unwrap();
    // B's L1 copy is invalidated through the backplane within the lag.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cb.get("p").await.unwrap().as_deref() != Some(&2) {
        assert!(
            std::time::Instant::now() < deadline,
            "B still reads the old value"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ca.clear().await.unwrap();
    drop((ca, cb));
    for s in [a, b] {
        let report = s.shutdown(Duration::from_secs(5)).await;
        assert!(report.connections_closed);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while alive_tasks() > before && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(alive_tasks(), before, "a task outlived shutdown");
}

#[cfg(all(feature = "tiered", feature = "governance"))]
#[tokio::test]
async fn governance_rules_place_namespaces_in_the_tiers_they_allow() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let config = Config::source()
        .toml_str(
            r#"
backend = "multi_tier"
[governance.rules.session]
tiers = "l1"
[governance.rules.curves]
tiers = "l2"
"#,
        )
        .env_vars([
            ("REDIS_URL", url.as_str()),
            ("STRATA_REDIS_PREFIX", prefix.as_str()),
        ])
        .load()
        .unwrap();
    let system = CacheSystem::start(config).await.unwrap();
    let sessions = system.cache::<String>("session").unwrap();
    let quotes = system.cache::<String>("curves").unwrap();
    sessions.set("s1", "ada".into()).await.unwrap();
    quotes.set("EURUSD", "1.08".into()).await.unwrap();
    // Node-local sessions never reach Redis; curves live there only.
    assert_eq!(
        raw(&url, &["EXISTS", &format!("{prefix}:session:s1")]).as_int(),
        Some(0)
    );
    assert_eq!(
        raw(&url, &["EXISTS", &format!("{prefix}:curves:EURUSD")]).as_int(),
        Some(1)
    );
    let before = system.tier_stats().unwrap();
    for _ in 0..3 {
        assert!(quotes.get("EURUSD").await.unwrap().is_some());
        assert!(sessions.get("s1").await.unwrap().is_some());
    }
    let after = system.tier_stats().unwrap();
    assert_eq!(
        after.promotions, before.promotions,
        "an L2-only value is never promoted"
    );
    raw(&url, &["DEL", &format!("{prefix}:curves:EURUSD")]);
    system.shutdown(Duration::from_secs(5)).await;
}
