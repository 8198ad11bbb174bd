//! The conformance suite (`strata_testkit::conformance`) on `RedisStore`, against the real
//! standalone server and the real 3-master cluster that `cargo xtask test` starts, on the
//! redis-rs client and (feature `fred`) on fred.

use strata_core::{Invalidation, Store};
use strata_redis::{Client, RedisStore};
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};
use strata_testkit::redis_server::{shared_cluster_urls, shared_redis_url};

/// Where the shared data lives.
enum Topology {
    Standalone(String),
    Cluster(Vec<String>),
}

/// Stores on one shared server (or cluster) through one client library, each case under its
/// own key prefix.
struct Shared {
    topology: Topology,
    client: Client,
}

impl Shared {
    fn standalone(url: String, client: Client) -> Shared {
        Shared {
            topology: Topology::Standalone(url),
            client,
        }
    }

    fn cluster(urls: Vec<String>, client: Client) -> Shared {
        Shared {
            topology: Topology::Cluster(urls),
            client,
        }
    }
}

impl StoreFactory for Shared {
    type Store = RedisStore;

    async fn create(&self, run: &RunContext) -> RedisStore {
        let builder = match &self.topology {
            Topology::Standalone(url) => RedisStore::builder().url(url.clone()),
            Topology::Cluster(urls) => RedisStore::builder().cluster(urls.clone()),
        };
        builder
            .client(self.client)
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
    let report = conformance::run(&Shared::standalone(url, Client::RedisRs)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("standalone_skipped", report.skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_passes_the_conformance_suite() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    let report = conformance::run(&Shared::cluster(urls, Client::RedisRs)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("cluster_skipped", report.skipped);
}

#[cfg(feature = "fred")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fred_standalone_passes_the_conformance_suite() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let report = conformance::run(&Shared::standalone(url, Client::Fred)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("fred_standalone_skipped", report.skipped);
}

#[cfg(feature = "fred")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fred_cluster_passes_the_conformance_suite() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    let report = conformance::run(&Shared::cluster(urls, Client::Fred)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("fred_cluster_skipped", report.skipped);
}
