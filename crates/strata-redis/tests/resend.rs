//! A non-idempotent command is never sent twice after its connection drops, with each client
//! library (redis-rs, and fred with the `fred` feature), on a private redis-server.

use std::time::{Duration, Instant};

use strata_core::{ErrorKind, Key, Namespace, Store};
use strata_redis::{Client, RedisStore};
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
