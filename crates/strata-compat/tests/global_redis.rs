//! The global functions over the shared Redis server (one test: the process-wide cache is
//! initialized once per process).

mod common;

use strata::ErrorKind;
use strata_compat::{CompatOptions, global};

#[tokio::test]
async fn global_functions_over_redis() {
    let Some(b) = common::redis().await else {
        return;
    };
    assert_eq!(
        global::cache_clear().await.unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    #[allow(deprecated)]
    let manager =
        strata_compat::initialize_cache_manager(b.store.clone(), CompatOptions::new()).unwrap();
    assert_eq!(
        global::init_with(manager.clone()).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    calls::run(&manager).await;
    b.cleanup().await;
}

#[path = "common/global_calls.rs"]
mod calls;
