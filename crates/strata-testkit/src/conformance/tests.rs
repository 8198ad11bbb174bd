//! The suite's own tests, against the reference store.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_core::{Capabilities, ManualClock, SharedClock, StoreExt, SystemClock};

use super::reference::{Bug, MapStore};
use super::*;
use crate::fault::{FaultLayer, FaultStore};

struct MapFactory {
    clock: Arc<ManualClock>,
    caps: Capabilities,
    bug: Bug,
    created: AtomicUsize,
}

impl MapFactory {
    fn new() -> Self {
        MapFactory {
            clock: Arc::new(ManualClock::new()),
            caps: Capabilities::all(),
            bug: Bug::None,
            created: AtomicUsize::new(0),
        }
    }
}

impl StoreFactory for MapFactory {
    type Store = MapStore;

    async fn create(&self, _run: &RunContext) -> MapStore {
        self.created.fetch_add(1, Ordering::SeqCst);
        MapStore::new(self.clock.clone())
            .with_capabilities(self.caps)
            .with_bug(self.bug)
    }

    fn time(&self) -> TimeControl {
        TimeControl::Manual(self.clock.clone())
    }
}

fn case_count() -> usize {
    all_cases::<MapStore>().len()
}

#[test]
fn case_names_are_unique_and_plentiful() {
    let cases = all_cases::<MapStore>();
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "duplicate case names");
    assert!(cases.len() >= 70, "{} cases", cases.len());
}

#[tokio::test]
async fn reference_store_passes_every_case() {
    let factory = MapFactory::new();
    let report = run(&factory).await;
    report.assert_ok();
    assert_eq!(report.skipped, Vec::<String>::new());
    assert_eq!(report.passed.len(), case_count());
    // A fresh store per case, plus the capabilities probe.
    assert_eq!(factory.created.load(Ordering::SeqCst), case_count() + 1);
}

#[tokio::test]
async fn missing_capabilities_skip_their_cases_with_the_reason() {
    let factory = MapFactory {
        caps: Capabilities::empty(),
        ..MapFactory::new()
    };
    let report = run(&factory).await;
    report.assert_ok();
    assert!(
        report
            .skipped
            .contains(&"exists_tracks_presence (needs TTL)".to_owned())
    );
    assert!(
        report
            .skipped
            .contains(&"set_if_present_applies_new_ttl (needs TTL | CONDITIONAL_SET)".to_owned()),
        "{:?}",
        report.skipped
    );
    assert!(report.passed.contains(&"get_missing_is_none"));
    // The case checking Unsupported errors ran, and had something to check.
    assert!(report.passed.contains(&"unsupported_operations_say_so"));
    assert_eq!(report.passed.len() + report.skipped.len(), case_count());
    assert!(report.skipped.len() > report.passed.len());
}

#[tokio::test]
async fn every_single_capability_is_gated_correctly() {
    // With one capability missing, only the cases needing it are skipped and the rest pass:
    // no case uses a capability it does not declare.
    for (name, cap) in Capabilities::all().iter_names() {
        let factory = MapFactory {
            caps: Capabilities::all().difference(cap),
            ..MapFactory::new()
        };
        let report = run(&factory).await;
        assert!(report.failed.is_empty(), "without {name}: {report}");
        for skipped in &report.skipped {
            assert!(skipped.contains(name), "without {name}, skipped {skipped}");
        }
    }
}

#[tokio::test]
async fn a_declared_capability_that_does_not_work_fails() {
    let factory = MapFactory {
        bug: Bug::IncrementUnsupported,
        ..MapFactory::new()
    };
    let report = run_filtered(&factory, "increment").await;
    assert!(report.passed.is_empty(), "{report}");
    let increment_cases = all_cases::<MapStore>()
        .iter()
        .filter(|c| c.name.contains("increment"))
        .count();
    assert_eq!(report.failed.len(), increment_cases, "{report}");
    let (_, message) = &report.failed[0];
    assert!(
        message.contains("unexpected error: unsupported: this store does not support `increment`"),
        "{message}"
    );
}

#[tokio::test]
async fn panics_are_caught_per_case_and_reported() {
    let factory = MapFactory {
        bug: Bug::PanicOnGet,
        ..MapFactory::new()
    };
    let report = run(&factory).await;
    let failed: BTreeSet<&str> = report.failed.iter().map(|(n, _)| *n).collect();
    assert!(failed.contains("get_missing_is_none"), "{report}");
    let (_, message) = report
        .failed
        .iter()
        .find(|(n, _)| *n == "get_missing_is_none")
        .unwrap();
    assert_eq!(message, "panicked: planted bug: get panics");
    // Cases that never call get still pass, so one bug does not hide the others.
    assert!(report.passed.contains(&"malformed_patterns_are_rejected"));
    assert!(report.passed.contains(&"get_many_of_nothing_is_empty"));
    assert!(
        report
            .passed
            .contains(&"scan_star_lists_the_namespace_only")
    );
    let panic = std::panic::catch_unwind(|| report.assert_ok()).unwrap_err();
    let text = panic_message(&*panic);
    assert!(
        text.contains("FAILED get_missing_is_none: panicked"),
        "{text}"
    );
}

#[tokio::test]
async fn failures_name_the_check_and_where_it_is() {
    struct Down;
    impl StoreFactory for Down {
        type Store = FaultStore<MapStore>;
        async fn create(&self, _run: &RunContext) -> Self::Store {
            MapStore::new(Arc::new(ManualClock::new())).layer(FaultLayer::new().down())
        }
        fn time(&self) -> TimeControl {
            TimeControl::Real
        }
    }
    let report = run_filtered(&Down, "get_missing").await;
    assert_eq!(report.passed, Vec::<&str>::new());
    assert_eq!(report.failed.len(), 1, "{report}");
    let (name, message) = &report.failed[0];
    assert_eq!(*name, "get_missing_is_none");
    assert!(
        message.starts_with(
            "unexpected error: unavailable: fault injection: the store is down (operation: get"
        ),
        "{message}"
    );
    // The location is the `?` in the case that received the error.
    let source: Vec<&str> = include_str!("basic.rs").lines().collect();
    let start = source
        .iter()
        .position(|l| l.contains("async fn get_missing_is_none"))
        .unwrap();
    let line = start
        + source[start..]
            .iter()
            .position(|l| l.contains("cx.store().get(&key).await?"))
            .unwrap()
        + 1;
    let at = format!("(at conformance/basic.rs:{line})");
    assert!(message.ends_with(&at), "{message} does not end with {at}");
}

#[tokio::test]
async fn check_failures_show_both_sides() {
    let result = check_eq(1, 2, "numbers");
    let message = result.unwrap_err().message;
    assert!(
        message.starts_with("numbers: got 1, want 2 (at conformance/tests.rs:"),
        "{message}"
    );
}

#[tokio::test]
async fn run_filtered_runs_only_matching_cases() {
    let factory = MapFactory::new();
    let report = run_filtered(&factory, "scan_").await;
    report.assert_ok();
    assert!(report.passed.len() >= 8);
    assert!(report.passed.iter().all(|n| n.contains("scan_")));
    let none = run_filtered(&factory, "no-such-case").await;
    assert!(none.passed.is_empty() && none.failed.is_empty() && none.skipped.is_empty());
    assert!(std::panic::catch_unwind(|| none.assert_ok()).is_err());
}

#[tokio::test]
async fn a_panicking_factory_fails_every_case() {
    struct Broken;
    impl StoreFactory for Broken {
        type Store = MapStore;
        async fn create(&self, _run: &RunContext) -> MapStore {
            panic!("cannot connect");
        }
        fn time(&self) -> TimeControl {
            TimeControl::Real
        }
    }
    let report = run(&Broken).await;
    assert_eq!(report.failed.len(), case_count());
    assert_eq!(report.failed[0].1, "the factory panicked: cannot connect");
}

#[tokio::test]
async fn the_suite_passes_through_a_transparent_fault_layer() {
    struct Layered {
        clock: Arc<ManualClock>,
    }
    impl StoreFactory for Layered {
        type Store = FaultStore<MapStore>;
        async fn create(&self, _run: &RunContext) -> Self::Store {
            MapStore::new(self.clock.clone()).layer(FaultLayer::new())
        }
        fn time(&self) -> TimeControl {
            TimeControl::Manual(self.clock.clone())
        }
    }
    let report = run(&Layered {
        clock: Arc::new(ManualClock::new()),
    })
    .await;
    report.assert_ok();
    assert!(report.skipped.is_empty());
}

#[tokio::test]
async fn real_time_cases_pass_with_a_system_clock() {
    // The Redis path: TTL cases sleep instead of advancing a clock.
    struct Real;
    impl StoreFactory for Real {
        type Store = MapStore;
        async fn create(&self, _run: &RunContext) -> MapStore {
            let clock: SharedClock = Arc::new(SystemClock::new());
            MapStore::new(clock)
        }
        fn time(&self) -> TimeControl {
            TimeControl::Real
        }
    }
    let report = run(&Real).await;
    report.assert_ok();
    assert_eq!(report.passed.len(), case_count());
}

#[test]
fn run_context_names_are_unique_and_valid() {
    let a = RunContext::new();
    let c = RunContext::new();
    assert_ne!(a.token(), c.token());
    assert_eq!(a.token().len(), 8);
    assert!(a.token().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(a.ns("users").as_str(), format!("users-{}", a.token()));
    assert_eq!(a.tag("t").as_str(), format!("t-{}", a.token()));
    let prefix = a.prefix();
    assert!(prefix.starts_with("strata-test-"));
    assert!(
        prefix.bytes().all(strata_core::key::is_name_char),
        "{prefix}"
    );
    assert!(std::panic::catch_unwind(|| a.ns("a b")).is_err());
}
