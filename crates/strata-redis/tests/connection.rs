//! Connection behaviour on a private redis-server, for each client library (redis-rs, and fred
//! with the `fred` feature): a non-idempotent command is never sent twice after its connection
//! drops, an outage gives typed errors within the timeout and the same store recovers, and a
//! batch is one MGET.

use std::time::{Duration, Instant};

use strata_core::{ErrorKind, Key, Namespace, Store};
use strata_redis::{Client, RedisStore, RetryPolicy};
use strata_testkit::redis_server::{Reply, require_private_server};

fn clients() -> Vec<Client> {
    vec![
        Client::RedisRs,
        #[cfg(feature = "fred")]
        Client::Fred,
    ]
}

async fn store(url: &str, client: Client, command_timeout: Duration) -> RedisStore {
    RedisStore::builder()
        .url(url)
        .client(client)
        .prefix("conn")
        .command_timeout(command_timeout)
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("{client:?}: connecting to the private server: {e}"))
}

fn key(id: &str) -> Key {
    Key::new(&Namespace::new("conn").expect("namespace"), id).expect("key")
}

/// The `calls=` figure of one command in `INFO commandstats` (0 when never called).
fn calls(server: &strata_testkit::redis_server::RedisServer, command: &str) -> u64 {
    let Ok(Reply::Bulk(info)) = server.command(&["INFO", "commandstats"]) else {
        panic!("INFO commandstats must answer");
    };
    let text = String::from_utf8_lossy(&info).into_owned();
    let prefix = format!("cmdstat_{command}:calls=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_increment_is_never_sent_again_after_its_connection_drops() {
    let server = require_private_server();
    for client in clients() {
        let store = store(&server.url(), client, Duration::from_secs(5)).await;
        let k = key(&format!("counter-{client:?}"));
        let raw = String::from_utf8(store.redis_key(&k)).expect("utf-8 key");
        // Writes wait on the server, so INCRBY is in flight (sent, not run) when the
        // connection is killed.
        server
            .command(&["CLIENT", "PAUSE", "3000", "WRITE"])
            .expect("CLIENT PAUSE");
        let pending = {
            let store = store.clone();
            let k = k.clone();
            tokio::spawn(async move { store.increment(&k, 1).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        server
            .command(&["CLIENT", "KILL", "TYPE", "normal"])
            .expect("CLIENT KILL");
        server
            .command(&["CLIENT", "UNPAUSE"])
            .expect("CLIENT UNPAUSE");
        let outcome = pending.await.expect("the increment task must not panic");
        let err = outcome.expect_err("an increment whose connection dropped must fail");
        assert!(
            matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
            "{client:?}: {err}"
        );
        // Long enough for a reconnect and any re-send to happen.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(
            server.command(&["GET", &raw]).expect("GET"),
            Reply::Nil,
            "{client:?}: the increment was sent again after the connection dropped"
        );
        // The same store works again.
        let deadline = Instant::now() + Duration::from_secs(5);
        let value = loop {
            match store.increment(&k, 1).await {
                Ok(v) => break v,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{client:?}: the store did not recover: {e}"),
            }
        };
        assert_eq!(value, 1, "{client:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_gives_typed_errors_in_time_and_the_store_recovers() {
    let mut server = require_private_server();
    for client in clients() {
        let timeout = Duration::from_millis(800);
        let store = RedisStore::builder()
            .url(server.url())
            .client(client)
            .prefix("outage")
            .command_timeout(timeout)
            .connect_timeout(Duration::from_millis(500))
            .retry(RetryPolicy::NONE)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{client:?}: connect: {e}"));
        let k = key("v");
        store
            .set(&k, "before".into(), Default::default())
            .await
            .expect("set before the outage");
        server.stop();
        for _ in 0..3 {
            let started = Instant::now();
            let err = store
                .get(&k)
                .await
                .expect_err("a read during the outage must fail");
            assert!(
                matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
                "{client:?}: {err}"
            );
            assert!(
                started.elapsed() < timeout + Duration::from_millis(500),
                "{client:?}: took {:?}",
                started.elapsed()
            );
        }
        server.restart().expect("restart");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match store.set(&k, "after".into(), Default::default()).await {
                Ok(_) => break,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{client:?}: the store did not recover: {e}"),
            }
        }
        let got = store.get(&k).await.expect("get after recovery");
        assert_eq!(got.map(|e| e.value().clone()), Some("after".into()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_many_is_one_mget() {
    let server = require_private_server();
    for client in clients() {
        let store = store(&server.url(), client, Duration::from_secs(2)).await;
        let keys: Vec<Key> = (0..100).map(|i| key(&format!("m{i}"))).collect();
        let items = keys
            .iter()
            .take(50)
            .map(|k| (k.clone(), bytes::Bytes::from_static(b"x")))
            .collect();
        store
            .set_many(items, Default::default())
            .await
            .expect("set_many");
        let before = calls(&server, "mget");
        let got = store.get_many(&keys).await.expect("get_many");
        assert_eq!(calls(&server, "mget") - before, 1, "{client:?}");
        assert_eq!(got.iter().filter(|e| e.is_some()).count(), 50, "{client:?}");
        assert!(got[..50].iter().all(Option::is_some), "{client:?}: order");
    }
}
