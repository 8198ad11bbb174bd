//! The conformance suite through a `GovernanceLayer` over `MemoryStore`.
//!
//! The suite's namespaces are undeclared, so the fallback rule governs them; the factory's
//! policy gives that rule no default TTL (the suite requires that a value written without one
//! does not expire) and otherwise the built-in policy and its namespaces.

use std::sync::Arc;

use strata_core::{ManualClock, SharedClock, StoreExt};
use strata_governance::{GovernanceLayer, GovernedStore, Policy, TtlSpec, namespaces};
use strata_memory::MemoryStore;
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};

struct Governed {
    clock: Arc<ManualClock>,
}

impl StoreFactory for Governed {
    type Store = GovernedStore<MemoryStore>;

    async fn create(&self, _run: &RunContext) -> Self::Store {
        let policy = Policy::builder()
            .namespace(namespaces::GENERAL, TtlSpec::Never)
            .build()
            .expect("a valid policy");
        let memory = MemoryStore::builder()
            .clock(self.clock.clone() as SharedClock)
            .build()
            .expect("a memory store");
        memory.layer(GovernanceLayer::new(policy).expect("a valid layer"))
    }

    fn time(&self) -> TimeControl {
        TimeControl::Manual(self.clock.clone())
    }
}

#[tokio::test]
async fn governance_over_memory_passes_the_conformance_suite() {
    let report = conformance::run(&Governed {
        clock: Arc::new(ManualClock::new()),
    })
    .await;
    println!("{report}");
    report.assert_ok();
    insta::assert_debug_snapshot!("governance_skipped", report.skipped);
}
