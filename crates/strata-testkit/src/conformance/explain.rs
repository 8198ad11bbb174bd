//! `explain`: what a store reports about a key, never its value, and without counting a read.

use std::time::Duration;

use strata_core::{CodecId, SetOptions, Store, TtlState};

use super::{Case, CaseResult, Cx, LONG_TTL, b, case, check, check_eq, check_remaining};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(explain_reports_a_held_key_without_its_value, TTL | TAGS),
        case!(explain_reports_a_missing_key),
        case!(explain_reports_a_value_without_expiry),
        case!(explain_is_not_a_read),
    ]
}

async fn explain_reports_a_held_key_without_its_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("explain", "held");
    let tag = cx.tag("explain-tag");
    let secret = "explain-secret-payload";
    let opts = SetOptions::new()
        .ttl(LONG_TTL)
        .tag(tag.clone())
        .codec(CodecId::MessagePack);
    cx.store().set(&key, b(secret), opts).await?;
    let report = cx.store().explain(&key).await?;
    check_eq(
        report.key.clone(),
        key.to_string(),
        "the report names the key",
    )?;
    let Some(holder) = report.holder() else {
        return check(
            false,
            format!("a written key is reported present: {report:?}"),
        );
    };
    check_eq(
        holder.tags.clone(),
        vec![tag],
        "the holder reports the tags",
    )?;
    check_eq(
        holder.codec,
        Some(CodecId::MessagePack),
        "the holder reports the codec",
    )?;
    check_eq(
        holder.value_len,
        Some(secret.len() as u64),
        "the holder reports the value's length",
    )?;
    check_remaining(
        holder.remaining,
        LONG_TTL - Duration::from_secs(10),
        LONG_TTL,
        "the holder reports the remaining TTL",
    )?;
    let age = holder.age.unwrap_or(Duration::MAX);
    check(
        age < Duration::from_secs(10),
        format!("a value just written is young, got age {age:?}"),
    )?;
    let text = format!("{report:?}");
    check(
        !text.contains(secret),
        format!("the report never carries the value: {text}"),
    )
}

async fn explain_reports_a_missing_key<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("explain", "never-written");
    let report = cx.store().explain(&key).await?;
    check(
        !report.is_present(),
        format!("a missing key is absent: {report:?}"),
    )?;
    check(
        !report.tiers.is_empty(),
        "each store asked adds its tier to the report, present or not",
    )?;
    check(
        report
            .tiers
            .iter()
            .all(|t| t.remaining == TtlState::Missing),
        format!("an absent key has no remaining TTL: {report:?}"),
    )
}

async fn explain_reports_a_value_without_expiry<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("explain", "forever");
    cx.store()
        .set(&key, b("v"), SetOptions::new().no_expiry())
        .await?;
    let report = cx.store().explain(&key).await?;
    let Some(holder) = report.holder() else {
        return check(
            false,
            format!("a written key is reported present: {report:?}"),
        );
    };
    check_eq(
        holder.remaining,
        TtlState::NoExpiry,
        "remaining TTL of a value without expiry",
    )?;
    check_eq(
        holder.original_ttl,
        None,
        "original TTL of a value without expiry",
    )
}

async fn explain_is_not_a_read<S: Store>(cx: &Cx<S>) -> CaseResult {
    let held = cx.key_in("explain", "counted");
    let missing = cx.key_in("explain", "not-there");
    cx.store().set(&held, b("v"), SetOptions::new()).await?;
    let before = cx.store().stats();
    cx.store().explain(&held).await?;
    cx.store().explain(&missing).await?;
    let after = cx.store().stats();
    check_eq(
        (after.hits, after.misses),
        (before.hits, before.misses),
        "explain counts neither a hit nor a miss",
    )
}
