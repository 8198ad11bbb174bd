//! The global functions over the in-memory store: one test, because the process-wide cache
//! is initialized once per process (each test file is its own process).

use serde_json::{Value, json};
use strata::{ErrorKind, MemoryStore, StoreExt};
use strata_compat::{CompatOptions, global};

#[tokio::test]
async fn global_functions_before_and_after_init() {
    // Before init: a typed error naming the call, never a panic.
    assert!(!global::is_initialized());
    let err = global::cache_get("k", Value::Null).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("not_initialized", err.to_string());
    assert_eq!(
        global::cache_set("k", json!(1), None, &[])
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        global::cache_delete("k").await.unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        global::cache_clear().await.unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    assert!(global::get_unified_cache_manager().is_err());
    assert!(global::get_general_cache().is_err());
    assert!(global::get_registry_cache().is_err());

    let manager = global::init(MemoryStore::new().into_shared(), CompatOptions::new()).unwrap();
    assert!(global::is_initialized());
    let again = global::init(MemoryStore::new().into_shared(), CompatOptions::new()).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("already_initialized", again.to_string());

    strata_compat_global_calls::run(&manager).await;
}

/// The calls after init, shared with the Redis twin of this file.
#[path = "common/global_calls.rs"]
mod strata_compat_global_calls;
