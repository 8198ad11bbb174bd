//! Tags: recorded on entries, invalidated together across namespaces.

use std::collections::BTreeSet;

use strata_core::{Invalidation, SetOptions, Store, Tag, Ttl};

use super::{Case, CaseResult, Cx, LONG_TTL, b, case, check, check_eq};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(invalidate_tag_removes_exactly_tagged_keys, TAGS),
        case!(invalidate_several_tags_removes_the_union, TAGS),
        case!(reset_without_tag_then_invalidate_keeps_key, TAGS),
        case!(invalidate_unused_tag_removes_nothing, TAGS),
        case!(invalidate_tag_of_deleted_key_counts_nothing, TAGS),
        case!(set_many_attaches_tags, TAGS),
        case!(entry_meta_records_tags, TAGS),
        case!(expire_keeps_tags, TAGS | TTL),
    ]
}

async fn invalidate_tag_removes_exactly_tagged_keys<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (t1, t2) = (cx.tag("t1"), cx.tag("t2"));
    let a1 = cx.key_in("tags-a", "1");
    let a2 = cx.key_in("tags-a", "2");
    let a3 = cx.key_in("tags-a", "3");
    let b1 = cx.key_in("tags-b", "1");
    let b4 = cx.key_in("tags-b", "4");
    let s = cx.store();
    s.set(&a1, b("v"), SetOptions::new().tag(t1.clone()))
        .await?;
    s.set(
        &a2,
        b("v"),
        SetOptions::new().tags([t1.clone(), t2.clone()]),
    )
    .await?;
    s.set(&a3, b("v"), SetOptions::new()).await?;
    s.set(&b1, b("v"), SetOptions::new().tag(t1.clone()))
        .await?;
    s.set(&b4, b("v"), SetOptions::new().tag(t2.clone()))
        .await?;
    let removed = s.invalidate(&Invalidation::tag(t1.clone())).await?;
    check_eq(
        removed,
        3,
        "invalidating t1 removes its three keys, in both namespaces",
    )?;
    check_eq(
        cx.present(&[&a1, &a2, &a3, &b1, &b4]).await?,
        vec![false, false, true, false, true],
        "presence of a1 a2 a3 b1 b4 after invalidating t1",
    )?;
    check_eq(
        s.invalidate(&Invalidation::tag(t1)).await?,
        0,
        "invalidating t1 again removes nothing",
    )?;
    check_eq(
        s.invalidate(&Invalidation::tag(t2)).await?,
        1,
        "t2 now has only b4",
    )?;
    check_eq(
        cx.present(&[&a3, &b4]).await?,
        vec![true, false],
        "presence of a3 b4 after invalidating t2",
    )
}

async fn invalidate_several_tags_removes_the_union<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (t1, t2, t3) = (cx.tag("t1"), cx.tag("t2"), cx.tag("t3"));
    let only1 = cx.key_in("tags-a", "only1");
    let both = cx.key_in("tags-a", "both");
    let only2 = cx.key_in("tags-b", "only2");
    let only3 = cx.key_in("tags-b", "only3");
    let none = cx.key_in("tags-b", "none");
    let s = cx.store();
    s.set(&only1, b("v"), SetOptions::new().tag(t1.clone()))
        .await?;
    s.set(
        &both,
        b("v"),
        SetOptions::new().tags([t1.clone(), t2.clone()]),
    )
    .await?;
    s.set(&only2, b("v"), SetOptions::new().tag(t2.clone()))
        .await?;
    s.set(&only3, b("v"), SetOptions::new().tag(t3)).await?;
    s.set(&none, b("v"), SetOptions::new()).await?;
    let removed = s.invalidate(&Invalidation::tags([t1, t2])).await?;
    check_eq(
        removed,
        3,
        "t1 or t2 selects three keys; the one with both counts once",
    )?;
    check_eq(
        cx.present(&[&only1, &both, &only2, &only3, &none]).await?,
        vec![false, false, false, true, true],
        "presence of only1 both only2 only3 none",
    )
}

async fn reset_without_tag_then_invalidate_keeps_key<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (t1, t2) = (cx.tag("t1"), cx.tag("t2"));
    let untagged = cx.key_in("tags", "untagged");
    let retagged = cx.key_in("tags", "retagged");
    let s = cx.store();
    s.set(&untagged, b("old"), SetOptions::new().tag(t1.clone()))
        .await?;
    s.set(&untagged, b("new"), SetOptions::new()).await?;
    s.set(&retagged, b("old"), SetOptions::new().tag(t1.clone()))
        .await?;
    s.set(&retagged, b("new"), SetOptions::new().tag(t2.clone()))
        .await?;
    check_eq(
        s.invalidate(&Invalidation::tag(t1)).await?,
        0,
        "the overwrites dropped t1, so invalidating it removes nothing",
    )?;
    check_eq(
        cx.value(&untagged).await?,
        Some(b("new")),
        "a key re-set without the tag",
    )?;
    check_eq(
        cx.value(&retagged).await?,
        Some(b("new")),
        "a key re-set with another tag",
    )?;
    check_eq(
        s.invalidate(&Invalidation::tag(t2)).await?,
        1,
        "the new tag still works",
    )?;
    check(
        s.get(&retagged).await?.is_none(),
        "the re-tagged key after invalidating its new tag",
    )
}

async fn invalidate_unused_tag_removes_nothing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("tags", "k");
    cx.store()
        .set(&key, b("v"), SetOptions::new().tag(cx.tag("used")))
        .await?;
    check_eq(
        cx.store()
            .invalidate(&Invalidation::tag(cx.tag("unused")))
            .await?,
        0,
        "invalidating a tag no entry carries",
    )?;
    check_eq(
        cx.store()
            .invalidate(&Invalidation::tags(Vec::<Tag>::new()))
            .await?,
        0,
        "invalidating an empty tag list",
    )?;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "an entry with another tag",
    )
}

async fn invalidate_tag_of_deleted_key_counts_nothing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let t = cx.tag("t");
    let deleted = cx.key_in("tags", "deleted");
    let live = cx.key_in("tags", "live");
    let s = cx.store();
    s.set(&deleted, b("v"), SetOptions::new().tag(t.clone()))
        .await?;
    s.set(&live, b("v"), SetOptions::new().tag(t.clone()))
        .await?;
    s.delete(&deleted).await?;
    check_eq(
        s.invalidate(&Invalidation::tag(t)).await?,
        1,
        "only the live tagged entry is counted",
    )?;
    check(
        s.get(&live).await?.is_none(),
        "the live tagged entry was removed",
    )
}

async fn set_many_attaches_tags<S: Store>(cx: &Cx<S>) -> CaseResult {
    let t = cx.tag("batch");
    let keys = [cx.key_in("tags-a", "1"), cx.key_in("tags-b", "2")];
    let other = cx.key_in("tags-a", "other");
    cx.store().set(&other, b("v"), SetOptions::new()).await?;
    let items = keys.iter().map(|k| (k.clone(), b("v"))).collect();
    cx.store()
        .set_many(items, SetOptions::new().tag(t.clone()))
        .await?;
    check_eq(
        cx.store().invalidate(&Invalidation::tag(t)).await?,
        2,
        "invalidating the batch's tag removes every item",
    )?;
    check_eq(
        cx.present(&[&keys[0], &keys[1], &other]).await?,
        vec![false, false, true],
        "presence of the two items and an untagged key",
    )
}

async fn entry_meta_records_tags<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (t1, t2) = (cx.tag("t1"), cx.tag("t2"));
    let key = cx.key_in("tags", "k");
    cx.store()
        .set(
            &key,
            b("v"),
            SetOptions::new().tags([t1.clone(), t2.clone()]),
        )
        .await?;
    let Some(entry) = cx.store().get(&key).await? else {
        return check(false, "get after a tagged set is a hit");
    };
    let got: BTreeSet<Tag> = entry.meta().tags.iter().cloned().collect();
    check_eq(got, BTreeSet::from([t1.clone(), t2]), "Meta::tags")?;
    check(entry.meta().has_tag(&t1), "Meta::has_tag")?;
    let plain = cx.key_in("tags", "plain");
    cx.store().set(&plain, b("v"), SetOptions::new()).await?;
    let Some(entry) = cx.store().get(&plain).await? else {
        return check(false, "get after an untagged set is a hit");
    };
    check(
        entry.meta().tags.is_empty(),
        "an untagged entry has no tags",
    )
}

async fn expire_keeps_tags<S: Store>(cx: &Cx<S>) -> CaseResult {
    let t = cx.tag("t");
    let key = cx.key_in("tags", "k");
    cx.store()
        .set(&key, b("v"), SetOptions::new().tag(t.clone()))
        .await?;
    check(
        cx.store().expire(&key, Ttl::After(LONG_TTL)).await?,
        "expire of a tagged key",
    )?;
    let Some(entry) = cx.store().get(&key).await? else {
        return check(false, "get after expire is a hit");
    };
    check(
        entry.meta().has_tag(&t),
        format!("tags after expire: {:?}", entry.meta().tags),
    )?;
    check_eq(
        cx.store().invalidate(&Invalidation::tag(t)).await?,
        1,
        "invalidating the tag after expire",
    )?;
    check(
        cx.store().get(&key).await?.is_none(),
        "the key after invalidating its tag",
    )
}
