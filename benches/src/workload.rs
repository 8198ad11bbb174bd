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
    mut op: impl FnMut(&K) -> R + 'a,
) -> impl FnMut(&mut Bencher<'_>) + 'a {
    assert!(!order.is_empty(), "an empty key order");
    let mut pos = 0;
    move |b| {
        b.iter(|| {
            let key = &order[pos];
            pos += 1;
            if pos == order.len() {
                pos = 0;
            }
            op(black_box(key))
        })
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
