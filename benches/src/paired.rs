//! Paired timing: the ratio of two operations' times, from short batches of each run in
//! alternation, for records that compare a thing with itself plus a small cost (a layer's
//! overhead on a hit).
//!
//! Criterion measures each contender for a second or more at a time, so on a shared machine a
//! neighbour's burst of load can land on one contender and not the other: a ratio of two
//! such measurements moved by ±18 % between runs of the same binary (0.995 to 1.373 for
//! `stack.analytics_overhead`). Here the two sides take turns every millisecond or so, in
//! ABBA order (neither always runs first, after the other has warmed or cooled the caches),
//! and the figure is the median of the per-pair ratios: load that lasts longer than a pair
//! hits both sides alike and divides out.
//!
//! ```
//! use strata_benches::paired;
//! use strata_benches::workload::one_at_a_time;
//! let keys: Vec<u64> = (0..100).collect();
//! let m = paired::measure(
//!     5,
//!     100,
//!     one_at_a_time(&keys, 0, |k| *k),
//!     one_at_a_time(&keys, keys.len() / 2, |k| k.wrapping_mul(3)),
//! );
//! assert_eq!(m.ratios.len(), 5);
//! assert!(m.median_ratio() > 0.0);
//! ```

use std::time::Instant;

use crate::runner::median;

/// Pairs run and thrown away before the measured ones (caches, branch predictors, clock).
const WARM_UP_PAIRS: usize = 3;

/// What [`measure`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Paired {
    /// Per pair, `b`'s time per operation ÷ `a`'s.
    pub ratios: Vec<f64>,
    /// Per pair, nanoseconds per operation of `a`.
    pub a_ns: Vec<f64>,
    /// Per pair, nanoseconds per operation of `b`.
    pub b_ns: Vec<f64>,
}

impl Paired {
    /// The median of the per-pair ratios: the record's figure.
    pub fn median_ratio(&self) -> f64 {
        median(&self.ratios)
    }

    /// The `q` quantile (0 to 1) of the per-pair ratios, to show their spread.
    pub fn ratio_quantile(&self, q: f64) -> f64 {
        quantile(&self.ratios, q)
    }

    /// The median nanoseconds per operation of `a` and of `b`.
    pub fn median_ns(&self) -> (f64, f64) {
        (median(&self.a_ns), median(&self.b_ns))
    }
}

/// Runs `pairs` pairs of batches of `batch` calls of `a` and of `b` (ABBA: `a` first in even
/// pairs, `b` first in odd ones), after a few pairs of warm-up.
///
/// # Panics
/// When `pairs` or `batch` is zero.
pub fn measure(pairs: usize, batch: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> Paired {
    assert!(
        pairs > 0 && batch > 0,
        "paired timing needs pairs and batches"
    );
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        start.elapsed().as_nanos() as f64 / batch as f64
    };
    let mut out = Paired {
        ratios: Vec::with_capacity(pairs),
        a_ns: Vec::with_capacity(pairs),
        b_ns: Vec::with_capacity(pairs),
    };
    for i in 0..WARM_UP_PAIRS + pairs {
        let (ta, tb) = if i % 2 == 0 {
            let ta = time(&mut a);
            (ta, time(&mut b))
        } else {
            let tb = time(&mut b);
            (time(&mut a), tb)
        };
        if i >= WARM_UP_PAIRS {
            // A batch too fast for the clock counts as one nanosecond, never a division by 0.
            out.ratios.push(tb / ta.max(f64::MIN_POSITIVE));
            out.a_ns.push(ta);
            out.b_ns.push(tb);
        }
    }
    out
}

/// The `q` quantile of `values` (nearest rank; NaN for none).
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    v[rank]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::one_at_a_time;
    use std::cell::Cell;
    use std::hint::black_box;

    #[test]
    fn alternates_and_counts_every_call() {
        let order = Cell::new(Vec::new());
        let calls = [Cell::new(0u32), Cell::new(0u32)];
        let log = |side: u8| {
            let mut v = order.take();
            if v.last() != Some(&side) {
                v.push(side);
            }
            order.set(v);
        };
        let m = measure(
            4,
            10,
            || {
                calls[0].set(calls[0].get() + 1);
                log(0);
            },
            || {
                calls[1].set(calls[1].get() + 1);
                log(1);
            },
        );
        assert_eq!((calls[0].get(), calls[1].get()), (70, 70));
        assert_eq!(m.ratios.len(), 4);
        // ABBA: a b | b a | a b | ... (runs of the same side merge).
        assert_eq!(order.take(), vec![0, 1, 0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn a_side_doing_more_work_shows_in_the_ratio() {
        let keys: Vec<u64> = (1..=64).collect();
        let work = |rounds: u64| {
            move |k: &u64| (0..rounds).fold(*k, |x, i| black_box(x.rotate_left(7) ^ i))
        };
        let m = measure(
            21,
            2_000,
            one_at_a_time(&keys, 0, work(20)),
            one_at_a_time(&keys, 32, work(200)),
        );
        assert!(m.median_ratio() > 2.0, "ratio {}", m.median_ratio());
        assert!(m.ratio_quantile(0.0) <= m.median_ratio());
        assert!(m.median_ratio() <= m.ratio_quantile(1.0));
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 1.0), 4.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
