//! Random operation sequences on MemoryStore agree with a HashMap model.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use strata_core::{
    Bytes, ErrorKind, Invalidation, Key, ManualClock, Namespace, Pattern, SetOptions, SetOutcome,
    SharedClock, Store, StoreExt, Tag, Ttl, TtlState,
};
use strata_memory::MemoryStore;

#[derive(Clone, Debug)]
enum Op {
    Set {
        k: u8,
        v: u8,
        ttl: Option<u8>,
        tag: Option<u8>,
        mode: u8,
    },
    Get(u8),
    Delete(u8),
    Incr(u8, i8),
    Expire(u8, u8),
    Advance(u8),
    InvalidateTag(u8),
    InvalidatePattern(u8),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, any::<u8>(), proptest::option::of(1u8..5), proptest::option::of(0u8..3), 0u8..3)
            .prop_map(|(k, v, ttl, tag, mode)| Op::Set { k, v, ttl, tag, mode }),
        4 => (0u8..8).prop_map(Op::Get),
        1 => (0u8..8).prop_map(Op::Delete),
        1 => (0u8..8, any::<i8>()).prop_map(|(k, d)| Op::Incr(k, d)),
        1 => (0u8..8, 0u8..4).prop_map(|(k, s)| Op::Expire(k, s)),
        2 => (0u8..4).prop_map(Op::Advance),
        1 => (0u8..3).prop_map(Op::InvalidateTag),
        1 => (0u8..8).prop_map(Op::InvalidatePattern),
        1 => Just(Op::Clear),
    ]
}

#[derive(Clone, Debug)]
struct ModelEntry {
    value: Vec<u8>,
    expires: Option<u64>, // seconds on the model clock
    tag: Option<u8>,
}

struct Model {
    now: u64,
    map: HashMap<u8, ModelEntry>,
}

impl Model {
    fn live(&mut self, k: u8) -> Option<&mut ModelEntry> {
        if self
            .map
            .get(&k)
            .is_some_and(|e| e.expires.is_some_and(|x| x <= self.now))
        {
            self.map.remove(&k);
        }
        self.map.get_mut(&k)
    }
}

fn key(ns: &Namespace, k: u8) -> Key {
    Key::new(ns, &format!("k{k}")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn memory_store_matches_a_hashmap(ops in proptest::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let clock = Arc::new(ManualClock::new());
            let store = MemoryStore::builder().clock(clock.clone() as SharedClock).build().unwrap();
            let ns = Namespace::new("m").unwrap();
            let mut model = Model { now: 0, map: HashMap::new() };
            for op in ops {
                match op {
                    Op::Set { k, v, ttl, tag, mode } => {
                        let mut opts = SetOptions::new();
                        if let Some(s) = ttl { opts = opts.ttl(Duration::from_secs(u64::from(s))); }
                        if let Some(t) = tag { opts = opts.tag(Tag::new(format!("t{t}")).unwrap()); }
                        opts = match mode { 1 => opts.only_if_absent(), 2 => opts.only_if_present(), _ => opts };
                        let out = store.set(&key(&ns, k), Bytes::from(vec![v]), opts).await.unwrap();
                        let present = model.live(k).is_some();
                        let should = match mode { 1 => !present, 2 => present, _ => true };
                        prop_assert_eq!(out == SetOutcome::Stored, should);
                        if should {
                            let expires = ttl.map(|s| model.now + u64::from(s));
                            model.map.insert(k, ModelEntry { value: vec![v], expires, tag });
                        }
                    }
                    Op::Get(k) => {
                        let got = store.get(&key(&ns, k)).await.unwrap().map(|e| e.value().to_vec());
                        prop_assert_eq!(got, model.live(k).map(|e| e.value.clone()));
                    }
                    Op::Delete(k) => {
                        let removed = store.delete(&key(&ns, k)).await.unwrap();
                        let present = model.live(k).is_some();
                        model.map.remove(&k);
                        prop_assert_eq!(removed, present);
                    }
                    Op::Incr(k, d) => {
                        let got = store.increment(&key(&ns, k), i64::from(d)).await;
                        match model.live(k) {
                            None => {
                                prop_assert_eq!(got.unwrap(), i64::from(d));
                                model.map.insert(k, ModelEntry { value: d.to_string().into_bytes(), expires: None, tag: None });
                            }
                            Some(e) => {
                                let parsed = std::str::from_utf8(&e.value).ok().and_then(|s| s.parse::<i64>().ok())
                                    .filter(|_| e.value.first() != Some(&b'+'));
                                match parsed {
                                    Some(n) => {
                                        prop_assert_eq!(got.unwrap(), n + i64::from(d));
                                        e.value = (n + i64::from(d)).to_string().into_bytes();
                                    }
                                    None => prop_assert_eq!(got.unwrap_err().kind(), ErrorKind::Codec),
                                }
                            }
                        }
                    }
                    Op::Expire(k, s) => {
                        let ttl = if s == 0 { Ttl::Never } else { Ttl::secs(u64::from(s)) };
                        let ok = store.expire(&key(&ns, k), ttl).await.unwrap();
                        let now = model.now;
                        match model.live(k) {
                            Some(e) => { prop_assert!(ok); e.expires = (s != 0).then(|| now + u64::from(s)); }
                            None => prop_assert!(!ok),
                        }
                    }
                    Op::Advance(s) => {
                        clock.advance(Duration::from_secs(u64::from(s)));
                        model.now += u64::from(s);
                    }
                    Op::InvalidateTag(t) => {
                        let n = store.invalidate(&Invalidation::tag(Tag::new(format!("t{t}")).unwrap())).await.unwrap();
                        let now = model.now;
                        let before = model.map.len();
                        model.map.retain(|_, e| e.expires.is_some_and(|x| x <= now) || e.tag != Some(t));
                        let live_removed = before - model.map.len();
                        prop_assert_eq!(n, live_removed as u64);
                    }
                    Op::InvalidatePattern(k) => {
                        let p = Pattern::new(format!("k[{k}-7]")).unwrap();
                        let n = store.invalidate(&Invalidation::pattern(ns, p)).await.unwrap();
                        let now = model.now;
                        let mut removed = 0;
                        model.map.retain(|key, e| {
                            let live = e.expires.is_none_or(|x| x > now);
                            let hit = *key >= k;
                            if live && hit { removed += 1; }
                            !hit && live
                        });
                        prop_assert_eq!(n, removed);
                    }
                    Op::Clear => {
                        store.clear().await.unwrap();
                        model.map.clear();
                    }
                }
                // TTL states agree for every key after every step.
                for k in 0..8u8 {
                    let state = store.ttl(&key(&ns, k)).await.unwrap();
                    let now = model.now;
                    let expected = match model.live(k) {
                        None => TtlState::Missing,
                        Some(ModelEntry { expires: None, .. }) => TtlState::NoExpiry,
                        Some(ModelEntry { expires: Some(x), .. }) => TtlState::Remaining(Duration::from_secs(*x - now)),
                    };
                    prop_assert_eq!(state, expected, "key k{}", k);
                }
            }
            Ok(())
        })?;
    }
}
