//! Time to live, `expire`, `ttl`, expiry on read, and time to idle.

use std::time::Duration;

use strata_core::{Now, SetOptions, Store, StoreExt, Timestamp, Ttl, TtlState};

use super::{Case, CaseResult, Cx, LONG_TTL, SHORT_TTL, b, case, check, check_eq, check_remaining};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(ttl_of_missing_key_is_missing, TTL),
        case!(ttl_without_expiry_is_no_expiry, TTL),
        case!(ttl_reports_remaining_time, TTL),
        case!(key_lives_until_its_ttl, TTL),
        case!(expired_key_reads_as_missing, TTL),
        case!(delete_of_expired_key_is_false, TTL),
        case!(expire_sets_ttl_on_live_key, TTL),
        case!(expire_replaces_existing_ttl, TTL),
        case!(expire_on_missing_key_is_false, TTL),
        case!(expire_on_expired_key_is_false, TTL),
        case!(expire_never_persists_key, TTL),
        case!(overwrite_without_ttl_clears_old_ttl, TTL),
        case!(overwrite_with_new_ttl_replaces_old_ttl, TTL),
        case!(entry_meta_records_expiry, TTL),
        case!(expire_updates_entry_expiry, TTL),
        case!(time_to_idle_expires_idle_entry, TIME_TO_IDLE),
        case!(time_to_idle_reads_keep_entry_alive, TIME_TO_IDLE),
        case!(
            ttl_applies_to_entries_kept_alive_by_reads,
            TTL | TIME_TO_IDLE
        ),
    ]
}

async fn ttl_of_missing_key_is_missing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "never-written");
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::Missing,
        "ttl of a missing key",
    )
}

async fn ttl_without_expiry_is_no_expiry<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::NoExpiry,
        "ttl of a key set without TTL",
    )?;
    let never = cx.key_in("ttl", "never");
    cx.store()
        .set(&never, b("v"), SetOptions::new().no_expiry())
        .await?;
    check_eq(
        cx.store().ttl(&never).await?,
        TtlState::NoExpiry,
        "ttl of a key set with Ttl::Never",
    )
}

async fn ttl_reports_remaining_time<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("v"), LONG_TTL).await?;
    let first = cx.store().ttl(&key).await?;
    // Half the TTL is a lenient lower bound for real time; a manual clock has not moved.
    check_remaining(first, LONG_TTL / 2, LONG_TTL, "ttl right after set")?;
    if cx.is_manual() {
        check_eq(
            first,
            TtlState::Remaining(LONG_TTL),
            "ttl right after set, clock unmoved",
        )?;
    }
    // Let 200 ms pass: the remaining time must shrink by at least that much.
    let step = Duration::from_millis(200);
    cx.pass(step).await;
    let second = cx.store().ttl(&key).await?;
    check_remaining(
        second,
        LONG_TTL / 2,
        LONG_TTL - step,
        "ttl 200 ms after set",
    )
}

async fn key_lives_until_its_ttl<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    let ttl = Duration::from_secs(1);
    cx.store().set_with_ttl(&key, b("v"), ttl).await?;
    // A manual clock goes to one millisecond before the deadline; in real time, 100 ms is
    // well inside the 1 s TTL, so the key must still be live after that sleep.
    let almost = if cx.is_manual() {
        ttl - Duration::from_millis(1)
    } else {
        Duration::from_millis(100)
    };
    cx.pass(almost).await;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "get just before the TTL runs out",
    )?;
    check(
        cx.store().exists(&key).await?,
        "exists just before the TTL runs out",
    )?;
    // Wait out the rest of the TTL.
    cx.pass_beyond(ttl - almost).await;
    check(
        cx.store().get(&key).await?.is_none(),
        "get after the TTL ran out",
    )
}

async fn expired_key_reads_as_missing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    let keep = cx.key_in("ttl", "keep");
    cx.store().set_with_ttl(&key, b("v"), SHORT_TTL).await?;
    cx.store().set(&keep, b("keep"), SetOptions::new()).await?;
    check(
        cx.store().exists(&key).await?,
        "exists before the TTL runs out",
    )?;
    // Wait out the 300 ms TTL.
    cx.pass_beyond(SHORT_TTL).await;
    check(cx.store().get(&key).await?.is_none(), "get after expiry")?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::Missing,
        "ttl after expiry",
    )?;
    check(!cx.store().exists(&key).await?, "exists after expiry")?;
    let many = cx.store().get_many(&[key.clone(), keep.clone()]).await?;
    check(many[0].is_none(), "get_many after expiry")?;
    check_eq(cx.value(&keep).await?, Some(b("keep")), "a key without TTL")?;
    match cx.store().get_now(&key) {
        Now::Ready(answer) => check(answer.is_none(), "get_now after expiry"),
        Now::Pending => Ok(()),
    }
}

async fn delete_of_expired_key_is_false<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("v"), SHORT_TTL).await?;
    // Wait out the 300 ms TTL.
    cx.pass_beyond(SHORT_TTL).await;
    check(
        !cx.store().delete(&key).await?,
        "delete of an expired key returns false (no live value was removed)",
    )
}

async fn expire_sets_ttl_on_live_key<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    check(
        cx.store().expire(&key, Ttl::After(SHORT_TTL)).await?,
        "expire of a live key",
    )?;
    let state = cx.store().ttl(&key).await?;
    check_remaining(state, Duration::ZERO, SHORT_TTL, "ttl after expire")?;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "expire keeps the value",
    )?;
    // Wait out the 300 ms TTL set by expire.
    cx.pass_beyond(SHORT_TTL).await;
    check(
        cx.store().get(&key).await?.is_none(),
        "get after the expire TTL ran out",
    )
}

async fn expire_replaces_existing_ttl<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("v"), SHORT_TTL).await?;
    check(
        cx.store().expire(&key, Ttl::After(LONG_TTL)).await?,
        "expire of a live key",
    )?;
    // Let the original 300 ms TTL pass: the longer one set by expire now applies.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "get after the old TTL would have run out",
    )?;
    let state = cx.store().ttl(&key).await?;
    check_remaining(state, SHORT_TTL, LONG_TTL, "ttl after extending it")
}

async fn expire_on_missing_key_is_false<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "never-written");
    check(
        !cx.store().expire(&key, Ttl::After(LONG_TTL)).await?,
        "expire of a missing key",
    )?;
    check(
        !cx.store().expire(&key, Ttl::Never).await?,
        "expire(Never) of a missing key",
    )?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::Missing,
        "expire does not create the key",
    )
}

async fn expire_on_expired_key_is_false<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("v"), SHORT_TTL).await?;
    // Wait out the 300 ms TTL: the key is gone and expire cannot revive it.
    cx.pass_beyond(SHORT_TTL).await;
    check(
        !cx.store().expire(&key, Ttl::After(LONG_TTL)).await?,
        "expire of an expired key",
    )?;
    check(
        cx.store().get(&key).await?.is_none(),
        "expire did not revive the key",
    )
}

async fn expire_never_persists_key<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("v"), SHORT_TTL).await?;
    check(
        cx.store().expire(&key, Ttl::Never).await?,
        "expire(Never) of a live key",
    )?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::NoExpiry,
        "ttl after expire(Never)",
    )?;
    // Let the original 300 ms TTL pass: the key must outlive it.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "get after the old TTL would have run out",
    )
}

async fn overwrite_without_ttl_clears_old_ttl<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("old"), SHORT_TTL).await?;
    cx.store().set(&key, b("new"), SetOptions::new()).await?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::NoExpiry,
        "a set without TTL removes the old TTL (SET semantics)",
    )?;
    // Let the old 300 ms TTL pass: the new value must outlive it.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        cx.value(&key).await?,
        Some(b("new")),
        "get after the old TTL would have run out",
    )
}

async fn overwrite_with_new_ttl_replaces_old_ttl<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("old"), SHORT_TTL).await?;
    cx.store().set_with_ttl(&key, b("new"), LONG_TTL).await?;
    let state = cx.store().ttl(&key).await?;
    check_remaining(
        state,
        SHORT_TTL,
        LONG_TTL,
        "ttl after overwriting with a longer TTL",
    )?;
    // Let the old 300 ms TTL pass: the new value lives by its own TTL.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        cx.value(&key).await?,
        Some(b("new")),
        "get after the old TTL would have run out",
    )
}

/// The tolerance for timestamps a store computes: exact to the millisecond on a manual clock,
/// one second in real time.
fn tolerance<S: Store>(cx: &Cx<S>) -> Duration {
    if cx.is_manual() {
        Duration::from_millis(1)
    } else {
        Duration::from_secs(1)
    }
}

#[track_caller]
fn check_near(got: Timestamp, want: Timestamp, tolerance: Duration, what: &str) -> CaseResult {
    let diff = if got > want {
        got.saturating_duration_since(want)
    } else {
        want.saturating_duration_since(got)
    };
    check(
        diff <= tolerance,
        format!("{what}: got {got:?}, want {want:?} within {tolerance:?}"),
    )
}

async fn entry_meta_records_expiry<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set_with_ttl(&key, b("v"), LONG_TTL).await?;
    let Some(entry) = cx.store().get(&key).await? else {
        return check(false, "get after set with TTL is a hit");
    };
    let meta = entry.meta();
    let Some(logical) = meta.logical_expiry else {
        return check(
            false,
            format!("logical_expiry of an entry with a TTL is set: {meta:?}"),
        );
    };
    let Some(physical) = meta.physical_expiry else {
        return check(
            false,
            format!("physical_expiry of an entry with a TTL is set: {meta:?}"),
        );
    };
    check(
        physical >= logical,
        format!("physical expiry not before logical: {meta:?}"),
    )?;
    check_near(
        logical,
        meta.created_at.saturating_add(LONG_TTL),
        tolerance(cx),
        "logical_expiry is created_at + ttl",
    )?;
    let plain = cx.key_in("ttl", "plain");
    cx.store().set(&plain, b("v"), SetOptions::new()).await?;
    let Some(entry) = cx.store().get(&plain).await? else {
        return check(false, "get after set is a hit");
    };
    check_eq(
        entry.meta().logical_expiry,
        None,
        "logical_expiry without TTL",
    )?;
    check_eq(
        entry.meta().physical_expiry,
        None,
        "physical_expiry without TTL",
    )
}

async fn expire_updates_entry_expiry<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("ttl", "k");
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    let before = cx.manual_now();
    cx.store().expire(&key, Ttl::After(LONG_TTL)).await?;
    let Some(entry) = cx.store().get(&key).await? else {
        return check(false, "get after expire is a hit");
    };
    let Some(logical) = entry.meta().logical_expiry else {
        return check(
            false,
            format!(
                "logical_expiry after expire(60s) is set: {:?}",
                entry.meta()
            ),
        );
    };
    if let Some(now) = before {
        check_near(
            logical,
            now.saturating_add(LONG_TTL),
            tolerance(cx),
            "expiry after expire",
        )?;
    }
    cx.store().expire(&key, Ttl::Never).await?;
    let Some(entry) = cx.store().get(&key).await? else {
        return check(false, "get after expire(Never) is a hit");
    };
    check_eq(
        entry.meta().logical_expiry,
        None,
        "logical_expiry after expire(Never)",
    )?;
    check_eq(
        entry.meta().physical_expiry,
        None,
        "physical_expiry after expire(Never)",
    )
}

async fn time_to_idle_expires_idle_entry<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("tti", "k");
    cx.store()
        .set(&key, b("v"), SetOptions::new().tti(SHORT_TTL))
        .await?;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "get right after set with tti",
    )?;
    // Stay idle past the 300 ms time to idle.
    cx.pass_beyond(SHORT_TTL).await;
    check(
        cx.store().get(&key).await?.is_none(),
        "get after idling past the tti",
    )
}

async fn time_to_idle_reads_keep_entry_alive<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("tti", "k");
    let tti = Duration::from_secs(1);
    let step = Duration::from_millis(600);
    cx.store()
        .set(&key, b("v"), SetOptions::new().tti(tti))
        .await?;
    // Read every 600 ms, inside the 1 s idle window (400 ms of margin in real time): each read
    // restarts the window, so the entry outlives its tti counted from the write.
    for round in 1..=2 {
        cx.pass(step).await;
        check_eq(
            cx.value(&key).await?,
            Some(b("v")),
            format!("get {round} × 600 ms after set, reading in between"),
        )?;
    }
    // Now stay idle past the 1 s window.
    cx.pass_beyond(tti).await;
    check(
        cx.store().get(&key).await?.is_none(),
        "get after idling past the tti",
    )
}

async fn ttl_applies_to_entries_kept_alive_by_reads<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("tti", "k");
    let ttl = Duration::from_millis(1200);
    let tti = Duration::from_millis(800);
    let step = Duration::from_millis(400);
    cx.store()
        .set(&key, b("v"), SetOptions::new().ttl(ttl).tti(tti))
        .await?;
    // Read every 400 ms, inside the 800 ms idle window (400 ms of margin in real time), so
    // idleness never expires the entry.
    for round in 1..=2 {
        cx.pass(step).await;
        check_eq(
            cx.value(&key).await?,
            Some(b("v")),
            format!("get {round} × 400 ms after set"),
        )?;
    }
    // Pass the 1.2 s TTL (800 ms are gone) while staying inside the idle window.
    cx.pass_beyond(ttl - 2 * step).await;
    check(
        cx.store().get(&key).await?.is_none(),
        "get after the TTL ran out, although reads kept the entry from idling",
    )
}
