//! A typed L1 hit through the default stack allocates nothing.
//!
//! This binary installs a counting global allocator (stats_alloc), which counts every thread:
//! it runs without the test harness (`harness = false`), whose own thread allocated while
//! starting up, sometimes inside the measured region (about a third of the runs failed).

use std::alloc::System;

use serde::{Deserialize, Serialize};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use strata::{Cache, CacheBuilder};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Profile {
    id: u64,
    name: String,
    tags: Vec<String>,
}

fn main() {
    typed_l1_hit_does_not_allocate();
    println!("test typed_l1_hit_does_not_allocate ... ok");
}

fn typed_l1_hit_does_not_allocate() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let cache: Cache<Profile> = CacheBuilder::new()
            .namespace("profiles")
            .build()
            .expect("cache");
        let value = Profile {
            id: 1,
            name: "Ada Lovelace".into(),
            tags: vec!["math".into(), "engines".into()],
        };
        cache.set("user-1", value).await.expect("set");
        // A value read from bytes is decoded once, then kept beside the bytes.
        cache
            .set(
                "user-2",
                Profile {
                    id: 2,
                    name: "x".into(),
                    tags: vec![],
                },
            )
            .await
            .expect("set");
        let first = cache.get("user-2").await.expect("get").expect("hit");
        assert_eq!(first.id, 2);

        let region = Region::new(GLOBAL);
        let mut checksum = 0u64;
        for _ in 0..10_000 {
            let hit = cache.get("user-1").await.expect("get").expect("hit");
            checksum += hit.id;
            let hit = cache.get("user-2").await.expect("get").expect("hit");
            checksum += hit.id;
        }
        let change = region.change();
        assert_eq!(checksum, 30_000);
        assert_eq!(change.allocations, 0, "typed L1 hits allocated: {change:?}");
        assert_eq!(change.reallocations, 0, "{change:?}");
    });
}
