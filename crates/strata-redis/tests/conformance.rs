//! The conformance suite (`strata_testkit::conformance`) on `RedisStore`, against the real
//! standalone server and the real 3-master cluster that `cargo xtask test` starts.

use strata_core::{Invalidation, Store};
use strata_redis::RedisStore;
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};
use strata_testkit::redis_server::{shared_cluster_urls, shared_redis_url};

/// Stores on one shared server (or cluster), each case under its own key prefix.
enum Shared {
    Standalone(String),
    Cluster(Vec<String>),
}

impl StoreFactory for Shared {
    type Store = RedisStore;

    async fn create(&self, run: &RunContext) -> RedisStore {
        let builder = match self {
            Shared::Standalone(url) => RedisStore::builder().url(url.clone()),
            Shared::Cluster(urls) => RedisStore::builder().cluster(urls.clone()),
        };
        builder
            .prefix(run.prefix())
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connecting to the shared test server: {e}"))
    }

    fn time(&self) -> TimeControl {
        TimeControl::Real
    }

    async fn cleanup(&self, store: RedisStore, _run: &RunContext) {
        // Everything under the case's prefix (values and tag sets).
        let _ = store.invalidate(&Invalidation::all()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_standalone_passes_the_conformance_suite() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let report = conformance::run(&Shared::Standalone(url)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("standalone_skipped", report.skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_passes_the_conformance_suite() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    let report = conformance::run(&Shared::Cluster(urls)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("cluster_skipped", report.skipped);
}
