//! Strata in two minutes, with no server: the embedded in-memory store.
//!
//! Run with `cargo run --example quickstart`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use strata::{Cache, CacheBuilder};

#[derive(Debug, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
}

#[tokio::main]
async fn main() -> Result<(), strata::Error> {
    // 1. A typed cache of users; the default store is in-process, bounded and sharded.
    let users: Cache<User> = CacheBuilder::new()
        .namespace("users")
        .max_entries(10_000)
        .default_ttl(Duration::from_secs(300))
        .build()?;

    // 2. set and get. Reads return Arc<User>; an in-memory hit does not deserialize.
    users
        .set(
            "42",
            User {
                id: 42,
                name: "Ada".into(),
            },
        )
        .await?;
    let ada = users.get("42").await?;
    println!("get(42)           -> {:?}", ada.as_deref());
    println!(
        "get(404)          -> {:?}",
        users.get("404").await?.as_deref()
    );

    // 3. TTL: this value lives 200 ms.
    users
        .set_with_ttl(
            "tmp",
            User {
                id: 1,
                name: "Temporary".into(),
            },
            Duration::from_millis(200),
        )
        .await?;
    println!(
        "tmp right away    -> {:?}",
        users.get("tmp").await?.map(|u| u.name.clone())
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    println!(
        "tmp after 250 ms  -> {:?}",
        users.get("tmp").await?.map(|u| u.name.clone())
    );

    // 4. get_or_load under concurrency: 100 tasks miss the same key at once; the loader
    //    (a slow "database") runs once and every task gets its value.
    let loader_calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let users = users.clone();
        let calls = loader_calls.clone();
        tasks.push(tokio::spawn(async move {
            users
                .get_or_load("7", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, std::io::Error>(User {
                        id: 7,
                        name: "Grace".into(),
                    })
                })
                .await
        }));
    }
    let mut served = 0;
    for t in tasks {
        let user = t.await.expect("task panicked")?;
        assert_eq!(user.name, "Grace");
        served += 1;
    }
    println!(
        "get_or_load       -> {served} callers served, loader called {} time(s)",
        loader_calls.load(Ordering::SeqCst)
    );

    // 5. Stats.
    let stats = users.stats();
    println!(
        "stats             -> entries {}, hits {}, misses {}, hit ratio {:.2}, expired {}",
        stats.entries,
        stats.hits,
        stats.misses,
        stats.hit_ratio().unwrap_or(0.0),
        stats.evictions.expired
    );
    Ok(())
}
