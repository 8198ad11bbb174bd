//! How far a candidate must lead the entry it would replace, and the trial that chooses it.
//!
//! The W-TinyLFU duel admits a candidate the frequency sketch has seen more often than the
//! victim. For keys seen once or twice a lead of one is what chance gives: the last halving
//! of the sketch leaves a key read since it one count ahead of an equal key read before it,
//! and one collision in the sketch adds one to any key. So such keys must lead by two
//! ([`Lead::TwoWhenRare`], the default). Whether keys seen more often should also lead by two
//! depends on the workload: on a loop over more keys than the cache holds it keeps more of
//! the loop (40.3 % of the requests against 38.2 % at 20,000 entries), on one of the ARC
//! traces (P3 at 80,000 entries) it turns away keys that are becoming hot (32.1 % against
//! 34.7 %). No constant serves both, so the tuner runs one more trial ([`LeadChoice`]): the
//! shard's own code at the cache's window share with the other rule, and the cache switches
//! when that trial clearly hits more than the one mirroring the cache.

use std::num::NonZeroU64;

use super::trial::Trial;
use super::tuner::{TRIAL_DECAY, leads_by, rescore};

/// Below this estimate a candidate needs a lead of two counts under [`Lead::TwoWhenRare`].
const FEW_SIGHTINGS: u8 = 3;

/// The contrast trial's score must exceed the mirror's by this share (and one hit) for the
/// cache to switch rules. Five times the window adoption's 0.2 %: a switch changes every
/// duel of the cache at once, and on traces where the rules score within a percent of each
/// other (P3 at 160,000 entries) switching on the adoption's lead cost 1.1 points on
/// average over 30 runs, against 0.16 over 63 with this one, while on the loops it is for
/// (5,000 to 20,000 entries) the cache gains 3-5 %.
const SWITCH_LEAD: f64 = 0.01;

/// Which candidates must be seen at least two counts more often than the victim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Lead {
    /// Candidates seen fewer than three times (others need a lead of one).
    #[default]
    TwoWhenRare,
    /// Every candidate.
    TwoAlways,
}

impl Lead {
    /// The rule the contrast trial runs while the cache runs this one.
    pub(crate) fn other(self) -> Lead {
        match self {
            Lead::TwoWhenRare => Lead::TwoAlways,
            Lead::TwoAlways => Lead::TwoWhenRare,
        }
    }

    /// The estimate from which a lead of one is enough.
    #[inline(always)]
    fn two_below(self) -> u8 {
        match self {
            Lead::TwoWhenRare => FEW_SIGHTINGS,
            Lead::TwoAlways => u8::MAX,
        }
    }

    /// As stored in an atomic byte ([`Lead::from_u8`] reads it back).
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }

    /// The rule stored by [`Lead::to_u8`]; any other byte reads as the default.
    pub(crate) fn from_u8(b: u8) -> Lead {
        if b == Lead::TwoAlways as u8 {
            Lead::TwoAlways
        } else {
            Lead::TwoWhenRare
        }
    }
}

/// Whether a key the sketch estimates at `candidate` should take the place of one at
/// `victim` under `lead`: seen more often, and by at least two counts when `lead` asks it of
/// the candidate.
#[inline(always)]
pub(crate) fn outranks(candidate: u8, victim: u8, lead: Lead) -> bool {
    candidate > victim.saturating_add(u8::from(candidate < lead.two_below()))
}

/// Chooses the cache's [`Lead`] by trial (see the module's documentation).
pub(crate) struct LeadChoice {
    /// The shard's code at the cache's share, with the rule the cache does not use.
    contrast: Trial,
    /// The rule the cache uses.
    lead: Lead,
    /// The contrast's hits this period.
    contrast_hits: u64,
    /// Decayed hits: of the trial mirroring the cache, then of the contrast.
    scores: [f64; 2],
}

impl LeadChoice {
    /// A choice starting at the default rule, with a contrast trial of `capacity` entries.
    pub(crate) fn new(capacity: NonZeroU64) -> Self {
        let lead = Lead::default();
        let mut contrast = Trial::new(capacity);
        contrast.set_lead(lead.other());
        LeadChoice {
            contrast,
            lead,
            contrast_hits: 0,
            scores: [0.0; 2],
        }
    }

    /// Replays one sampled access into the contrast trial.
    pub(crate) fn access(&mut self, hash: u64) {
        if self.contrast.access(hash) {
            self.contrast_hits += 1;
        }
    }

    /// Ends a period in which the trial mirroring the cache (same share, same rule) hit
    /// `mirror_hits` times; `share` is the cache's window share from now on. Returns the rule
    /// the cache uses from now on.
    pub(crate) fn decide(&mut self, mirror_hits: u64, share: f64) -> Lead {
        let mut hits = [mirror_hits, self.contrast_hits];
        rescore(&mut self.scores, &mut hits, TRIAL_DECAY);
        self.contrast_hits = 0;
        if leads_by(self.scores[1], self.scores[0], SWITCH_LEAD) {
            // The trials keep their entries and change rule, as the cache does; their scores
            // change places, so switching back needs as clear a lead.
            self.lead = self.lead.other();
            self.contrast.set_lead(self.lead.other());
            self.scores.swap(0, 1);
        }
        self.contrast.set_share(share);
        self.lead
    }

    /// The rule the cache uses.
    pub(crate) fn lead(&self) -> Lead {
        self.lead
    }
}

#[cfg(test)]
mod tests {
    use super::super::sketch::MAX_COUNT;
    use super::super::workloads::{cycling, spread};
    use super::*;

    #[test]
    fn a_key_seen_once_or_twice_needs_a_lead_of_two() {
        let rare = Lead::TwoWhenRare;
        assert!(!outranks(1, 0, rare));
        assert!(!outranks(2, 1, rare));
        assert!(outranks(2, 0, rare));
        assert!(!outranks(3, 3, rare));
        assert!(outranks(3, 2, rare));
        assert!(outranks(MAX_COUNT, MAX_COUNT - 1, rare));
        assert!(!outranks(MAX_COUNT, MAX_COUNT, rare));
        assert!(!outranks(0, 0, rare));
    }

    #[test]
    fn under_two_always_every_key_needs_a_lead_of_two() {
        let always = Lead::TwoAlways;
        assert!(!outranks(2, 1, always));
        assert!(outranks(2, 0, always));
        assert!(!outranks(3, 2, always));
        assert!(outranks(4, 2, always));
        assert!(!outranks(MAX_COUNT, MAX_COUNT - 1, always));
        assert!(outranks(MAX_COUNT, MAX_COUNT - 2, always));
    }

    #[test]
    fn the_rule_survives_an_atomic_byte() {
        for lead in [Lead::TwoWhenRare, Lead::TwoAlways] {
            assert_eq!(Lead::from_u8(lead.to_u8()), lead);
            assert_eq!(lead.other().other(), lead);
        }
        assert_eq!(Lead::from_u8(200), Lead::TwoWhenRare);
    }

    /// Runs `periods` periods of a loop over `keys` keys through a choice and a mirror trial
    /// of 1,000 entries at a 1 % window (the mirror follows the choice, as the cache's trials
    /// do); returns the rules chosen, period by period.
    fn choices_on_a_loop(keys: u64, periods: usize) -> Vec<Lead> {
        let capacity = NonZeroU64::new(1_000).unwrap();
        let mut choice = LeadChoice::new(capacity);
        let mut mirror = Trial::new(capacity);
        mirror.set_share(0.01);
        let mut stream = cycling(keys, u64::MAX).map(spread);
        (0..periods)
            .map(|_| {
                let mut mirror_hits = 0;
                for h in stream.by_ref().take(2_000) {
                    choice.access(h);
                    mirror_hits += u64::from(mirror.access(h));
                }
                let lead = choice.decide(mirror_hits, 0.01);
                mirror.set_lead(lead);
                lead
            })
            .collect()
    }

    #[test]
    fn a_loop_larger_than_the_cache_switches_to_a_lead_of_two_always() {
        // 2,000 keys in order through 1,000 entries: each key is seen as often as every
        // other, and once the counts pass two, a lead of one lets newcomers through that a
        // lead of two keeps out (see the trial's loop test for the rare keys).
        let leads = choices_on_a_loop(2_000, 60);
        assert_eq!(leads.last(), Some(&Lead::TwoAlways), "{leads:?}");
    }

    #[test]
    fn a_loop_that_fits_keeps_the_default() {
        // 800 keys in 1,000 entries: every rule hits on everything, so nothing leads.
        let leads = choices_on_a_loop(800, 30);
        assert!(leads.iter().all(|&l| l == Lead::TwoWhenRare), "{leads:?}");
    }
}
