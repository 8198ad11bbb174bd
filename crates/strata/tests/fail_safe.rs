//! Fail-safe: a value outlives its TTL as a stale copy; reads miss it, a failing loader is
//! answered with it, and it is gone after the window.
#![cfg(feature = "memory")]

use std::sync::Arc;
use std::time::Duration;

use strata::{Cache, CacheBuilder, ErrorKind, ManualClock, SharedClock};

fn cache(clock: &Arc<ManualClock>) -> Cache<String> {
    CacheBuilder::new()
        .namespace("quotes")
        .clock(clock.clone() as SharedClock)
        .default_ttl(Duration::from_secs(10))
        .fail_safe(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The value a plain read of `id` gives.
async fn read(cache: &Cache<String>, id: &str) -> Option<String> {
    cache.get(id).await.unwrap().map(|v| (*v).clone())
}

async fn failing() -> Result<String, std::io::Error> {
    Err(std::io::Error::other("the quote service is down"))
}

#[tokio::test]
async fn a_failing_load_is_answered_with_the_stale_value_within_the_window() {
    let clock = Arc::new(ManualClock::new());
    let quotes = cache(&clock);
    quotes.set("EURUSD", "1.08".to_owned()).await.unwrap();
    clock.advance(Duration::from_secs(11));
    assert!(
        quotes.get("EURUSD").await.unwrap().is_none(),
        "past its TTL: a miss"
    );

    let served = quotes.get_or_load("EURUSD", failing).await.unwrap();
    assert_eq!(
        *served, "1.08",
        "the loader failed: the stale value answers"
    );
    assert_eq!(quotes.fail_safe_activations(), 1);

    let fresh = quotes
        .get_or_load("EURUSD", || async {
            Ok::<_, std::io::Error>("1.09".to_owned())
        })
        .await
        .unwrap();
    assert_eq!(*fresh, "1.09", "a working loader replaces it");
    assert_eq!(read(&quotes, "EURUSD").await, Some("1.09".to_owned()));

    clock.advance(Duration::from_secs(71));
    let err = quotes.get_or_load("EURUSD", failing).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Loader,
        "past the window nothing is left: {err}"
    );
    assert_eq!(quotes.fail_safe_activations(), 1);
}

#[tokio::test]
async fn a_panicking_loader_falls_back_too_and_fresh_values_never_do() {
    let clock = Arc::new(ManualClock::new());
    let quotes = cache(&clock);
    quotes.set("GBPUSD", "1.27".to_owned()).await.unwrap();
    // Fresh: the loader is not even called.
    let v = quotes.get_or_load("GBPUSD", failing).await.unwrap();
    assert_eq!(*v, "1.27");
    assert_eq!(quotes.fail_safe_activations(), 0);
    clock.advance(Duration::from_secs(30));
    let v = quotes
        .get_or_load("GBPUSD", || async {
            if true {
                panic!("the loader broke");
            }
            Ok::<_, std::io::Error>(String::new())
        })
        .await
        .unwrap();
    assert_eq!(*v, "1.27");
    assert_eq!(quotes.fail_safe_activations(), 1);
}

async fn slow() -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok("too late".to_owned())
}

// tokio's clock is paused: the 30 s loader and the 2 s limit pass without waiting.
#[tokio::test(start_paused = true)]
async fn a_hard_loader_timeout_fails_the_load_or_falls_back_to_the_stale_value() {
    let clock = Arc::new(ManualClock::new());
    let plain: Cache<String> = CacheBuilder::new()
        .namespace("rates")
        .clock(clock.clone() as SharedClock)
        .loader_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = plain.get_or_load("r", slow).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("2s"), "{err}");

    let quotes = CacheBuilder::new()
        .namespace("quotes")
        .clock(clock.clone() as SharedClock)
        .default_ttl(Duration::from_secs(10))
        .fail_safe(Duration::from_secs(60))
        .loader_timeout(Duration::from_secs(2))
        .build::<String>()
        .unwrap();
    quotes.set("EURUSD", "1.08".to_owned()).await.unwrap();
    clock.advance(Duration::from_secs(11));
    let served = quotes.get_or_load("EURUSD", slow).await.unwrap();
    assert_eq!(
        *served, "1.08",
        "the stale value answers a load that took too long"
    );
    assert_eq!(quotes.fail_safe_activations(), 1);
}

// tokio's clock is paused: the loader's 5 s and the 1 s soft timeout pass without waiting.
#[tokio::test(start_paused = true)]
async fn after_the_soft_timeout_the_stale_value_answers_and_the_load_finishes_later() {
    let clock = Arc::new(ManualClock::new());
    let quotes: Cache<String> = CacheBuilder::new()
        .namespace("quotes")
        .clock(clock.clone() as SharedClock)
        .default_ttl(Duration::from_secs(10))
        .fail_safe(Duration::from_secs(60))
        .soft_timeout(Duration::from_secs(1))
        .loader_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    quotes.set("EURUSD", "1.08".to_owned()).await.unwrap();
    clock.advance(Duration::from_secs(11));
    let started = tokio::time::Instant::now();
    let served = quotes
        .get_or_load_refreshing("EURUSD", || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, std::io::Error>("1.09".to_owned())
        })
        .await
        .unwrap();
    assert_eq!(*served, "1.08", "the stale value after the soft timeout");
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(quotes.fail_safe_activations(), 1);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        read(&quotes, "EURUSD").await,
        Some("1.09".to_owned()),
        "the load finished in the background"
    );

    // A load within the soft timeout answers with the fresh value.
    clock.advance(Duration::from_secs(11));
    let fresh = quotes
        .get_or_load_refreshing("EURUSD", || async {
            Ok::<_, std::io::Error>("1.10".to_owned())
        })
        .await
        .unwrap();
    assert_eq!(*fresh, "1.10");
}

#[tokio::test]
async fn a_failing_batch_load_is_answered_with_the_stale_values() {
    let clock = Arc::new(ManualClock::new());
    let quotes = cache(&clock);
    quotes
        .set_many([("EURUSD", "1.08".to_owned()), ("GBPUSD", "1.27".to_owned())])
        .await
        .unwrap();
    clock.advance(Duration::from_secs(11));
    let failing_batch = |_ids: Vec<String>| async {
        Err::<Vec<(String, String)>, _>(std::io::Error::other("down"))
    };

    // Past their TTL: a batch read loads them again, not the stale copies.
    let loaded = quotes
        .get_or_load_many(&["EURUSD"], |ids| async move {
            Ok::<_, std::io::Error>(ids.into_iter().map(|id| (id, "1.09".to_owned())).collect())
        })
        .await
        .unwrap();
    assert_eq!(loaded[0].as_deref().map(String::as_str), Some("1.09"));

    // GBPUSD is stale; the load fails: its last value answers, and it is counted.
    clock.advance(Duration::from_secs(1));
    let served = quotes
        .get_or_load_many(&["GBPUSD"], failing_batch)
        .await
        .unwrap();
    assert_eq!(served[0].as_deref().map(String::as_str), Some("1.27"));
    assert_eq!(quotes.fail_safe_activations(), 1);

    // A key with no value to fall back on makes the failed batch an error.
    let err = quotes
        .get_or_load_many(&["GBPUSD", "USDJPY"], failing_batch)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Loader);
}

#[tokio::test(start_paused = true)]
async fn a_batch_load_is_bounded_by_the_loader_timeout() {
    let quotes: Cache<String> = CacheBuilder::new()
        .namespace("slow")
        .loader_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = quotes
        .get_or_load_many(&["a", "b"], |_ids| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<Vec<(String, String)>, std::io::Error>(Vec::new())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}
