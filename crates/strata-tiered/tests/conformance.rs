//! The conformance suite on `TieredStore`: memory over memory (manual clock), and memory over
//! Redis (the shared standalone server and the shared cluster), without and with coherence.

use std::sync::Arc;

use strata_core::{Invalidation, ManualClock, SharedClock, Store};
use strata_memory::MemoryStore;
use strata_redis::RedisStore;
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};
use strata_testkit::redis_server::{shared_cluster_urls, shared_redis_url};
use strata_tiered::{Coherence, TieredStore};

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
    /// The standalone server, with coherence (backplane, tracking, fenced fills).
    Coherent(String),
}

impl StoreFactory for Shared {
    type Store = TieredStore<MemoryStore, RedisStore>;

    async fn create(&self, run: &RunContext) -> Self::Store {
        let builder = match self {
            Shared::Standalone(url) | Shared::Coherent(url) => {
                RedisStore::builder().url(url.clone())
            }
            Shared::Cluster(urls) => RedisStore::builder().cluster(urls.clone()),
        };
        let l2 = builder
            .prefix(run.prefix())
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connecting to the shared test server: {e}"));
        if let Shared::Coherent(_) = self {
            let store = TieredStore::builder(MemoryStore::new(), l2.clone())
                .coherence(Coherence::over(&l2))
                .expect("coherence settings")
                .build();
            assert!(
                store
                    .wait_coherent(std::time::Duration::from_secs(10))
                    .await
            );
            return store;
        }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coherent_memory_over_redis_passes_the_conformance_suite() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let report = conformance::run(&Shared::Coherent(url)).await;
    println!("{report}");
    report.assert_ok();
    // The same cases run as without coherence.
    insta::assert_debug_snapshot!("memory_over_redis_skipped", report.skipped);
}
