//! `invalidate` with each selector, its count, and its reason and `triggered_by`.

use strata_core::{
    Capabilities, Invalidation, InvalidationReason, Key, Pattern, SetOptions, Store,
};

use super::{Case, CaseResult, Cx, SHORT_TTL, b, case, check, check_eq};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(invalidate_key_removes_one_entry),
        case!(invalidation_accepts_every_reason),
        case!(invalidate_pattern_removes_matching_ids, SCAN),
        case!(invalidate_tags_removes_tagged_entries, TAGS),
        case!(invalidate_namespace_removes_only_that_namespace, CLEAR),
        case!(invalidate_all_removes_every_namespace, CLEAR),
        case!(invalidation_counts_only_live_entries, TTL),
    ]
}

const REASONS: [InvalidationReason; 6] = [
    InvalidationReason::TtlExpired,
    InvalidationReason::Manual,
    InvalidationReason::DataChanged,
    InvalidationReason::CapacityLimit,
    InvalidationReason::ErrorThreshold,
    InvalidationReason::PatternBased,
];

async fn invalidate_key_removes_one_entry<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("inv", "k");
    let other = cx.key_in("inv", "other");
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    cx.store().set(&other, b("v"), SetOptions::new()).await?;
    let req = Invalidation::key(key.clone())
        .reason(InvalidationReason::DataChanged)
        .triggered_by("conformance:key");
    check_eq(
        cx.store().invalidate(&req).await?,
        1,
        "invalidating a live key",
    )?;
    check_eq(
        cx.present(&[&key, &other]).await?,
        vec![false, true],
        "presence of key, other",
    )?;
    check_eq(
        cx.store().invalidate(&req).await?,
        0,
        "invalidating the key again",
    )?;
    let missing = Invalidation::key(cx.key_in("inv", "never-written"));
    check_eq(
        cx.store().invalidate(&missing).await?,
        0,
        "invalidating a missing key",
    )
}

async fn invalidation_accepts_every_reason<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("inv", "k");
    for reason in REASONS {
        cx.store().set(&key, b("v"), SetOptions::new()).await?;
        let req = Invalidation::key(key.clone())
            .reason(reason)
            .triggered_by(format!("conformance:{reason:?}"));
        check_eq(
            cx.store().invalidate(&req).await?,
            1,
            format!("invalidation for {reason:?}"),
        )?;
        check(
            cx.store().get(&key).await?.is_none(),
            format!("get after {reason:?}"),
        )?;
    }
    Ok(())
}

async fn invalidate_pattern_removes_matching_ids<S: Store>(cx: &Cx<S>) -> CaseResult {
    let ns = cx.ns("inv");
    let user1 = cx.key(&ns, "user:1");
    let user2 = cx.key(&ns, "user:2");
    let user10 = cx.key(&ns, "user:10");
    let admin1 = cx.key(&ns, "admin:1");
    let other_user1 = cx.key_in("inv-other", "user:1");
    for key in [&user1, &user2, &user10, &admin1, &other_user1] {
        cx.store().set(key, b("v"), SetOptions::new()).await?;
    }
    let req =
        Invalidation::pattern(ns, Pattern::new("user:?")?).triggered_by("conformance:pattern");
    check_eq(
        req.reason,
        InvalidationReason::PatternBased,
        "default reason of a pattern",
    )?;
    check_eq(
        cx.store().invalidate(&req).await?,
        2,
        "invalidating user:? removes two ids",
    )?;
    check_eq(
        cx.present(&[&user1, &user2, &user10, &admin1, &other_user1])
            .await?,
        vec![false, false, true, true, true],
        "presence of user:1 user:2 user:10 admin:1 and user:1 of the other namespace",
    )?;
    let everything = Invalidation::pattern(ns, Pattern::all()).reason(InvalidationReason::Manual);
    check_eq(
        cx.store().invalidate(&everything).await?,
        2,
        "invalidating * of the namespace",
    )?;
    check_eq(
        cx.present(&[&user10, &admin1, &other_user1]).await?,
        vec![false, false, true],
        "presence after * (only the other namespace is left)",
    )
}

async fn invalidate_tags_removes_tagged_entries<S: Store>(cx: &Cx<S>) -> CaseResult {
    let t = cx.tag("inv");
    let a = cx.key_in("inv-a", "1");
    let c = cx.key_in("inv-b", "1");
    let untagged = cx.key_in("inv-a", "2");
    cx.store()
        .set(&a, b("v"), SetOptions::new().tag(t.clone()))
        .await?;
    cx.store()
        .set(&c, b("v"), SetOptions::new().tag(t.clone()))
        .await?;
    cx.store().set(&untagged, b("v"), SetOptions::new()).await?;
    let req = Invalidation::tag(t)
        .reason(InvalidationReason::DataChanged)
        .triggered_by("conformance:tags");
    check_eq(
        cx.store().invalidate(&req).await?,
        2,
        "invalidating a tag on two entries",
    )?;
    check_eq(
        cx.present(&[&a, &c, &untagged]).await?,
        vec![false, false, true],
        "presence of the two tagged entries and an untagged one",
    )
}

async fn invalidate_namespace_removes_only_that_namespace<S: Store>(cx: &Cx<S>) -> CaseResult {
    let ns = cx.ns("inv");
    let in_ns: Vec<Key> = (0..3).map(|i| cx.key(&ns, &format!("k{i}"))).collect();
    let outside = cx.key_in("inv-other", "k0");
    for key in in_ns.iter().chain([&outside]) {
        cx.store().set(key, b("v"), SetOptions::new()).await?;
    }
    let req = Invalidation::namespace(ns)
        .reason(InvalidationReason::DataChanged)
        .triggered_by("conformance:namespace");
    check_eq(
        cx.store().invalidate(&req).await?,
        3,
        "invalidating a namespace of three keys",
    )?;
    for key in &in_ns {
        check(
            cx.store().get(key).await?.is_none(),
            format!("{key} after its namespace went"),
        )?;
    }
    check_eq(
        cx.value(&outside).await?,
        Some(b("v")),
        "a key of another namespace",
    )?;
    check_eq(
        cx.store().invalidate(&req).await?,
        0,
        "invalidating the namespace again",
    )
}

async fn invalidate_all_removes_every_namespace<S: Store>(cx: &Cx<S>) -> CaseResult {
    let keys = [
        cx.key_in("inv-a", "1"),
        cx.key_in("inv-b", "1"),
        cx.key_in("inv-c", "1"),
        cx.key_in("inv-c", "2"),
    ];
    for key in &keys {
        cx.store().set(key, b("v"), SetOptions::new()).await?;
    }
    let req = Invalidation::all()
        .reason(InvalidationReason::Manual)
        .triggered_by("conformance:all");
    check_eq(
        cx.store().invalidate(&req).await?,
        4,
        "invalidating everything",
    )?;
    for key in &keys {
        check(
            cx.store().get(key).await?.is_none(),
            format!("{key} after invalidating all"),
        )?;
    }
    check_eq(
        cx.store().invalidate(&req).await?,
        0,
        "invalidating everything again",
    )
}

async fn invalidation_counts_only_live_entries<S: Store>(cx: &Cx<S>) -> CaseResult {
    // Expired entries are gone, whether or not a store has swept them yet: no selector counts
    // them. Each selector the store supports is tried on its own namespace.
    let t = cx.tag("expired");
    let opts = || {
        let opts = SetOptions::new().ttl(SHORT_TTL);
        if cx.has(Capabilities::TAGS) {
            opts.tag(t.clone())
        } else {
            opts
        }
    };
    let mut requests = vec![("key", Invalidation::key(cx.key_in("inv-key", "k")))];
    if cx.has(Capabilities::SCAN) {
        let req = Invalidation::pattern(cx.ns("inv-pattern"), Pattern::all());
        requests.push(("pattern", req));
    }
    if cx.has(Capabilities::CLEAR) {
        requests.push(("namespace", Invalidation::namespace(cx.ns("inv-namespace"))));
    }
    let namespaces = ["inv-key", "inv-pattern", "inv-namespace"];
    for ns in namespaces {
        cx.store().set(&cx.key_in(ns, "k"), b("v"), opts()).await?;
    }
    // Wait out the 300 ms TTL of every entry.
    cx.pass_beyond(SHORT_TTL).await;
    for (what, req) in &requests {
        check_eq(
            cx.store().invalidate(req).await?,
            0,
            format!("{what} invalidation of an expired entry"),
        )?;
    }
    if cx.has(Capabilities::TAGS) {
        for ns in namespaces {
            cx.store().set(&cx.key_in(ns, "k"), b("v"), opts()).await?;
        }
        // Wait out the 300 ms TTL again.
        cx.pass_beyond(SHORT_TTL).await;
        let removed = cx.store().invalidate(&Invalidation::tag(t.clone())).await?;
        check_eq(removed, 0, "tag invalidation of expired entries")?;
    }
    if cx.has(Capabilities::CLEAR) {
        for ns in namespaces {
            cx.store().set(&cx.key_in(ns, "k"), b("v"), opts()).await?;
        }
        // Wait out the 300 ms TTL again.
        cx.pass_beyond(SHORT_TTL).await;
        check_eq(
            cx.store().invalidate(&Invalidation::all()).await?,
            0,
            "invalidating all expired entries",
        )?;
    }
    Ok(())
}
