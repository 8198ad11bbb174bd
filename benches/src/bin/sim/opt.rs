//! Belady's OPT with bypass: the most hits any cache of the same size could get.
//!
//! On a miss with a full cache, the page whose next use is farthest in the future leaves,
//! unless the requested page itself is used later than every cached page (or never again):
//! then it is not cached at all (bypass). Next uses are computed once per trace, backwards;
//! the cached pages sit in a max-heap keyed by next use, O(log n) a request.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use indicatif::ProgressBar;

/// The next use of a page requested for the last time.
pub(crate) const NEVER: u32 = u32::MAX;

/// A fast hasher for page numbers (the splitmix64 finaliser; not DoS-resistant, which a
/// simulator does not need).
#[derive(Default, Clone, Copy)]
pub(crate) struct PageHasher(u64);

impl Hasher for PageHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `BuildHasher` for [`PageHasher`].
pub(crate) type PageBuildHasher = BuildHasherDefault<PageHasher>;

/// For each request, the index of the next request for the same page, or [`NEVER`].
pub(crate) fn next_uses(pages: &[u64]) -> Result<Vec<u32>, String> {
    if pages.len() >= NEVER as usize {
        return Err(format!(
            "opt handles traces of fewer than {NEVER} requests, not {}",
            pages.len()
        ));
    }
    let mut next = vec![NEVER; pages.len()];
    let mut seen: HashMap<u64, u32, PageBuildHasher> = HashMap::default();
    for (i, &page) in pages.iter().enumerate().rev() {
        // `i < NEVER` was checked above.
        let i = i as u32;
        if let Some(later) = seen.insert(page, i) {
            next[i as usize] = later;
        }
    }
    Ok(next)
}

/// Replays `pages` (with their [`next_uses`]) through OPT with bypass in a cache of
/// `capacity` entries; returns the hits.
pub(crate) fn simulate(
    pages: &[u64],
    next: &[u32],
    capacity: usize,
    progress: &ProgressBar,
) -> u64 {
    assert_eq!(pages.len(), next.len(), "next uses of another sequence");
    let capacity = capacity.max(1);
    let mut cached: HashSet<u64, PageBuildHasher> =
        HashSet::with_capacity_and_hasher(capacity, PageBuildHasher::default());
    // (next use, page) of every cached page, plus stale entries: a hit leaves the old entry,
    // whose key is the position just passed. Live keys are all after the current position,
    // stale ones at or before it, so the top is always live; `retain` drops the stale ones
    // when they pile up.
    let mut heap: BinaryHeap<(u32, u64)> = BinaryHeap::with_capacity(2 * capacity + 64);
    let mut hits = 0u64;
    const TICK: usize = 1 << 16;
    for (i, (&page, &nu)) in pages.iter().zip(next).enumerate() {
        if cached.contains(&page) {
            hits += 1;
            heap.push((nu, page));
        } else if cached.len() < capacity {
            cached.insert(page);
            heap.push((nu, page));
        } else {
            let &(farthest, victim) = heap.peek().expect("a full cache has a live entry");
            // Ties happen only between pages never used again: bypassing is as good.
            if nu < farthest {
                heap.pop();
                cached.remove(&victim);
                cached.insert(page);
                heap.push((nu, page));
            }
        }
        if heap.len() > 2 * capacity + 64 {
            // `i < NEVER` (checked by `next_uses`).
            let now = i as u32;
            heap.retain(|&(key, _)| key > now);
        }
        if i % TICK == TICK - 1 {
            progress.inc(TICK as u64);
        }
    }
    progress.inc((pages.len() % TICK) as u64);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(pages: &[u64], capacity: usize) -> u64 {
        let next = next_uses(pages).unwrap();
        simulate(pages, &next, capacity, &ProgressBar::hidden())
    }

    #[test]
    fn next_uses_point_forward() {
        assert_eq!(
            next_uses(&[1, 2, 1, 1, 3]).unwrap(),
            vec![2, NEVER, 3, NEVER, NEVER]
        );
    }

    #[test]
    fn belady_textbook_sequence() {
        // 1 2 3 4 1 2 5 1 2 3 4 5 with 3 frames: OPT faults 7 times, so 5 hits. By hand,
        // with bypass: 1,2,3 fill; 4 (next use 10, after 3's 9) is bypassed; 1,2 hit; 5
        // (next 11) is bypassed; 1,2,3 hit; 4 and 5 are never used again: bypassed.
        let seq = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];
        assert_eq!(opt(&seq, 3), 5);
        // 4 frames: 1,2,3,4 fill; 1,2 hit; 5 (next use 11, after 4's 10) is bypassed;
        // 1,2,3,4 hit; 5 misses: 6 hits.
        assert_eq!(opt(&seq, 4), 6);
        // 5 frames hold everything: 12 requests, 5 first misses.
        assert_eq!(opt(&seq, 5), 7);
        // 1 frame: 1 stays (2, 3, 4 come back later than 1) and hits twice; then nothing
        // else is worth caching.
        assert_eq!(opt(&seq, 1), 2);
    }

    #[test]
    fn bypass_keeps_the_better_page() {
        // Without bypass 2 would evict 1 and the last 1 would miss.
        assert_eq!(opt(&[1, 2, 1], 1), 1);
        // 1 2 3 2 3 1 in 2 frames: 3 evicts 1 (next use 5, farthest); 2, 3 hit; 1 misses.
        assert_eq!(opt(&[1, 2, 3, 2, 3, 1], 2), 2);
    }

    #[test]
    fn opt_bounds_lru_and_survives_stale_entries() {
        // A pseudo-random sequence long enough to trigger the heap clean-up many times.
        let mut x = 12345u64;
        let pages: Vec<u64> = (0..20_000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % 300
            })
            .collect();
        for capacity in [1, 10, 100, 299, 300] {
            let mut lru = lru::LruCache::new(std::num::NonZeroUsize::new(capacity).unwrap());
            let lru_hits = pages
                .iter()
                .filter(|&&p| {
                    let hit = lru.get(&p).is_some();
                    if !hit {
                        lru.put(p, ());
                    }
                    hit
                })
                .count() as u64;
            let opt_hits = opt(&pages, capacity);
            assert!(opt_hits >= lru_hits, "{capacity}: {opt_hits} < {lru_hits}");
        }
        // With room for everything, only first requests miss.
        assert_eq!(opt(&pages, 300), pages.len() as u64 - 300);
    }
}
