//! Chooses the window size of the adaptive policy by simulating the alternatives.
//!
//! A small, spatially sampled slice of the key space (one key in `rate`, by hash) is replayed
//! against several miniature W-TinyLFU caches, each `capacity / rate` entries with a
//! different window share. Because they see the same sampled requests at the same time, their
//! hit counts compare the window sizes directly, without the noise of comparing one
//! configuration against itself across time (what a hill climber does). Every period the real
//! cache takes the window share of the mini cache with the best recent hit count. Scores decay
//! by half each period, so the choice follows a shifting workload within a few periods.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use hashbrown::HashMap;
use parking_lot::Mutex;

use super::sketch::Sketch;

/// The window shares tried. The last two let the cache become LRU when recency is all that
/// pays (a share of 1 is a window the size of the cache: LRU with second chances): with 80 %
/// at most, a workload whose pages come back after about 8,000 others hit 12.6 points less
/// than LRU in a cache of 10,000 (`cargo xtask sim --trace synthetic:phases`).
pub(crate) const SHARES: [f64; 9] = [0.01, 0.04, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0];
/// The share used before the first decision.
pub(crate) const INITIAL_SHARE: usize = 0;
/// Mini caches hold at least this many entries (small caches are sampled more densely).
const MIN_MINI: u64 = 256;
/// The sparsest sampling for caches up to `MAX_MINI * MAX_RATE` entries: one key in this many.
const MAX_RATE: u64 = 32;
/// Mini caches hold at most this many entries: very large caches are sampled more sparsely
/// than `MAX_RATE`, so the tuner's memory stays bounded (nine minis of at most about 0.5 MB each).
const MAX_MINI: u64 = 8_192;
const PROTECTED_SHARE: f64 = 0.8;
/// A decision every this many sampled accesses per mini-cache entry.
const PERIOD_PER_ENTRY: u64 = 2;

const NIL: u32 = u32::MAX;
const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;

#[derive(Clone, Copy)]
struct Segment {
    head: u32,
    tail: u32,
    len: usize,
}

/// A W-TinyLFU cache of key hashes with exact LRU segments: the reference the real,
/// lock-friendly policy approximates. Its storage is allocated once, up front, so replaying
/// an access never allocates.
pub(crate) struct Mini {
    window_cap: usize,
    main_cap: usize,
    protected_cap: usize,
    index: HashMap<u64, u32>,
    keys: Vec<u64>,
    prev: Vec<u32>,
    next: Vec<u32>,
    segment: Vec<u8>,
    free: Vec<u32>,
    segments: [Segment; 3],
}

impl Mini {
    pub(crate) fn new(capacity: usize, window_share: f64) -> Self {
        // The main space keeps one entry at least (a share of 1 leaves it that one).
        let window_cap = ((capacity as f64 * window_share) as usize).clamp(1, capacity.max(2) - 1);
        let main_cap = capacity.saturating_sub(window_cap).max(1);
        // One slot more than the entries held: an access may hold one extra for a moment.
        let slots = window_cap + main_cap + 1;
        Mini {
            window_cap,
            main_cap,
            protected_cap: ((main_cap as f64 * PROTECTED_SHARE) as usize).max(1),
            index: HashMap::with_capacity(slots),
            keys: vec![0; slots],
            prev: vec![NIL; slots],
            next: vec![NIL; slots],
            segment: vec![WINDOW; slots],
            free: (0..slots as u32).rev().collect(),
            segments: [Segment {
                head: NIL,
                tail: NIL,
                len: 0,
            }; 3],
        }
    }

    fn unlink(&mut self, i: u32) {
        let (p, n, seg) = (
            self.prev[i as usize],
            self.next[i as usize],
            self.segment[i as usize],
        );
        let s = &mut self.segments[seg as usize];
        if p == NIL {
            s.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            s.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
        s.len -= 1;
    }

    fn push(&mut self, seg: u8, i: u32) {
        let s = &mut self.segments[seg as usize];
        self.prev[i as usize] = s.tail;
        self.next[i as usize] = NIL;
        self.segment[i as usize] = seg;
        if s.tail == NIL {
            s.head = i;
        } else {
            self.next[s.tail as usize] = i;
        }
        s.tail = i;
        s.len += 1;
    }

    fn move_to(&mut self, seg: u8, i: u32) {
        self.unlink(i);
        self.push(seg, i);
    }

    fn evict(&mut self, i: u32) {
        self.unlink(i);
        self.index.remove(&self.keys[i as usize]);
        self.free.push(i);
    }

    /// Replays one access, already counted in `sketch`; true on a hit.
    pub(crate) fn access(&mut self, hash: u64, sketch: &Sketch) -> bool {
        if let Some(&i) = self.index.get(&hash) {
            match self.segment[i as usize] {
                PROBATION => {
                    self.move_to(PROTECTED, i);
                    if self.segments[PROTECTED as usize].len > self.protected_cap {
                        let demoted = self.segments[PROTECTED as usize].head;
                        self.move_to(PROBATION, demoted);
                    }
                }
                seg => self.move_to(seg, i),
            }
            return true;
        }
        let Some(i) = self.free.pop() else {
            return false;
        };
        self.keys[i as usize] = hash;
        self.index.insert(hash, i);
        self.push(WINDOW, i);
        if self.segments[WINDOW as usize].len > self.window_cap {
            let candidate = self.segments[WINDOW as usize].head;
            self.admit(candidate, sketch);
        }
        false
    }

    fn admit(&mut self, candidate: u32, sketch: &Sketch) {
        let main = self.segments[PROBATION as usize].len + self.segments[PROTECTED as usize].len;
        if main < self.main_cap {
            self.move_to(PROBATION, candidate);
            return;
        }
        let victim = match self.segments[PROBATION as usize].head {
            NIL => self.segments[PROTECTED as usize].head,
            v => v,
        };
        if victim == NIL {
            self.evict(candidate);
            return;
        }
        let (c, v) = (self.keys[candidate as usize], self.keys[victim as usize]);
        if sketch.estimate(c) > sketch.estimate(v) {
            self.evict(victim);
            self.move_to(PROBATION, candidate);
        } else {
            self.evict(candidate);
        }
    }
}

pub(crate) struct Tuner {
    rate_mask: u64,
    minis: Vec<Mini>,
    /// How often each sampled key was seen recently. One for all the minis: they see the
    /// same accesses, so each one's sketch would hold the same counts.
    sketch: Sketch,
    period: u64,
    seen: u64,
    hits: [u64; SHARES.len()],
    scores: [f64; SHARES.len()],
    best: usize,
}

fn mix(hash: u64) -> u64 {
    let h = hash.rotate_left(23).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 29)
}

/// Whether a key with `hash` is in the sample of a tuner with `rate_mask`.
pub(crate) fn sampled(hash: u64, rate_mask: u64) -> bool {
    mix(hash) & rate_mask == 0
}

impl Tuner {
    /// A tuner for a cache (or shard) of `capacity` entries.
    pub(crate) fn new(capacity: u64) -> Self {
        let rate = (capacity / MIN_MINI).clamp(1, MAX_RATE);
        let rate = if rate.is_power_of_two() {
            rate
        } else {
            rate.next_power_of_two() / 2
        };
        let rate = rate.max(capacity.div_ceil(MAX_MINI).next_power_of_two());
        let mini = (capacity / rate).max(16) as usize;
        Tuner {
            rate_mask: rate - 1,
            minis: SHARES.iter().map(|&s| Mini::new(mini, s)).collect(),
            sketch: Sketch::new(mini as u64),
            period: (mini as u64) * PERIOD_PER_ENTRY,
            seen: 0,
            hits: [0; SHARES.len()],
            scores: [0.0; SHARES.len()],
            best: INITIAL_SHARE,
        }
    }

    /// Whether accesses to `hash` feed the tuner.
    #[cfg(test)]
    pub(crate) fn samples(&self, hash: u64) -> bool {
        sampled(hash, self.rate_mask)
    }

    /// Replays a sampled access; returns the new best share when it changed.
    pub(crate) fn access(&mut self, hash: u64) -> Option<f64> {
        self.sketch.add(hash, 1);
        for (mini, hits) in self.minis.iter_mut().zip(self.hits.iter_mut()) {
            if mini.access(hash, &self.sketch) {
                *hits += 1;
            }
        }
        self.seen += 1;
        if self.seen < self.period {
            return None;
        }
        self.seen = 0;
        for (score, hits) in self.scores.iter_mut().zip(self.hits.iter_mut()) {
            *score = *score * 0.5 + *hits as f64;
            *hits = 0;
        }
        let mut best = self.best;
        for (i, s) in self.scores.iter().enumerate() {
            // Move only for a clear win, so ties and noise keep the current choice.
            if *s > self.scores[best] * 1.002 + 1.0 {
                best = i;
            }
        }
        (best != self.best).then(|| {
            self.best = best;
            SHARES[best]
        })
    }

    /// The window share currently chosen.
    pub(crate) fn share(&self) -> f64 {
        SHARES[self.best]
    }
}

/// Sampled reads waiting for the tuner, at most this many.
const BUFFER: usize = 128;
/// Writers hand the buffer to the tuner once it holds this many.
const DRAIN_AT: usize = 32;

/// The tuner of a whole cache, fed without slowing reads down: a read of a sampled key only
/// appends the key's hash to a small buffer (one atomic increment and one store); writers,
/// which already pay for the policy, replay the buffer into the tuner. A full buffer drops
/// further samples until the next write, which loses nothing that matters: a cache that only
/// reads has nothing to tune.
pub(crate) struct Sampler {
    rate_mask: u64,
    slots: Box<[AtomicU64]>,
    head: AtomicUsize,
    tuner: Mutex<Tuner>,
    share: AtomicU32,
}

impl Sampler {
    /// A sampler for a cache of `capacity` entries.
    pub(crate) fn new(capacity: u64) -> Self {
        let tuner = Tuner::new(capacity);
        Sampler {
            rate_mask: tuner.rate_mask,
            slots: (0..BUFFER).map(|_| AtomicU64::new(0)).collect(),
            head: AtomicUsize::new(0),
            share: AtomicU32::new((tuner.share() as f32).to_bits()),
            tuner: Mutex::new(tuner),
        }
    }

    /// Notes a read of `hash` (only sampled hashes are kept). Safe from any thread.
    #[inline]
    pub(crate) fn record(&self, hash: u64) {
        if !sampled(hash, self.rate_mask) {
            return;
        }
        let i = self.head.fetch_add(1, Ordering::Relaxed);
        if let Some(slot) = self.slots.get(i) {
            slot.store(hash | 1, Ordering::Relaxed);
        }
    }

    /// Replays buffered samples into the tuner, if enough are waiting and no other writer
    /// is doing it.
    pub(crate) fn drain(&self) {
        if self.head.load(Ordering::Relaxed) < DRAIN_AT {
            return;
        }
        let Some(mut tuner) = self.tuner.try_lock() else {
            return;
        };
        let n = self.head.swap(0, Ordering::Relaxed).min(BUFFER);
        for slot in &self.slots[..n] {
            let hash = slot.swap(0, Ordering::Relaxed);
            if hash != 0
                && let Some(share) = tuner.access(hash)
            {
                self.share
                    .store((share as f32).to_bits(), Ordering::Relaxed);
            }
        }
    }

    /// The window share currently chosen.
    #[inline]
    pub(crate) fn share(&self) -> f64 {
        f64::from(f32::from_bits(self.share.load(Ordering::Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_buffers_reads_and_writers_drain_them() {
        let s = Sampler::new(100);
        // Capacity 100: every key is sampled (rate 1).
        for k in 1..=40u64 {
            s.record(k << 20);
        }
        assert_eq!(s.head.load(Ordering::Relaxed), 40);
        s.drain();
        assert_eq!(s.head.load(Ordering::Relaxed), 0);
        // Past the buffer, samples are dropped, never written out of bounds.
        for k in 1..=1_000u64 {
            s.record(k << 20);
        }
        s.drain();
        assert!((0.0..=1.0).contains(&s.share()));
    }

    #[test]
    fn huge_caches_get_bounded_minis() {
        let t = Tuner::new(1 << 40);
        assert!(t.minis.iter().all(|m| m.keys.len() as u64 <= MAX_MINI + 1));
        let t = Tuner::new(160_000);
        assert_eq!(t.rate_mask + 1, 32);
    }

    /// A mini cache with a sketch of its own, as the tuner feeds one.
    struct Alone {
        mini: Mini,
        sketch: Sketch,
    }

    impl Alone {
        fn new(capacity: usize, share: f64) -> Self {
            Alone {
                mini: Mini::new(capacity, share),
                sketch: Sketch::new(capacity as u64),
            }
        }

        fn access(&mut self, hash: u64) -> bool {
            self.sketch.add(hash, 1);
            self.mini.access(hash, &self.sketch)
        }
    }

    #[test]
    fn mini_never_allocates_after_construction() {
        // Holds its capacity: the free list, the lists and the index stay within bounds.
        let mut m = Alone::new(64, 0.1);
        for k in 0..10_000u64 {
            m.access(k.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 300);
            assert!(m.mini.index.len() <= 64);
            let total: usize = m.mini.segments.iter().map(|s| s.len).sum();
            assert_eq!(total, m.mini.index.len());
        }
    }

    #[test]
    fn a_full_window_keeps_one_main_entry_and_the_capacity() {
        let mut m = Alone::new(100, 1.0);
        assert_eq!((m.mini.window_cap, m.mini.main_cap), (99, 1));
        // A loop of 100 keys fits: after the first pass, every access hits.
        for _ in 0..2 {
            for k in 0..100u64 {
                m.access(k << 8);
            }
        }
        assert!((0..100u64).all(|k| m.access(k << 8)));
    }

    #[test]
    fn mini_is_scan_resistant() {
        let mut m = Alone::new(100, 0.01);
        // A hot set of 50 keys, seen often.
        for _ in 0..20 {
            for k in 0..50u64 {
                m.access(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            }
        }
        // A long scan of one-off keys.
        for k in 1_000..11_000u64 {
            m.access(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        let hot_hits = (0..50u64)
            .filter(|k| m.access(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .count();
        assert!(
            hot_hits >= 45,
            "only {hot_hits} of 50 hot keys survived the scan"
        );
    }

    /// The share a tuner for 1,000 entries picks after `requests` in which each key comes
    /// once and again `distance` keys later (so about twice `distance` others in between).
    fn share_for_keys_coming_back(distance: u64, requests: u64) -> f64 {
        let mut t = Tuner::new(1_000);
        for k in 0..requests {
            let key = if k.is_multiple_of(2) {
                k / 2
            } else {
                (k / 2).saturating_sub(distance)
            };
            let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            if t.samples(h) {
                t.access(h);
            }
        }
        t.share()
    }

    #[test]
    fn recency_workload_prefers_a_large_window() {
        // Keys reused once, at a distance a bit under the capacity: LRU-friendly, and the
        // frequency filter turns the second use away unless the window is large.
        let share = share_for_keys_coming_back(300, 200_000);
        assert!(share >= 0.2, "chose {share}");
    }

    #[test]
    fn pure_recency_beyond_an_80_percent_window_picks_a_larger_one() {
        // Each key comes back once, after about 880 others: only a window of 90 % or more of
        // the 1,000 entries keeps it (a frequency filter turns every second use away).
        let share = share_for_keys_coming_back(440, 400_000);
        assert!(share >= 0.9, "chose {share}");
    }

    #[test]
    fn frequency_workload_prefers_a_small_window() {
        let mut t = Tuner::new(1_000);
        let mut x = 1u64;
        for _ in 0..400_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Skewed: half the accesses go to 900 hot keys (most of the capacity), the rest
            // to a large cold space that a big window would let in.
            let key = if x.is_multiple_of(2) {
                (x >> 1) % 900
            } else {
                1_000 + x % 1_000_000
            };
            let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            if t.samples(h) {
                t.access(h);
            }
        }
        assert!(t.share() <= 0.1, "chose {}", t.share());
    }
}
