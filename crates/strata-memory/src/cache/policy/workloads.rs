//! Request streams the policy's tests share (keys, not hashes: [`spread`] hashes them).

use std::ops::Range;

/// Key `k` spread over the hash space, as a hasher would.
pub(crate) fn spread(k: u64) -> u64 {
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The requests `from..to` of a stream in which each key comes once and again
/// `2 * distance + 1` requests later: key `k` at request `2k`, and at `2(k + distance) + 1`.
pub(crate) fn coming_back(requests: Range<u64>, distance: u64) -> impl Iterator<Item = u64> {
    requests.map(move |i| {
        if i % 2 == 0 {
            i / 2
        } else {
            (i / 2).saturating_sub(distance)
        }
    })
}

/// `n` skewed requests (xorshift, fixed seed): half to 900 hot keys (most of a cache of
/// 1,000), half to 1,000,000 cold ones that a large window would let in.
pub(crate) fn hot_and_cold(n: u64) -> impl Iterator<Item = u64> {
    skewed(n, 0..900, 1_000..1_001_000)
}

/// `n` requests (xorshift, fixed seed): half to the keys of `hot`, half to those of `cold`.
pub(crate) fn skewed(n: u64, hot: Range<u64>, cold: Range<u64>) -> impl Iterator<Item = u64> {
    let mut x = 1u64;
    (0..n).map(move |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(2) {
            hot.start + (x >> 1) % (hot.end - hot.start)
        } else {
            cold.start + x % (cold.end - cold.start)
        }
    })
}

/// `n` requests cycling over the keys `0..hot`.
pub(crate) fn cycling(hot: u64, n: u64) -> impl Iterator<Item = u64> {
    (0..n).map(move |i| i % hot)
}

/// Scan resistance: `access` (a read, true on a hit) sees the keys `0..hot` twenty times,
/// then the one-off keys of `scan`; returns how many of the hot keys still hit.
pub(crate) fn hot_after_scan(
    mut access: impl FnMut(u64) -> bool,
    hot: u64,
    scan: Range<u64>,
) -> u64 {
    for k in cycling(hot, hot * 20).chain(scan) {
        access(spread(k));
    }
    (0..hot).map(|k| u64::from(access(spread(k)))).sum()
}
