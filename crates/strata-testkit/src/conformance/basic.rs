//! Reads, writes, deletes, `exists`, `clear`, the synchronous fast path, info and health.

use bytes::Bytes;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strata_core::{
    Capabilities, CodecId, Fingerprint, HealthStatus, Invalidation, Now, SetOptions, SetOutcome,
    Store, StoreExt, Timestamp,
};

use super::{Case, CaseResult, Cx, b, case, check, check_eq};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(get_missing_is_none),
        case!(set_then_get_returns_value),
        case!(set_overwrites_value),
        case!(delete_removes_value),
        case!(delete_missing_is_false),
        case!(exists_tracks_presence, TTL),
        case!(empty_value_is_a_hit),
        case!(binary_value_round_trips),
        case!(unusual_ids_round_trip),
        case!(get_now_agrees_with_get),
        case!(entry_meta_records_codec_and_creation_time),
        case!(a_copy_keeps_the_write_time_it_was_given),
        case!(clear_removes_everything, CLEAR),
        case!(fresh_store_is_named_and_healthy),
    ]
}

async fn get_missing_is_none<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "never-written");
    check(
        cx.store().get(&key).await?.is_none(),
        "get of a key never written is a miss",
    )?;
    check_eq(
        cx.store().get_many(std::slice::from_ref(&key)).await?.len(),
        1,
        "get_many of one missing key answers once",
    )
}

async fn set_then_get_returns_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "k");
    let outcome = cx.store().set(&key, b("v1"), SetOptions::new()).await?;
    check_eq(outcome, SetOutcome::Stored, "an unconditional set stores")?;
    check_eq(cx.value(&key).await?, Some(b("v1")), "get after set")?;
    // A second read sees the same value (reads do not consume).
    check_eq(cx.value(&key).await?, Some(b("v1")), "second get after set")
}

async fn set_overwrites_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "k");
    cx.store().set(&key, b("old"), SetOptions::new()).await?;
    let outcome = cx.store().set(&key, b("new"), SetOptions::new()).await?;
    check_eq(outcome, SetOutcome::Stored, "an overwrite stores")?;
    check_eq(cx.value(&key).await?, Some(b("new")), "get after overwrite")
}

async fn delete_removes_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "k");
    let other = cx.key_in("basic", "other");
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    cx.store().set(&other, b("o"), SetOptions::new()).await?;
    check(
        cx.store().delete(&key).await?,
        "delete of a live key returns true",
    )?;
    check(
        cx.store().get(&key).await?.is_none(),
        "get after delete is a miss",
    )?;
    check(
        !cx.store().delete(&key).await?,
        "a second delete returns false",
    )?;
    check_eq(
        cx.value(&other).await?,
        Some(b("o")),
        "delete leaves other keys",
    )
}

async fn delete_missing_is_false<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "never-written");
    check(
        !cx.store().delete(&key).await?,
        "delete of a missing key returns false",
    )?;
    check(
        cx.store().get(&key).await?.is_none(),
        "delete does not create the key",
    )
}

async fn exists_tracks_presence<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "k");
    check(!cx.store().exists(&key).await?, "exists before set")?;
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    check(cx.store().exists(&key).await?, "exists after set")?;
    cx.store().delete(&key).await?;
    check(!cx.store().exists(&key).await?, "exists after delete")
}

async fn empty_value_is_a_hit<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "empty");
    cx.store()
        .set(&key, Bytes::new(), SetOptions::new())
        .await?;
    check_eq(
        cx.value(&key).await?,
        Some(Bytes::new()),
        "an empty value reads back as an empty hit, not a miss",
    )
}

async fn binary_value_round_trips<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "binary");
    // Every byte value, 16 times over (4 KiB), including NUL, CR/LF and invalid UTF-8.
    let value: Bytes = (0..4096u32)
        .map(|i| (i % 256) as u8)
        .collect::<Vec<u8>>()
        .into();
    cx.store()
        .set(&key, value.clone(), SetOptions::new())
        .await?;
    let got = cx.value(&key).await?;
    check(
        got.as_ref() == Some(&value),
        "4 KiB of every byte value reads back unchanged",
    )
}

async fn unusual_ids_round_trip<S: Store>(cx: &Cx<S>) -> CaseResult {
    let ns = cx.ns("basic");
    let longest = "x".repeat(strata_core::key::DEFAULT_MAX_KEY_LEN);
    let ids: Vec<&str> = vec![
        "a:b:c",
        "with space",
        "ünïcødé ✓",
        "*?[]\\^-",
        "{hash}tag",
        "-",
        ".",
        "line\nbreak",
        &longest,
    ];
    for (i, id) in ids.iter().enumerate() {
        let key = cx.key(&ns, id);
        cx.store()
            .set(&key, b(&format!("value {i}")), SetOptions::new())
            .await?;
    }
    for (i, id) in ids.iter().enumerate() {
        let key = cx.key(&ns, id);
        let label = format!("id {:?}", truncate(id));
        check_eq(cx.value(&key).await?, Some(b(&format!("value {i}"))), label)?;
    }
    // Deleting the key with glob characters in its id removes exactly that key.
    check(
        cx.store().delete(&cx.key(&ns, "*?[]\\^-")).await?,
        "delete of the glob-like id",
    )?;
    for (i, id) in ids.iter().enumerate().filter(|(_, id)| **id != "*?[]\\^-") {
        let label = format!("id {:?} after deleting the glob-like id", truncate(id));
        check_eq(
            cx.value(&cx.key(&ns, id)).await?,
            Some(b(&format!("value {i}"))),
            label,
        )?;
    }
    Ok(())
}

fn truncate(id: &str) -> String {
    if id.len() > 24 {
        format!("{}… ({} bytes)", &id[..16], id.len())
    } else {
        id.to_owned()
    }
}

async fn get_now_agrees_with_get<S: Store>(cx: &Cx<S>) -> CaseResult {
    let local = cx.has(Capabilities::LOCAL);
    let key = cx.key_in("basic", "k");
    match cx.store().get_now(&key) {
        Now::Ready(answer) => check(answer.is_none(), "get_now of a missing key is Ready(None)")?,
        Now::Pending => check(!local, "a LOCAL store answers get_now of a miss with Ready")?,
    }
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    let via_get = cx.store().get(&key).await?;
    check_eq(
        via_get.as_ref().map(|e| e.value().clone()),
        Some(b("v")),
        "get after set",
    )?;
    match cx.store().get_now(&key) {
        Now::Ready(answer) => check_eq(answer, via_get.clone(), "get_now Ready equals get")?,
        Now::Pending => check(!local, "a LOCAL store answers get_now of a hit with Ready")?,
    }
    check_eq(
        cx.store().read(&key).await?,
        via_get,
        "StoreExt::read equals get",
    )?;
    cx.store().delete(&key).await?;
    match cx.store().get_now(&key) {
        Now::Ready(answer) => check(answer.is_none(), "get_now after delete is Ready(None)"),
        Now::Pending => check(
            !local,
            "a LOCAL store answers get_now after delete with Ready",
        ),
    }
}

/// `SetOptions::created_at` (a copy of a value written elsewhere, such as a promotion into
/// L1) is the entry's write time, not the time of the copy.
async fn a_copy_keeps_the_write_time_it_was_given<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("basic", "copy");
    let written = Timestamp::from_millis(1_600_000_000_000);
    cx.store()
        .set(&key, b("v"), SetOptions::new().created_at(written))
        .await?;
    let got = cx.store().get(&key).await?;
    check_eq(
        got.map(|e| e.meta().created_at),
        Some(written),
        "created_at of a value written with SetOptions::created_at",
    )
}

async fn entry_meta_records_codec_and_creation_time<S: Store>(cx: &Cx<S>) -> CaseResult {
    let wall_before = wall_now();
    let clock_before = cx.manual_now();
    let fingerprint = Fingerprint::named("ConformanceValue", 3);
    let cases = [
        (
            "json",
            SetOptions::new().codec(CodecId::Json),
            CodecId::Json,
            None,
        ),
        (
            "msgpack",
            SetOptions::new().codec(CodecId::MessagePack),
            CodecId::MessagePack,
            None,
        ),
        (
            "raw",
            SetOptions::new().codec(CodecId::Raw),
            CodecId::Raw,
            None,
        ),
        (
            "fingerprinted",
            SetOptions::new()
                .codec(CodecId::MessagePack)
                .fingerprint(Some(fingerprint)),
            CodecId::MessagePack,
            Some(fingerprint),
        ),
    ];
    for (id, opts, codec, fp) in cases {
        let key = cx.key_in("meta", id);
        cx.store().set(&key, b("v"), opts).await?;
        let Some(entry) = cx.store().get(&key).await? else {
            return check(false, format!("get of {key} after set is a hit"));
        };
        let meta = entry.meta();
        check_eq(meta.codec, codec, format!("Meta::codec of {id}"))?;
        check_eq(meta.fingerprint, fp, format!("Meta::fingerprint of {id}"))?;
        match clock_before {
            // The manual clock has not moved since the write: created_at is its time (to the
            // millisecond, for stores that keep milliseconds).
            Some(now) => check(
                meta.created_at <= now
                    && now.saturating_duration_since(meta.created_at) < Duration::from_millis(1),
                format!(
                    "Meta::created_at of {id}: got {:?}, want {now:?}",
                    meta.created_at
                ),
            )?,
            // Real time: within a second of the wall clock around the write.
            None => {
                let window = Duration::from_secs(1);
                let (lo, hi) = (wall_before, wall_now().saturating_add(window));
                check(
                    meta.created_at.saturating_add(window) >= lo && meta.created_at <= hi,
                    format!(
                        "Meta::created_at of {id}: got {:?}, want within 1 s of {lo:?}..{hi:?}",
                        meta.created_at
                    ),
                )?;
            }
        }
    }
    Ok(())
}

fn wall_now() -> Timestamp {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Timestamp::from_nanos(nanos)
}

async fn clear_removes_everything<S: Store>(cx: &Cx<S>) -> CaseResult {
    let keys = [
        cx.key_in("clear-a", "1"),
        cx.key_in("clear-a", "2"),
        cx.key_in("clear-b", "1"),
    ];
    for key in &keys {
        cx.store().set(key, b("v"), SetOptions::new()).await?;
    }
    check_eq(
        cx.store().clear().await?,
        3,
        "StoreExt::clear counts every entry",
    )?;
    for key in &keys {
        check(
            cx.store().get(key).await?.is_none(),
            format!("{key} after clear"),
        )?;
    }
    check_eq(cx.store().clear().await?, 0, "clear of an empty store")?;
    // Invalidation::all is the same operation, and the store keeps working after it.
    cx.store()
        .set(&keys[0], b("again"), SetOptions::new())
        .await?;
    check_eq(
        cx.store().invalidate(&Invalidation::all()).await?,
        1,
        "Invalidation::all counts the one entry",
    )?;
    check(
        cx.store().get(&keys[0]).await?.is_none(),
        "get after Invalidation::all",
    )?;
    cx.store()
        .set(&keys[1], b("after"), SetOptions::new())
        .await?;
    check_eq(
        cx.value(&keys[1]).await?,
        Some(b("after")),
        "a write after clear",
    )
}

async fn fresh_store_is_named_and_healthy<S: Store>(cx: &Cx<S>) -> CaseResult {
    let info = cx.store().info();
    check(!info.name.is_empty(), "StoreInfo::name is not empty")?;
    let health = cx.store().health().await;
    check_eq(
        health.status,
        HealthStatus::Healthy,
        "a fresh store's health",
    )?;
    check(!health.backend.is_empty(), "Health::backend is not empty")
}
