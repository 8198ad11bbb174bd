//! Promotion strategies, remaining-TTL promotion, write-through and serving from L1 while L2
//! is down.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use strata_core::{
    ErrorKind, Key, Layer, ManualClock, Namespace, SetOptions, SetOutcome, SharedClock, Store,
    TtlState,
};
use strata_memory::MemoryStore;
use strata_redis::RedisStore;
use strata_testkit::conformance::RunContext;
use strata_testkit::fault::{FaultLayer, FaultStore};
use strata_testkit::redis_server::{command_at, shared_redis_url};
use strata_tiered::{Promotion, TieredStore};

fn key(ns: &str, id: &str) -> Key {
    Key::new(&Namespace::new(ns).unwrap(), id).unwrap()
}

fn memory(clock: &Arc<ManualClock>) -> MemoryStore {
    MemoryStore::builder()
        .clock(clock.clone() as SharedClock)
        .build()
        .unwrap()
}

fn tiers(
    clock: &Arc<ManualClock>,
    promotion: Promotion,
) -> (TieredStore<MemoryStore, MemoryStore>, MemoryStore) {
    let l2 = memory(clock);
    let tiered = TieredStore::builder(memory(clock), l2.clone())
        .promotion(promotion)
        .clock(clock.clone())
        .build();
    (tiered, l2)
}

async fn in_l1(t: &TieredStore<MemoryStore, MemoryStore>, k: &Key) -> bool {
    t.l1().get(k).await.unwrap().is_some()
}

#[tokio::test]
async fn an_l2_hit_is_promoted_with_the_life_it_has_left() {
    let clock = Arc::new(ManualClock::new());
    let (tiered, l2) = tiers(&clock, Promotion::Immediate);
    let k = key("p", "k");
    l2.set(
        &k,
        "v".into(),
        SetOptions::new().ttl(Duration::from_secs(60)),
    )
    .await
    .unwrap();
    clock.advance(Duration::from_secs(45));
    assert!(tiered.get(&k).await.unwrap().is_some());
    assert_eq!(
        tiered.l1().ttl(&k).await.unwrap(),
        TtlState::Remaining(Duration::from_secs(15)),
        "15 s left in L2, so 15 s in L1, not a fresh 60 s"
    );
    clock.advance(Duration::from_secs(15));
    assert!(
        tiered.get(&k).await.unwrap().is_none(),
        "both tiers expired together"
    );
}

#[tokio::test]
async fn redis_promotion_reads_the_ttl_from_the_server_not_the_envelope() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = RunContext::new().prefix();
    let l2 = RedisStore::builder()
        .url(url.clone())
        .prefix(prefix.clone())
        .connect()
        .await
        .unwrap();
    let tiered = TieredStore::builder(MemoryStore::new(), l2.clone()).build();
    let k = key("p", "k");
    l2.set(
        &k,
        "v".into(),
        SetOptions::new().ttl(Duration::from_secs(600)),
    )
    .await
    .unwrap();
    // Another client shortens the key's life behind the envelope's back.
    command_at(&url, &["PEXPIRE", &format!("{prefix}:p:k"), "3000"]).unwrap();
    assert!(tiered.get(&k).await.unwrap().is_some());
    match tiered.l1().ttl(&k).await.unwrap() {
        TtlState::Remaining(left) => assert!(
            left <= Duration::from_secs(3) && left > Duration::from_secs(2),
            "{left:?}"
        ),
        other => panic!("{other:?}"),
    }
    l2.delete(&k).await.unwrap();
}

#[tokio::test]
async fn a_promoted_copy_keeps_the_write_time_of_the_original() {
    let clock = Arc::new(ManualClock::new());
    let (tiered, l2) = tiers(&clock, Promotion::Immediate);
    let k = key("p", "aged");
    l2.set(&k, "v".into(), SetOptions::new()).await.unwrap();
    let written = l2.get(&k).await.unwrap().unwrap().meta().created_at;
    clock.advance(Duration::from_secs(30));
    let via_l2 = tiered.get(&k).await.unwrap().unwrap();
    assert!(in_l1(&tiered, &k).await, "promoted");
    let via_l1 = tiered.l1().get(&k).await.unwrap().unwrap();
    assert_eq!(
        via_l1.meta().created_at,
        written,
        "30 s old in L1 too, not new"
    );
    assert_eq!(via_l1, via_l2, "the same entry from either tier");
}

#[tokio::test]
async fn conditional_promotion_waits_for_the_nth_hit_within_the_window() {
    let clock = Arc::new(ManualClock::new());
    let p = Promotion::Conditional {
        hits: 3,
        window: Duration::from_secs(10),
    };
    let (tiered, l2) = tiers(&clock, p);
    let k = key("p", "k");
    l2.set(&k, "v".into(), SetOptions::new()).await.unwrap();
    for hit in 1..=2 {
        assert!(tiered.get(&k).await.unwrap().is_some());
        assert!(!in_l1(&tiered, &k).await, "not on L2 hit {hit} of 3");
        clock.advance(Duration::from_secs(4));
    }
    assert!(tiered.get(&k).await.unwrap().is_some());
    assert!(
        in_l1(&tiered, &k).await,
        "promoted on the third hit within 10 s"
    );
    let stats = tiered.tier_stats();
    assert_eq!((stats.promotions, stats.promotions_deferred), (1, 2));

    // Hits spread wider than the window never promote.
    let slow = key("p", "slow");
    l2.set(&slow, "v".into(), SetOptions::new()).await.unwrap();
    for _ in 0..6 {
        tiered.get(&slow).await.unwrap();
        clock.advance(Duration::from_secs(6));
    }
    assert!(!in_l1(&tiered, &slow).await);
}

#[tokio::test]
async fn lazy_promotion_marks_first_and_promotes_on_the_next_read() {
    let clock = Arc::new(ManualClock::new());
    let (tiered, l2) = tiers(&clock, Promotion::Lazy);
    let k = key("p", "k");
    l2.set(&k, "v".into(), SetOptions::new()).await.unwrap();
    tiered.get(&k).await.unwrap();
    assert!(!in_l1(&tiered, &k).await, "the first L2 hit only marks");
    clock.advance(Duration::from_secs(3_600));
    tiered.get(&k).await.unwrap();
    assert!(
        in_l1(&tiered, &k).await,
        "the next read promotes, however late"
    );
}

#[tokio::test]
async fn strategies_are_chosen_per_namespace() {
    let clock = Arc::new(ManualClock::new());
    let l2 = memory(&clock);
    let tiered = TieredStore::builder(memory(&clock), l2.clone())
        .promotion(Promotion::Never)
        .namespace_promotion(Namespace::new("hot").unwrap(), Promotion::Immediate)
        .clock(clock.clone())
        .build();
    let (hot, cold) = (key("hot", "k"), key("cold", "k"));
    for k in [&hot, &cold] {
        l2.set(k, "v".into(), SetOptions::new()).await.unwrap();
        tiered.get(k).await.unwrap();
    }
    assert!(in_l1(&tiered, &hot).await);
    assert!(!in_l1(&tiered, &cold).await);
    assert_eq!(
        tiered.promotion(&Namespace::new("cold").unwrap()),
        Promotion::Never
    );
}

#[tokio::test]
async fn writes_go_through_and_conditional_misses_clear_l1() {
    let clock = Arc::new(ManualClock::new());
    let (tiered, l2) = tiers(&clock, Promotion::Immediate);
    let k = key("w", "k");
    tiered
        .set(
            &k,
            "v1".into(),
            SetOptions::new().ttl(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert_eq!(
        l2.get(&k).await.unwrap().unwrap().value(),
        &Bytes::from("v1")
    );
    assert!(in_l1(&tiered, &k).await);
    // Another node overwrote L2; an NX write here fails and must not leave the old L1 copy.
    l2.set(&k, "other".into(), SetOptions::new()).await.unwrap();
    let outcome = tiered
        .set(&k, "v2".into(), SetOptions::new().only_if_absent())
        .await
        .unwrap();
    assert_eq!(outcome, SetOutcome::NotStored);
    assert!(!in_l1(&tiered, &k).await);
    assert_eq!(
        tiered.get(&k).await.unwrap().unwrap().value(),
        &Bytes::from("other")
    );
    // Counters live in L2 only.
    let c = key("w", "counter");
    assert_eq!(tiered.increment(&c, 2).await.unwrap(), 2);
    assert!(!in_l1(&tiered, &c).await);
}

#[tokio::test]
async fn while_l2_is_down_l1_keeps_serving_and_invalidations_still_apply_locally() {
    let clock = Arc::new(ManualClock::new());
    let faults = FaultLayer::new();
    let handle = faults.handle();
    let l2: FaultStore<MemoryStore> = faults.layer(memory(&clock));
    let tiered = TieredStore::builder(memory(&clock), l2)
        .clock(clock.clone())
        .build();
    let (a, b) = (key("d", "a"), key("d", "b"));
    for k in [&a, &b] {
        tiered.set(k, "v".into(), SetOptions::new()).await.unwrap();
    }
    handle.set_down(true);
    assert!(
        tiered.get(&a).await.unwrap().is_some(),
        "an L1 hit needs no L2"
    );
    let err = tiered.get(&key("d", "not-cached")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = tiered.delete(&b).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(
        tiered.l1().get(&b).await.unwrap().is_none(),
        "this node stopped serving the deleted value even though L2 failed"
    );
    assert!(tiered.tier_stats().l2_errors >= 2);
    assert_eq!(
        tiered.health().await.status,
        strata_core::HealthStatus::Degraded
    );
    handle.set_down(false);
    assert!(tiered.get(&b).await.unwrap().is_some(), "L2 still had it");
}

#[tokio::test]
async fn a_fallback_store_answers_while_l2_is_down() {
    use strata_core::StoreExt;
    let clock = Arc::new(ManualClock::new());
    let faults = FaultLayer::new();
    let handle = faults.handle();
    let l2: FaultStore<MemoryStore> = faults.layer(memory(&clock));
    let snapshot = memory(&clock);
    let k = key("f", "k");
    snapshot
        .set(&k, "from the snapshot".into(), SetOptions::new())
        .await
        .unwrap();
    let tiered = TieredStore::builder(memory(&clock), l2)
        .fallback(snapshot.into_shared())
        .clock(clock.clone())
        .build();
    handle.set_down(true);
    let hit = tiered.get(&k).await.unwrap().expect("the fallback answers");
    assert_eq!(hit.value(), &Bytes::from("from the snapshot"));
    assert!(
        tiered.l1().get(&k).await.unwrap().is_none(),
        "fallback answers are not promoted"
    );
    assert!(tiered.get(&key("f", "none")).await.unwrap().is_none());
    assert_eq!(tiered.tier_stats().fallback_reads, 2);
}

#[tokio::test]
async fn promotions_stop_under_l1_memory_pressure() {
    let clock = Arc::new(ManualClock::new());
    let l2 = memory(&clock);
    let tiered = TieredStore::builder(memory(&clock), l2.clone())
        .promotion_pressure(4_000, 0.5)
        .clock(clock.clone())
        .build();
    let big = Bytes::from(vec![b'x'; 600]);
    let mut promoted = 0;
    for i in 0..20 {
        let k = key("pressure", &format!("k{i}"));
        l2.set(&k, big.clone(), SetOptions::new()).await.unwrap();
        assert!(tiered.get(&k).await.unwrap().is_some(), "served either way");
        if in_l1(&tiered, &k).await {
            promoted += 1;
        }
    }
    let l1_bytes = tiered.l1().stats().bytes;
    assert!(promoted > 0 && promoted < 20, "{promoted} promoted");
    assert!(
        l1_bytes < 4_000 / 2 + 1_000,
        "L1 stopped near half its budget: {l1_bytes}"
    );
    assert_eq!(tiered.tier_stats().promotions_under_pressure, 20 - promoted);
}

#[tokio::test]
async fn predictive_promotes_a_key_only_once_it_beats_l1s_next_victim() {
    let clock = Arc::new(ManualClock::new());
    let l1 = MemoryStore::builder()
        .clock(clock.clone() as SharedClock)
        .max_entries(32)
        .shards(1)
        .build()
        .unwrap();
    let l2 = memory(&clock);
    let tiered = TieredStore::builder(l1.clone(), l2.clone())
        .promotion(Promotion::Predictive)
        .admission(l1.clone())
        .clock(clock.clone())
        .build();
    // L1 full of keys read often.
    for i in 0..32 {
        tiered
            .set(&key("hot", &i.to_string()), "h".into(), SetOptions::new())
            .await
            .unwrap();
    }
    for _ in 0..4 {
        for i in 0..32 {
            assert!(
                tiered
                    .get(&key("hot", &i.to_string()))
                    .await
                    .unwrap()
                    .is_some()
            );
        }
    }
    l1.run_pending_tasks();
    let cold = key("cold", "c");
    l2.set(&cold, "c".into(), SetOptions::new()).await.unwrap();
    // Read once from L2: served, not promoted (it would push out a hot key).
    assert!(tiered.get(&cold).await.unwrap().is_some());
    assert!(!in_l1(&tiered, &cold).await);
    assert_eq!(tiered.tier_stats().promotions_deferred, 1);
    // Read often enough, it earns its place.
    let mut reads = 1;
    while !in_l1(&tiered, &cold).await {
        assert!(reads < 16, "a key read {reads} times is still not promoted");
        assert!(tiered.get(&cold).await.unwrap().is_some());
        reads += 1;
    }
    assert!(reads > 2, "promoted after {reads} reads");
    // With room in L1, the first read promotes.
    let (roomy, l2) = tiers(&clock, Promotion::Predictive);
    let k = key("p", "k");
    l2.set(&k, "v".into(), SetOptions::new()).await.unwrap();
    assert!(roomy.get(&k).await.unwrap().is_some());
    assert!(in_l1(&roomy, &k).await);
}

/// `local` lives in L1 only, `shared` in L2 only, `cold` is promoted never.
struct Policy;

impl strata_tiered::PlacementPolicy for Policy {
    fn placement(&self, ns: &Namespace) -> strata_tiered::Placement {
        use strata_tiered::{Placement, Tiers};
        match ns.as_str() {
            "local" => Placement {
                tiers: Tiers::L1Only,
                promotion: None,
            },
            "shared" => Placement {
                tiers: Tiers::L2Only,
                promotion: None,
            },
            "cold" => Placement {
                tiers: Tiers::Both,
                promotion: Some(Promotion::Never),
            },
            _ => Placement::default(),
        }
    }
}

#[tokio::test]
async fn placement_keeps_namespaces_in_the_tiers_the_policy_allows() {
    let clock = Arc::new(ManualClock::new());
    let l2 = memory(&clock);
    let tiered = TieredStore::builder(memory(&clock), l2.clone())
        .clock(clock.clone())
        .placement(Policy)
        .build();
    let (local, shared, cold, plain) = (
        key("local", "a"),
        key("shared", "b"),
        key("cold", "c"),
        key("plain", "d"),
    );
    for k in [&local, &shared, &cold, &plain] {
        tiered.set(k, "v".into(), SetOptions::new()).await.unwrap();
    }
    // L1 only: never written to L2.
    assert!(in_l1(&tiered, &local).await);
    assert!(l2.get(&local).await.unwrap().is_none());
    assert_eq!(tiered.increment(&key("local", "n"), 2).await.unwrap(), 2);
    assert!(l2.get(&key("local", "n")).await.unwrap().is_none());
    // L2 only: never copied into L1, however often it is read.
    for _ in 0..3 {
        assert!(tiered.get(&shared).await.unwrap().is_some());
    }
    assert!(!in_l1(&tiered, &shared).await);
    assert!(l2.get(&shared).await.unwrap().is_some());
    // A promotion override: `cold` is written through but never promoted from L2.
    tiered.l1().delete(&cold).await.unwrap();
    assert!(tiered.get(&cold).await.unwrap().is_some());
    assert!(!in_l1(&tiered, &cold).await);
    assert_eq!(tiered.promotion(cold.namespace()), Promotion::Never);
    // Everything else: both tiers.
    assert!(in_l1(&tiered, &plain).await);
    assert!(l2.get(&plain).await.unwrap().is_some());
    // Batches follow each key's placement.
    let got = tiered
        .get_many(&[local.clone(), shared.clone(), plain.clone()])
        .await
        .unwrap();
    assert!(got.iter().all(Option::is_some));
    assert!(tiered.delete(&local).await.unwrap());
    assert!(tiered.get(&local).await.unwrap().is_none());
}
