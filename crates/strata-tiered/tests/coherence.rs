//! Coherence across nodes on real Redis: two or three `TieredStore` nodes in one process,
//! each with its own connections, over the shared standalone server and the shared 3-master
//! cluster (and private servers for flushes, restarts and ACLs).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use strata_core::load::{LoadEngine, LoadOptions};
use strata_core::{
    BusEvent, CodecId, HealthStatus, Invalidation, InvalidationBus, Key, Namespace, Result,
    SetOptions, Store, ValueCodec,
};
use strata_memory::MemoryStore;
use strata_redis::RedisStore;
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::{
    command_at, require_private_server, shared_cluster_urls, shared_redis_url,
};
use strata_tiered::{Coherence, TieredStore};

type Node = TieredStore<MemoryStore, RedisStore>;

/// Heartbeats in these tests: short, so a lost final message is found quickly.
const HEARTBEAT: Duration = Duration::from_millis(100);

fn key(ns: &str, id: &str) -> Key {
    Key::new(&Namespace::new(ns).unwrap(), id).unwrap()
}

/// Where a shared server runs: the standalone URL or the cluster's seeds.
#[derive(Clone, Debug)]
enum Target {
    Standalone(String),
    Cluster(Vec<String>),
}

fn shared_targets() -> Vec<Target> {
    let mut out = Vec::new();
    if let Some(url) = shared_redis_url() {
        out.push(Target::Standalone(url));
    }
    if let Some(urls) = shared_cluster_urls() {
        out.push(Target::Cluster(urls));
    }
    out
}

/// A fresh connection (its own, as another process would have) to `target`.
async fn connect(target: &Target, prefix: &str) -> RedisStore {
    let builder = RedisStore::builder().prefix(prefix.to_owned());
    match target {
        Target::Standalone(url) => builder.url(url.clone()),
        Target::Cluster(urls) => builder.cluster(urls.clone()),
    }
    .connect()
    .await
    .unwrap()
}

/// A raw command from outside Strata (as redis-cli would send it), to the node owning `key`
/// on a cluster.
fn raw(target: &Target, args: &[&str]) {
    let urls = match target {
        Target::Standalone(url) => vec![url.clone()],
        Target::Cluster(urls) => urls.clone(),
    };
    for url in &urls {
        match command_at(url, args) {
            Ok(_) => return,
            Err(e) if e.to_string().contains("MOVED") => continue,
            Err(e) => panic!("{args:?} at {url}: {e}"),
        }
    }
    panic!("no node took {args:?}");
}

/// A node over `l2` with `coherence`, once its subscriptions are up.
async fn node(l2: RedisStore, coherence: Coherence) -> Node {
    // Own heartbeats may go unheard for a while when the test machine is loaded (tests run
    // in parallel on 2 cores); 20 intervals (2 s) before a node stops serving L1 keeps the
    // tests about what they check, not about scheduling.
    let node = TieredStore::builder(MemoryStore::new(), l2)
        .coherence(coherence.heartbeat(HEARTBEAT).missed_heartbeats(20))
        .unwrap()
        .build();
    assert!(
        node.wait_coherent(Duration::from_secs(10)).await,
        "subscriptions up within 10 s: {:?}",
        node.health().await
    );
    node
}

/// `n` nodes, each with its own connections, with the backplane only (tracking would also
/// deliver what these tests check) or with everything Redis offers.
async fn nodes(target: &Target, prefix: &str, n: usize, tracking: bool) -> Vec<Node> {
    let mut out = Vec::new();
    for _ in 0..n {
        let l2 = connect(target, prefix).await;
        let coherence = if tracking {
            Coherence::over(&l2)
        } else {
            Coherence::new(l2.clone()).fenced_fills(l2.clone())
        };
        out.push(node(l2, coherence).await);
    }
    out
}

async fn value(node: &Node, k: &Key) -> Option<Bytes> {
    node.get(k).await.unwrap().map(|e| e.value().clone())
}

/// Polls `node` (every 2 ms, at most `limit`) until `k` reads `want`; how long it took.
async fn until_value(node: &Node, k: &Key, want: Option<&str>, limit: Duration) -> Duration {
    let start = Instant::now();
    let want = want.map(|w| Bytes::from(w.to_owned()));
    while start.elapsed() < limit {
        if value(node, k).await == want {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!(
        "{k} did not read {want:?} within {limit:?}: {:?}; {:?}",
        value(node, k).await,
        node.coherence_stats()
    );
}

/// Polls (every 2 ms, at most `limit`) until `cond`; how long it took.
async fn until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{what} within {limit:?}");
}

fn in_l1(node: &Node, k: &Key) -> bool {
    matches!(node.l1().get_now(k), strata_core::Now::Ready(Some(_)))
}

/// Reads `k` through `node` until the read lands in its L1 (within 5 s). A read that
/// overlaps the arrival of an invalidation of the same key (the echo of a node's own write,
/// or another node's invalidation of its write) is fenced and not promoted, which is right;
/// the next read promotes.
async fn read_into_l1(node: &Node, k: &Key, want: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert_eq!(value(node, k).await.as_deref(), Some(want));
        if in_l1(node, k) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never promoted: {:?} {:?}",
            node.tier_stats(),
            node.coherence_stats()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_node_reaches_the_others_after_the_lag() {
    for target in shared_targets() {
        let prefix = RunContext::new().prefix();
        let n = nodes(&target, &prefix, 3, false).await;
        let (a, b, c) = (&n[0], &n[1], &n[2]);
        let k = key("coh", "user-42");
        a.set(&k, Bytes::from("v1"), SetOptions::new())
            .await
            .unwrap();
        // B and C read it: L2 hits promoted into their L1.
        for x in [b, c] {
            read_into_l1(x, &k, b"v1").await;
        }
        a.set(&k, Bytes::from("v2"), SetOptions::new())
            .await
            .unwrap();
        for x in [b, c] {
            until_value(x, &k, Some("v2"), Duration::from_secs(2)).await;
        }
        // Pattern, tag-less namespace and all: each reaches the others' L1.
        let keys: Vec<Key> = (0..10).map(|i| key("coh", &format!("p{i}"))).collect();
        for k in &keys {
            a.set(k, Bytes::from("x"), SetOptions::new()).await.unwrap();
            assert!(value(b, k).await.is_some());
        }
        a.invalidate(&Invalidation::pattern(
            Namespace::new("coh").unwrap(),
            strata_core::Pattern::new("p*").unwrap(),
        ))
        .await
        .unwrap();
        until(
            "pattern invalidation applied on B",
            Duration::from_secs(2),
            || keys.iter().all(|k| !in_l1(b, k)),
        )
        .await;
        // 500 writes on A, each read back on B once it arrived: the lag histogram.
        b.reset_invalidation_lag();
        let hot = key("coh", "hot");
        for i in 0..500 {
            let v = format!("w{i}");
            a.set(&hot, Bytes::from(v.clone()), SetOptions::new())
                .await
                .unwrap();
            until_value(b, &hot, Some(&v), Duration::from_secs(2)).await;
        }
        let stats = b.coherence_stats().unwrap();
        println!(
            "{target:?}: B's invalidation lag over 500 writes: {:?}",
            stats.lag
        );
        assert!(stats.lag.samples >= 500, "{stats:?}");
        assert_eq!(stats.gaps_detected, 0, "{stats:?}");
        assert!(stats.messages_received > 500);
        assert!(stats.l1_entries_dropped > 0);
        // A never applies its own messages.
        let own = a.coherence_stats().unwrap();
        assert!(own.own_messages_ignored > 500, "{own:?}");
        assert_eq!(
            own.lag.samples, 0,
            "A received no other node's invalidation"
        );
        assert_eq!(own.messages_sent, 500 + 2 + 10 + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_set_through_a_raw_connection_invalidates_every_node() {
    for target in shared_targets() {
        let prefix = RunContext::new().prefix();
        let n = nodes(&target, &prefix, 3, true).await;
        let k = key("ext", "counter");
        n[0].set(&k, Bytes::from("1"), SetOptions::new())
            .await
            .unwrap();
        // The echo of node 0's own write may evict its copy or fence a read: read until
        // every node holds "1" in L1 before the external write.
        for x in &n {
            read_into_l1(x, &k, b"1").await;
        }
        // Not through Strata: a plain SET by another client (a plain integer is a valid value).
        let raw_key = format!("{prefix}:ext:counter");
        raw(&target, &["SET", &raw_key, "2"]);
        for x in &n {
            until_value(x, &k, Some("2"), Duration::from_secs(2)).await;
            assert!(x.coherence_stats().unwrap().tracking_invalidations > 0);
        }
        let health = n[1].health().await;
        assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");
        let detail = &health.details["coherence"];
        assert_eq!(detail["tracking"], "armed", "{detail}");
        assert_eq!(detail["foreign_writes_evict_l1"], true);
    }
}

/// A bus that loses the next publication when told to (as a dropped pub/sub message would be
/// lost), otherwise Redis's.
#[derive(Clone)]
struct LossyBus {
    inner: RedisStore,
    lose_next: Arc<AtomicBool>,
    lost: Arc<AtomicU64>,
}

impl InvalidationBus for LossyBus {
    async fn publish(&self, payload: Bytes) -> Result<u64> {
        if self.lose_next.swap(false, Ordering::SeqCst) {
            self.lost.fetch_add(1, Ordering::SeqCst);
            return Ok(0);
        }
        self.inner.publish(payload).await
    }

    fn subscribe(&self) -> BoxStream<'static, BusEvent> {
        self.inner.subscribe()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_message_is_found_by_the_next_one_or_by_the_heartbeat() {
    for target in shared_targets() {
        let prefix = RunContext::new().prefix();
        let l2 = connect(&target, &prefix).await;
        let bus = LossyBus {
            inner: l2.clone(),
            lose_next: Arc::new(AtomicBool::new(false)),
            lost: Arc::new(AtomicU64::new(0)),
        };
        let a = node(l2, Coherence::new(bus.clone())).await;
        let b = nodes(&target, &prefix, 1, false).await.remove(0);

        // B holds keys of three namespaces.
        let (k1, k1b, k2, keep) = (
            key("gap1", "a"),
            key("gap1", "b"),
            key("gap2", "a"),
            key("keep", "a"),
        );
        for k in [&k1, &k1b, &k2, &keep] {
            a.set(k, Bytes::from("old"), SetOptions::new())
                .await
                .unwrap();
        }
        until("B heard A's writes", Duration::from_secs(2), || {
            b.coherence_stats().unwrap().messages_received >= 4
        })
        .await;
        for k in [&k1, &k1b, &k2, &keep] {
            assert_eq!(value(&b, k).await.as_deref(), Some(&b"old"[..]));
            assert!(in_l1(&b, k));
        }

        // 1. The invalidation of k1 is lost; the next message (same namespace) reveals it.
        bus.lose_next.store(true, Ordering::SeqCst);
        a.set(&k1, Bytes::from("new"), SetOptions::new())
            .await
            .unwrap();
        assert!(
            in_l1(&b, &k1),
            "B missed it: its L1 still holds the old value"
        );
        let t0 = Instant::now();
        a.delete(&key("gap1", "unrelated")).await.unwrap();
        until("B found the gap", Duration::from_secs(2), || {
            b.coherence_stats().unwrap().gaps_detected == 1
        })
        .await;
        let by_message = t0.elapsed();
        assert!(
            !in_l1(&b, &k1) && !in_l1(&b, &k1b),
            "namespace gap1 dropped"
        );
        assert!(in_l1(&b, &keep) && in_l1(&b, &k2), "other namespaces kept");
        assert_eq!(value(&b, &k1).await.as_deref(), Some(&b"new"[..]));

        // 2. The last message is lost and nothing follows: the heartbeat reveals it.
        bus.lose_next.store(true, Ordering::SeqCst);
        a.set(&k2, Bytes::from("new"), SetOptions::new())
            .await
            .unwrap();
        let t0 = Instant::now();
        until(
            "B found the lost final message",
            Duration::from_secs(2),
            || b.coherence_stats().unwrap().gaps_detected == 2,
        )
        .await;
        let by_heartbeat = t0.elapsed();
        assert!(!in_l1(&b, &k2), "namespace gap2 dropped");
        assert!(in_l1(&b, &keep), "namespace keep kept");
        assert_eq!(value(&b, &k2).await.as_deref(), Some(&b"new"[..]));
        assert_eq!(bus.lost.load(Ordering::SeqCst), 2);
        println!(
            "{target:?}: gap found {by_message:?} after the next message, \
             {by_heartbeat:?} after a lost final message (heartbeat every {HEARTBEAT:?})"
        );
        assert!(by_heartbeat <= HEARTBEAT * 3, "{by_heartbeat:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_and_a_restart_drop_l1() {
    let mut server = require_private_server();
    let target = Target::Standalone(server.url());
    let n = nodes(&target, "strata", 2, true).await;
    let ks: Vec<Key> = (0..20).map(|i| key("flush", &format!("k{i}"))).collect();
    let fill = |n: &[Node]| {
        let n = n.to_vec();
        let ks = ks.clone();
        async move {
            for k in &ks {
                n[0].set(k, Bytes::from("v"), SetOptions::new())
                    .await
                    .unwrap();
            }
            for k in &ks {
                // Read until promoted (the echo of the write may evict the writer's copy).
                for x in &n {
                    let deadline = Instant::now() + Duration::from_secs(2);
                    while !in_l1(x, k) && Instant::now() < deadline {
                        assert!(value(x, k).await.is_some());
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    assert!(in_l1(x, k));
                }
            }
        }
    };
    fill(&n).await;
    server.command(&["FLUSHALL"]).unwrap();
    let took = until("FLUSHALL dropped both L1s", Duration::from_secs(2), || {
        n.iter().all(|x| ks.iter().all(|k| !in_l1(x, k)))
    })
    .await;
    println!("FLUSHALL: both L1s empty after {took:?}");
    for x in &n {
        assert!(x.coherence_stats().unwrap().flushes >= 1);
        assert!(value(x, &ks[0]).await.is_none(), "L2 was flushed too");
    }

    fill(&n).await;
    server.restart().expect("restart the private server");
    let took = until(
        "the restart dropped both L1s",
        Duration::from_secs(5),
        || n.iter().all(|x| ks.iter().all(|k| !in_l1(x, k))),
    )
    .await;
    println!("restart: both L1s empty after {took:?}");
    for x in &n {
        // Back: tracking re-armed and the bus re-subscribed.
        assert!(
            x.wait_coherent(Duration::from_secs(10)).await,
            "{:?}",
            x.health().await
        );
        let stats = x.coherence_stats().unwrap();
        assert!(stats.bypass_periods >= 1, "{stats:?}");
    }
    // And coherence works again after the restart.
    let k = key("flush", "after");
    // The writer's connection reconnects by itself; its first call may see the drop.
    let mut written = false;
    for _ in 0..50 {
        if n[0]
            .set(&k, Bytes::from("1"), SetOptions::new())
            .await
            .is_ok()
        {
            written = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(written);
    assert_eq!(value(&n[1], &k).await.as_deref(), Some(&b"1"[..]));
    n[0].set(&k, Bytes::from("2"), SetOptions::new())
        .await
        .unwrap();
    until_value(&n[1], &k, Some("2"), Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_the_server_refuses_tracking_the_backplane_alone_serves_and_health_says_so() {
    let server = require_private_server();
    server
        .command(&[
            "ACL",
            "SETUSER",
            "notrack",
            "on",
            ">secret",
            "~*",
            "&*",
            "+@all",
            "-client|tracking",
        ])
        .unwrap();
    let url = format!("redis://notrack:secret@127.0.0.1:{}/", server.port());
    let target = Target::Standalone(url);
    let n = nodes(&target, "strata", 2, true).await;
    let health = n[0].health().await;
    let detail = &health.details["coherence"];
    assert!(
        detail["tracking"]
            .as_str()
            .unwrap()
            .starts_with("unavailable"),
        "{detail}"
    );
    assert_eq!(detail["foreign_writes_evict_l1"], false);
    assert!(
        health
            .message
            .as_deref()
            .unwrap_or("")
            .contains("backplane only"),
        "{health:?}"
    );
    assert!(n[0].is_coherent(), "the backplane alone serves L1");
    let explained = n[0].explain(&key("x", "y")).await.unwrap();
    assert!(
        explained.notes.iter().any(|n| n.contains("unavailable")),
        "{explained:?}"
    );
    // Writes through Strata still reach the other node.
    let k = key("acl", "k");
    n[0].set(&k, Bytes::from("1"), SetOptions::new())
        .await
        .unwrap();
    assert_eq!(value(&n[1], &k).await.as_deref(), Some(&b"1"[..]));
    n[0].set(&k, Bytes::from("2"), SetOptions::new())
        .await
        .unwrap();
    until_value(&n[1], &k, Some("2"), Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fill_race_never_resurrects_an_old_value() {
    for target in shared_targets() {
        let prefix = RunContext::new().prefix();
        let n = nodes(&target, &prefix, 2, false).await;
        let (a, b) = (&n[0], &n[1]);

        // Deterministic: B misses and loads; A's invalidation lands while B's loader runs;
        // B's fill must write nothing, through the load engine as the typed cache uses it.
        let engine = LoadEngine::new();
        let codec = ValueCodec::new(CodecId::Json);
        let opts = LoadOptions::default();
        let k = key("race", "det");
        let loaded: Arc<String> = engine
            .get_or_load(b, &k, &codec, &opts, || async {
                let old = "old".to_owned(); // read from the source before the change
                a.invalidate(&Invalidation::key(k.clone())).await?; // the source changed
                Ok::<_, strata_core::Error>(old)
            })
            .await
            .unwrap();
        assert_eq!(*loaded, "old", "the caller gets what it loaded");
        assert!(a.l2().get(&k).await.unwrap().is_none(), "not written to L2");
        assert!(!in_l1(b, &k), "not written to B's L1");
        assert!(b.coherence_stats().unwrap().fills_fenced >= 1);
        // A later load (after the invalidation) is written.
        let fresh: Arc<String> = engine
            .get_or_load(b, &k, &codec, &opts, || async {
                Ok::<_, strata_core::Error>("new".to_owned())
            })
            .await
            .unwrap();
        assert_eq!(*fresh, "new");
        assert!(a.l2().get(&k).await.unwrap().is_some());

        // Raced, many times: B's fill of the old value against A's write of the new value
        // and invalidation, with the interleaving left to the scheduler.
        let source = Arc::new(AtomicU64::new(0));
        let rounds = 200;
        let mut fenced_before = b.coherence_stats().unwrap().fills_fenced;
        let mut stored = 0;
        for i in 0..rounds {
            let k = key("race", &format!("k{i}"));
            if i % 2 == 0 {
                a.set(&k, Bytes::from("0"), SetOptions::new())
                    .await
                    .unwrap();
            }
            // Make sure B misses (a present value is a hit, not a fill).
            a.invalidate(&Invalidation::key(k.clone())).await.unwrap();
            until("B dropped the key", Duration::from_secs(2), || {
                !in_l1(b, &k)
            })
            .await;
            assert!(b.get(&k).await.unwrap().is_none());
            let old = source.load(Ordering::SeqCst).to_string();
            let filler = async {
                if i % 3 == 0 {
                    tokio::task::yield_now().await;
                }
                b.set(&k, Bytes::from(old.clone()), SetOptions::new().as_fill())
                    .await
                    .unwrap()
            };
            let writer = async {
                if i % 3 == 1 {
                    tokio::task::yield_now().await;
                }
                let new = source.fetch_add(1, Ordering::SeqCst) + 1;
                a.invalidate(&Invalidation::key(k.clone())).await.unwrap();
                new
            };
            let (outcome, _new) = tokio::join!(filler, writer);
            if outcome == strata_core::SetOutcome::Stored {
                stored += 1;
            }
            // Whatever the order, the old value is gone from L2 at once and from every L1
            // once A's message arrived.
            assert!(
                a.l2().get(&k).await.unwrap().is_none(),
                "round {i}: L2 resurrected {old}"
            );
            until(
                "no node serves the old value",
                Duration::from_secs(2),
                || !in_l1(a, &k) && !in_l1(b, &k),
            )
            .await;
            assert!(value(b, &k).await.is_none(), "round {i}");
        }
        let fenced = b.coherence_stats().unwrap().fills_fenced - fenced_before;
        fenced_before += fenced;
        println!(
            "{target:?}: {rounds} races: {stored} fills landed before the fence (then removed), \
             {fenced} fenced"
        );
        assert!(fenced > 0, "some fills must have come after the fence");
        let _ = fenced_before;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_coherence_tasks_at_once() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let target = Target::Standalone(url);
    let prefix = RunContext::new().prefix();
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let before = alive();
    let l2 = connect(&target, &prefix).await;
    // A heartbeat of an hour: the tasks' own checks would not notice the store is gone for
    // an hour, so only the stop signal can end them in time.
    let node = TieredStore::builder(MemoryStore::new(), l2.clone())
        .coherence(Coherence::over(&l2).heartbeat(Duration::from_secs(3600)))
        .unwrap()
        .build();
    drop(l2);
    assert!(node.wait_coherent(Duration::from_secs(10)).await);
    assert!(
        alive() >= before + 2,
        "the receiving and heartbeat tasks run"
    );
    let started = Instant::now();
    node.shutdown(Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!node.coherence_stats().unwrap().serving_l1);
    drop(node);
    // The connections' own driver tasks end once the store is dropped.
    until("every task ended", Duration::from_secs(5), || {
        alive() <= before
    })
    .await;
}
