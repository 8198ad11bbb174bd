//! Uniform draws for TTL jitter: a per-thread xorshift generator, seeded from the standard
//! library's random hasher keys (jitter needs spread, not cryptographic quality).

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    // Each RandomState has fresh keys, so each thread starts elsewhere; never zero.
    static STATE: Cell<u64> = Cell::new(RandomState::new().build_hasher().finish() | 1);
}

/// A uniform draw in `[0, 1)`.
pub(crate) fn unit() -> f64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        // The top 53 bits as a fraction.
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_are_in_range_and_spread() {
        let draws: Vec<f64> = (0..10_000).map(|_| super::unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let low = draws.iter().filter(|u| **u < 0.5).count();
        assert!((4_000..6_000).contains(&low), "{low}");
    }
}
