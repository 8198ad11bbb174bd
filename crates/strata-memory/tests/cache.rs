//! Behaviour of the generic cache core: limits, policies, expiry, the listener.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use strata_core::{ErrorKind, EvictionReason, ManualClock, SharedClock};
use strata_memory::{Cache, Compute, EntryOptions, EvictionPolicy};

type Events = Arc<Mutex<Vec<(u64, u64, EvictionReason)>>>;

fn cache(max: u64, policy: EvictionPolicy) -> (Cache<u64, u64>, Arc<ManualClock>, Events) {
    let clock = Arc::new(ManualClock::new());
    let events: Events = Arc::default();
    let log = events.clone();
    let c = Cache::builder()
        .max_entries(max)
        .eviction_policy(policy)
        .shards(1)
        .clock(clock.clone() as SharedClock)
        .eviction_listener(move |k: &u64, v: &u64, r| log.lock().unwrap().push((*k, *v, r)))
        .build()
        .unwrap();
    (c, clock, events)
}

#[test]
fn lru_evicts_least_recently_used() {
    let (c, _, events) = cache(3, EvictionPolicy::Lru);
    for k in 1..=3 {
        c.insert(k, k * 10).unwrap();
    }
    assert_eq!(c.get(&1), Some(10)); // 1 is now most recent
    c.insert(4, 40).unwrap();
    assert_eq!(c.get(&2), None, "2 was least recently used");
    assert_eq!(c.entry_count(), 3);
    assert_eq!(
        events.lock().unwrap().as_slice(),
        &[(2, 20, EvictionReason::Capacity)]
    );
}

#[test]
fn ttl_soonest_evicts_the_entry_closest_to_expiry() {
    let (c, _, _) = cache(3, EvictionPolicy::TtlSoonest);
    c.insert_with(1, 1, EntryOptions::ttl(Duration::from_secs(300)))
        .unwrap();
    c.insert_with(2, 2, EntryOptions::ttl(Duration::from_secs(30)))
        .unwrap();
    c.insert(3, 3).unwrap(); // no expiry: evicted last
    c.insert_with(4, 4, EntryOptions::ttl(Duration::from_secs(600)))
        .unwrap();
    assert_eq!(c.peek(&2), None);
    assert!(c.peek(&1).is_some() && c.peek(&3).is_some() && c.peek(&4).is_some());
}

#[test]
fn random_policy_keeps_the_bound_and_the_new_entry() {
    let (c, _, events) = cache(100, EvictionPolicy::Random);
    for k in 0..1_000 {
        c.insert(k, k).unwrap();
        assert_eq!(
            c.peek(&k),
            Some(k),
            "the entry just written is never the victim"
        );
    }
    assert_eq!(c.entry_count(), 100);
    assert_eq!(events.lock().unwrap().len(), 900);
    // Random, not LRU: some early keys survive.
    let survivors_below_900 = (0..900).filter(|k| c.peek(k).is_some()).count();
    assert!(survivors_below_900 > 0);
}

#[test]
fn weight_limit_and_oversized_entries() {
    let c: Cache<u64, Vec<u8>> = Cache::builder()
        .max_weight(1_000)
        .weigher(|_, v: &Vec<u8>| v.len() as u64)
        .build()
        .unwrap();
    c.insert(1, vec![0; 400]).unwrap();
    c.insert(2, vec![0; 400]).unwrap();
    let err = c.insert(3, vec![0; 1_001]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CapacityExceeded);
    assert_eq!(c.entry_count(), 2, "an oversized entry evicts nothing");
    c.insert(3, vec![0; 400]).unwrap();
    c.run_pending_tasks();
    assert!(c.weighted_size() <= 1_000);
    assert_eq!(c.entry_count(), 2);
}

#[test]
fn expired_entries_are_never_returned_and_are_reported_once() {
    let (c, clock, events) = cache(100, EvictionPolicy::Lru);
    c.insert_with(1, 1, EntryOptions::ttl(Duration::from_secs(10)))
        .unwrap();
    c.insert_with(2, 2, EntryOptions::ttl(Duration::from_secs(10)))
        .unwrap();
    clock.advance(Duration::from_secs(10));
    assert_eq!(c.get(&1), None);
    assert_eq!(c.peek(&2), None);
    assert!(!c.contains_key(&2));
    c.run_pending_tasks();
    assert_eq!(c.entry_count(), 0);
    let ev = events.lock().unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.2 == EvictionReason::Expired));
    let stats = c.stats();
    assert_eq!(stats.evictions.expired, 2);
    assert_eq!(stats.misses, 1);
}

#[test]
fn time_to_idle_is_refreshed_by_reads() {
    let (c, clock, _) = cache(100, EvictionPolicy::Lru);
    c.insert_with(
        1,
        1,
        EntryOptions::default().with_tti(Duration::from_secs(5)),
    )
    .unwrap();
    for _ in 0..4 {
        clock.advance(Duration::from_secs(4));
        assert_eq!(
            c.get(&1),
            Some(1),
            "read within the idle window keeps it alive"
        );
    }
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.get(&1), None);
}

#[test]
fn ttl_and_tti_together_take_the_earlier_deadline() {
    let (c, clock, _) = cache(100, EvictionPolicy::Lru);
    let opts = EntryOptions::ttl(Duration::from_secs(8)).with_tti(Duration::from_secs(5));
    c.insert_with(1, 1, opts).unwrap();
    clock.advance(Duration::from_secs(4));
    assert_eq!(c.get(&1), Some(1));
    assert_eq!(c.remaining(&1), Some(Some(Duration::from_secs(4))));
    clock.advance(Duration::from_secs(4));
    assert_eq!(c.get(&1), None, "the TTL wins even though it was read");
}

#[test]
fn set_ttl_changes_and_removes_expiry() {
    let (c, clock, _) = cache(100, EvictionPolicy::Lru);
    c.insert(1, 1).unwrap();
    assert_eq!(c.remaining(&1), Some(None));
    assert!(c.set_ttl(&1, Some(Duration::from_secs(3))));
    assert_eq!(c.remaining(&1), Some(Some(Duration::from_secs(3))));
    assert!(c.set_ttl(&1, None));
    clock.advance(Duration::from_secs(60));
    assert_eq!(c.get(&1), Some(1));
    assert!(!c.set_ttl(&2, None));
}

#[test]
fn replacements_and_removals_reach_the_listener() {
    let (c, _, events) = cache(100, EvictionPolicy::Lru);
    c.insert(1, 1).unwrap();
    c.insert(1, 2).unwrap();
    assert_eq!(c.remove(&1), Some(2));
    assert_eq!(c.remove(&1), None);
    c.insert(5, 5).unwrap();
    c.insert(6, 6).unwrap();
    assert_eq!(c.remove_where(|k, _| *k == 5), 1);
    assert_eq!(c.clear(), 1);
    let ev = events.lock().unwrap().clone();
    assert_eq!(
        ev,
        vec![
            (1, 1, EvictionReason::Replaced),
            (1, 2, EvictionReason::Invalidated),
            (5, 5, EvictionReason::Invalidated),
            (6, 6, EvictionReason::Invalidated),
        ]
    );
}

#[test]
fn compute_is_atomic_read_modify_write() {
    let (c, _, _) = cache(100, EvictionPolicy::Lru);
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..5_000 {
                    c.compute(7, |cur| {
                        let next = cur.copied().unwrap_or(0) + 1;
                        (Compute::Replace(next), ())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(c.get(&7), Some(10_000));
}

#[test]
fn background_sweeper_needs_a_runtime_and_clears_expired_entries() {
    let err = Cache::<u64, u64>::builder()
        .sweep_interval(Duration::from_millis(10))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let clock = Arc::new(ManualClock::new());
        let c: Cache<u64, u64> = Cache::builder()
            .clock(clock.clone() as SharedClock)
            .sweep_interval(Duration::from_secs(1))
            .build()
            .unwrap();
        for k in 0..100 {
            c.insert_with(k, k, EntryOptions::ttl(Duration::from_secs(5)))
                .unwrap();
        }
        clock.advance(Duration::from_secs(6));
        assert_eq!(c.entry_count(), 100);
        // Paused tokio time: the interval fires without real waiting.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            c.entry_count(),
            0,
            "the sweeper removed the expired entries"
        );
    });
}

#[test]
fn invalid_configuration_is_refused() {
    for b in [
        Cache::<u64, u64>::builder().max_entries(0),
        Cache::<u64, u64>::builder().max_weight(0),
        Cache::<u64, u64>::builder().time_to_live(Duration::ZERO),
    ] {
        assert_eq!(b.build().unwrap_err().kind(), ErrorKind::InvalidConfig);
    }
}

#[test]
fn adaptive_policy_keeps_a_hot_set_through_a_scan() {
    let c: Cache<u64, u64> = Cache::builder()
        .max_entries(1_000)
        .shards(1)
        .build()
        .unwrap();
    assert_eq!(c.policy(), EvictionPolicy::Adaptive);
    // A hot set of 500 keys, read often.
    for _ in 0..30 {
        for k in 0..500 {
            if c.get(&k).is_none() {
                c.insert(k, k).unwrap();
            }
        }
    }
    // A scan of 20,000 one-off keys, each read then inserted on its miss.
    for k in 100_000..120_000 {
        if c.get(&k).is_none() {
            c.insert(k, k).unwrap();
        }
        assert_eq!(
            c.peek(&k),
            Some(k),
            "a new entry is readable right after its insert"
        );
    }
    let survivors = (0..500).filter(|k| c.peek(k).is_some()).count();
    assert!(
        survivors >= 450,
        "only {survivors} of 500 hot keys survived the scan"
    );
    assert!(c.entry_count() <= 1_000);

    // The same under LRU loses the hot set entirely.
    let lru: Cache<u64, u64> = Cache::builder()
        .max_entries(1_000)
        .eviction_policy(EvictionPolicy::Lru)
        .build()
        .unwrap();
    for k in 0..500 {
        lru.insert(k, k).unwrap();
    }
    for k in 100_000..120_000 {
        lru.insert(k, k).unwrap();
    }
    assert_eq!((0..500).filter(|k| lru.peek(k).is_some()).count(), 0);
}

#[test]
fn adaptive_policy_respects_weights_and_reports_every_eviction() {
    let events: Arc<Mutex<Vec<EvictionReason>>> = Arc::default();
    let log = events.clone();
    let c: Cache<u64, Vec<u8>> = Cache::builder()
        .max_weight(10_000)
        .weigher(|_, v: &Vec<u8>| v.len() as u64)
        .eviction_listener(move |_, _, r| log.lock().unwrap().push(r))
        .build()
        .unwrap();
    for k in 0..1_000u64 {
        c.insert(k, vec![0; (k % 97 + 1) as usize]).unwrap();
    }
    c.run_pending_tasks();
    assert!(c.weighted_size() <= 10_000);
    let evicted = events.lock().unwrap().len() as u64;
    assert_eq!(evicted + c.entry_count(), 1_000);
}

#[test]
fn admission_weighs_a_key_seen_elsewhere_against_the_next_victim() {
    let (c, _, _) = cache(64, EvictionPolicy::Adaptive);
    // Room to spare: anything is admitted.
    assert!(c.admits(&1000));
    for k in 0..64u64 {
        c.insert(k, k).unwrap();
    }
    // A full cache whose entries are read often.
    for _ in 0..4 {
        for k in 0..64u64 {
            assert_eq!(c.get(&k), Some(k));
        }
    }
    c.run_pending_tasks();
    // A key seen once elsewhere loses the duel; seen often enough, it wins it.
    assert!(
        !c.admits(&5000),
        "a one-off read must not displace a hot entry"
    );
    let mut admitted_after = None;
    for n in 2..=16 {
        if c.admits(&5000) {
            admitted_after = Some(n);
            break;
        }
    }
    let n = admitted_after.expect("a key read 16 times elsewhere is admitted");
    assert!(n > 2, "admitted after {n} reads");
    // Without a frequency sketch, every key is admitted.
    let (lru, _, _) = cache(4, EvictionPolicy::Lru);
    for k in 0..4u64 {
        lru.insert(k, k).unwrap();
    }
    assert!(lru.admits(&99));
}

#[test]
fn adaptive_policy_keeps_more_of_a_loop_larger_than_the_cache() {
    // 2,000 keys in order, over and over, through 1,000 entries: every key is seen equally
    // often, so the best a cache can do is keep any 1,000 and turn the rest away (Bélády:
    // 50 % of the requests hit). The tuner's third trial finds that a lead of two counts for
    // every candidate keeps more of the loop, and the cache switches to it.
    let c: Cache<u64, u64> = Cache::builder()
        .max_entries(1_000)
        .shards(1)
        .build()
        .unwrap();
    let pass = |c: &Cache<u64, u64>| {
        (0..2_000u64)
            .filter(|&k| {
                let hit = c.get(&k).is_some();
                if !hit {
                    c.insert(k, k).unwrap();
                }
                hit
            })
            .count()
    };
    for _ in 0..100 {
        pass(&c);
    }
    let hits: usize = (0..20).map(|_| pass(&c)).sum();
    let ratio = hits as f64 / 40_000.0;
    // Measured (hash seeds are random per process): 0.4936-0.4941 in 11 runs; with the cache
    // held to the default rule, 0.465-0.480 in 11.
    assert!(ratio > 0.488, "{hits} hits of 40,000 requests ({ratio:.4})");
}
