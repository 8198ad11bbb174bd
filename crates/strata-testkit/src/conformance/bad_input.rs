//! Bad input: invalid TTLs change nothing, keys and patterns are validated before they reach
//! a store, and operations outside a store's capabilities say so.

use std::time::Duration;

use strata_core::{
    Capabilities, ErrorKind, Invalidation, Key, Namespace, Pattern, SetOptions, Store, StoreExt,
    Tag, Ttl, TtlState,
};

use super::{
    Case, CaseResult, Cx, LONG_TTL, b, case, check, check_eq, check_remaining, expect_kind,
};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(invalid_ttl_is_rejected_and_changes_nothing, TTL),
        case!(invalid_ttl_in_set_many_is_rejected, TTL),
        case!(expire_with_zero_ttl_is_rejected_and_changes_nothing, TTL),
        case!(zero_time_to_idle_is_rejected, TIME_TO_IDLE),
        case!(bad_keys_are_rejected_before_the_store),
        case!(malformed_patterns_are_rejected),
        case!(unsupported_operations_say_so),
    ]
}

/// TTLs no store accepts: zero, under a millisecond, and more milliseconds than an i64 holds.
const BAD_TTLS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_micros(500),
    Duration::from_secs(u64::MAX),
];

async fn invalid_ttl_is_rejected_and_changes_nothing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let existing = cx.key_in("bad", "existing");
    let missing = cx.key_in("bad", "missing");
    cx.store()
        .set(&existing, b("v1"), SetOptions::new())
        .await?;
    for ttl in BAD_TTLS {
        expect_kind(
            cx.store()
                .set(&existing, b("v2"), SetOptions::new().ttl(ttl))
                .await,
            ErrorKind::InvalidArgument,
            format!("set of an existing key with ttl {ttl:?}"),
        )?;
        check_eq(
            cx.value(&existing).await?,
            Some(b("v1")),
            format!("value after ttl {ttl:?}"),
        )?;
        check_eq(
            cx.store().ttl(&existing).await?,
            TtlState::NoExpiry,
            format!("ttl after the refused ttl {ttl:?}"),
        )?;
        expect_kind(
            cx.store()
                .set(&missing, b("v2"), SetOptions::new().ttl(ttl))
                .await,
            ErrorKind::InvalidArgument,
            format!("set of a missing key with ttl {ttl:?}"),
        )?;
        check(
            cx.store().get(&missing).await?.is_none(),
            format!("nothing stored by a set with ttl {ttl:?}"),
        )?;
    }
    Ok(())
}

async fn invalid_ttl_in_set_many_is_rejected<S: Store>(cx: &Cx<S>) -> CaseResult {
    let existing = cx.key_in("bad", "existing");
    let missing = cx.key_in("bad", "missing");
    cx.store()
        .set(&existing, b("v1"), SetOptions::new())
        .await?;
    let items = vec![(existing.clone(), b("v2")), (missing.clone(), b("v2"))];
    expect_kind(
        cx.store()
            .set_many(items, SetOptions::new().ttl(Duration::ZERO))
            .await,
        ErrorKind::InvalidArgument,
        "set_many with a zero ttl",
    )?;
    check_eq(
        cx.value(&existing).await?,
        Some(b("v1")),
        "existing value after the refused batch",
    )?;
    check(
        cx.store().get(&missing).await?.is_none(),
        "nothing stored by the refused batch",
    )
}

async fn expire_with_zero_ttl_is_rejected_and_changes_nothing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let with_ttl = cx.key_in("bad", "with-ttl");
    let without = cx.key_in("bad", "without-ttl");
    cx.store().set_with_ttl(&with_ttl, b("v"), LONG_TTL).await?;
    cx.store().set(&without, b("v"), SetOptions::new()).await?;
    for ttl in BAD_TTLS {
        expect_kind(
            cx.store().expire(&with_ttl, Ttl::After(ttl)).await,
            ErrorKind::InvalidArgument,
            format!("expire with {ttl:?} of a key with a TTL"),
        )?;
        expect_kind(
            cx.store().expire(&without, Ttl::After(ttl)).await,
            ErrorKind::InvalidArgument,
            format!("expire with {ttl:?} of a key without TTL"),
        )?;
    }
    check_eq(
        cx.value(&with_ttl).await?,
        Some(b("v")),
        "the key with a TTL is still there",
    )?;
    let state = cx.store().ttl(&with_ttl).await?;
    // Half the TTL is a lenient lower bound for real time: the TTL must not have been touched.
    check_remaining(state, LONG_TTL / 2, LONG_TTL, "its TTL is unchanged")?;
    check_eq(
        cx.value(&without).await?,
        Some(b("v")),
        "the key without TTL is still there",
    )?;
    check_eq(
        cx.store().ttl(&without).await?,
        TtlState::NoExpiry,
        "it still has no TTL",
    )
}

async fn zero_time_to_idle_is_rejected<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("bad", "k");
    expect_kind(
        cx.store()
            .set(&key, b("v"), SetOptions::new().tti(Duration::ZERO))
            .await,
        ErrorKind::InvalidArgument,
        "set with a zero time to idle",
    )?;
    check(
        cx.store().get(&key).await?.is_none(),
        "nothing stored by the refused set",
    )
}

async fn bad_keys_are_rejected_before_the_store<S: Store>(cx: &Cx<S>) -> CaseResult {
    // Keys, namespaces and tags are validated when built, so no store ever sees a bad one.
    let ns = cx.ns("bad");
    let max = strata_core::key::DEFAULT_MAX_KEY_LEN;
    expect_kind(Key::new(&ns, ""), ErrorKind::InvalidKey, "an empty id")?;
    expect_kind(
        Key::new(&ns, &"k".repeat(max + 1)),
        ErrorKind::InvalidKey,
        "an id of 1025 bytes",
    )?;
    for bad in ["", "a b", "a:b", "ü", "{tag}", "a*", &"n".repeat(65)] {
        expect_kind(
            Namespace::new(bad),
            ErrorKind::InvalidKey,
            format!("namespace {bad:?}"),
        )?;
    }
    expect_kind(
        Key::parse("no-namespace"),
        ErrorKind::InvalidKey,
        "a key without namespace",
    )?;
    for bad in [String::new(), "a\nb".to_owned(), "t".repeat(257)] {
        expect_kind(
            Tag::new(&bad),
            ErrorKind::InvalidKey,
            format!("tag of {} bytes", bad.len()),
        )?;
    }
    // The longest valid id is accepted and stored like any other.
    let longest = Key::new(&ns, &"k".repeat(max))?;
    cx.store().set(&longest, b("v"), SetOptions::new()).await?;
    check_eq(
        cx.value(&longest).await?,
        Some(b("v")),
        "a 1024-byte id round-trips",
    )
}

async fn malformed_patterns_are_rejected<S: Store>(cx: &Cx<S>) -> CaseResult {
    let _ = cx;
    for bad in [
        "[abc",
        "ab\\",
        &"x".repeat(strata_core::pattern::MAX_PATTERN_LEN + 1),
    ] {
        let shown: String = bad.chars().take(16).collect();
        expect_kind(
            Pattern::new(bad),
            ErrorKind::InvalidArgument,
            format!("pattern {shown:?}"),
        )?;
    }
    Ok(())
}

async fn unsupported_operations_say_so<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("bad", "k");
    let ns = cx.ns("bad");
    let s = cx.store();
    let unsupported = ErrorKind::Unsupported;
    if !cx.has(Capabilities::TTL) {
        expect_kind(s.ttl(&key).await, unsupported, "ttl without TTL")?;
        expect_kind(
            s.expire(&key, Ttl::secs(60)).await,
            unsupported,
            "expire without TTL",
        )?;
    }
    if !cx.has(Capabilities::INCREMENT) {
        expect_kind(
            s.increment(&key, 1).await,
            unsupported,
            "increment without INCREMENT",
        )?;
    }
    if !cx.has(Capabilities::CONDITIONAL_SET) {
        let nx = SetOptions::new().only_if_absent();
        expect_kind(
            s.set(&key, b("v"), nx).await,
            unsupported,
            "NX without CONDITIONAL_SET",
        )?;
        let xx = SetOptions::new().only_if_present();
        expect_kind(
            s.set(&key, b("v"), xx).await,
            unsupported,
            "XX without CONDITIONAL_SET",
        )?;
    }
    if !cx.has(Capabilities::SCAN) {
        expect_kind(
            s.keys(&ns, &Pattern::all()).await,
            unsupported,
            "scan without SCAN",
        )?;
        let req = Invalidation::pattern(ns, Pattern::all());
        expect_kind(
            s.invalidate(&req).await,
            unsupported,
            "pattern invalidation without SCAN",
        )?;
    }
    if !cx.has(Capabilities::TAGS) {
        let req = Invalidation::tag(cx.tag("t"));
        expect_kind(
            s.invalidate(&req).await,
            unsupported,
            "tag invalidation without TAGS",
        )?;
    }
    if !cx.has(Capabilities::CLEAR) {
        let req = Invalidation::namespace(ns);
        expect_kind(
            s.invalidate(&req).await,
            unsupported,
            "namespace invalidation without CLEAR",
        )?;
        expect_kind(s.clear().await, unsupported, "clear without CLEAR")?;
    }
    // What every store does: a plain write and read.
    s.set(&key, b("v"), SetOptions::new()).await?;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "a plain write and read",
    )
}
