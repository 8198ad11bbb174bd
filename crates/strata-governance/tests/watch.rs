//! The policy file watcher (feature `watch`).
#![cfg(feature = "watch")]

use std::time::{Duration, Instant};

use strata_core::Namespace;
use strata_governance::{GovernanceLayer, PolicySource, PolicyWatcher, namespaces};

#[test]
fn editing_the_file_reloads_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, "[rules.curves]\nceiling = \"10m\"\n").unwrap();
    let layer = GovernanceLayer::from_source(PolicySource::new().toml_file(&path)).unwrap();
    let watcher = PolicyWatcher::start(&layer).unwrap();
    assert!(watcher.path().ends_with("policy.toml"));

    std::fs::write(&path, "[rules.curves]\nceiling = \"20m\"\n").unwrap();
    let curves = Namespace::new(namespaces::CURVES).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while layer.rule(&curves).ceiling != Some(Duration::from_secs(1200)) {
        assert!(
            Instant::now() < deadline,
            "the watcher did not reload within 10 s"
        );
        // File events arrive asynchronously from the OS; poll for them.
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(layer.version() >= 2);

    let no_file = GovernanceLayer::built_in();
    assert!(PolicyWatcher::start(&no_file).is_err());
}
