//! Hot reload: a new policy applies to new operations, operations in flight are never
//! dropped, and a bad reload keeps the policy in force.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use strata_core::{
    Bytes, ErrorKind, Key, ManualClock, Namespace, SetOptions, SharedClock, Store, StoreExt,
    TtlState,
};
use strata_governance::{GovernanceLayer, Mode, Policy, PolicySource, RuleSpec, namespaces};
use strata_memory::MemoryStore;

fn ceiling(secs: u64, mode: Mode) -> Policy {
    Policy::builder()
        .rule(
            namespaces::CURVES,
            RuleSpec::new()
                .ceiling(Duration::from_secs(secs))
                .mode(mode),
        )
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_drops_no_operation() {
    let layer = GovernanceLayer::new(ceiling(3600, Mode::Reject)).unwrap();
    let store = Arc::new(
        MemoryStore::builder()
            .clock(Arc::new(ManualClock::new()) as SharedClock)
            .build()
            .unwrap()
            .layer(layer.clone()),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let ns = Namespace::new(namespaces::CURVES).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let key = Key::new(&ns, &format!("{w}-{}", i % 100)).unwrap();
                    // 30 min: allowed by every policy the reloader installs.
                    let opts = SetOptions::new().ttl(Duration::from_secs(1800));
                    store
                        .set(&key, Bytes::from_static(b"1"), opts)
                        .await
                        .expect("no write is refused or lost across reloads");
                    store.get(&key).await.expect("reads keep working");
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                    if i.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    // Reload only while the writers are writing: wait for them to start, and between
    // reloads wait for more writes to land.
    let wait_for = |n: u64| {
        let done = done.clone();
        async move {
            while done.load(Ordering::Relaxed) < n {
                tokio::task::yield_now().await;
            }
        }
    };
    wait_for(200).await;
    let mut version = layer.version();
    for round in 0..200 {
        let secs = if round % 2 == 0 { 7200 } else { 3600 };
        version = layer.replace_policy(ceiling(secs, Mode::Reject)).unwrap();
        let seen = done.load(Ordering::Relaxed);
        wait_for(seen + 5).await;
    }
    // Let the writers run past the last reload before stopping them.
    let seen = done.load(Ordering::Relaxed);
    wait_for(seen + 100).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("no writer panicked");
    }
    assert_eq!(version, 201);
    let report = layer.report();
    assert_eq!(report.rejections, 0);
    assert_eq!(report.policy_version, 201);

    // The last policy applies to new writes: tighten it and a 30-minute TTL is refused.
    layer.replace_policy(ceiling(600, Mode::Reject)).unwrap();
    let key = Key::new(&ns, "after").unwrap();
    let err = store
        .set(
            &key,
            Bytes::from_static(b"1"),
            SetOptions::new().ttl(Duration::from_secs(1800)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
}

#[tokio::test]
async fn reload_reads_the_source_again_and_keeps_the_policy_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, "[rules.curves]\nceiling = \"10m\"\n").unwrap();
    let layer = GovernanceLayer::from_source(PolicySource::new().toml_file(&path)).unwrap();
    let store = MemoryStore::builder()
        .clock(Arc::new(ManualClock::new()) as SharedClock)
        .build()
        .unwrap()
        .layer(layer.clone());
    let key = Key::new(&Namespace::new(namespaces::CURVES).unwrap(), "k").unwrap();
    let long = || SetOptions::new().ttl(Duration::from_secs(3600));
    store
        .set(&key, Bytes::from_static(b"1"), long())
        .await
        .unwrap();
    assert_eq!(
        store.ttl(&key).await.unwrap(),
        TtlState::Remaining(Duration::from_secs(600))
    );

    std::fs::write(&path, "[rules.curves]\nceiling = \"20m\"\n").unwrap();
    assert_eq!(layer.reload().unwrap(), 2);
    store
        .set(&key, Bytes::from_static(b"1"), long())
        .await
        .unwrap();
    assert_eq!(
        store.ttl(&key).await.unwrap(),
        TtlState::Remaining(Duration::from_secs(1200))
    );

    std::fs::write(&path, "[rules.curves]\nceiling = \"1m\"\nfloor = \"1h\"\n").unwrap();
    let err = layer.reload().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert_eq!(layer.version(), 2, "the bad policy was not installed");
    assert_eq!(layer.report().reload_failures, 1);
    store
        .set(&key, Bytes::from_static(b"1"), long())
        .await
        .unwrap();
    assert_eq!(
        store.ttl(&key).await.unwrap(),
        TtlState::Remaining(Duration::from_secs(1200)),
        "the previous policy is still in force"
    );

    let from_code = GovernanceLayer::built_in();
    assert_eq!(
        from_code.reload().unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
}

#[test]
fn replace_source_swaps_policy_and_source_or_changes_nothing() {
    let layer = GovernanceLayer::from_source(PolicySource::new()).unwrap();
    let curves = Namespace::new(namespaces::CURVES).unwrap();
    assert_eq!(layer.rule(&curves).ceiling, None);

    // A bad source: every problem listed, neither the policy nor the source changes.
    let bad =
        PolicySource::new().toml_str("mode = \"sometimes\"\n[rules.curves]\nceiling = \"soon\"\n");
    let err = layer.replace_source(bad).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let text = err.to_string();
    assert!(text.contains("mode"), "{text}");
    assert!(text.contains("rules.curves.ceiling"), "{text}");
    assert_eq!(layer.version(), 1);
    assert_eq!(layer.report().reload_failures, 1);
    assert!(
        layer
            .source()
            .unwrap()
            .load()
            .unwrap()
            .rules()
            .get("curves")
            .is_none_or(|r| r.ceiling.is_none())
    );

    // A good source: swapped in, and later reloads load it.
    let good = PolicySource::new().toml_str("[rules.curves]\nceiling = \"1h\"\n");
    assert_eq!(layer.replace_source(good).unwrap(), 2);
    assert_eq!(layer.rule(&curves).ceiling, Some(Duration::from_secs(3600)));
    assert_eq!(layer.reload().unwrap(), 3);
    assert_eq!(layer.rule(&curves).ceiling, Some(Duration::from_secs(3600)));
}
