//! Fenced fills on one node: generations that every invalidation bumps, and the tickets a
//! miss leaves for the fill that may follow it.
//!
//! A *generation* is a pair: a node-wide epoch (bumped by invalidations wider than a key, by
//! gaps, flushes and lost connections) and the counter of the key's stripe (bumped by key
//! invalidations and writes). A fill or promotion snapshots it before reading L2 and writes
//! L1 only if it has not moved, checking again after the write (and removing what it wrote
//! when it moved meanwhile): an invalidation bumps first and removes second, so either the
//! fill sees the bump or the invalidation sees the fill's value.
//!
//! A *ticket* is what a miss saw: the generation and the L2 version (the compare-and-set
//! token of strata-core). The fill that follows writes L2 only if the version is still the
//! same, in one Lua compare-and-set on Redis; a fence (the tombstone an invalidation leaves)
//! changes the version even of a key that was absent.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use strata_core::{Key, Selector, Timestamp, Version};

/// Stripes of key generations (a power of two).
const STRIPES: usize = 1_024;
/// The most tickets kept; past it, expired ones are pruned, then the oldest half.
const MAX_TICKETS: usize = 65_536;

/// A snapshot of a key's generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Generation {
    epoch: u64,
    stripe: u64,
}

/// The generations of one node.
#[derive(Debug)]
pub(crate) struct Generations {
    epoch: AtomicU64,
    stripes: Box<[AtomicU64]>,
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            epoch: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Generations {
    fn stripe(&self, key: &Key) -> &AtomicU64 {
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        &self.stripes[(h as usize) & (STRIPES - 1)]
    }

    /// The key's generation now.
    pub(crate) fn snapshot(&self, key: &Key) -> Generation {
        Generation {
            epoch: self.epoch.load(Ordering::SeqCst),
            stripe: self.stripe(key).load(Ordering::SeqCst),
        }
    }

    /// Moves the generation of `key`.
    pub(crate) fn bump_key(&self, key: &Key) {
        self.stripe(key).fetch_add(1, Ordering::SeqCst);
    }

    /// Moves every key's generation.
    pub(crate) fn bump_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Moves the generations of what `selector` selects.
    pub(crate) fn bump(&self, selector: &Selector) {
        match selector {
            Selector::Key(k) => self.bump_key(k),
            _ => self.bump_all(),
        }
    }
}

/// What a miss saw, for the fill that follows it.
#[derive(Clone, Debug)]
pub(crate) struct Ticket {
    pub(crate) generation: Generation,
    pub(crate) version: Version,
    taken: Timestamp,
}

/// Outstanding tickets by key. The oldest ticket of a key is kept (a later miss does not
/// replace it), so a fill is checked against the earliest point any load of it could have
/// begun.
#[derive(Debug, Default)]
pub(crate) struct Tickets {
    map: Mutex<HashMap<Key, Ticket>>,
}

impl Tickets {
    /// Records what a miss of `key` saw, unless a live ticket is already there.
    pub(crate) fn offer(
        &self,
        key: &Key,
        generation: Generation,
        version: Version,
        now: Timestamp,
        window: Duration,
    ) {
        let mut map = self.map.lock();
        if let Some(t) = map.get(key)
            && now.saturating_duration_since(t.taken) <= window
        {
            return;
        }
        if map.len() >= MAX_TICKETS {
            map.retain(|_, t| now.saturating_duration_since(t.taken) <= window);
            if map.len() >= MAX_TICKETS {
                // Fills of the dropped tickets are written as plain writes (still checked
                // against the generation of their write).
                let mut ages: Vec<Timestamp> = map.values().map(|t| t.taken).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                map.retain(|_, t| t.taken > cut);
            }
        }
        map.insert(
            key.clone(),
            Ticket {
                generation,
                version,
                taken: now,
            },
        );
    }

    /// Takes the ticket of `key` if one younger than `window` is there.
    pub(crate) fn claim(&self, key: &Key, now: Timestamp, window: Duration) -> Option<Ticket> {
        let t = self.map.lock().remove(key)?;
        (now.saturating_duration_since(t.taken) <= window).then_some(t)
    }

    /// Forgets the ticket of `key` (an L2 hit: no fill follows a hit).
    pub(crate) fn forget(&self, key: &Key) {
        let mut map = self.map.lock();
        if !map.is_empty() {
            map.remove(key);
        }
    }

    /// How many are outstanding.
    pub(crate) fn len(&self) -> usize {
        self.map.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::Namespace;

    fn key(id: &str) -> Key {
        Key::new(&Namespace::new("t").unwrap(), id).unwrap()
    }

    #[test]
    fn bumps_move_snapshots() {
        let g = Generations::default();
        let (a, b) = (key("a"), key("b"));
        let sa = g.snapshot(&a);
        g.bump_key(&b);
        // `b` may share a stripe with `a`; a bump of `a` always moves `a`.
        g.bump_key(&a);
        assert_ne!(g.snapshot(&a), sa);
        let sb = g.snapshot(&b);
        g.bump(&Selector::All);
        assert_ne!(g.snapshot(&b), sb);
    }

    #[test]
    fn the_oldest_live_ticket_is_kept_and_claimed_once() {
        let t = Tickets::default();
        let g = Generations::default();
        let k = key("k");
        let w = Duration::from_secs(10);
        t.offer(
            &k,
            g.snapshot(&k),
            Version::new("1"),
            Timestamp::from_millis(1_000),
            w,
        );
        t.offer(
            &k,
            g.snapshot(&k),
            Version::new("2"),
            Timestamp::from_millis(2_000),
            w,
        );
        let got = t.claim(&k, Timestamp::from_millis(3_000), w).unwrap();
        assert_eq!(got.version, Version::new("1"));
        assert!(t.claim(&k, Timestamp::from_millis(3_000), w).is_none());
        // An expired ticket is replaced, and not claimed.
        t.offer(
            &k,
            g.snapshot(&k),
            Version::ABSENT,
            Timestamp::from_millis(0),
            w,
        );
        assert!(t.claim(&k, Timestamp::from_millis(20_000), w).is_none());
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn tickets_are_bounded() {
        let t = Tickets::default();
        let g = Generations::default();
        let w = Duration::from_secs(3_600);
        for i in 0..(MAX_TICKETS + 10) {
            let k = key(&format!("k{i}"));
            t.offer(
                &k,
                g.snapshot(&k),
                Version::ABSENT,
                Timestamp::from_millis(i as u64),
                w,
            );
        }
        assert!(t.len() <= MAX_TICKETS);
    }
}
