//! The blocking wrapper with no runtime, inside a current_thread runtime and inside a
//! multi_thread runtime, on the in-memory store and on the shared Redis server. Each case
//! runs on its own thread and the test waits for it at most 60 s, so a deadlock fails the
//! test instead of hanging it.

mod common;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use strata::config::{Backend, Config};
use strata::{ErrorKind, HealthStatus, MemoryStore, RedisStore, StoreExt, TtlState};
use strata_compat::{BlockingCache, CacheNamespace, CompatOptions};
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::shared_redis_url;

/// Runs `f` on a new thread and fails if it does not finish within 60 s.
fn bounded(name: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: no answer within 60 s (deadlock?)"),
        // The case panicked: re-raise its panic with its message.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = handle.join() {
                std::panic::resume_unwind(p)
            }
        }
    }
}

fn memory_cache() -> BlockingCache {
    BlockingCache::new(
        || async { Ok(MemoryStore::new().into_shared()) },
        CompatOptions::new(),
    )
    .unwrap()
}

fn redis_cache(url: String) -> BlockingCache {
    let prefix = RunContext::new().prefix();
    // The store, and its connection, are built inside the wrapper's own runtime.
    BlockingCache::new(
        move || async move {
            let store = RedisStore::builder()
                .url(url)
                .prefix(prefix)
                .connect()
                .await?;
            Ok(store.into_shared())
        },
        CompatOptions::new(),
    )
    .unwrap()
}

/// Every blocking call once.
fn exercise(cache: &BlockingCache) {
    assert_eq!(cache.namespace(), "general");
    assert_eq!(cache.get("k").unwrap(), None);
    assert!(
        cache
            .set("k", json!({"v": 1}), Some(Duration::from_secs(60)))
            .unwrap()
    );
    assert_eq!(cache.get("k").unwrap(), Some(json!({"v": 1})));
    assert!(cache.exists("k").unwrap());
    match cache.ttl("k").unwrap() {
        TtlState::Remaining(d) => {
            assert!(d <= Duration::from_secs(60) && d > Duration::from_secs(55))
        }
        other => panic!("{other:?}"),
    }
    assert!(cache.expire("k", Duration::from_secs(30)).unwrap());
    let items = BTreeMap::from([("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))]);
    assert!(cache.mset(items, None).unwrap());
    assert_eq!(cache.mget(&["a", "b", "c"]).unwrap().len(), 2);
    assert_eq!(cache.keys(Some("[ab]")).unwrap(), ["a", "b"]);
    assert_eq!(cache.increment("n", 5).unwrap(), 5);
    assert!(cache.delete("k").unwrap());
    assert_eq!(
        cache.get_stats().unwrap().cache_hits,
        3,
        "one get, two found by mget"
    );
    assert_eq!(cache.health_check().unwrap().status, HealthStatus::Healthy);
    assert_eq!(
        cache
            .set("z", json!(0), Some(Duration::ZERO))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(cache.clear().unwrap(), 3);
    // Many threads at once share the one runtime thread.
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                for i in 0..25 {
                    cache.increment("shared", 1).unwrap();
                    cache.set(&format!("t{t}-{i}"), json!(i), None).unwrap();
                }
            });
        }
    });
    assert_eq!(cache.get("shared").unwrap(), Some(json!(100)));
    cache.clear().unwrap();
}

#[test]
fn blocking_without_a_runtime() {
    bounded("memory", || exercise(&memory_cache()));
    if let Some(url) = shared_redis_url() {
        bounded("redis", move || exercise(&redis_cache(url)));
    }
}

#[test]
fn blocking_inside_a_current_thread_runtime() {
    let url = shared_redis_url();
    bounded("current_thread", move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            exercise(&memory_cache());
            if let Some(url) = url {
                exercise(&redis_cache(url));
            }
        });
    });
}

#[test]
fn blocking_inside_a_multi_thread_runtime() {
    let url = shared_redis_url();
    bounded("multi_thread", move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            // From a worker thread, and from a spawned task.
            exercise(&memory_cache());
            let task = tokio::spawn(async move {
                if let Some(url) = url {
                    exercise(&redis_cache(url));
                }
            });
            task.await.unwrap();
        });
    });
}

#[test]
fn a_store_that_cannot_be_built_is_an_error() {
    bounded("failing store", || {
        let err = BlockingCache::new(
            || async { Err(strata::Error::invalid_config("no such backend")) },
            CompatOptions::new(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        // A store that takes longer than the timeout to build.
        let err = BlockingCache::with_timeout(
            || async {
                // Longer than the 50 ms start-up timeout on purpose.
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok(MemoryStore::new().into_shared())
            },
            CompatOptions::new(),
            Duration::from_millis(50),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        insta::assert_snapshot!("blocking_start_timeout", err.to_string());
    });
}

#[test]
fn a_slow_call_times_out_and_a_panicking_one_is_an_error() {
    bounded("slow call", || {
        // The timeout covers start-up too: 300 ms leaves room for starting the runtime on a
        // machine busy with other test binaries (50 ms was once too short in CI).
        let cache = BlockingCache::with_timeout(
            || async { Ok(MemoryStore::new().into_shared()) },
            CompatOptions::new(),
            Duration::from_millis(300),
        )
        .unwrap();
        let err = cache
            .call("slow", |_| async {
                // Longer than the 300 ms call timeout on purpose.
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        insta::assert_snapshot!("blocking_call_timeout", err.to_string());
        // A roomy timeout for the panic: printing it (with RUST_BACKTRACE=1) can take longer
        // than 50 ms, which would be a timeout instead.
        let roomy = BlockingCache::with_timeout(
            || async { Ok(MemoryStore::new().into_shared()) },
            CompatOptions::new(),
            Duration::from_secs(10),
        )
        .unwrap();
        let err = roomy
            .call("boom", |_| async {
                if true {
                    panic!("a bug in the caller's closure");
                }
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
        insta::assert_snapshot!("blocking_call_panicked", err.to_string());
        // The wrappers keep working after both.
        assert!(cache.set("k", json!(1), None).unwrap());
        assert!(roomy.set("k", json!(1), None).unwrap());
        drop(cache);
        drop(roomy);
    });
}

#[test]
fn blocking_from_config_starts_its_own_system() {
    bounded("from_config", || {
        // BlockingCache::from_env() reads these from the process environment instead.
        let config = Config::source()
            .env_vars([("CACHE_BACKEND", "memory"), ("CACHE_SESSION_TTL", "120")])
            .load()
            .unwrap();
        let cache = BlockingCache::from_config(
            config,
            CompatOptions::new().namespace(CacheNamespace::Session),
        )
        .unwrap();
        assert!(cache.set("s", json!("ada"), None).unwrap());
        assert_eq!(cache.get("s").unwrap(), Some(json!("ada")));
        match cache.ttl("s").unwrap() {
            TtlState::Remaining(d) => assert!(
                d <= Duration::from_secs(120) && d > Duration::from_secs(110),
                "{d:?}"
            ),
            other => panic!("{other:?}"),
        }
        // The system is the wrapper's: its registry counts the calls.
        let sets = cache
            .call("stats", |c| async move { Ok(c.typed().counts().sets) })
            .unwrap();
        assert_eq!(sets, 1);
        // A bad variable is an error, and no thread is left behind.
        // Redis without an address: start validates and refuses.
        let bad = Config {
            backend: Backend::Redis,
            ..Config::default()
        };
        let err = BlockingCache::from_config(bad, CompatOptions::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
        drop(cache); // shuts the system down within its shutdown timeout
    });
}
