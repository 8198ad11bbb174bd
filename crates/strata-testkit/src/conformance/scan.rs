//! `scan` (through `StoreExt::keys`): glob semantics, namespace scoping, expiry.

use std::collections::BTreeSet;

use strata_core::{Key, Namespace, Pattern, SetOptions, Store, StoreExt};

use super::{Case, CaseResult, Cx, SHORT_TTL, b, case, check, check_eq};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(scan_star_lists_the_namespace_only, SCAN),
        case!(scan_question_mark_matches_one_byte, SCAN),
        case!(scan_class_matches_a_set_or_range, SCAN),
        case!(scan_escape_matches_literally, SCAN),
        case!(scan_without_match_is_empty, SCAN),
        case!(scan_skips_deleted_keys, SCAN),
        case!(scan_skips_expired_keys, SCAN | TTL),
        case!(scan_lists_many_keys, SCAN),
    ]
}

/// Ids written in the scanned namespace; the same ids (and a few more) go to a second one.
const IDS: &[&str] = &[
    "user:1", "user:2", "user:10", "user:a", "admin:1", "a", "b", "c", "d", "a*b", "a?b", "axb",
    "a[b", "ab",
];

async fn fill<S: Store>(cx: &Cx<S>) -> Result<(Namespace, Namespace), strata_core::Error> {
    let ns = cx.ns("scan");
    let other = cx.ns("scan-other");
    for id in IDS {
        cx.store()
            .set(&cx.key(&ns, id), b("v"), SetOptions::new())
            .await?;
        cx.store()
            .set(&cx.key(&other, id), b("v"), SetOptions::new())
            .await?;
    }
    cx.store()
        .set(&cx.key(&other, "only-in-other"), b("v"), SetOptions::new())
        .await?;
    Ok((ns, other))
}

/// The ids `scan` streams for `pattern`, deduplicated (a key may be streamed more than once),
/// after checking every key is in `ns`.
async fn ids<S: Store>(
    cx: &Cx<S>,
    ns: &Namespace,
    pattern: &str,
) -> Result<BTreeSet<String>, super::Failure> {
    let pattern = Pattern::new(pattern)?;
    let keys: Vec<Key> = cx.store().keys(ns, &pattern).await?;
    for key in &keys {
        check_eq(
            key.namespace(),
            ns,
            format!("namespace of {key} scanned with {pattern}"),
        )?;
    }
    Ok(keys.iter().map(|k| k.id().to_owned()).collect())
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

async fn scan_star_lists_the_namespace_only<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns, other) = fill(cx).await?;
    check_eq(
        ids(cx, &ns, "*").await?,
        set(IDS),
        "scan * lists every id of the namespace",
    )?;
    let mut in_other = set(IDS);
    in_other.insert("only-in-other".to_owned());
    check_eq(
        ids(cx, &other, "*").await?,
        in_other,
        "scan * of the other namespace",
    )?;
    check_eq(
        ids(cx, &ns, "user:*").await?,
        set(&["user:1", "user:2", "user:10", "user:a"]),
        "scan user:*",
    )?;
    check_eq(
        ids(cx, &ns, "*:1").await?,
        set(&["user:1", "admin:1"]),
        "scan *:1",
    )
}

async fn scan_question_mark_matches_one_byte<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns, _) = fill(cx).await?;
    check_eq(
        ids(cx, &ns, "user:?").await?,
        set(&["user:1", "user:2", "user:a"]),
        "scan user:? (one byte, so not user:10)",
    )?;
    check_eq(
        ids(cx, &ns, "?").await?,
        set(&["a", "b", "c", "d"]),
        "scan ?",
    )?;
    check_eq(
        ids(cx, &ns, "a?b").await?,
        set(&["a*b", "a?b", "axb", "a[b"]),
        "scan a?b",
    )
}

async fn scan_class_matches_a_set_or_range<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns, _) = fill(cx).await?;
    check_eq(
        ids(cx, &ns, "[a-c]").await?,
        set(&["a", "b", "c"]),
        "scan [a-c]",
    )?;
    check_eq(ids(cx, &ns, "[bd]").await?, set(&["b", "d"]), "scan [bd]")?;
    check_eq(ids(cx, &ns, "[^a-c]").await?, set(&["d"]), "scan [^a-c]")?;
    check_eq(
        ids(cx, &ns, "user:[0-9]*").await?,
        set(&["user:1", "user:2", "user:10"]),
        "scan user:[0-9]*",
    )
}

async fn scan_escape_matches_literally<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns, _) = fill(cx).await?;
    check_eq(ids(cx, &ns, "a\\*b").await?, set(&["a*b"]), "scan a\\*b")?;
    check_eq(ids(cx, &ns, "a\\?b").await?, set(&["a?b"]), "scan a\\?b")?;
    check_eq(ids(cx, &ns, "a\\[b").await?, set(&["a[b"]), "scan a\\[b")?;
    check_eq(
        ids(cx, &ns, Pattern::literal("a*b").as_str()).await?,
        set(&["a*b"]),
        "scan Pattern::literal(\"a*b\")",
    )
}

async fn scan_without_match_is_empty<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns, _) = fill(cx).await?;
    check_eq(
        ids(cx, &ns, "nothing-*").await?,
        set(&[]),
        "scan with no matching id",
    )?;
    check_eq(
        ids(cx, &ns, "only-in-other").await?,
        set(&[]),
        "an id of another namespace",
    )?;
    let empty = cx.ns("scan-empty");
    check_eq(
        ids(cx, &empty, "*").await?,
        set(&[]),
        "scan of a namespace never written",
    )
}

async fn scan_skips_deleted_keys<S: Store>(cx: &Cx<S>) -> CaseResult {
    let (ns, _) = fill(cx).await?;
    check(
        cx.store().delete(&cx.key(&ns, "user:2")).await?,
        "delete user:2",
    )?;
    check_eq(
        ids(cx, &ns, "user:*").await?,
        set(&["user:1", "user:10", "user:a"]),
        "scan after delete",
    )
}

async fn scan_skips_expired_keys<S: Store>(cx: &Cx<S>) -> CaseResult {
    let ns = cx.ns("scan");
    for id in ["live-1", "live-2"] {
        cx.store()
            .set(&cx.key(&ns, id), b("v"), SetOptions::new())
            .await?;
    }
    for id in ["short-1", "short-2"] {
        cx.store()
            .set(&cx.key(&ns, id), b("v"), SetOptions::new().ttl(SHORT_TTL))
            .await?;
    }
    check_eq(
        ids(cx, &ns, "*").await?,
        set(&["live-1", "live-2", "short-1", "short-2"]),
        "scan before expiry",
    )?;
    // Wait out the 300 ms TTL of the short-lived keys.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        ids(cx, &ns, "*").await?,
        set(&["live-1", "live-2"]),
        "scan after expiry",
    )
}

async fn scan_lists_many_keys<S: Store>(cx: &Cx<S>) -> CaseResult {
    // Enough keys that a backend scanning in pages (Redis SCAN) needs several of them.
    let ns = cx.ns("scan-many");
    let items: Vec<(Key, bytes::Bytes)> = (0..300)
        .map(|i| (cx.key(&ns, &format!("item-{i:03}")), b("v")))
        .collect();
    let want: BTreeSet<String> = items.iter().map(|(k, _)| k.id().to_owned()).collect();
    cx.store().set_many(items, SetOptions::new()).await?;
    check_eq(ids(cx, &ns, "*").await?, want, "scan * of 300 keys")?;
    let tens: BTreeSet<String> = (0..30).map(|i| format!("item-{i:02}0")).collect();
    check_eq(
        ids(cx, &ns, "item-??0").await?,
        tens,
        "scan item-??0 of 300 keys",
    )
}
