//! Namespaces are independent: the same id in two namespaces is two entries, and operations on
//! one namespace never reach another, even one whose name starts with the first's.

use std::collections::BTreeSet;

use strata_core::{Invalidation, Namespace, Pattern, SetOptions, Store, StoreExt};

use super::{Case, CaseResult, Cx, b, case, check, check_eq};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(same_id_in_two_namespaces_is_independent),
        case!(invalidate_namespace_leaves_same_ids_elsewhere, CLEAR),
        case!(scan_keeps_namespaces_sharing_a_prefix_apart, SCAN),
        case!(
            invalidate_namespace_keeps_namespaces_sharing_a_prefix_apart,
            CLEAR
        ),
    ]
}

/// The namespace `<name>-<token>` and one whose name extends it (`<name>-<token>x`), which a
/// backend matching keys by prefix would confuse with it.
fn prefix_pair<S: Store>(cx: &Cx<S>) -> (Namespace, Namespace) {
    let short = cx.ns("iso");
    let long =
        Namespace::new(format!("{short}x")).unwrap_or_else(|e| panic!("namespace {short}x: {e}"));
    (short, long)
}

async fn same_id_in_two_namespaces_is_independent<S: Store>(cx: &Cx<S>) -> CaseResult {
    let a = cx.key_in("iso-a", "shared");
    let c = cx.key_in("iso-b", "shared");
    cx.store().set(&a, b("in a"), SetOptions::new()).await?;
    check(
        cx.store().get(&c).await?.is_none(),
        "the id in b before b was written",
    )?;
    cx.store().set(&c, b("in b"), SetOptions::new()).await?;
    check_eq(cx.value(&a).await?, Some(b("in a")), "the id in a")?;
    check_eq(cx.value(&c).await?, Some(b("in b")), "the id in b")?;
    cx.store().set(&a, b("a again"), SetOptions::new()).await?;
    check_eq(
        cx.value(&c).await?,
        Some(b("in b")),
        "b after overwriting a",
    )?;
    check(cx.store().delete(&a).await?, "delete of the id in a")?;
    check_eq(cx.value(&c).await?, Some(b("in b")), "b after deleting a")
}

async fn invalidate_namespace_leaves_same_ids_elsewhere<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns_a, ns_b) = (cx.ns("iso-a"), cx.ns("iso-b"));
    for id in ["1", "2", "3"] {
        cx.store()
            .set(&cx.key(&ns_a, id), b("a"), SetOptions::new())
            .await?;
        cx.store()
            .set(&cx.key(&ns_b, id), b("b"), SetOptions::new())
            .await?;
    }
    check_eq(
        cx.store()
            .invalidate(&Invalidation::namespace(ns_a))
            .await?,
        3,
        "invalidating namespace a",
    )?;
    for id in ["1", "2", "3"] {
        check(
            cx.store().get(&cx.key(&ns_a, id)).await?.is_none(),
            format!("a:{id}"),
        )?;
        check_eq(
            cx.value(&cx.key(&ns_b, id)).await?,
            Some(b("b")),
            format!("b:{id}"),
        )?;
    }
    Ok(())
}

async fn scan_keeps_namespaces_sharing_a_prefix_apart<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (short, long) = prefix_pair(cx);
    for id in ["1", "2"] {
        cx.store()
            .set(&cx.key(&short, id), b("s"), SetOptions::new())
            .await?;
    }
    for id in ["1", "3", "x:1"] {
        cx.store()
            .set(&cx.key(&long, id), b("l"), SetOptions::new())
            .await?;
    }
    let ids: BTreeSet<String> = cx
        .store()
        .keys(&short, &Pattern::all())
        .await?
        .into_iter()
        .map(|k| k.id().to_owned())
        .collect();
    check_eq(
        ids,
        BTreeSet::from(["1".to_owned(), "2".to_owned()]),
        format!("scan * of {short} (not {long})"),
    )?;
    let removed = cx
        .store()
        .invalidate(&Invalidation::pattern(short, Pattern::all()))
        .await?;
    check_eq(removed, 2, format!("pattern invalidation of {short}:*"))?;
    for id in ["1", "3", "x:1"] {
        let key = cx.key(&long, id);
        check_eq(
            cx.value(&key).await?,
            Some(b("l")),
            format!("{key} after {short}:*"),
        )?;
    }
    Ok(())
}

async fn invalidate_namespace_keeps_namespaces_sharing_a_prefix_apart<S: Store>(
    cx: &Cx<S>,
) -> CaseResult {
    let (short, long) = prefix_pair(cx);
    cx.store()
        .set(&cx.key(&short, "1"), b("s"), SetOptions::new())
        .await?;
    cx.store()
        .set(&cx.key(&long, "1"), b("l"), SetOptions::new())
        .await?;
    cx.store()
        .set(&cx.key(&long, "x:1"), b("l"), SetOptions::new())
        .await?;
    check_eq(
        cx.store()
            .invalidate(&Invalidation::namespace(short))
            .await?,
        1,
        format!("invalidating namespace {short}"),
    )?;
    check_eq(
        cx.present(&[
            &cx.key(&short, "1"),
            &cx.key(&long, "1"),
            &cx.key(&long, "x:1"),
        ])
        .await?,
        vec![false, true, true],
        format!("presence of {short}:1, {long}:1, {long}:x:1"),
    )
}
