//! Atomic `increment`.

use std::time::Duration;

use futures_util::future::join_all;
use strata_core::{ErrorKind, SetOptions, Store, TtlState};

use super::{
    Case, CaseResult, Cx, LONG_TTL, SHORT_TTL, b, case, check_eq, check_remaining, expect_kind,
};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(increment_missing_key_starts_from_zero, INCREMENT),
        case!(increment_accumulates, INCREMENT),
        case!(increment_by_negative_delta, INCREMENT),
        case!(increment_existing_integer_value, INCREMENT),
        case!(increment_non_integer_is_codec_error, INCREMENT),
        case!(increment_overflow_is_rejected, INCREMENT),
        case!(concurrent_increments_lose_nothing, INCREMENT),
        case!(increment_keeps_existing_ttl, INCREMENT | TTL),
        case!(increment_after_expiry_starts_from_zero, INCREMENT | TTL),
    ]
}

async fn increment_missing_key_starts_from_zero<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    check_eq(
        cx.store().increment(&key, 5).await?,
        5,
        "increment of a missing key by 5",
    )?;
    check_eq(
        cx.value(&key).await?,
        Some(b("5")),
        "the counter reads back as ASCII decimal",
    )
}

async fn increment_accumulates<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    for want in 1..=3 {
        check_eq(cx.store().increment(&key, 1).await?, want, "increment by 1")?;
    }
    check_eq(cx.store().increment(&key, 10).await?, 13, "increment by 10")?;
    check_eq(
        cx.store().increment(&key, 0).await?,
        13,
        "increment by 0 reads the counter",
    )?;
    check_eq(cx.value(&key).await?, Some(b("13")), "the counter's bytes")
}

async fn increment_by_negative_delta<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    check_eq(cx.store().increment(&key, 10).await?, 10, "increment by 10")?;
    check_eq(cx.store().increment(&key, -3).await?, 7, "increment by -3")?;
    check_eq(
        cx.store().increment(&key, -20).await?,
        -13,
        "increment below zero",
    )?;
    check_eq(
        cx.value(&key).await?,
        Some(b("-13")),
        "a negative counter's bytes",
    )?;
    let fresh = cx.key_in("incr", "fresh");
    check_eq(
        cx.store().increment(&fresh, -4).await?,
        -4,
        "decrement of a missing key",
    )
}

async fn increment_existing_integer_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    cx.store().set(&key, b("41"), SetOptions::new()).await?;
    check_eq(
        cx.store().increment(&key, 1).await?,
        42,
        "increment of a stored \"41\"",
    )?;
    let negative = cx.key_in("incr", "negative");
    cx.store()
        .set(&negative, b("-7"), SetOptions::new())
        .await?;
    check_eq(
        cx.store().increment(&negative, 2).await?,
        -5,
        "increment of a stored \"-7\"",
    )
}

async fn increment_non_integer_is_codec_error<S: Store>(cx: &Cx<S>) -> CaseResult {
    for (i, text) in ["abc", "1.5", "12abc", ""].iter().enumerate() {
        let key = cx.key_in("incr", &format!("not-an-integer-{i}"));
        cx.store().set(&key, b(text), SetOptions::new()).await?;
        expect_kind(
            cx.store().increment(&key, 1).await,
            ErrorKind::Codec,
            format!("increment of {text:?}"),
        )?;
        check_eq(
            cx.value(&key).await?,
            Some(b(text)),
            format!("{text:?} is unchanged after the failed increment"),
        )?;
    }
    Ok(())
}

async fn increment_overflow_is_rejected<S: Store>(cx: &Cx<S>) -> CaseResult {
    let max = cx.key_in("incr", "max");
    check_eq(
        cx.store().increment(&max, i64::MAX).await?,
        i64::MAX,
        "increment to i64::MAX",
    )?;
    expect_kind(
        cx.store().increment(&max, 1).await,
        ErrorKind::InvalidArgument,
        "increment past i64::MAX",
    )?;
    check_eq(
        cx.value(&max).await?,
        Some(b(&i64::MAX.to_string())),
        "i64::MAX is unchanged after the overflow",
    )?;
    let min = cx.key_in("incr", "min");
    cx.store()
        .set(&min, b(&i64::MIN.to_string()), SetOptions::new())
        .await?;
    expect_kind(
        cx.store().increment(&min, -1).await,
        ErrorKind::InvalidArgument,
        "decrement past i64::MIN",
    )?;
    check_eq(
        cx.value(&min).await?,
        Some(b(&i64::MIN.to_string())),
        "i64::MIN is unchanged after the overflow",
    )?;
    // The counter still works after a refused increment.
    check_eq(
        cx.store().increment(&max, -1).await?,
        i64::MAX - 1,
        "decrement from i64::MAX",
    )
}

async fn concurrent_increments_lose_nothing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    // 50 increments in flight at once (interleaved on one connection for a remote store).
    let results = join_all((0..50).map(|_| cx.store().increment(&key, 1))).await;
    let mut seen = Vec::with_capacity(results.len());
    for result in results {
        seen.push(result?);
    }
    seen.sort_unstable();
    check_eq(
        seen,
        (1..=50).collect::<Vec<i64>>(),
        "each increment saw a distinct count",
    )?;
    check_eq(
        cx.value(&key).await?,
        Some(b("50")),
        "the counter after 50 increments",
    )
}

async fn increment_keeps_existing_ttl<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    cx.store()
        .set(&key, b("1"), SetOptions::new().ttl(LONG_TTL))
        .await?;
    check_eq(
        cx.store().increment(&key, 1).await?,
        2,
        "increment of a counter with a TTL",
    )?;
    let state = cx.store().ttl(&key).await?;
    check_remaining(
        state,
        Duration::ZERO,
        LONG_TTL,
        "the TTL survives increment",
    )?;

    let short = cx.key_in("incr", "short");
    cx.store()
        .set(&short, b("1"), SetOptions::new().ttl(SHORT_TTL))
        .await?;
    cx.store().increment(&short, 1).await?;
    // Wait out the 300 ms TTL the counter had before the increment.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        cx.store().get(&short).await?.map(|e| e.value().clone()),
        None,
        "a counter expires by the TTL it had before the increment",
    )
}

async fn increment_after_expiry_starts_from_zero<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("incr", "counter");
    cx.store()
        .set(&key, b("100"), SetOptions::new().ttl(SHORT_TTL))
        .await?;
    // Wait out the 300 ms TTL: the counter is gone.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        cx.store().increment(&key, 1).await?,
        1,
        "increment of an expired counter",
    )?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::NoExpiry,
        "a counter created by increment has no TTL",
    )
}
