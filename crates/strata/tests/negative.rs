//! Negative caching: "not found" is cached for its own TTL, so a missing key does not reach
//! the source on every read.
#![cfg(feature = "memory")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use strata::{Cache, CacheBuilder, ManualClock, SharedClock};

#[tokio::test]
async fn not_found_is_cached_for_the_negative_ttl() {
    let clock = Arc::new(ManualClock::new());
    let users: Cache<String> = CacheBuilder::new()
        .namespace("users")
        .clock(clock.clone() as SharedClock)
        .default_ttl(Duration::from_secs(600))
        .negative_ttl(Duration::from_secs(5))
        .build()
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let lookup = |found: Option<&'static str>| {
        let calls = calls.clone();
        move || async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(found.map(str::to_owned))
        }
    };
    for _ in 0..3 {
        let v = users
            .get_or_load_optional("ghost", lookup(None))
            .await
            .unwrap();
        assert!(v.is_none());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the first miss was cached");
    assert!(
        users.get("ghost").await.unwrap().is_none(),
        "a plain read misses, no error"
    );
    clock.advance(Duration::from_secs(6));
    let v = users
        .get_or_load_optional("ghost", lookup(Some("Ada")))
        .await
        .unwrap();
    assert_eq!(
        v.as_deref(),
        Some("Ada"),
        "after the negative TTL the source is asked again"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        users
            .get("ghost")
            .await
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("Ada")
    );
    assert!(
        CacheBuilder::new()
            .negative_ttl(Duration::ZERO)
            .build::<String>()
            .is_err()
    );
}
