//! A trial cache: the real shard's code, run over the tuner's sampled key hashes.
//!
//! The tuner's mini caches (`tuner.rs`) are a reference W-TinyLFU, each at one fixed window
//! share. They rank the shares, but they never change share, so they cannot show what a
//! change costs the real cache: a growing window evicts main entries without a duel, a
//! shrinking one lets window entries into main unfiltered, and the frequency-ordered main
//! space that was lost takes many periods to rebuild. A trial runs the shard itself (the
//! same lists, sketch, second chances and duel as the cache), so when its share moves, it
//! pays what the cache would pay.

use std::num::NonZeroU64;

use strata_core::Timestamp;

use super::EvictionPolicy;
use super::lead::Lead;
use crate::cache::shard::{Expiry, Shard};

/// A shard of `capacity` key hashes (no values, no expiry) under the adaptive policy.
pub(crate) struct Trial {
    shard: Shard<u64, ()>,
    capacity: u64,
}

/// A sampled key is its hash: the shard hashes it to itself.
fn identity(key: &u64) -> u64 {
    *key
}

/// The trial never expires entries, so its clock never moves.
fn never() -> Timestamp {
    Timestamp::from_nanos(0)
}

impl Trial {
    /// A trial of `capacity` entries with the default window share (see [`Trial::set_share`]).
    pub(crate) fn new(capacity: NonZeroU64) -> Self {
        let capacity = capacity.get();
        // The seed only feeds the shard's rare random admissions; any fixed one will do.
        let shard = Shard::new(0x9E37_79B9_7F4A_7C15, EvictionPolicy::Adaptive, capacity);
        Trial { shard, capacity }
    }

    /// Moves the window to `share` of the capacity; entries move on later accesses, as in
    /// the cache.
    pub(crate) fn set_share(&mut self, share: f64) {
        self.shard.set_window_share(share);
    }

    /// Switches the admission rule to `lead`, as the cache does when its tuner switches.
    pub(crate) fn set_lead(&mut self, lead: Lead) {
        self.shard.set_lead(lead);
    }

    /// Replays one access as the cache does it (a read; on a miss, an insert that evicts
    /// to stay within the capacity); true on a hit.
    pub(crate) fn access(&mut self, hash: u64) -> bool {
        if let Some(idx) = self.shard.find(hash, &hash) {
            self.shard.touch_shared(idx, None);
            return true;
        }
        let idx = self
            .shard
            .insert_new(hash, hash, (), 1, Expiry::default(), &never, identity);
        while self.shard.len > self.capacity {
            let Some(victim) = self.shard.victim(Some(idx), &identity) else {
                break;
            };
            let key = self.shard.get_node(victim).key;
            self.shard.remove(victim, key);
        }
        false
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.shard.len
    }
}

#[cfg(test)]
mod tests {
    use super::super::workloads::{coming_back, cycling, hot_after_scan, spread};
    use super::*;

    fn trial(capacity: u64, share: f64) -> Trial {
        let mut t = Trial::new(NonZeroU64::new(capacity).unwrap());
        t.set_share(share);
        t
    }

    #[test]
    fn holds_its_capacity_and_hits_what_it_holds() {
        let mut t = trial(100, 0.01);
        assert!(!t.access(spread(1)));
        assert!(t.access(spread(1)));
        for k in 0..10_000 {
            t.access(spread(k % 700));
            assert!(t.len() <= 100);
        }
    }

    #[test]
    fn a_window_grown_to_the_whole_cache_keeps_what_recency_keeps() {
        // Each key comes back once, 21 requests later, in a cache of 100: a window the size
        // of the cache (LRU with second chances) keeps nearly every one until it returns (a
        // few lose to keys that already came back and still hold their second chance); a 1 %
        // window sends them to the frequency filter, which turns most away.
        let hits = |share: f64| {
            let mut t = trial(100, share);
            coming_back(0..4_000, 10)
                .filter(|&k| t.access(spread(k)))
                .count()
        };
        let (lru, small) = (hits(1.0), hits(0.01));
        assert!(lru >= 1_800, "{lru} hits of 2,000 returns");
        assert!(small < 500, "{small} hits with a 1 % window");
    }

    #[test]
    fn a_frequency_filter_survives_a_scan_at_a_small_window() {
        let mut t = trial(200, 0.01);
        let hot = hot_after_scan(|h| t.access(h), 100, 1_000..11_000);
        assert!(hot >= 90, "only {hot} of 100 hot keys survived the scan");
        // The same scan flushes an LRU-like window.
        let mut t = trial(200, 1.0);
        let hot = hot_after_scan(|h| t.access(h), 100, 1_000..11_000);
        assert!(hot < 10, "{hot} of 100 hot keys survived the scan in LRU");
    }

    #[test]
    fn a_loop_larger_than_the_cache_keeps_one_part_of_it() {
        // 9,600 keys in order, over and over, through 1,000 entries: every key is seen
        // equally often, so the best a cache can do is keep any 1,000 of them and turn the
        // rest away (Bélády: about 10.4 % of the requests hit). Each duel is between keys the
        // sketch has seen once or twice; a frequency filter that lets the candidate in on a
        // lead of one count (which the last halving gives a key read since it, or one
        // collision gives any key) replaces part of its main space on every pass and hits
        // less.
        let mut t = trial(1_000, 0.01);
        let requests = 9_600 * 40;
        let hits = cycling(9_600, requests)
            .filter(|&k| t.access(spread(k)))
            .count();
        // 0.0926 with the two-count lead for keys seen once or twice, 0.0801 with a lead
        // of one.
        let ratio = hits as f64 / requests as f64;
        assert!(ratio > 0.088, "{hits} hits of {requests} ({ratio:.4})");
    }
}
