//! Redis records: `RedisStore` against the raw redis-rs client with the same connection setup
//! (a `ConnectionManager` on a standalone server, the async cluster client on a cluster),
//! both sending the same commands' worth of work.
//!
//! - `redis.get.64tasks`, `redis.set.64tasks`: 64 tokio tasks at once, each doing its share of
//!   an iteration's operations on 1,000 keys of 64-byte values (total operations / wall
//!   time). The raw client GETs and SETs the same bytes (SET with PX for `set`).
//! - `redis.get_many.100`: one `get_many` of 100 keys against one raw `MGET` of them.
//! - The same three on the cluster: `redis.cluster.get.64tasks`, ...
//! - The same three for the store on the fred client against a raw fred client:
//!   `redis.fred.get.64tasks`, `redis.fred.set.64tasks`, `redis.fred.get_many.100`.
//!
//! Needs the servers `cargo xtask bench` starts (`STRATA_REDIS_URL`,
//! `STRATA_REDIS_CLUSTER_URLS`); without them the records are skipped with a notice.
//! Run through `cargo xtask bench`; see `benches/README.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::Bencher;
use redis::AsyncCommands;
use redis::aio::ConnectionLike;
use strata_benches::{Contender, Runner};
use strata_core::{Key, Namespace, SetOptions, Store};
use strata_redis::RedisStore;
use tokio::runtime::Runtime;

const TASKS: u64 = 64;
const KEYS: usize = 1_000;
const BATCH: usize = 100;
const TTL: Duration = Duration::from_secs(600);

/// A raw connection of either topology or client, used the way an application would.
#[derive(Clone)]
enum Raw {
    Standalone(redis::aio::ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
    Fred(fred::prelude::Client),
}

impl Raw {
    async fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let r: redis::RedisResult<Option<Vec<u8>>> = match self {
            Raw::Standalone(c) => c.clone().get(key).await,
            Raw::Cluster(c) => c.clone().get(key).await,
            Raw::Fred(c) => {
                use fred::prelude::KeysInterface;
                let v: Option<Bytes> = c.get(Bytes::copy_from_slice(key)).await.expect("fred GET");
                return v.map(|b| b.to_vec());
            }
        };
        r.expect("raw GET")
    }

    async fn set(&self, key: &[u8], value: &[u8]) {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key)
            .arg(value)
            .arg("PX")
            .arg(TTL.as_millis() as u64);
        let r = match self {
            Raw::Standalone(c) => c.clone().req_packed_command(&cmd).await,
            Raw::Cluster(c) => c.clone().req_packed_command(&cmd).await,
            Raw::Fred(c) => {
                use fred::prelude::{Expiration, KeysInterface};
                let () = c
                    .set(
                        Bytes::copy_from_slice(key),
                        Bytes::copy_from_slice(value),
                        Some(Expiration::PX(TTL.as_millis() as i64)),
                        None,
                        false,
                    )
                    .await
                    .expect("fred SET");
                return;
            }
        };
        r.expect("raw SET");
    }

    async fn mget(&self, keys: &[Vec<u8>]) -> Vec<Option<Vec<u8>>> {
        let r: redis::RedisResult<Vec<Option<Vec<u8>>>> = match self {
            Raw::Standalone(c) => c.clone().mget(keys).await,
            Raw::Cluster(c) => c.clone().mget(keys).await,
            Raw::Fred(c) => {
                use fred::prelude::KeysInterface;
                let keys: Vec<fred::types::Key> = keys
                    .iter()
                    .map(|k| Bytes::copy_from_slice(k).into())
                    .collect();
                let v: Vec<Option<Bytes>> = c.mget(keys).await.expect("fred MGET");
                return v.into_iter().map(|b| b.map(|b| b.to_vec())).collect();
            }
        };
        r.expect("raw MGET")
    }
}

struct Setup {
    label: &'static str,
    /// The peer key of the raw client.
    peer: &'static str,
    store: RedisStore,
    raw: Raw,
    keys: Vec<Key>,
    raw_keys: Vec<Vec<u8>>,
}

fn main() {
    let mut runner = Runner::from_env();
    let wanted = ["redis", "redis.cluster", "redis.fred"]
        .iter()
        .flat_map(|label| {
            ["get.64tasks", "set.64tasks", "get_many.100"].map(|r| format!("{label}.{r}"))
        })
        .any(|r| runner.wants(&r));
    if wanted {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        match std::env::var("STRATA_REDIS_URL") {
            Ok(url) if !url.is_empty() => {
                let setup = rt.block_on(standalone(&url));
                records(&mut runner, &rt, &setup);
                let setup = rt.block_on(fred_standalone(&url));
                records(&mut runner, &rt, &setup);
            }
            _ => eprintln!(
                "skipping redis.* records: STRATA_REDIS_URL is not set (run `cargo xtask bench`)"
            ),
        }
        match std::env::var("STRATA_REDIS_CLUSTER_URLS") {
            Ok(urls) if !urls.is_empty() => {
                let urls: Vec<String> = urls.split(',').map(str::to_owned).collect();
                let setup = rt.block_on(cluster(&urls));
                records(&mut runner, &rt, &setup);
            }
            _ => {
                eprintln!("skipping redis.cluster.* records: STRATA_REDIS_CLUSTER_URLS is not set")
            }
        }
    }
    runner.finish();
}

async fn fill(label: &'static str, peer: &'static str, store: RedisStore, raw: Raw) -> Setup {
    let ns = Namespace::new("bench").expect("namespace");
    let keys: Vec<Key> = (0..KEYS)
        .map(|i| Key::new(&ns, &format!("k{i}")).expect("key"))
        .collect();
    let raw_keys: Vec<Vec<u8>> = keys.iter().map(|k| store.redis_key(k)).collect();
    let value = Bytes::from(vec![b'v'; 64]);
    let items: Vec<_> = keys.iter().map(|k| (k.clone(), value.clone())).collect();
    store
        .set_many(items, SetOptions::new().ttl(TTL))
        .await
        .expect("fill");
    Setup {
        label,
        peer,
        store,
        raw,
        keys,
        raw_keys,
    }
}

async fn standalone(url: &str) -> Setup {
    let store = RedisStore::builder()
        .url(url)
        .prefix("bench")
        .connect()
        .await
        .expect("a store on the bench server");
    // The same connection setup the store uses: one ConnectionManager, the same timeouts.
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(store.config().command_timeout()))
        .set_response_timeout(Some(store.config().command_timeout()))
        .set_pipeline_buffer_size(1_024);
    let raw = redis::Client::open(url)
        .expect("url")
        .get_connection_manager_with_config(config)
        .await
        .expect("a raw connection");
    fill("redis", "redis_rs", store, Raw::Standalone(raw)).await
}

async fn fred_standalone(url: &str) -> Setup {
    use fred::prelude::{Builder, ClientLike, Config};
    let store = RedisStore::builder()
        .url(url)
        .client(strata_redis::Client::Fred)
        .prefix("bench-fred")
        .connect()
        .await
        .expect("a fred store on the bench server");
    // The same setup the store uses: one fred client, the same command timeout.
    let timeout = store.config().command_timeout();
    let raw = Builder::from_config(Config::from_url(url).expect("url"))
        .with_performance_config(|p| p.default_command_timeout = timeout)
        .build()
        .expect("a raw fred client");
    raw.init().await.expect("connect the raw fred client");
    fill("redis.fred", "fred", store, Raw::Fred(raw)).await
}

async fn cluster(urls: &[String]) -> Setup {
    let store = RedisStore::builder()
        .cluster(urls.to_vec())
        .prefix("bench")
        .connect()
        .await
        .expect("a store on the bench cluster");
    let raw = redis::cluster::ClusterClientBuilder::new(urls.iter().map(String::as_str))
        .response_timeout(store.config().command_timeout())
        .build()
        .expect("cluster client")
        .get_async_connection()
        .await
        .expect("a raw cluster connection");
    fill("redis.cluster", "redis_rs", store, Raw::Cluster(raw)).await
}

/// A criterion routine timing `iters` operations spread over 64 tasks.
fn tasks<F, Fut>(rt: &Runtime, op: F) -> impl FnMut(&mut Bencher<'_>) + '_
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let op = Arc::new(op);
    move |b| {
        b.iter_custom(|iters| {
            let op = op.clone();
            rt.block_on(async move {
                let per_task = iters.div_ceil(TASKS);
                let started = Instant::now();
                let handles: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let op = op.clone();
                        tokio::spawn(async move {
                            for i in 0..per_task {
                                op(((t * per_task + i) as usize) % KEYS).await;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.expect("a bench task panicked");
                }
                // Scale to exactly `iters` operations.
                started
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * TASKS) as f64)
            })
        })
    }
}

fn records(runner: &mut Runner, rt: &Runtime, s: &Setup) {
    let keys = Arc::new(s.keys.clone());
    let raw_keys = Arc::new(s.raw_keys.clone());
    let value = Bytes::from(vec![b'w'; 64]);

    let name = format!("{}.get.64tasks", s.label);
    if runner.wants(&name) {
        let (store, ks) = (s.store.clone(), keys.clone());
        let (raw, rks) = (s.raw.clone(), raw_keys.clone());
        runner.speed(
            &name,
            &mut [
                Contender::new(
                    "strata",
                    1,
                    tasks(rt, move |i| {
                        let (store, ks) = (store.clone(), ks.clone());
                        async move {
                            assert!(store.get(&ks[i]).await.expect("get").is_some());
                        }
                    }),
                ),
                Contender::new(
                    s.peer,
                    1,
                    tasks(rt, move |i| {
                        let (raw, rks) = (raw.clone(), rks.clone());
                        async move {
                            assert!(raw.get(&rks[i]).await.is_some());
                        }
                    }),
                ),
            ],
        );
    }

    let name = format!("{}.set.64tasks", s.label);
    if runner.wants(&name) {
        let (store, ks, v) = (s.store.clone(), keys.clone(), value.clone());
        let (raw, rks) = (s.raw.clone(), raw_keys.clone());
        // The raw client writes as many bytes as the store (64 plus the 31-byte envelope) to
        // keys of its own, so the store's keys keep their envelopes.
        let wire = Arc::new(vec![b'w'; 64 + 31]);
        let rks: Arc<Vec<Vec<u8>>> = Arc::new(
            rks.iter()
                .map(|k| [b"raw-".as_slice(), k].concat())
                .collect(),
        );
        runner.speed(
            &name,
            &mut [
                Contender::new(
                    "strata",
                    1,
                    tasks(rt, move |i| {
                        let (store, ks, v) = (store.clone(), ks.clone(), v.clone());
                        async move {
                            store
                                .set(&ks[i], v, SetOptions::new().ttl(TTL))
                                .await
                                .expect("set");
                        }
                    }),
                ),
                Contender::new(
                    s.peer,
                    1,
                    tasks(rt, move |i| {
                        let (raw, rks, wire) = (raw.clone(), rks.clone(), wire.clone());
                        async move { raw.set(&rks[i], &wire).await }
                    }),
                ),
            ],
        );
    }

    let name = format!("{}.get_many.{BATCH}", s.label);
    if runner.wants(&name) {
        let batches: Vec<Vec<Key>> = s.keys.chunks(BATCH).map(<[Key]>::to_vec).collect();
        let raw_batches: Vec<Vec<Vec<u8>>> =
            s.raw_keys.chunks(BATCH).map(<[Vec<u8>]>::to_vec).collect();
        let (store, raw) = (s.store.clone(), s.raw.clone());
        let mut n = 0usize;
        let mut m = 0usize;
        runner.speed(
            &name,
            &mut [
                Contender::new("strata", 1, |b| {
                    b.iter(|| {
                        n = (n + 1) % batches.len();
                        let got = rt.block_on(store.get_many(&batches[n])).expect("get_many");
                        assert_eq!(got.len(), BATCH);
                    })
                }),
                Contender::new(s.peer, 1, |b| {
                    b.iter(|| {
                        m = (m + 1) % raw_batches.len();
                        let got = rt.block_on(raw.mget(&raw_batches[m]));
                        assert_eq!(got.len(), BATCH);
                    })
                }),
            ],
        );
    }
}
