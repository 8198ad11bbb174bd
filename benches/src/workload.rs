//! Working sets, key orders and the measured loops, shared by every contender so they all do
//! the same work with the same keys.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

use criterion::Bencher;

/// Keys pre-filled into every cache of a hit benchmark.
pub const WORKING_SET: usize = 50_000;

/// Capacity of the caches of hit benchmarks: the whole working set fits.
pub const CAPACITY: usize = 100_000;

/// Capacity of the caches of insert benchmarks: the working set fills them, so every
/// further insert of a fresh key evicts.
pub const FULL_CAPACITY: usize = WORKING_SET;

/// Where the fresh keys of insert benchmarks start (far from the working set's indices).
pub const FRESH_KEYS_FROM: u64 = 1 << 40;

/// SplitMix64's output function: a bijection on `u64`, so distinct inputs give distinct,
/// well-spread keys.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` distinct `u64` keys.
pub fn keys(n: usize) -> Vec<u64> {
    (0..n as u64).map(splitmix64).collect()
}

/// The value stored under a `u64` key.
pub fn value_of(key: u64) -> u64 {
    key.rotate_left(17)
}

/// A copy of `items` in a fixed pseudo-random order (Fisher-Yates driven by `seed`).
pub fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut v = items.to_vec();
    let mut state = seed;
    for i in (1..v.len()).rev() {
        state = state.wrapping_add(1);
        let j = (splitmix64(state) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// Panics unless `hit` finds every key of `order` (a hit benchmark must only hit).
pub fn assert_all_hit<K: std::fmt::Debug>(
    what: &str,
    order: &[K],
    mut hit: impl FnMut(&K) -> bool,
) {
    if let Some(missing) = order.iter().find(|k| !hit(k)) {
        panic!("{what}: key {missing:?} of the working set is not cached");
    }
}

/// A criterion routine doing one `op` per iteration on the keys of `order`, in order,
/// wrapping around.
pub fn cycle<'a, K, R>(
    order: &'a [K],
    op: impl FnMut(&K) -> R + 'a,
) -> impl FnMut(&mut Bencher<'_>) + 'a {
    let mut next = one_at_a_time(order, 0, op);
    move |b| b.iter(&mut next)
}

/// `op` on the keys of `order`, one key per call, in order from `start`, wrapping around:
/// the loop of [`cycle`], and of each side of a [`crate::paired::measure`] (give the two
/// sides starts half the order apart: at the same start, the second batch of each pair would
/// read the keys the first one just brought into the CPU's caches).
///
/// # Panics
/// When `order` is empty.
pub fn one_at_a_time<'a, K, R>(
    order: &'a [K],
    start: usize,
    mut op: impl FnMut(&K) -> R + 'a,
) -> impl FnMut() + 'a {
    assert!(!order.is_empty(), "an empty key order");
    let mut pos = start % order.len();
    move || {
        let key = &order[pos];
        pos += 1;
        if pos == order.len() {
            pos = 0;
        }
        black_box(op(black_box(key)));
    }
}

/// A criterion routine where each iteration is one `op` on each of two threads running at
/// once over the keys of `order` (starting half the order apart): the time is the wall time
/// of both threads, so one iteration is two operations.
pub fn cycle_two_threads<'a, K, R>(
    order: &'a [K],
    op: impl Fn(&K) -> R + Sync + 'a,
) -> impl FnMut(&mut Bencher<'_>) + 'a
where
    K: Sync,
{
    assert!(!order.is_empty(), "an empty key order");
    move |b| {
        b.iter_custom(|iters| {
            let start_line = Barrier::new(3);
            // The scope joins both threads before it returns, so the clock stops after both.
            let start = std::thread::scope(|s| {
                for t in 0..2 {
                    let (start_line, op) = (&start_line, &op);
                    s.spawn(move || {
                        let mut pos = t * order.len() / 2;
                        start_line.wait();
                        for _ in 0..iters {
                            black_box(op(black_box(&order[pos])));
                            pos += 1;
                            if pos == order.len() {
                                pos = 0;
                            }
                        }
                    });
                }
                start_line.wait();
                Instant::now()
            });
            start.elapsed()
        })
    }
}

/// A criterion routine inserting one fresh key per iteration (`splitmix64` of a counter
/// that starts at [`FRESH_KEYS_FROM`] and never repeats), value [`value_of`] the key.
pub fn insert_fresh<'a, R>(
    mut insert: impl FnMut(u64, u64) -> R + 'a,
) -> impl FnMut(&mut Bencher<'_>) + 'a {
    let mut next = FRESH_KEYS_FROM;
    move |b| {
        b.iter(|| {
            let key = splitmix64(next);
            next += 1;
            insert(black_box(key), value_of(key))
        })
    }
}

/// Keys of the Zipf workloads: ranks `1..=ZIPF_KEY_SPACE`, ten times the cache.
pub const ZIPF_KEY_SPACE: u64 = 1_000_000;

/// Capacity of the caches of Zipf workloads: a tenth of the key space.
pub const ZIPF_CAPACITY: usize = 100_000;

/// The Zipf exponent of the Zipf workloads (the probability of rank `k` is proportional to
/// `k^-0.9`).
pub const ZIPF_EXPONENT: f64 = 0.9;

/// Operations in a pre-generated mixed sequence.
pub const MIXED_OPS: usize = 1 << 20;

/// The share of inserts in a mixed sequence (the rest are gets).
pub const MIXED_INSERT_SHARE: f64 = 0.1;

/// A deterministic stream of pseudo-random numbers (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(1);
        splitmix64(self.state)
    }

    /// A uniform `f64` in `[0, 1)` (53 random bits).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// A Zipf distribution over the ranks `1..=n`: rank `k` has probability proportional to
/// `k^-exponent`. Sampled by rejection-inversion (Hörmann and Derflinger, "Rejection-inversion
/// to generate variates from monotone discrete distributions", 1996), which needs no table
/// and accepts almost every first try.
///
/// ```
/// use strata_benches::workload::{Rng, Zipf};
/// let zipf = Zipf::new(1_000, 0.9);
/// let mut rng = Rng::new(7);
/// assert!((1..=1_000).contains(&zipf.sample(&mut rng)));
/// ```
#[derive(Clone, Debug)]
pub struct Zipf {
    n: f64,
    exponent: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    s: f64,
}

impl Zipf {
    /// The distribution over `1..=n` with `exponent`.
    ///
    /// # Panics
    /// When `n` is zero or `exponent` is not a finite positive number.
    pub fn new(n: u64, exponent: f64) -> Self {
        assert!(n > 0, "a Zipf distribution over no rank");
        assert!(
            exponent.is_finite() && exponent > 0.0,
            "a Zipf exponent must be positive, not {exponent}"
        );
        let mut z = Zipf {
            n: n as f64,
            exponent,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            s: 0.0,
        };
        z.h_integral_x1 = z.h_integral(1.5) - 1.0;
        z.h_integral_n = z.h_integral(z.n + 0.5);
        z.s = 2.0 - z.h_integral_inverse(z.h_integral(2.5) - z.h(2.0));
        z
    }

    /// A rank in `1..=n`.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        loop {
            let u = self.h_integral_n + rng.next_f64() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.s || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    /// `h(x) = x^-exponent`.
    fn h(&self, x: f64) -> f64 {
        (-self.exponent * x.ln()).exp()
    }

    /// `H(x)`, an antiderivative of `h`: `(x^(1-exponent) - 1) / (1 - exponent)`, or `ln x`
    /// when the exponent is 1.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        expm1_over_x((1.0 - self.exponent) * log_x) * log_x
    }

    /// The inverse of [`Zipf::h_integral`].
    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        (ln1p_over_x(t) * x).exp()
    }
}

/// `ln(1 + x) / x`, accurate near 0 (where it tends to 1).
fn ln1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// `(e^x - 1) / x`, accurate near 0 (where it tends to 1).
fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

/// The key of Zipf rank `rank` (1 is the most popular): `splitmix64(rank - 1)`, so popular
/// keys are spread over the hash space like any others.
pub fn zipf_key(rank: u64) -> u64 {
    splitmix64(rank - 1)
}

/// One operation of a mixed sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixedOp {
    /// The key.
    pub key: u64,
    /// Insert `(key, value_of(key))` when true, else get `key`.
    pub insert: bool,
}

/// `len` operations, each an insert with probability `insert_share` (else a get), of keys
/// [`zipf_key`] of ranks drawn from `zipf`; the same for the same arguments.
pub fn mixed_ops(len: usize, zipf: &Zipf, insert_share: f64, seed: u64) -> Vec<MixedOp> {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|_| {
            let key = zipf_key(zipf.sample(&mut rng));
            let insert = rng.next_f64() < insert_share;
            MixedOp { key, insert }
        })
        .collect()
}

/// The sequence of `memory.mixed_zipf.*`: [`MIXED_OPS`] operations, [`MIXED_INSERT_SHARE`]
/// of them inserts, over [`ZIPF_KEY_SPACE`] keys with exponent [`ZIPF_EXPONENT`].
pub fn mixed_zipf_ops() -> Vec<MixedOp> {
    let zipf = Zipf::new(ZIPF_KEY_SPACE, ZIPF_EXPONENT);
    mixed_ops(MIXED_OPS, &zipf, MIXED_INSERT_SHARE, 0x21FF)
}

/// A memory store holding the working set under keys like `bench:12345` (values are the
/// index as 8 bytes), and the keys in a fixed shuffled order: the L1-hit workload of the
/// `stack.*` records and of the `layer-hits` binary.
pub fn filled_memory_store() -> (strata_memory::MemoryStore, Vec<strata_core::Key>) {
    use futures_util::FutureExt;
    use strata_core::{Key, Namespace, SetOptions, Store};
    let ns = Namespace::new("bench").expect("a valid namespace");
    let keys: Vec<Key> = (0..WORKING_SET)
        .map(|i| Key::new(&ns, &(10_000 + i).to_string()).expect("a valid key"))
        .collect();
    let memory = strata_memory::MemoryStore::builder()
        .max_entries(CAPACITY as u64)
        .build()
        .expect("a valid memory store");
    for (i, key) in keys.iter().enumerate() {
        let value = bytes::Bytes::from((i as u64).to_le_bytes().to_vec());
        match memory.set(key, value, SetOptions::new()).now_or_never() {
            Some(Ok(_)) => {}
            other => panic!("memory store set of {key:?}: {other:?}"),
        }
    }
    let order = shuffled(&keys, 0x5EED);
    (memory, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_matches_its_probabilities() {
        let (n, exponent) = (20u64, 0.9);
        let zipf = Zipf::new(n, exponent);
        let mut rng = Rng::new(1);
        let draws = 400_000;
        let mut counts = vec![0u64; n as usize + 1];
        for _ in 0..draws {
            let k = zipf.sample(&mut rng);
            assert!((1..=n).contains(&k), "rank {k} out of range");
            counts[k as usize] += 1;
        }
        let norm: f64 = (1..=n).map(|k| (k as f64).powf(-exponent)).sum();
        for k in 1..=n {
            let want = (k as f64).powf(-exponent) / norm;
            let got = counts[k as usize] as f64 / draws as f64;
            assert!(
                (got - want).abs() < 0.01 * want.max(0.1),
                "rank {k}: {got} drawn, {want} expected"
            );
        }
    }

    #[test]
    fn zipf_covers_both_ends_of_a_large_space() {
        let zipf = Zipf::new(ZIPF_KEY_SPACE, ZIPF_EXPONENT);
        let mut rng = Rng::new(2);
        let ranks: Vec<u64> = (0..100_000).map(|_| zipf.sample(&mut rng)).collect();
        assert!(ranks.iter().all(|k| (1..=ZIPF_KEY_SPACE).contains(k)));
        // P(rank 1) = 1 / H(1e6, 0.9), about 1/30.
        let ones = ranks.iter().filter(|&&k| k == 1).count() as f64 / ranks.len() as f64;
        assert!((0.025..0.04).contains(&ones), "{ones}");
        // About a quarter of the mass lies beyond rank 100,000.
        let tail = ranks.iter().filter(|&&k| k > 100_000).count() as f64 / ranks.len() as f64;
        assert!((0.2..0.35).contains(&tail), "{tail}");
    }

    #[test]
    fn exponent_one_is_supported() {
        let zipf = Zipf::new(1_000, 1.0);
        let mut rng = Rng::new(3);
        assert!((0..10_000).all(|_| (1..=1_000).contains(&zipf.sample(&mut rng))));
    }

    #[test]
    fn mixed_ops_are_deterministic_and_mixed() {
        let zipf = Zipf::new(ZIPF_KEY_SPACE, ZIPF_EXPONENT);
        let a = mixed_ops(50_000, &zipf, 0.1, 9);
        assert_eq!(a, mixed_ops(50_000, &zipf, 0.1, 9));
        assert_ne!(a, mixed_ops(50_000, &zipf, 0.1, 10));
        let inserts = a.iter().filter(|op| op.insert).count() as f64 / a.len() as f64;
        assert!((0.09..0.11).contains(&inserts), "{inserts}");
        assert!(a.iter().filter(|op| op.key == zipf_key(1)).count() > 1_000);
    }
}
