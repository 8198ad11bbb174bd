//! The conformance suite (`strata_testkit::conformance`) on `MemoryStore`: directly, and
//! through a fault layer with no faults configured (every layer runs the suite over memory).

use std::sync::Arc;

use strata_core::{ManualClock, SharedClock, StoreExt};
use strata_memory::{EvictionPolicy, MemoryStore};
use strata_testkit::conformance::{self, RunContext, StoreFactory, TimeControl};
use strata_testkit::fault::{FaultLayer, FaultStore};

/// Fresh memory stores reading one manual clock, so TTL cases advance it instead of sleeping.
struct Memory {
    clock: Arc<ManualClock>,
    policy: EvictionPolicy,
}

impl Memory {
    fn new() -> Self {
        Self::with_policy(EvictionPolicy::default())
    }

    fn with_policy(policy: EvictionPolicy) -> Self {
        Memory {
            clock: Arc::new(ManualClock::new()),
            policy,
        }
    }

    fn store(&self) -> MemoryStore {
        MemoryStore::builder()
            .clock(self.clock.clone() as SharedClock)
            .eviction_policy(self.policy)
            .build()
            .expect("a memory store with default limits and a manual clock")
    }
}

impl StoreFactory for Memory {
    type Store = MemoryStore;

    async fn create(&self, _run: &RunContext) -> MemoryStore {
        self.store()
    }

    fn time(&self) -> TimeControl {
        TimeControl::Manual(self.clock.clone())
    }
}

/// The same stores behind a transparent `FaultLayer`.
struct LayeredMemory(Memory);

impl StoreFactory for LayeredMemory {
    type Store = FaultStore<MemoryStore>;

    async fn create(&self, _run: &RunContext) -> FaultStore<MemoryStore> {
        self.0.store().layer(FaultLayer::new())
    }

    fn time(&self) -> TimeControl {
        self.0.time()
    }
}

#[tokio::test]
async fn memory_store_passes_the_conformance_suite() {
    let report = conformance::run(&Memory::new()).await;
    println!("{report}");
    report.assert_ok();
    // The memory store declares every capability, so no case is skipped.
    insta::assert_debug_snapshot!("memory_skipped", report.skipped);
}

#[tokio::test]
async fn memory_store_behind_a_pass_through_layer_passes_the_conformance_suite() {
    let direct = conformance::run(&Memory::new()).await;
    let layered = conformance::run(&LayeredMemory(Memory::new())).await;
    println!("{layered}");
    layered.assert_ok();
    assert_eq!(layered.skipped, direct.skipped);
    assert_eq!(layered.passed, direct.passed);
}

#[tokio::test]
async fn every_eviction_policy_passes_the_conformance_suite() {
    for policy in [
        EvictionPolicy::Adaptive,
        EvictionPolicy::Lru,
        EvictionPolicy::TtlSoonest,
        EvictionPolicy::Random,
    ] {
        let report = conformance::run(&Memory::with_policy(policy)).await;
        assert!(report.failed.is_empty(), "{policy}: {report}");
        assert!(report.skipped.is_empty(), "{policy}: {report}");
    }
}
