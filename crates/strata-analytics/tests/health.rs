//! The health assessment: each rule, the score, the status, warming-up, the trend, and the
//! JSON shape, pinned with insta. The documentation's table of rules is checked against the
//! code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use strata_analytics::{
    AnalyticsLayer, HealthThresholds, Status, Tier, TrendDirection, health_rules,
};
use strata_core::{
    Bytes, Clock, Health, Key, ManualClock, Namespace, SetOptions, SharedClock, Store, StoreExt,
    Timestamp,
};
use strata_memory::MemoryStore;

/// A clock that moves `tick` at every reading (so every timed operation takes one tick) and
/// can be moved on by hand.
#[derive(Debug)]
struct Ticking {
    now: AtomicU64,
    tick: u64,
}

impl Ticking {
    fn new(tick: Duration) -> Arc<Self> {
        Arc::new(Ticking {
            now: AtomicU64::new(1_704_067_200_000_000_000),
            tick: tick.as_nanos() as u64,
        })
    }

    fn advance(&self, d: Duration) {
        self.now.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for Ticking {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanos(self.now.fetch_add(self.tick, Ordering::SeqCst))
    }
}

fn memory() -> MemoryStore {
    MemoryStore::builder()
        .clock(Arc::new(ManualClock::new()) as SharedClock)
        .build()
        .unwrap()
}

fn analytics(clock: Arc<Ticking>) -> AnalyticsLayer {
    AnalyticsLayer::builder()
        .clock(clock as SharedClock)
        .sample_every(1)
        .build()
        .unwrap()
}

/// Writes `held` keys of 100, then reads all 100 `rounds` times.
async fn traffic(store: &impl Store, held: usize, rounds: usize) {
    let ns = Namespace::new("curves").unwrap();
    let keys: Vec<Key> = (0..100)
        .map(|i| Key::new(&ns, &i.to_string()).unwrap())
        .collect();
    for k in &keys[..held] {
        store
            .set(k, Bytes::from_static(b"value"), SetOptions::new())
            .await
            .unwrap();
    }
    for _ in 0..rounds {
        for k in &keys {
            store.get(k).await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_fresh_cache_is_warming_up_not_critical() {
    let layer = analytics(Ticking::new(Duration::from_micros(1)));
    let store = memory().layer(layer.clone());
    traffic(&store, 10, 1).await; // 100 reads, 10 % hits: too few to judge
    let a = store.assess().await;
    assert_eq!(a.status, Status::WarmingUp);
    assert!(a.warming_up && a.is_healthy);
    assert_eq!(a.score, 100);
    insta::assert_json_snapshot!("warming_up", a);
}

#[tokio::test]
async fn a_cache_that_hits_is_healthy() {
    let store = memory().layer(analytics(Ticking::new(Duration::from_micros(1))));
    traffic(&store, 90, 12).await;
    let a = store.assess().await;
    assert_eq!((a.status, a.score), (Status::Healthy, 100), "{a:#?}");
    assert_eq!(a.overall_hit_ratio, Some(0.9));
    assert_eq!(
        a.l1_hit_ratio,
        Some(0.9),
        "a memory store under the layer is the L1"
    );
}

#[tokio::test]
async fn low_hit_ratios_degrade_with_actionable_recommendations() {
    let layer = analytics(Ticking::new(Duration::from_micros(1)));
    let l1 = memory().layer(layer.for_tier(Tier::L1));
    let overall = memory().layer(layer.clone());
    traffic(&l1, 42, 10).await;
    traffic(&overall, 55, 10).await;
    let a = overall.assess().await;
    assert_eq!(a.status, Status::Degraded);
    assert_eq!(a.score, 100 - 20 - 15);
    assert_eq!(
        a.issues[1].message, "L1 hit ratio 0.42 is under 0.70",
        "{:#?}",
        a.issues
    );
    insta::assert_json_snapshot!("degraded", a);
}

#[tokio::test]
async fn backend_trouble_is_critical() {
    let clock = Ticking::new(Duration::from_millis(10));
    let layer = AnalyticsLayer::builder()
        .clock(clock.clone() as SharedClock)
        .sample_every(1)
        .thresholds(HealthThresholds::default().min_requests(100))
        .build()
        .unwrap();
    let store = memory().layer(layer.clone());
    traffic(&store, 100, 1).await; // every get takes one 10 ms tick: over the p95 limit
    layer.record_invalidation_lag(Duration::from_millis(2500));
    let backend = Health::unhealthy("redis", "connection refused")
        .detail("circuit_breaker", "open")
        .detail("bytes", 95u64)
        .detail("max_bytes", 100u64)
        .detail("used_memory", 990u64)
        .detail("maxmemory", 1000u64);
    let a = layer.assess_with(&backend, false);
    assert_eq!(a.status, Status::Critical);
    assert!(!a.is_healthy);
    assert_eq!(a.score, 0);
    let rules: Vec<&str> = a.issues.iter().map(|i| i.rule).collect();
    assert_eq!(
        rules,
        [
            "backend_unhealthy",
            "circuit_breaker_open",
            "p95_latency_high",
            "l1_memory_pressure",
            "l2_memory_pressure",
            "invalidation_lag_high"
        ]
    );
    insta::assert_json_snapshot!("critical", a);
}

#[tokio::test]
async fn thresholds_are_configurable() {
    let clock = Ticking::new(Duration::from_micros(1));
    let strict = AnalyticsLayer::builder()
        .clock(clock as SharedClock)
        .thresholds(
            HealthThresholds::default()
                .overall_hit_ratio(0.95)
                .l1_hit_ratio(0.95),
        )
        .build()
        .unwrap();
    let store = memory().layer(strict);
    traffic(&store, 90, 12).await;
    let a = store.assess().await;
    assert_eq!(a.score, 100 - 20 - 15);
    assert!(
        AnalyticsLayer::builder()
            .thresholds(HealthThresholds::default().error_rate(2.0))
            .build()
            .is_err()
    );
    assert!(AnalyticsLayer::builder().sample_every(0).build().is_err());
}

#[tokio::test]
async fn the_trend_compares_the_last_window_with_the_one_before() {
    let clock = Ticking::new(Duration::from_micros(1));
    let layer = AnalyticsLayer::builder()
        .clock(clock.clone() as SharedClock)
        .trend_window(Duration::from_secs(60))
        .build()
        .unwrap();
    let store = memory().layer(layer.clone());
    let sick = Health::unhealthy("memory", "simulated");
    let well = Health::healthy("memory");

    let first = layer.assess_with(&sick, true);
    assert_eq!(first.trend.direction, TrendDirection::InsufficientData);
    clock.advance(Duration::from_secs(30));
    layer.assess_with(&sick, true);
    clock.advance(Duration::from_secs(45)); // the sick scores are now the previous window
    let better = layer.assess_with(&well, true);
    assert_eq!(
        better.trend.direction,
        TrendDirection::Improving,
        "{:?}",
        better.trend
    );
    assert_eq!(better.trend.previous_average, Some(50.0));
    clock.advance(Duration::from_secs(61));
    layer.assess_with(&well, true);
    clock.advance(Duration::from_secs(61)); // now both windows hold only healthy scores
    let steady = layer.assess_with(&well, true);
    assert_eq!(
        steady.trend.direction,
        TrendDirection::Stable,
        "{:?}",
        steady.trend
    );
    clock.advance(Duration::from_secs(61));
    let worse = layer.assess_with(&sick, true);
    assert_eq!(
        worse.trend.direction,
        TrendDirection::Degrading,
        "{:?}",
        worse.trend
    );
    drop(store);
}

#[test]
fn the_documentation_lists_every_rule_with_its_weight() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/observability.md"
    ))
    .expect("docs/observability.md exists");
    for (rule, weight) in health_rules() {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{rule}` |")))
            .unwrap_or_else(|| panic!("docs/observability.md has no row for `{rule}`"));
        assert!(
            row.contains(&format!("| {weight} |")),
            "the row of `{rule}` does not give its weight {weight}: {row}"
        );
    }
}

#[tokio::test]
async fn one_early_error_does_not_mark_the_cache_critical() {
    use strata_core::{Key, Namespace, Store};
    use strata_testkit::fault::FaultLayer;
    let faults = FaultLayer::new();
    let handle = faults.handle();
    let analytics = AnalyticsLayer::builder().sample_every(1).build().unwrap();
    let store = MemoryStore::new().layer(faults).layer(analytics.clone());
    let key = Key::new(&Namespace::new("orders").unwrap(), "1").unwrap();
    handle.set_down(true);
    assert!(store.get(&key).await.is_err());
    handle.set_down(false);
    for _ in 0..9 {
        store.get(&key).await.unwrap();
    }
    // One error in ten operations: far over 1 %, but too few operations to judge.
    let a = store.assess().await;
    assert!(
        a.issues.iter().all(|i| i.rule != "error_rate_high"),
        "{:?}",
        a.issues
    );
    for _ in 0..100 {
        store.get(&key).await.unwrap();
    }
    // Past 100 operations the rate is judged: a second error puts it near 2 %.
    handle.set_down(true);
    assert!(store.get(&key).await.is_err());
    handle.set_down(false);
    let a = store.assess().await;
    assert!(
        a.issues.iter().any(|i| i.rule == "error_rate_high"),
        "{:?} {:?}",
        a.error_rate,
        a.issues
    );
}
