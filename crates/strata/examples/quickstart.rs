//! Strata in two minutes. With no configuration it runs on the embedded in-memory store,
//! no server needed:
//!
//!     cargo run --example quickstart
//!
//! The cache comes from the environment (docs/configuration.md), so the same program runs
//! against your own Redis:
//!
//!     CACHE_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379 \
//!         cargo run --example quickstart --features strata/full
//!
//! A variable it cannot use, or a server it cannot reach, ends it with a message naming the
//! variable or the address and exit status 1.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use strata::{Cache, CacheSystem};

#[derive(Debug, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    // 0. The cache system, from the environment (CACHE_BACKEND, REDIS_URL, ...; with none
    //    set, the embedded in-memory store, bounded and sharded).
    let system = match CacheSystem::from_env().await {
        Ok(system) => system,
        Err(e) => {
            eprintln!("quickstart: cannot start the cache: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("backend           -> {}", system.description());
    let outcome = run(&system).await;
    let report = system.shutdown(Duration::from_secs(5)).await;
    println!(
        "shutdown          -> {} task(s) stopped, connections closed: {}",
        report.tasks_stopped, report.connections_closed
    );
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(system: &CacheSystem) -> Result<(), strata::Error> {
    // 1. A typed cache of users, named (and namespaced) "users".
    let users: Cache<User> = system.cache("users")?;
    users.delete("42").await?;
    users.delete("7").await?;

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

    // 5. Stats: this cache's own counters.
    let counts = users.counts();
    println!(
        "stats             -> hits {}, misses {}, hit ratio {:.2}, sets {}, loads {}",
        counts.hits,
        counts.misses,
        counts.hit_ratio().unwrap_or(0.0),
        counts.sets,
        counts.loads
    );
    Ok(())
}
