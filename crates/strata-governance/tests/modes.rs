//! Each enforcement mode on each kind of violation, default TTLs, tiers, jitter and the
//! fallback rule, through a `GovernanceLayer` over a memory store on a manual clock.

use std::sync::Arc;
use std::time::Duration;

use strata_core::{
    Bytes, ErrorKind, Key, ManualClock, Namespace, SetOptions, SharedClock, Store, StoreExt, Ttl,
    TtlState,
};
use strata_governance::{
    GovernanceLayer, GovernedStore, Mode, Policy, RuleSpec, TtlSpec, TtlTier, namespaces,
};
use strata_memory::MemoryStore;

const MIN: Duration = Duration::from_secs(60);
const TEN_MIN: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);

fn store(policy: Policy) -> (GovernedStore<MemoryStore>, GovernanceLayer) {
    let clock = Arc::new(ManualClock::new());
    let memory = MemoryStore::builder()
        .clock(clock as SharedClock)
        .build()
        .unwrap();
    let layer = GovernanceLayer::new(policy).unwrap();
    (memory.layer(layer.clone()), layer)
}

fn bounded(mode: Mode) -> Policy {
    Policy::builder()
        .namespace("orders", TtlSpec::After(Duration::from_secs(300)))
        .rule(
            "orders",
            RuleSpec::new()
                .floor(MIN)
                .ceiling(TEN_MIN)
                .max_payload(8)
                .mode(mode),
        )
        .build()
        .unwrap()
}

fn key(ns: &str, id: &str) -> Key {
    Key::new(&Namespace::new(ns).unwrap(), id).unwrap()
}

fn v(text: &'static str) -> Bytes {
    Bytes::from_static(text.as_bytes())
}

async fn remaining(s: &impl Store, k: &Key) -> TtlState {
    s.ttl(k).await.unwrap()
}

#[tokio::test]
async fn built_in_namespaces_get_their_default_ttls() {
    let (s, _) = store(Policy::built_in());
    for (ns, secs) in [
        (namespaces::CURVES, 300),
        (namespaces::SCENARIOS, 60),
        (namespaces::SYSTEM_CONFIG, 86_400),
        (namespaces::SESSION, 300),
        (namespaces::WORKFLOW, 3600),
        ("not-declared", 1800), // the fallback: general, MEDIUM
    ] {
        let k = key(ns, "x");
        s.set(&k, v("1"), SetOptions::new()).await.unwrap();
        assert_eq!(
            remaining(&s, &k).await,
            TtlState::Remaining(Duration::from_secs(secs)),
            "{ns}"
        );
    }
}

#[tokio::test]
async fn a_namespace_may_name_a_tier_or_no_expiry() {
    let policy = Policy::builder()
        .namespace("reports", TtlTier::Long)
        .namespace("forever", TtlSpec::Never)
        .build()
        .unwrap();
    let (s, _) = store(policy);
    let k = key("reports", "r");
    s.set(&k, v("1"), SetOptions::new()).await.unwrap();
    assert_eq!(remaining(&s, &k).await, TtlState::Remaining(4 * HOUR));
    let k = key("forever", "f");
    s.set(&k, v("1"), SetOptions::new()).await.unwrap();
    assert_eq!(remaining(&s, &k).await, TtlState::NoExpiry);
}

#[tokio::test]
async fn clamp_fixes_ttls_and_counts_overrides() {
    let (s, layer) = store(bounded(Mode::Clamp));
    let k = key("orders", "1");
    s.set(&k, v("x"), SetOptions::new().ttl(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(
        remaining(&s, &k).await,
        TtlState::Remaining(MIN),
        "raised to the floor"
    );
    s.set(&k, v("x"), SetOptions::new().ttl(HOUR))
        .await
        .unwrap();
    assert_eq!(
        remaining(&s, &k).await,
        TtlState::Remaining(TEN_MIN),
        "cut to the ceiling"
    );
    s.set(&k, v("x"), SetOptions::new().no_expiry())
        .await
        .unwrap();
    assert_eq!(
        remaining(&s, &k).await,
        TtlState::Remaining(TEN_MIN),
        "no expiry is capped"
    );
    assert!(s.expire(&k, Ttl::After(HOUR)).await.unwrap());
    assert_eq!(
        remaining(&s, &k).await,
        TtlState::Remaining(TEN_MIN),
        "expire is governed"
    );
    // Within bounds: untouched.
    s.set(&k, v("x"), SetOptions::new().ttl(Duration::from_secs(120)))
        .await
        .unwrap();
    assert_eq!(
        remaining(&s, &k).await,
        TtlState::Remaining(Duration::from_secs(120))
    );
    // A payload cannot be clamped: refused.
    let err = s
        .set(&k, v("123456789"), SetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    let r = layer.report();
    let c = r.namespaces["orders"];
    assert_eq!((c.violations, c.overrides, c.rejections), (5, 4, 1));
    assert_eq!(
        c.operations,
        6 + 5,
        "six writes and an expire, five ttl reads"
    );
}

#[tokio::test]
async fn warn_lets_everything_through_and_counts() {
    let (s, layer) = store(bounded(Mode::Warn));
    let k = key("orders", "1");
    s.set(&k, v("x"), SetOptions::new().ttl(HOUR))
        .await
        .unwrap();
    assert_eq!(remaining(&s, &k).await, TtlState::Remaining(HOUR));
    s.set(
        &k,
        v("123456789"),
        SetOptions::new().ttl(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    assert_eq!(
        remaining(&s, &k).await,
        TtlState::Remaining(Duration::from_secs(1))
    );
    let c = layer.report().namespaces["orders"];
    assert_eq!((c.violations, c.overrides, c.rejections), (3, 0, 0));
}

#[tokio::test]
async fn reject_refuses_and_names_the_rule() {
    let (s, layer) = store(bounded(Mode::Reject));
    let k = key("orders", "1");
    let mut messages = Vec::new();
    for (value, opts) in [
        (v("x"), SetOptions::new().ttl(HOUR)),
        (v("x"), SetOptions::new().ttl(Duration::from_secs(1))),
        (v("x"), SetOptions::new().no_expiry()),
        (v("123456789"), SetOptions::new()),
        (v("123456789"), SetOptions::new().ttl(HOUR)),
    ] {
        let err = s.set(&k, value, opts).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rejected);
        messages.push(err.to_string());
    }
    let err = s.expire(&k, Ttl::After(HOUR)).await.unwrap_err();
    messages.push(err.to_string());
    assert!(s.get(&k).await.unwrap().is_none(), "nothing was written");
    insta::assert_snapshot!("reject_messages", messages.join("\n"));
    let c = layer.report().namespaces["orders"];
    assert_eq!((c.violations, c.overrides, c.rejections), (7, 0, 6));
}

#[tokio::test]
async fn invalid_ttls_stay_invalid_arguments() {
    let (s, _) = store(bounded(Mode::Clamp));
    let k = key("orders", "1");
    let err = s
        .set(&k, v("x"), SetOptions::new().ttl(Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidArgument,
        "not clamped to the floor"
    );
}

#[tokio::test]
async fn set_many_is_decided_per_namespace_and_a_rejection_writes_nothing() {
    let policy = Policy::builder()
        .rule(
            namespaces::CURVES,
            RuleSpec::new().max_payload(4).mode(Mode::Reject),
        )
        .build()
        .unwrap();
    let (s, layer) = store(policy);
    let curve = key(namespaces::CURVES, "a");
    let scenario = key(namespaces::SCENARIOS, "b");
    s.set_many(
        vec![(curve.clone(), v("1")), (scenario.clone(), v("2"))],
        SetOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        remaining(&s, &curve).await,
        TtlState::Remaining(Duration::from_secs(300))
    );
    assert_eq!(remaining(&s, &scenario).await, TtlState::Remaining(MIN));

    let other = key(namespaces::SCENARIOS, "c");
    let err = s
        .set_many(
            vec![
                (other.clone(), v("ok")),
                (key(namespaces::CURVES, "big"), v("too big")),
            ],
            SetOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(
        s.get(&other).await.unwrap().is_none(),
        "the batch wrote nothing"
    );
    assert_eq!(layer.report().rejections, 1);
}

#[tokio::test]
async fn jitter_spreads_ttls_within_the_band() {
    let policy = Policy::builder()
        .rule(namespaces::CURVES, RuleSpec::new().jitter(0.2))
        .build()
        .unwrap();
    let (s, _) = store(policy);
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..200 {
        let k = key(namespaces::CURVES, &i.to_string());
        s.set(&k, v("1"), SetOptions::new()).await.unwrap();
        let TtlState::Remaining(d) = remaining(&s, &k).await else {
            panic!("a default TTL applies");
        };
        assert!(
            (Duration::from_secs(240)..=Duration::from_secs(360)).contains(&d),
            "{d:?} is outside 300 s ± 20 %"
        );
        seen.insert(d.as_secs());
    }
    assert!(
        seen.len() > 20,
        "jitter spreads expiry: {} distinct seconds",
        seen.len()
    );
}

#[tokio::test]
async fn explain_names_the_rule_and_how_the_ttl_was_set() {
    let (s, _) = store(bounded(Mode::Clamp));
    let k = key("orders", "1");
    s.set(&k, v("x"), SetOptions::new()).await.unwrap();
    let defaulted = s.explain(&k).await.unwrap();
    s.set(&k, v("x"), SetOptions::new().ttl(HOUR))
        .await
        .unwrap();
    let clamped = s.explain(&k).await.unwrap();
    let missing = s.explain(&key("elsewhere", "1")).await.unwrap();
    insta::assert_json_snapshot!("explain_reports", [defaulted, clamped, missing]);
}

#[tokio::test]
async fn the_report_serializes_to_the_documented_json() {
    let (s, layer) = store(bounded(Mode::Clamp));
    let k = key("orders", "1");
    s.set(&k, v("x"), SetOptions::new().ttl(HOUR))
        .await
        .unwrap();
    s.get(&k).await.unwrap();
    s.get(&key(namespaces::CURVES, "c")).await.unwrap();
    let _ = s.set(&k, v("123456789"), SetOptions::new()).await;
    s.invalidate(&strata_core::Invalidation::all())
        .await
        .unwrap();
    insta::assert_json_snapshot!("report", layer.report());
}
