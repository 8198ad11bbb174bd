//! The conformance suite through an `AnalyticsLayer` over `MemoryStore`, and through the
//! governance and analytics layers stacked as the umbrella will stack them.

use std::sync::Arc;

use strata_analytics::{AnalyticsLayer, AnalyticsStore};
use strata_core::{ManualClock, SharedClock, StoreExt};
use strata_governance::{GovernanceLayer, GovernedStore, Policy, TtlSpec, namespaces};
use strata_memory::MemoryStore;
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};

struct Analysed {
    clock: Arc<ManualClock>,
}

impl Analysed {
    fn memory(&self) -> MemoryStore {
        MemoryStore::builder()
            .clock(self.clock.clone() as SharedClock)
            .build()
            .expect("a memory store")
    }

    fn analytics(&self) -> AnalyticsLayer {
        AnalyticsLayer::builder()
            .clock(self.clock.clone() as SharedClock)
            .sample_every(1)
            .build()
            .expect("valid analytics")
    }
}

impl StoreFactory for Analysed {
    type Store = AnalyticsStore<MemoryStore>;

    async fn create(&self, _run: &RunContext) -> Self::Store {
        self.memory().layer(self.analytics())
    }

    fn time(&self) -> TimeControl {
        TimeControl::Manual(self.clock.clone())
    }
}

struct Stacked(Analysed);

impl StoreFactory for Stacked {
    type Store = GovernedStore<AnalyticsStore<MemoryStore>>;

    async fn create(&self, _run: &RunContext) -> Self::Store {
        let policy = Policy::builder()
            .namespace(namespaces::GENERAL, TtlSpec::Never)
            .build()
            .expect("a valid policy");
        self.0
            .memory()
            .layer(self.0.analytics())
            .layer(GovernanceLayer::new(policy).expect("a valid layer"))
    }

    fn time(&self) -> TimeControl {
        self.0.time()
    }
}

#[tokio::test]
async fn analytics_over_memory_passes_the_conformance_suite() {
    let report = conformance::run(&Analysed {
        clock: Arc::new(ManualClock::new()),
    })
    .await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("analytics_skipped", report.skipped);
}

#[tokio::test]
async fn governance_over_analytics_over_memory_passes_the_conformance_suite() {
    let report = conformance::run(&Stacked(Analysed {
        clock: Arc::new(ManualClock::new()),
    }))
    .await;
    println!("{report}");
    report.assert_ok();
    assert!(report.skipped.is_empty(), "{report}");
}
