//! The backends every compat test runs on: the in-memory store (on a manual clock) and the
//! shared Redis server that `cargo xtask test` starts (`STRATA_REDIS_URL`; without it the
//! Redis half is skipped with a printed notice, and fails under `CI=true` or
//! `STRATA_REQUIRE_REDIS=1`).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use strata::{ManualClock, MemoryStore, RedisStore, SharedStore, StoreExt, TtlState};
use strata_testkit::conformance::RunContext;
use strata_testkit::redis_server::shared_redis_url;

/// One store to run a test on.
pub struct Backend {
    /// `memory` or `redis`.
    pub name: &'static str,
    /// The store (not yet layered: the compat types add the layers).
    pub store: SharedStore,
    /// The manual clock of the memory store.
    pub clock: Option<Arc<ManualClock>>,
    /// The Redis store, for cleanup and raw access.
    pub redis: Option<RedisStore>,
    /// The key prefix on Redis.
    pub prefix: Option<String>,
}

impl Backend {
    /// Removes what the test wrote on Redis (its own prefix only).
    pub async fn cleanup(self) {
        if let Some(r) = self.redis {
            r.clear().await.expect("clearing the test prefix");
        }
    }

    /// Advances the memory store's clock (no-op on Redis, which keeps real time).
    pub fn advance(&self, d: Duration) {
        if let Some(c) = &self.clock {
            c.advance(d);
        }
    }

    /// True on the in-memory store (exact TTLs on the manual clock).
    pub fn exact_ttls(&self) -> bool {
        self.clock.is_some()
    }
}

/// The in-memory store on a manual clock.
pub fn memory() -> Backend {
    let clock = Arc::new(ManualClock::new());
    let store = MemoryStore::builder()
        .clock(clock.clone())
        .build()
        .expect("memory store");
    Backend {
        name: "memory",
        store: store.into_shared(),
        clock: Some(clock),
        redis: None,
        prefix: None,
    }
}

/// A store on the shared Redis server under a fresh prefix, or `None` (with a notice).
pub async fn redis() -> Option<Backend> {
    redis_with(|b| b).await
}

/// As [`redis`], with the builder adjusted by `f` (e.g. `legacy_json(true)`).
pub async fn redis_with(
    f: impl FnOnce(strata::redis::RedisStoreBuilder) -> strata::redis::RedisStoreBuilder,
) -> Option<Backend> {
    let url = shared_redis_url()?;
    let prefix = RunContext::new().prefix();
    let store = f(RedisStore::builder().url(url).prefix(&prefix))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connecting to the shared test server: {e}"));
    Some(Backend {
        name: "redis",
        store: store.clone().into_shared(),
        clock: None,
        redis: Some(store),
        prefix: Some(prefix),
    })
}

/// Memory, then Redis when the shared server runs.
pub async fn backends() -> Vec<Backend> {
    let mut all = vec![memory()];
    all.extend(redis().await);
    all
}

/// Asserts a TTL of `expected`: exact on the manual clock, within 5 s below on Redis.
pub fn assert_ttl(b: &Backend, state: TtlState, expected: Duration) {
    match state {
        TtlState::Remaining(d) if b.exact_ttls() => {
            assert_eq!(d, expected, "{}: ttl", b.name)
        }
        TtlState::Remaining(d) => assert!(
            d <= expected && d + Duration::from_secs(5) >= expected,
            "{}: ttl {d:?}, expected about {expected:?}",
            b.name
        ),
        other => panic!("{}: expected a TTL of {expected:?}, got {other:?}", b.name),
    }
}
