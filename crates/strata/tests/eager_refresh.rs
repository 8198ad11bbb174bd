//! Eager refresh: a hit past the configured fraction of its TTL is loaded again in the
//! background, once, while readers keep getting the current value.
#![cfg(feature = "memory")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use strata::{Cache, CacheBuilder, ManualClock, SharedClock};

fn loader(
    calls: &Arc<AtomicU64>,
) -> impl FnOnce() -> std::future::Ready<Result<u64, std::io::Error>> + Send + 'static {
    let calls = calls.clone();
    move || std::future::ready(Ok(calls.fetch_add(1, Ordering::SeqCst) + 1))
}

#[tokio::test]
async fn hits_past_the_fraction_refresh_once_in_the_background() {
    let clock = Arc::new(ManualClock::new());
    let rates: Cache<u64> = CacheBuilder::new()
        .namespace("rates")
        .clock(clock.clone() as SharedClock)
        .default_ttl(Duration::from_secs(100))
        .eager_refresh(0.8)
        .build()
        .unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    assert_eq!(
        *rates
            .get_or_load_refreshing("eur", loader(&calls))
            .await
            .unwrap(),
        1
    );
    clock.advance(Duration::from_secs(50));
    assert_eq!(
        *rates
            .get_or_load_refreshing("eur", loader(&calls))
            .await
            .unwrap(),
        1
    );
    assert_eq!(rates.refreshes(), 0, "half-way through its TTL: no refresh");

    clock.advance(Duration::from_secs(35));
    for _ in 0..5 {
        let v = rates
            .get_or_load_refreshing("eur", loader(&calls))
            .await
            .unwrap();
        assert!(
            *v == 1 || *v == 2,
            "the current value while the refresh runs: {v}"
        );
    }
    // Bounded wait for the background task (it needs no I/O, only a turn on the runtime).
    for _ in 0..100 {
        if rates.get("eur").await.unwrap().as_deref() == Some(&2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        rates.get("eur").await.unwrap().as_deref(),
        Some(&2),
        "refreshed"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh for five hits");
    assert_eq!(rates.refreshes(), 1);
    // The refreshed value has a whole TTL ahead: no refresh now.
    rates
        .get_or_load_refreshing("eur", loader(&calls))
        .await
        .unwrap();
    assert_eq!(rates.refreshes(), 1);
    assert!(
        CacheBuilder::new()
            .eager_refresh(1.5)
            .build::<u64>()
            .is_err()
    );
}
