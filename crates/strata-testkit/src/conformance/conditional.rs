//! Conditional writes: `only_if_absent` (NX) and `only_if_present` (XX).

use std::time::Duration;

use futures_util::future::join_all;
use strata_core::{Capabilities, Invalidation, SetOptions, SetOutcome, Store, TtlState};

use super::{Case, CaseResult, Cx, LONG_TTL, SHORT_TTL, b, case, check, check_eq, check_remaining};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(set_if_absent_stores_when_missing, CONDITIONAL_SET),
        case!(set_if_absent_keeps_existing_value, CONDITIONAL_SET),
        case!(set_if_present_skips_missing_key, CONDITIONAL_SET),
        case!(set_if_present_replaces_existing_value, CONDITIONAL_SET),
        case!(set_if_present_applies_new_ttl, CONDITIONAL_SET | TTL),
        case!(concurrent_set_if_absent_has_one_winner, CONDITIONAL_SET),
        case!(set_if_absent_on_expired_key_stores, CONDITIONAL_SET | TTL),
        case!(
            set_if_present_on_expired_key_is_not_stored,
            CONDITIONAL_SET | TTL
        ),
    ]
}

async fn set_if_absent_stores_when_missing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    let outcome = cx
        .store()
        .set(&key, b("first"), SetOptions::new().only_if_absent())
        .await?;
    check_eq(outcome, SetOutcome::Stored, "NX on a missing key")?;
    check_eq(
        cx.value(&key).await?,
        Some(b("first")),
        "value after NX stored",
    )
}

async fn set_if_absent_keeps_existing_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    cx.store().set(&key, b("first"), SetOptions::new()).await?;
    let with_ttl = cx.has(Capabilities::TTL);
    let with_tags = cx.has(Capabilities::TAGS);
    let mut opts = SetOptions::new().only_if_absent();
    if with_ttl {
        opts = opts.ttl(SHORT_TTL);
    }
    if with_tags {
        opts = opts.tag(cx.tag("refused"));
    }
    let outcome = cx.store().set(&key, b("second"), opts).await?;
    check_eq(outcome, SetOutcome::NotStored, "NX on a present key")?;
    check_eq(
        cx.value(&key).await?,
        Some(b("first")),
        "value after NX not stored",
    )?;
    if with_ttl {
        // The refused write's TTL was not applied either.
        check_eq(
            cx.store().ttl(&key).await?,
            TtlState::NoExpiry,
            "ttl after NX not stored",
        )?;
    }
    if with_tags {
        // Nor its tag: invalidating the tag leaves the value.
        let removed = cx
            .store()
            .invalidate(&Invalidation::tag(cx.tag("refused")))
            .await?;
        check_eq(removed, 0, "invalidating the tag of a refused NX write")?;
        check_eq(
            cx.value(&key).await?,
            Some(b("first")),
            "value after that invalidation",
        )?;
    }
    Ok(())
}

async fn concurrent_set_if_absent_has_one_winner<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "lock");
    // Ten NX writes of different values in flight at once: exactly one may win.
    let writes = (0..10).map(|i| {
        cx.store().set(
            &key,
            b(&format!("writer {i}")),
            SetOptions::new().only_if_absent(),
        )
    });
    let mut winners = Vec::new();
    for (i, outcome) in join_all(writes).await.into_iter().enumerate() {
        if outcome? == SetOutcome::Stored {
            winners.push(i);
        }
    }
    check_eq(
        winners.len(),
        1,
        format!("NX writers that stored (got {winners:?})"),
    )?;
    check_eq(
        cx.value(&key).await?,
        Some(b(&format!("writer {}", winners[0]))),
        "the stored value is the winner's",
    )
}

async fn set_if_present_skips_missing_key<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    let outcome = cx
        .store()
        .set(&key, b("v"), SetOptions::new().only_if_present())
        .await?;
    check_eq(outcome, SetOutcome::NotStored, "XX on a missing key")?;
    check(
        cx.store().get(&key).await?.is_none(),
        "XX on a missing key stores nothing",
    )
}

async fn set_if_present_replaces_existing_value<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    cx.store().set(&key, b("old"), SetOptions::new()).await?;
    let outcome = cx
        .store()
        .set(&key, b("new"), SetOptions::new().only_if_present())
        .await?;
    check_eq(outcome, SetOutcome::Stored, "XX on a present key")?;
    check_eq(
        cx.value(&key).await?,
        Some(b("new")),
        "value after XX stored",
    )
}

async fn set_if_present_applies_new_ttl<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    cx.store().set(&key, b("old"), SetOptions::new()).await?;
    let outcome = cx
        .store()
        .set(
            &key,
            b("new"),
            SetOptions::new().only_if_present().ttl(LONG_TTL),
        )
        .await?;
    check_eq(
        outcome,
        SetOutcome::Stored,
        "XX with a TTL on a present key",
    )?;
    let state = cx.store().ttl(&key).await?;
    check_remaining(state, Duration::ZERO, LONG_TTL, "ttl after XX with a TTL")
}

async fn set_if_absent_on_expired_key_stores<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    cx.store()
        .set(&key, b("old"), SetOptions::new().ttl(SHORT_TTL))
        .await?;
    // Wait out the 300 ms TTL: an expired key counts as absent.
    cx.pass_beyond(SHORT_TTL).await;
    let outcome = cx
        .store()
        .set(&key, b("new"), SetOptions::new().only_if_absent())
        .await?;
    check_eq(outcome, SetOutcome::Stored, "NX on an expired key")?;
    check_eq(
        cx.value(&key).await?,
        Some(b("new")),
        "value after NX on an expired key",
    )?;
    check_eq(
        cx.store().ttl(&key).await?,
        TtlState::NoExpiry,
        "the new value does not inherit the expired TTL",
    )
}

async fn set_if_present_on_expired_key_is_not_stored<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("cond", "k");
    cx.store()
        .set(&key, b("old"), SetOptions::new().ttl(SHORT_TTL))
        .await?;
    // Wait out the 300 ms TTL: an expired key is not present.
    cx.pass_beyond(SHORT_TTL).await;
    let outcome = cx
        .store()
        .set(&key, b("new"), SetOptions::new().only_if_present())
        .await?;
    check_eq(outcome, SetOutcome::NotStored, "XX on an expired key")?;
    check(
        cx.store().get(&key).await?.is_none(),
        "XX on an expired key stores nothing",
    )
}
