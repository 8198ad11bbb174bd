//! The invalidation event log, `explain` enrichment, and the counters' snapshot.

use std::sync::Arc;
use std::time::Duration;

use strata_analytics::{AnalyticsLayer, Tier};
use strata_core::{
    Bytes, Invalidation, InvalidationReason, Key, ManualClock, Namespace, Pattern, SetOptions,
    SharedClock, Store, StoreExt, Tag,
};
use strata_memory::MemoryStore;

fn setup(capacity: usize) -> (Arc<ManualClock>, AnalyticsLayer, impl Store) {
    let clock = Arc::new(ManualClock::new());
    let layer = AnalyticsLayer::builder()
        .clock(clock.clone() as SharedClock)
        .event_capacity(capacity)
        .build()
        .unwrap();
    let store = MemoryStore::builder()
        .clock(clock.clone() as SharedClock)
        .build()
        .unwrap()
        .layer(layer.clone());
    (clock, layer, store)
}

#[tokio::test]
async fn the_ring_keeps_the_newest_events_and_filters_by_time() {
    let (clock, layer, store) = setup(3);
    let ns = Namespace::new("curves").unwrap();
    let t0 = clock.now_ts();
    for i in 0..5u64 {
        let key = Key::new(&ns, &i.to_string()).unwrap();
        store
            .set(&key, Bytes::from_static(b"1"), SetOptions::new())
            .await
            .unwrap();
        store
            .invalidate(
                &Invalidation::key(key)
                    .reason(InvalidationReason::DataChanged)
                    .triggered_by(format!("job-{i}")),
            )
            .await
            .unwrap();
        clock.advance(Duration::from_secs(10));
    }
    let all = layer.invalidation_events(t0);
    let who: Vec<_> = all
        .iter()
        .map(|e| e.triggered_by.clone().unwrap())
        .collect();
    assert_eq!(who, ["job-2", "job-3", "job-4"], "the oldest go first");
    assert!(all.iter().all(|e| e.count == 1 && e.tier == Tier::Overall));
    let recent = layer.invalidation_events(t0.plus(Duration::from_secs(35)));
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].selector, "key curves:4");
    let s = layer.snapshot();
    assert_eq!((s.invalidations, s.invalidated_entries), (5, 5));
    insta::assert_json_snapshot!("events", all);
}

#[tokio::test]
async fn explain_reports_the_last_invalidation_that_selected_the_key() {
    let (clock, _layer, store) = setup(16);
    let ns = Namespace::new("curves").unwrap();
    let key = Key::new(&ns, "CAISO:RT").unwrap();
    let tag = Tag::new("iso:caiso").unwrap();
    let opts = || {
        SetOptions::new()
            .ttl(Duration::from_secs(300))
            .tag(Tag::new("iso:caiso").unwrap())
    };
    store
        .set(&key, Bytes::from_static(b"42.1"), opts())
        .await
        .unwrap();
    store.get(&key).await.unwrap();
    clock.advance(Duration::from_secs(5));
    store
        .invalidate(&Invalidation::tag(tag.clone()).triggered_by("curve-loader"))
        .await
        .unwrap();
    // An unrelated invalidation after it does not count.
    store
        .invalidate(&Invalidation::pattern(
            Namespace::new("other").unwrap(),
            Pattern::new("*").unwrap(),
        ))
        .await
        .unwrap();
    let gone = store.explain(&key).await.unwrap();
    assert!(!gone.is_present());
    // Tags of an absent value are unknown, so only selectors by key, pattern or namespace
    // can be matched; write it again and the tag invalidation is found.
    assert!(gone.last_invalidation.is_none());
    clock.advance(Duration::from_secs(5));
    store
        .set(&key, Bytes::from_static(b"42.2"), opts())
        .await
        .unwrap();
    let back = store.explain(&key).await.unwrap();
    insta::assert_json_snapshot!("explain_after_invalidation", back);
    let last = back.last_invalidation.as_ref().unwrap();
    assert_eq!(last.triggered_by.as_deref(), Some("curve-loader"));
    assert_eq!(last.selector, "tags [iso:caiso]");
}

#[tokio::test]
async fn the_snapshot_counts_by_namespace() {
    let (_clock, layer, store) = setup(16);
    let users = Namespace::new("users").unwrap();
    let orders = Namespace::new("orders").unwrap();
    let k = |ns: &Namespace, id: &str| Key::new(ns, id).unwrap();
    store
        .set(
            &k(&users, "1"),
            Bytes::from_static(b"abc"),
            SetOptions::new(),
        )
        .await
        .unwrap();
    store
        .set_many(
            vec![
                (k(&orders, "1"), Bytes::from_static(b"12345")),
                (k(&orders, "2"), Bytes::from_static(b"6789")),
            ],
            SetOptions::new(),
        )
        .await
        .unwrap();
    store
        .get_many(&[k(&orders, "1"), k(&orders, "2"), k(&orders, "3")])
        .await
        .unwrap();
    store.get(&k(&users, "1")).await.unwrap();
    store.get(&k(&users, "2")).await.unwrap();
    store.increment(&k(&users, "n"), 2).await.unwrap();
    store.delete(&k(&users, "1")).await.unwrap();
    let err = store
        .set(
            &k(&users, "bad"),
            Bytes::new(),
            SetOptions::new().ttl(Duration::ZERO),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), strata_core::ErrorKind::InvalidArgument);
    // Only the counts: latency figures depend on the machine.
    let snapshot = layer.snapshot();
    assert!(
        !snapshot.tiers[&Tier::Overall].latency.is_empty(),
        "some operation was timed"
    );
    let overall = &snapshot.tiers[&Tier::Overall];
    assert_eq!(overall.namespaces["orders"].hits, 2);
    assert_eq!(overall.namespaces["orders"].misses, 1);
    assert_eq!(overall.namespaces["users"].errors["invalid_argument"], 1);
    insta::assert_json_snapshot!("snapshot", overall.namespaces);
}

trait NowTs {
    fn now_ts(&self) -> strata_core::Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> strata_core::Timestamp {
        strata_core::Clock::now(self)
    }
}

trait Plus {
    fn plus(self, d: Duration) -> Self;
}

impl Plus for strata_core::Timestamp {
    fn plus(self, d: Duration) -> Self {
        self.saturating_add(d)
    }
}
