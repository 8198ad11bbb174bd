//! Chooses the window size of the adaptive policy by simulating the alternatives.
//!
//! A small, spatially sampled slice of the key space (one key in `rate`, by hash) is replayed
//! against several miniature W-TinyLFU caches, each `capacity / rate` entries with a
//! different window share. Because they see the same sampled requests at the same time, their
//! hit counts compare the window sizes directly, without the noise of comparing one
//! configuration against itself across time (what a hill climber does). Every period the
//! window share of the mini cache with the best recent hit count is proposed. Scores decay by
//! half each period, so the proposal follows a shifting workload within a few periods.
//!
//! The cache takes the proposals only while following them pays ([`Adoption`]): two trial
//! caches running the shard's own code (`trial.rs`), one moving with the proposals and one
//! staying at the default share, show what the moves cost, which the fixed minis cannot.
//! A third trial chooses the admission rule's lead the same way ([`LeadChoice`]).

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::lead::{Lead, LeadChoice};
use super::mini::Mini;
use super::sketch::Sketch;
use super::trial::Trial;

/// The window shares tried. The last two let the cache become LRU when recency is all that
/// pays (a share of 1 is a window the size of the cache: LRU with second chances): with 80 %
/// at most, a workload whose pages come back after about 8,000 others hit 12.6 points less
/// than LRU in a cache of 10,000 (`cargo xtask sim --trace synthetic:phases`).
pub(crate) const SHARES: [f64; 9] = [0.01, 0.04, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0];
/// The default share: the one used before the first decision, the one the cache keeps while
/// following the proposals does not pay, and the staying trial's.
pub(crate) const INITIAL_SHARE: usize = 0;
/// Mini caches hold at least this many entries (small caches are sampled more densely).
const MIN_MINI: u64 = 256;
/// The sparsest sampling for caches up to `MAX_MINI * MAX_RATE` entries: one key in this many.
///
/// The tuner's cost is mostly memory (its minis and trials are touched at random, and push the
/// cache's own entries out of the processor's caches), so it grows with the minis' size, that
/// is with the cache's size over this rate. One in 64 rather than one in 32: on the ARC traces
/// at 80,000 and 160,000 entries the replay spent 20 to 30 % less time, with second-level
/// cache misses (1 MB, callgrind's simulation, P3 at 160,000) down from 19.9 to 15.9 million
/// (11.2 million with no tuner), and the hit ratios the same within their run-to-run spread
/// (docs/performance.md, "The tuner's cost").
const MAX_RATE: u64 = 64;
/// Mini caches hold at most this many entries: very large caches are sampled more sparsely
/// than `MAX_RATE`, so the tuner's memory stays bounded (nine minis of at most about 0.25 MB
/// each, and three trials of the same size, about 0.7 MB each).
const MAX_MINI: u64 = 8_192;
/// A decision every this many sampled accesses per mini-cache entry.
const PERIOD_PER_ENTRY: u64 = 2;

/// The trials' scores decay by this per period: whether following the minis pays is judged
/// over about ten periods, long enough to count what a change of share costs afterwards.
pub(super) const TRIAL_DECAY: f64 = 0.9;

/// Ends a period: each score decays by `decay` and gains the period's hits, which restart.
pub(super) fn rescore(scores: &mut [f64], hits: &mut [u64], decay: f64) {
    for (score, hits) in scores.iter_mut().zip(hits) {
        *score = *score * decay + *hits as f64;
        *hits = 0;
    }
}

/// Whether `a` leads `b` clearly enough to act on: by 0.2 % and one hit, so ties and noise
/// keep the current choice.
fn leads(a: f64, b: f64) -> bool {
    leads_by(a, b, 0.002)
}

/// Whether score `a` exceeds `b` by more than the share `margin` of `b` and one hit.
pub(super) fn leads_by(a: f64, b: f64, margin: f64) -> bool {
    a > b * (1.0 + margin) + 1.0
}

/// Whether the cache takes the minis' proposals or keeps the default share.
///
/// Two trials (the real shard's code, see `trial.rs`) see the sampled accesses: one moves
/// its window to each proposal as the cache would, one stays at the default share. The
/// cache follows the proposals only while the first has recently hit more: adapting has to
/// pay for what its changes cost. On a workload whose favoured window changes faster than
/// the tuner can follow, jumping after it loses more than it gains (one of the ARC traces,
/// P3, at 80,000 entries: 32.6 % against 36.0 % with the default share).
struct Adoption {
    following: Trial,
    staying: Trial,
    /// Hits this period, following then staying.
    hits: [u64; 2],
    scores: [f64; 2],
    adopted: bool,
}

impl Adoption {
    fn new(capacity: NonZeroU64) -> Self {
        Adoption {
            following: Trial::new(capacity),
            staying: Trial::new(capacity),
            hits: [0; 2],
            scores: [0.0; 2],
            adopted: false,
        }
    }

    fn access(&mut self, hash: u64) {
        for (trial, hits) in [&mut self.following, &mut self.staying]
            .into_iter()
            .zip(&mut self.hits)
        {
            if trial.access(hash) {
                *hits += 1;
            }
        }
    }

    /// The cache now admits under `lead`: both trials follow it.
    fn set_lead(&mut self, lead: Lead) {
        self.following.set_lead(lead);
        self.staying.set_lead(lead);
    }

    /// This period's hits of the trial that does what the cache does (the following one
    /// while the cache follows the minis, else the staying one).
    fn mirror_hits(&self) -> u64 {
        self.hits[usize::from(!self.adopted)]
    }

    /// The minis now propose `share`.
    fn propose(&mut self, share: f64) {
        self.following.set_share(share);
    }

    /// Ends a period: rescores the trials and returns whether the cache follows the minis.
    fn decide(&mut self) -> bool {
        rescore(&mut self.scores, &mut self.hits, TRIAL_DECAY);
        self.adopted = judge(self.adopted, self.scores[0], self.scores[1]);
        self.adopted
    }
}

/// Whether to follow the minis, given whether the cache does now and the scores of the trial
/// that follows them and of the one that stays.
fn judge(adopted: bool, following: f64, staying: f64) -> bool {
    if adopted {
        !leads(staying, following)
    } else {
        leads(following, staying)
    }
}

/// Chooses the window share from sampled accesses (see the module's documentation).
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
    /// The minis' leader: the share proposed.
    best: usize,
    adoption: Adoption,
    /// Chooses the admission rule's lead.
    lead: LeadChoice,
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
        let trial = NonZeroU64::new(mini as u64).unwrap_or(NonZeroU64::MIN);
        Tuner {
            rate_mask: rate - 1,
            minis: SHARES.iter().map(|&s| Mini::new(mini, s)).collect(),
            sketch: Sketch::new(mini as u64),
            period: (mini as u64) * PERIOD_PER_ENTRY,
            seen: 0,
            hits: [0; SHARES.len()],
            scores: [0.0; SHARES.len()],
            best: INITIAL_SHARE,
            adoption: Adoption::new(trial),
            lead: LeadChoice::new(trial),
        }
    }

    /// Whether accesses to `hash` feed the tuner.
    #[cfg(test)]
    pub(crate) fn samples(&self, hash: u64) -> bool {
        sampled(hash, self.rate_mask)
    }

    /// Replays a sampled access; returns what the cache should use ([`Tuner::share`],
    /// [`Tuner::lead`]) when either changed.
    pub(crate) fn access(&mut self, hash: u64) -> Option<(f64, Lead)> {
        self.sketch.add(hash, 1);
        for (mini, hits) in self.minis.iter_mut().zip(self.hits.iter_mut()) {
            if mini.access(hash, &self.sketch) {
                *hits += 1;
            }
        }
        self.adoption.access(hash);
        self.lead.access(hash);
        self.seen += 1;
        if self.seen < self.period {
            return None;
        }
        self.seen = 0;
        rescore(&mut self.scores, &mut self.hits, 0.5);
        let before = (self.share(), self.lead());
        let mirror_hits = self.adoption.mirror_hits();
        let mut best = self.best;
        for (i, s) in self.scores.iter().enumerate() {
            if leads(*s, self.scores[best]) {
                best = i;
            }
        }
        if best != self.best {
            self.best = best;
            self.adoption.propose(SHARES[best]);
        }
        self.adoption.decide();
        let lead = self.lead.decide(mirror_hits, self.share());
        if lead != before.1 {
            self.adoption.set_lead(lead);
        }
        let after = (self.share(), lead);
        (after != before).then_some(after)
    }

    /// The admission rule currently chosen.
    pub(crate) fn lead(&self) -> Lead {
        self.lead.lead()
    }

    /// The window share currently chosen: the minis' proposal while following it pays, else
    /// the default.
    pub(crate) fn share(&self) -> f64 {
        if self.adoption.adopted {
            SHARES[self.best]
        } else {
            SHARES[INITIAL_SHARE]
        }
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
    /// The admission rule, as [`Lead::to_u8`] stores it.
    lead: AtomicU8,
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
            lead: AtomicU8::new(tuner.lead().to_u8()),
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
                && let Some((share, lead)) = tuner.access(hash)
            {
                self.share
                    .store((share as f32).to_bits(), Ordering::Relaxed);
                self.lead.store(lead.to_u8(), Ordering::Relaxed);
            }
        }
    }

    /// The window share currently chosen.
    #[inline]
    pub(crate) fn share(&self) -> f64 {
        f64::from(f32::from_bits(self.share.load(Ordering::Relaxed)))
    }

    /// The admission rule currently chosen.
    #[inline]
    pub(crate) fn lead(&self) -> Lead {
        Lead::from_u8(self.lead.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::super::workloads::{coming_back, cycling, hot_and_cold, skewed, spread};
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
        assert_eq!(s.head.load(Ordering::Relaxed), 1_000);
        s.drain();
        assert_eq!(s.head.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn huge_caches_get_bounded_minis() {
        let t = Tuner::new(1 << 40);
        assert!(t.minis.iter().all(|m| m.slots() as u64 <= MAX_MINI + 1));
        let t = Tuner::new(160_000);
        assert_eq!(t.rate_mask + 1, 64);
        // Small caches are sampled densely enough for minis of `MIN_MINI` entries.
        let t = Tuner::new(10_000);
        assert_eq!(t.rate_mask + 1, 32);
    }

    /// Replays `keys` into `t` as the cache would (only sampled keys reach it); returns the
    /// share then in force.
    fn feed(t: &mut Tuner, keys: impl Iterator<Item = u64>) -> f64 {
        for h in keys.map(spread) {
            if t.samples(h) {
                t.access(h);
            }
        }
        t.share()
    }

    /// The share a tuner for 1,000 entries picks after `requests` in which each key comes
    /// once and again `distance` keys later (so about twice `distance` others in between).
    fn share_for_keys_coming_back(distance: u64, requests: u64) -> f64 {
        feed(&mut Tuner::new(1_000), coming_back(0..requests, distance))
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
    fn a_large_cache_sampled_sparsely_follows_recency_and_then_frequency() {
        // 100,000 entries: one key in 64 sampled, minis of 1,562. First keys coming back
        // after about 88,000 others, which only a window of 90 % or more keeps; then a hot set
        // of 90 % of the capacity among ten million cold keys, which a large window lets the
        // cold keys flush: the tuner must move up, then back down.
        let mut t = Tuner::new(100_000);
        assert_eq!(t.rate_mask + 1, 64);
        let recency = feed(&mut t, coming_back(0..10_000_000, 44_000));
        assert!(recency >= 0.9, "chose {recency} for recency");
        let hot = 100_000_000..100_090_000;
        let frequency = feed(&mut t, skewed(10_000_000, hot, 200_000_000..210_000_000));
        assert!(
            frequency <= 0.1,
            "chose {frequency} for frequency after recency"
        );
        // The minis' own ranking came down too (not only the cache's adoption).
        assert!(SHARES[t.best] <= 0.1, "proposed {}", SHARES[t.best]);
    }

    #[test]
    fn frequency_workload_prefers_a_small_window() {
        let mut t = Tuner::new(1_000);
        feed(&mut t, hot_and_cold(400_000));
        assert!(t.share() <= 0.1, "chose {}", t.share());
        // The minis' own ranking, whether or not the cache follows it.
        assert!(SHARES[t.best] <= 0.1, "proposed {}", SHARES[t.best]);
    }

    #[test]
    fn the_share_reported_as_changed_is_the_share_in_force() {
        // Recency, then frequency, then recency again (new keys): proposals and adoption
        // both change.
        let recency = |offset: u64| coming_back(0..200_000, 440).map(move |k| k + offset);
        let stream = recency(0)
            .chain(hot_and_cold(200_000))
            .chain(recency(20_000_000));
        let mut t = Tuner::new(1_000);
        let mut reported = (t.share(), t.lead());
        let mut changes = 0;
        for h in stream.map(spread) {
            if t.samples(h) {
                if let Some((share, lead)) = t.access(h) {
                    assert_ne!((share, lead), reported, "a change to the same choice");
                    reported = (share, lead);
                    changes += 1;
                }
                assert_eq!(reported, (t.share(), t.lead()));
            }
        }
        assert!(changes >= 2, "{changes} changes");
    }

    #[test]
    fn following_the_minis_is_judged_with_hysteresis() {
        // Not following: follow on a clear lead only.
        assert!(!judge(false, 1_000.0, 1_000.0));
        assert!(!judge(false, 1_001.0, 1_000.0));
        assert!(judge(false, 1_010.0, 1_000.0));
        // Following: keep on ties, stop when staying clearly leads.
        assert!(judge(true, 1_000.0, 1_000.0));
        assert!(judge(true, 1_000.0, 1_001.0));
        assert!(!judge(true, 1_000.0, 1_010.0));
    }

    /// Replays `keys` into both trials and ends the period: whether the cache would follow.
    fn period(a: &mut Adoption, keys: impl Iterator<Item = u64>) -> bool {
        for k in keys {
            a.access(spread(k));
        }
        a.decide()
    }

    /// 2,000 requests from the `from`th on, in which each key comes once and again 21
    /// requests later.
    fn returns(from: u64) -> impl Iterator<Item = u64> {
        coming_back(from..from + 2_000, 10)
    }

    #[test]
    fn a_proposal_is_followed_once_it_pays() {
        let mut a = Adoption::new(NonZeroU64::new(100).unwrap());
        assert!(!a.adopted);
        // Keys that come back once: a large window keeps them, the default one's frequency
        // filter turns them away.
        a.propose(1.0);
        assert!(period(&mut a, returns(0)));
        assert!(period(&mut a, returns(2_000)));
    }

    #[test]
    fn a_proposal_that_costs_more_than_it_gains_is_not_followed() {
        let mut a = Adoption::new(NonZeroU64::new(100).unwrap());
        for _ in 0..5 {
            assert!(
                !period(&mut a, cycling(80, 2_000)),
                "equal trials: no reason to follow"
            );
        }
        // The minis propose an LRU-like window, and a scan of new keys comes (no hits for
        // either trial): the trial that follows lets it flush its hot set, the one that stays
        // filters it out. Back on the hot set, with the proposal standing, staying leads.
        a.propose(1.0);
        period(&mut a, 1_000..3_000);
        for _ in 0..3 {
            assert!(!period(&mut a, cycling(80, 2_000)));
        }
        assert!(a.scores[1] > a.scores[0], "staying scored {:?}", a.scores);
    }

    #[test]
    fn following_stops_when_staying_scores_more() {
        let mut a = Adoption::new(NonZeroU64::new(100).unwrap());
        a.propose(1.0);
        assert!(period(&mut a, returns(0)));
        // Now a hot set interrupted by scans: the large window loses it to every scan.
        let mut followed = Vec::new();
        for round in 0..10u64 {
            followed.push(period(&mut a, cycling(80, 2_000)));
            followed.push(period(
                &mut a,
                100_000 * (round + 1)..100_000 * (round + 1) + 2_000,
            ));
        }
        assert!(!a.adopted, "still following after {followed:?}");
    }
}
