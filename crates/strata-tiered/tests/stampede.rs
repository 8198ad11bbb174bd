//! 1,000 concurrent misses of one key spread over 3 `TieredStore` nodes (each with its own
//! L1, Redis connections and load engine): with the distributed stampede lock the loader runs
//! once in the whole fleet; without it, once per node.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use strata_core::load::{LoadEngine, LoadOptions, StampedeLock};
use strata_core::{CodecId, Key, Namespace, ValueCodec};
use strata_memory::MemoryStore;
use strata_redis::RedisStore;
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::shared_redis_url;
use strata_tiered::TieredStore;

struct Node {
    store: TieredStore<MemoryStore, RedisStore>,
    engine: LoadEngine,
    opts: LoadOptions,
}

/// Loader calls for 1,000 concurrent misses over three nodes.
async fn stampede(url: &str, with_lock: bool) -> usize {
    let prefix = RunContext::new().prefix();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let l2 = RedisStore::builder()
            .url(url)
            .prefix(prefix.clone())
            .connect()
            .await
            .unwrap();
        let mut opts = LoadOptions::new().ttl(Duration::from_secs(60));
        if with_lock {
            opts = opts.stampede_lock(StampedeLock::new(Arc::new(l2.clone())));
        }
        nodes.push(Arc::new(Node {
            store: TieredStore::builder(MemoryStore::new(), l2).build(),
            engine: LoadEngine::new(),
            opts,
        }));
    }
    let key = Key::new(&Namespace::new("report").unwrap(), "q3").unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..1_000)
        .map(|i| {
            let (node, key, calls) = (nodes[i % 3].clone(), key.clone(), calls.clone());
            tokio::spawn(async move {
                let codec = ValueCodec::new(CodecId::Json);
                node.engine
                    .get_or_load(&node.store, &key, &codec, &node.opts, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        // A slow source, so that every caller misses while it runs.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, std::io::Error>("the report".to_owned())
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        let value = t
            .await
            .expect("a caller panicked")
            .expect("a caller failed");
        assert_eq!(*value, "the report");
    }
    calls.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_lock_one_loader_call_serves_three_nodes() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    assert_eq!(stampede(&url, true).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_lock_each_node_loads_once() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let calls = stampede(&url, false).await;
    println!("loader calls without the lock: {calls}");
    assert!(
        (1..=3).contains(&calls),
        "local single-flight still holds: {calls}"
    );
}
