//! A count-min sketch of 4-bit counters: how often each key was seen recently.
//!
//! Four counters per key in one 64-bit word (one cache line touched per operation), chosen by
//! independent hash mixes; the estimate is their minimum. When the number of recorded events
//! reaches ten times the capacity, every counter is halved, so the sketch follows a changing
//! workload (TinyLFU's "reset").

/// The largest value a counter holds.
pub(crate) const MAX_COUNT: u8 = 15;

#[derive(Debug)]
pub(crate) struct Sketch {
    table: Vec<u64>,
    mask: usize,
    additions: u64,
    sample_size: u64,
    /// The entries the sketch is sized for.
    capacity: u64,
}

/// One multiply-xorshift mix of the key's hash; its bits pick the word and the counters.
fn mix(hash: u64) -> u64 {
    let h = hash.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

impl Sketch {
    /// A sketch for a cache of `capacity` entries.
    pub(crate) fn new(capacity: u64) -> Self {
        let words = capacity.clamp(16, 1 << 26).next_power_of_two() as usize;
        Sketch {
            table: vec![0; words],
            mask: words - 1,
            additions: 0,
            sample_size: capacity.max(16).saturating_mul(10),
            capacity,
        }
    }

    /// The entries the sketch is sized for.
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    fn word(&self, mixed: u64) -> usize {
        (mixed as usize) & self.mask
    }

    /// The four nibble positions (0..16) in the word: counter i lives in nibbles 4i..4i+4
    /// and two high bits of the mix pick one of them.
    fn slots(mixed: u64) -> [u32; 4] {
        let bits = (mixed >> 56) as u32;
        [
            bits & 3,
            4 + ((bits >> 2) & 3),
            8 + ((bits >> 4) & 3),
            12 + ((bits >> 6) & 3),
        ]
    }

    /// The estimated frequency of `hash` (0..=15).
    pub(crate) fn estimate(&self, hash: u64) -> u8 {
        let mixed = mix(hash);
        let w = self.table[self.word(mixed)];
        Self::slots(mixed)
            .iter()
            .map(|&s| ((w >> (s * 4)) & 0xF) as u8)
            .min()
            .unwrap_or(0)
    }

    /// Records `times` events for `hash`; returns true when the sketch aged (halved).
    pub(crate) fn add(&mut self, hash: u64, times: u8) -> bool {
        if times == 0 {
            return false;
        }
        let mixed = mix(hash);
        let idx = self.word(mixed);
        let mut w = self.table[idx];
        let mut changed = false;
        for s in Self::slots(mixed) {
            let shift = s * 4;
            let c = ((w >> shift) & 0xF) as u8;
            let next = c.saturating_add(times).min(MAX_COUNT);
            if next != c {
                w = (w & !(0xF << shift)) | (u64::from(next) << shift);
                changed = true;
            }
        }
        self.table[idx] = w;
        if changed {
            self.additions += u64::from(times);
            if self.additions >= self.sample_size {
                self.age();
                return true;
            }
        }
        false
    }

    /// Halves every counter.
    pub(crate) fn age(&mut self) {
        for w in &mut self.table {
            // Shift every nibble right by one: clear each nibble's low bit first.
            *w = (*w >> 1) & 0x7777_7777_7777_7777;
        }
        self.additions /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_saturates() {
        let mut s = Sketch::new(1000);
        assert_eq!(s.estimate(42), 0);
        for i in 1..=20u8 {
            s.add(42, 1);
            assert_eq!(s.estimate(42), i.min(MAX_COUNT));
        }
    }

    #[test]
    fn distinct_keys_rarely_collide() {
        let mut s = Sketch::new(10_000);
        for k in 0..5_000u64 {
            s.add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1);
        }
        let over: usize = (10_000..20_000u64)
            .filter(|k| s.estimate(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)) > 0)
            .count();
        assert!(over < 1_000, "{over} unseen keys look seen");
    }

    #[test]
    fn ages_after_the_sample_size() {
        let mut s = Sketch::new(16);
        for _ in 0..8 {
            s.add(7, 1);
        }
        let before = s.estimate(7);
        let mut aged = false;
        for k in 0..200u64 {
            aged |= s.add(k.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1, 1);
        }
        assert!(aged);
        assert!(s.estimate(7) < before);
    }
}
