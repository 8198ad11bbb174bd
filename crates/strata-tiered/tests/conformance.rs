//! The conformance suite on `TieredStore`: memory over memory (manual clock), and memory over
//! Redis (the shared standalone server and the shared cluster).

use std::sync::Arc;

use strata_core::{Invalidation, ManualClock, SharedClock, Store};
use strata_memory::MemoryStore;
use strata_redis::RedisStore;
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};
use strata_testkit::redis_server::{shared_cluster_urls, shared_redis_url};
use strata_tiered::TieredStore;

struct MemoryOverMemory {
    clock: Arc<ManualClock>,
}

impl MemoryOverMemory {
    fn memory(&self) -> MemoryStore {
        MemoryStore::builder()
            .clock(self.clock.clone() as SharedClock)
            .build()
            .expect("a memory store")
    }
}

impl StoreFactory for MemoryOverMemory {
    type Store = TieredStore<MemoryStore, MemoryStore>;

    async fn create(&self, _run: &RunContext) -> Self::Store {
        TieredStore::builder(self.memory(), self.memory())
            .clock(self.clock.clone())
            .build()
    }

    fn time(&self) -> TimeControl {
        TimeControl::Manual(self.clock.clone())
    }
}

enum Shared {
    Standalone(String),
    Cluster(Vec<String>),
}

impl StoreFactory for Shared {
    type Store = TieredStore<MemoryStore, RedisStore>;

    async fn create(&self, run: &RunContext) -> Self::Store {
        let builder = match self {
            Shared::Standalone(url) => RedisStore::builder().url(url.clone()),
            Shared::Cluster(urls) => RedisStore::builder().cluster(urls.clone()),
        };
        let l2 = builder
            .prefix(run.prefix())
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connecting to the shared test server: {e}"));
        TieredStore::builder(MemoryStore::new(), l2).build()
    }

    fn time(&self) -> TimeControl {
        TimeControl::Real
    }

    async fn cleanup(&self, store: Self::Store, _run: &RunContext) {
        let _ = store.l2().invalidate(&Invalidation::all()).await;
    }
}

#[tokio::test]
async fn memory_over_memory_passes_the_conformance_suite() {
    let report = conformance::run(&MemoryOverMemory {
        clock: Arc::new(ManualClock::new()),
    })
    .await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("memory_over_memory_skipped", report.skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_over_redis_passes_the_conformance_suite() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let report = conformance::run(&Shared::Standalone(url)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("memory_over_redis_skipped", report.skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_over_redis_cluster_passes_the_conformance_suite() {
    let Some(urls) = shared_cluster_urls() else {
        return;
    };
    let report = conformance::run(&Shared::Cluster(urls)).await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("memory_over_redis_cluster_skipped", report.skipped);
}
