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

/// One multiply-xorshift mix of the key's hash; its bits pick the word and the counters (and,
/// in the tuner's mini caches, where an entry goes in their index).
pub(crate) fn mix(hash: u64) -> u64 {
    let h = hash.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// Nibbles of even position in a word (the low half of each byte).
const EVEN: u64 = 0x0F0F_0F0F_0F0F_0F0F;

/// For each byte of pick bits (two per counter, as [`Sketch::slots`] reads them from the top
/// byte of the mix), the low bit of each of the four chosen nibbles: one load instead of four
/// variable shifts on every write.
const ONES: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut bits = 0;
    while bits < 256 {
        let mut counter = 0;
        while counter < 4 {
            let slot = counter * 4 + ((bits >> (2 * counter)) & 3);
            table[bits] |= 1 << (slot * 4);
            counter += 1;
        }
        bits += 1;
    }
    table
};

/// `w` with `times` added to the nibbles whose low bits `ones` has set, each saturating at
/// [`MAX_COUNT`]; the other nibbles unchanged. Branch-free within each case. Adding one (every
/// access) only has to spare the nibbles already full; more (an evicted entry's hits) adds
/// even and odd nibbles a byte apart (a sum of two nibbles fits a byte) and sets bytes that
/// reached 16 to 15.
#[inline]
fn saturating_add_at(w: u64, ones: u64, times: u8) -> u64 {
    let mask = ones * 0xF;
    let sel = w & mask;
    if times == 1 {
        let full = sel & (sel >> 1) & (sel >> 2) & (sel >> 3) & ones;
        return w + (ones & !full);
    }
    let add = u64::from(times.min(MAX_COUNT)) * ones;
    let saturate = |x: u64| {
        let full = ((x + 0x7070_7070_7070_7070) & 0x8080_8080_8080_8080) >> 7;
        (x | (full * 0xF)) & EVEN
    };
    let low = saturate((sel & EVEN) + (add & EVEN));
    let high = saturate(((sel >> 4) & EVEN) + ((add >> 4) & EVEN));
    (w & !mask) | low | (high << 4)
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
    #[inline]
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
    #[inline]
    pub(crate) fn estimate(&self, hash: u64) -> u8 {
        let mixed = mix(hash);
        let w = self.table[self.word(mixed)];
        let [a, b, c, d] = Self::slots(mixed);
        let nibble = |s: u32| (w >> (s * 4)) & 0xF;
        nibble(a).min(nibble(b)).min(nibble(c).min(nibble(d))) as u8
    }

    /// Records `times` events for `hash`; returns true when the sketch aged (halved).
    #[inline]
    pub(crate) fn add(&mut self, hash: u64, times: u8) -> bool {
        if times == 0 {
            return false;
        }
        let mixed = mix(hash);
        let idx = self.word(mixed);
        let w = self.table[idx];
        let next = saturating_add_at(w, ONES[(mixed >> 56) as usize], times);
        if next == w {
            return false;
        }
        self.table[idx] = next;
        self.additions += u64::from(times);
        if self.additions >= self.sample_size {
            self.age();
            return true;
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
    fn the_word_update_matches_counting_one_nibble_at_a_time() {
        let mut x = 0x0123_4567_89AB_CDEFu64;
        for round in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mixed = x.rotate_left(11);
            let slots = Sketch::slots(mixed);
            let times = (round % 19) as u8;
            let mut expected = x;
            for s in slots {
                let shift = s * 4;
                let c = (x >> shift) & 0xF;
                let n = (c + u64::from(times)).min(u64::from(MAX_COUNT));
                expected = (expected & !(0xF << shift)) | (n << shift);
            }
            assert_eq!(
                saturating_add_at(x, ONES[(mixed >> 56) as usize], times),
                expected,
                "{x:#x} {slots:?} +{times}"
            );
        }
    }

    #[test]
    fn the_table_marks_the_nibbles_the_slots_name() {
        for bits in 0..256u64 {
            let expected = Sketch::slots(bits << 56)
                .iter()
                .fold(0u64, |ones, s| ones | 1 << (s * 4));
            assert_eq!(ONES[bits as usize], expected, "pick bits {bits:#010b}");
        }
    }

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
