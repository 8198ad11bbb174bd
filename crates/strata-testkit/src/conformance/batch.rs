//! `get_many` and `set_many`.

use bytes::Bytes;
use std::time::Duration;

use strata_core::{Entry, Key, SetOptions, Store};

use super::{Case, CaseResult, Cx, SHORT_TTL, b, case, check, check_eq, check_remaining};

pub(crate) fn cases<S: Store>() -> Vec<Case<S>> {
    vec![
        case!(get_many_keeps_request_order),
        case!(get_many_of_nothing_is_empty),
        case!(get_many_of_many_keys_keeps_order),
        case!(set_many_then_get_many),
        case!(set_many_of_nothing_is_ok),
        case!(set_many_overwrites_existing),
        case!(set_many_applies_ttl_to_every_item, TTL),
        case!(set_many_if_absent_applies_per_key, CONDITIONAL_SET),
    ]
}

fn values(entries: Vec<Option<Entry>>) -> Vec<Option<Bytes>> {
    entries
        .into_iter()
        .map(|e| e.map(|e| e.value().clone()))
        .collect()
}

async fn get_many_keeps_request_order<S: Store>(cx: &Cx<S>) -> CaseResult {
    let a = cx.key_in("batch", "a");
    let missing = cx.key_in("batch", "missing");
    let c = cx.key_in("batch", "c");
    let other_ns = cx.key_in("batch-other", "a");
    cx.store().set(&a, b("A"), SetOptions::new()).await?;
    cx.store().set(&c, b("C"), SetOptions::new()).await?;
    cx.store()
        .set(&other_ns, b("other"), SetOptions::new())
        .await?;
    let request = [
        c.clone(),
        missing.clone(),
        a.clone(),
        a.clone(),
        other_ns.clone(),
        missing.clone(),
        c.clone(),
    ];
    let got = values(cx.store().get_many(&request).await?);
    check_eq(
        got,
        vec![
            Some(b("C")),
            None,
            Some(b("A")),
            Some(b("A")),
            Some(b("other")),
            None,
            Some(b("C")),
        ],
        "get_many answers in request order, once per requested key, duplicates included",
    )
}

async fn get_many_of_nothing_is_empty<S: Store>(cx: &Cx<S>) -> CaseResult {
    cx.store()
        .set(&cx.key_in("batch", "a"), b("A"), SetOptions::new())
        .await?;
    let got = cx.store().get_many(&[]).await?;
    check(
        got.is_empty(),
        format!("get_many(&[]) is empty, got {} answers", got.len()),
    )
}

async fn get_many_of_many_keys_keeps_order<S: Store>(cx: &Cx<S>) -> CaseResult {
    // Enough keys, over several namespaces, that a cluster client splits the batch by slot and
    // must put the answers back in request order.
    let namespaces = [cx.ns("batch-1"), cx.ns("batch-2"), cx.ns("batch-3")];
    let mut items = Vec::new();
    let mut request = Vec::new();
    let mut want = Vec::new();
    for i in 0..240 {
        let key = cx.key(&namespaces[i % 3], &format!("k{i}"));
        if i % 4 == 3 {
            // Every fourth key is never written: a miss in the middle of hits.
            want.push(None);
        } else {
            items.push((key.clone(), b(&format!("v{i}"))));
            want.push(Some(b(&format!("v{i}"))));
        }
        request.push(key);
    }
    cx.store().set_many(items, SetOptions::new()).await?;
    request.reverse();
    want.reverse();
    check_eq(
        values(cx.store().get_many(&request).await?),
        want,
        "get_many of 240 keys in 3 namespaces, a quarter missing, in reverse order",
    )
}

async fn set_many_then_get_many<S: Store>(cx: &Cx<S>) -> CaseResult {
    let keys: Vec<Key> = vec![
        cx.key_in("batch", "1"),
        cx.key_in("batch", "2"),
        cx.key_in("batch-other", "1"),
    ];
    let items: Vec<(Key, Bytes)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), b(&format!("v{i}"))))
        .collect();
    cx.store().set_many(items, SetOptions::new()).await?;
    let request = [keys[2].clone(), keys[0].clone(), keys[1].clone()];
    check_eq(
        values(cx.store().get_many(&request).await?),
        vec![Some(b("v2")), Some(b("v0")), Some(b("v1"))],
        "get_many after set_many",
    )?;
    for (i, key) in keys.iter().enumerate() {
        check_eq(
            cx.value(key).await?,
            Some(b(&format!("v{i}"))),
            format!("get {key}"),
        )?;
    }
    Ok(())
}

async fn set_many_of_nothing_is_ok<S: Store>(cx: &Cx<S>) -> CaseResult {
    let key = cx.key_in("batch", "untouched");
    cx.store().set(&key, b("v"), SetOptions::new()).await?;
    cx.store().set_many(Vec::new(), SetOptions::new()).await?;
    check_eq(
        cx.value(&key).await?,
        Some(b("v")),
        "an empty set_many changes nothing",
    )
}

async fn set_many_overwrites_existing<S: Store>(cx: &Cx<S>) -> CaseResult {
    let a = cx.key_in("batch", "a");
    let untouched = cx.key_in("batch", "untouched");
    cx.store().set(&a, b("old"), SetOptions::new()).await?;
    cx.store()
        .set(&untouched, b("keep"), SetOptions::new())
        .await?;
    cx.store()
        .set_many(vec![(a.clone(), b("new"))], SetOptions::new())
        .await?;
    check_eq(cx.value(&a).await?, Some(b("new")), "set_many overwrites")?;
    check_eq(
        cx.value(&untouched).await?,
        Some(b("keep")),
        "keys not in the batch",
    )
}

async fn set_many_applies_ttl_to_every_item<S: Store>(cx: &Cx<S>) -> CaseResult {
    let keys = [cx.key_in("batch", "t1"), cx.key_in("batch", "t2")];
    let forever = cx.key_in("batch", "forever");
    cx.store().set(&forever, b("f"), SetOptions::new()).await?;
    let items = keys.iter().map(|k| (k.clone(), b("v"))).collect();
    cx.store()
        .set_many(items, SetOptions::new().ttl(SHORT_TTL))
        .await?;
    for key in &keys {
        let state = cx.store().ttl(key).await?;
        check_remaining(state, Duration::ZERO, SHORT_TTL, format!("ttl of {key}"))?;
    }
    // Wait out the 300 ms TTL of the batch.
    cx.pass_beyond(SHORT_TTL).await;
    check_eq(
        values(cx.store().get_many(&keys).await?),
        vec![None, None],
        "every item of the batch expired",
    )?;
    check_eq(
        cx.value(&forever).await?,
        Some(b("f")),
        "a key outside the batch",
    )
}

async fn set_many_if_absent_applies_per_key<S: Store>(cx: &Cx<S>) -> CaseResult {
    let present = cx.key_in("batch", "present");
    let absent = cx.key_in("batch", "absent");
    cx.store()
        .set(&present, b("old"), SetOptions::new())
        .await?;
    cx.store()
        .set_many(
            vec![(present.clone(), b("new")), (absent.clone(), b("new"))],
            SetOptions::new().only_if_absent(),
        )
        .await?;
    check_eq(
        cx.value(&present).await?,
        Some(b("old")),
        "NX batch keeps the present key",
    )?;
    check_eq(
        cx.value(&absent).await?,
        Some(b("new")),
        "NX batch writes the absent key",
    )
}
