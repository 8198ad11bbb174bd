//! The global functions over a cache system started from configuration
//! (`global::init_from_env` reads the process environment; `init_from_config` takes the
//! same variables as a list, so this test leaves the environment alone). One test: the
//! process-wide cache is initialized once per process.

use std::time::Duration;

use serde_json::{Value, json};
use strata::ErrorKind;
use strata::config::Config;
use strata_compat::global;

fn config() -> Config {
    Config::source()
        .env_vars([("CACHE_BACKEND", "memory"), ("CACHE_TOOL_TTL", "120")])
        .load()
        .expect("config")
}

#[tokio::test]
async fn global_init_from_config_keeps_the_system_and_shuts_it_down() {
    // Before init: shutdown is an error like every other call.
    assert_eq!(
        global::shutdown(Duration::from_secs(1))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );

    let manager = global::init_from_config(config()).await.unwrap();
    let system = manager
        .system()
        .expect("the global keeps its system")
        .clone();
    assert_eq!(system.backend(), "memory");
    // A second init starts nothing and changes nothing.
    let again = global::init_from_config(config()).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidConfig);

    // TTLs come from the configuration (CACHE_TOOL_TTL), through the system's registry.
    assert_eq!(
        global::get_tool_cache().unwrap().default_ttl(),
        Some(Duration::from_secs(120))
    );
    global::cache_set("k", json!(1), None, &[]).await.unwrap();
    assert_eq!(global::cache_get("k", Value::Null).await.unwrap(), json!(1));
    assert_eq!(system.stats_all().caches["general"].counts.sets, 1);
    assert!(global::cache_delete("k").await.unwrap());

    // The calls every global test runs.
    calls::run(&manager).await;

    let report = global::shutdown(Duration::from_secs(5)).await.unwrap();
    assert!(report.connections_closed, "{report:?}");
    assert_eq!(report.tasks_aborted, 0);
    // Shut down: a clear error, never a hang; a second shutdown does nothing.
    let err = global::cache_get("k", Value::Null).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let second = global::shutdown(Duration::from_secs(1)).await.unwrap();
    assert!(!second.connections_closed);
}

#[path = "common/global_calls.rs"]
mod calls;
