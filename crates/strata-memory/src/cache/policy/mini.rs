//! A miniature W-TinyLFU cache of sampled key hashes, with exact LRU segments: the reference
//! the real, lock-friendly policy approximates, which the tuner (`tuner.rs`) runs with
//! several window sizes side by side.
//!
//! The tuner replays every sampled access into nine of these, so their cost is the tuner's,
//! and it is mostly memory: each entry's links and key sit together in one 16-byte record
//! (links are 16-bit slot numbers: a mini holds at most [`MAX_ENTRIES`]), the index holds
//! 16-bit slot numbers too, and it is keyed by the sampled hash itself, mixed by the sketch's
//! multiply and shift, rather than hashed again.

use hashbrown::HashTable;

use super::sketch::{self, Sketch};

const PROTECTED_SHARE: f64 = 0.8;

/// The most entries a mini holds: its slots (one more) are numbered in 16 bits, and `NIL`
/// is the one number left over.
const MAX_ENTRIES: usize = u16::MAX as usize - 1;

const NIL: u16 = u16::MAX;
const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;

#[derive(Clone, Copy)]
struct Segment {
    head: u16,
    tail: u16,
    len: usize,
}

/// One slot: the key's hash, its place in its segment's list, and the segment.
#[derive(Clone, Copy)]
struct Entry {
    key: u64,
    prev: u16,
    next: u16,
    segment: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 16);

/// A W-TinyLFU cache of key hashes. Its storage is allocated once, up front, so replaying an
/// access never allocates (the index has room for twice the entries, so when removals leave
/// it no free slot it rehashes in place rather than growing).
pub(crate) struct Mini {
    window_cap: usize,
    main_cap: usize,
    protected_cap: usize,
    /// Slot indices, by the sketch's mix of their key ([`sketch::mix`]: the sampled hashes are
    /// uniform already, but tests feed small keys, and the mix carries low bits up into the
    /// top seven the index tags its slots with and high bits down into those that pick the
    /// bucket).
    index: HashTable<u16>,
    entries: Vec<Entry>,
    free: Vec<u16>,
    segments: [Segment; 3],
}

impl Mini {
    /// A cache of `capacity` entries (at most [`MAX_ENTRIES`]), `window_share` of them in
    /// the window.
    pub(crate) fn new(capacity: usize, window_share: f64) -> Self {
        let capacity = capacity.min(MAX_ENTRIES);
        // The main space keeps one entry at least (a share of 1 leaves it that one).
        let window_cap = ((capacity as f64 * window_share) as usize).clamp(1, capacity.max(2) - 1);
        let main_cap = capacity.saturating_sub(window_cap).max(1);
        // One slot more than the entries held: an access may hold one extra for a moment.
        let slots = window_cap + main_cap + 1;
        let empty = Entry {
            key: 0,
            prev: NIL,
            next: NIL,
            segment: WINDOW,
        };
        Mini {
            window_cap,
            main_cap,
            protected_cap: ((main_cap as f64 * PROTECTED_SHARE) as usize).max(1),
            index: HashTable::with_capacity(2 * slots),
            entries: vec![empty; slots],
            free: (0..slots as u16).rev().collect(),
            segments: [Segment {
                head: NIL,
                tail: NIL,
                len: 0,
            }; 3],
        }
    }

    /// The slots allocated (entries held at most, plus one).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.entries.len()
    }

    fn unlink(&mut self, i: u16) {
        let Entry {
            prev,
            next,
            segment,
            ..
        } = self.entries[i as usize];
        let s = &mut self.segments[segment as usize];
        if prev == NIL {
            s.head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            s.tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        s.len -= 1;
    }

    fn push(&mut self, segment: u8, i: u16) {
        let s = &mut self.segments[segment as usize];
        let e = &mut self.entries[i as usize];
        e.prev = s.tail;
        e.next = NIL;
        e.segment = segment;
        if s.tail == NIL {
            s.head = i;
        } else {
            self.entries[s.tail as usize].next = i;
        }
        s.tail = i;
        s.len += 1;
    }

    fn move_to(&mut self, segment: u8, i: u16) {
        self.unlink(i);
        self.push(segment, i);
    }

    fn evict(&mut self, i: u16) {
        self.unlink(i);
        let key = self.entries[i as usize].key;
        if let Ok(entry) = self.index.find_entry(sketch::mix(key), |&j| j == i) {
            entry.remove();
        }
        self.free.push(i);
    }

    /// Replays one access, already counted in `sketch`; true on a hit.
    pub(crate) fn access(&mut self, hash: u64, sketch: &Sketch) -> bool {
        let entries = &self.entries;
        if let Some(&i) = self
            .index
            .find(sketch::mix(hash), |&j| entries[j as usize].key == hash)
        {
            match self.entries[i as usize].segment {
                PROBATION => {
                    self.move_to(PROTECTED, i);
                    if self.segments[PROTECTED as usize].len > self.protected_cap {
                        let demoted = self.segments[PROTECTED as usize].head;
                        self.move_to(PROBATION, demoted);
                    }
                }
                segment => self.move_to(segment, i),
            }
            return true;
        }
        let Some(i) = self.free.pop() else {
            return false;
        };
        self.entries[i as usize].key = hash;
        let entries = &self.entries;
        self.index.insert_unique(sketch::mix(hash), i, |&j| {
            sketch::mix(entries[j as usize].key)
        });
        self.push(WINDOW, i);
        if self.segments[WINDOW as usize].len > self.window_cap {
            let candidate = self.segments[WINDOW as usize].head;
            self.admit(candidate, sketch);
        }
        false
    }

    /// The duel, on the plain rule: the candidate enters on any lead. The cache itself asks
    /// a candidate seen once or twice, or every candidate, for a lead of two (`lead.rs`);
    /// the minis only rank window shares, and with that rule in them too no row of the
    /// sweeps moved beyond its spread (docs/performance.md, "A lead of two for keys seen
    /// once or twice").
    fn admit(&mut self, candidate: u16, sketch: &Sketch) {
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
        let (c, v) = (
            self.entries[candidate as usize].key,
            self.entries[victim as usize].key,
        );
        if sketch.estimate(c) > sketch.estimate(v) {
            self.evict(victim);
            self.move_to(PROBATION, candidate);
        } else {
            self.evict(candidate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::workloads::hot_after_scan;
    use super::*;

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
        let index_capacity = m.mini.index.capacity();
        // Keys coming back (hits, promotions) and a stream of new ones (evictions, which leave
        // the index tombstones until it rehashes).
        for k in 0..50_000u64 {
            let key = if k % 2 == 0 { k % 300 } else { k };
            m.access(key.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            assert!(m.mini.index.len() <= 64);
            let total: usize = m.mini.segments.iter().map(|s| s.len).sum();
            assert_eq!(total, m.mini.index.len());
            assert_eq!(m.mini.free.len() + total, m.mini.slots());
            assert_eq!(m.mini.index.capacity(), index_capacity, "the index grew");
        }
    }

    #[test]
    fn a_mini_larger_than_its_slot_numbers_allow_is_clamped() {
        let mut m = Alone::new(100_000, 0.01);
        assert_eq!(m.mini.slots(), MAX_ENTRIES + 1);
        // Fill it past its slots: every new key finds a slot or evicts, none is numbered NIL.
        for k in 0..200_000u64 {
            m.access(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        assert_eq!(m.mini.index.len(), MAX_ENTRIES);
        let total: usize = m.mini.segments.iter().map(|s| s.len).sum();
        assert_eq!(total, MAX_ENTRIES);
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
        let hot = hot_after_scan(|h| m.access(h), 50, 1_000..11_000);
        assert!(hot >= 45, "only {hot} of 50 hot keys survived the scan");
    }
}
