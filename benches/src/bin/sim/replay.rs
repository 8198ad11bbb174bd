//! Replaying a request sequence against a cache, from one thread or several.

#[cfg(test)]
use std::ops::Range;

use indicatif::ProgressBar;

use crate::policy::{Contender, SimCache};

/// Requests per block when dealing them to threads.
pub(crate) const BLOCK: usize = 64;

/// How many blocks a thread replays between progress updates.
const BLOCKS_PER_TICK: usize = 1024;

/// The request ranges thread `thread` of `threads` replays, in order: blocks of [`BLOCK`]
/// requests dealt round-robin (thread 0 gets requests 0..64, thread 1 gets 64..128, thread 0
/// gets 128..192, ...). With one thread: the whole sequence in order.
/// (The replay loop deals the same way, round by round; this form documents and tests it.)
#[cfg(test)]
pub(crate) fn blocks(
    len: usize,
    threads: usize,
    thread: usize,
) -> impl Iterator<Item = Range<usize>> {
    let threads = threads.max(1);
    (thread * BLOCK..len)
        .step_by(threads * BLOCK)
        .map(move |start| start..(start + BLOCK).min(len))
}

/// Rounds (one block per thread each) between two meetings of the replay threads.
const ROUNDS_PER_SYNC: usize = 16;

/// Replays `pages` against `cache` from `threads` threads (sharing the cache, requests dealt
/// by [`blocks`]); returns the total hits.
///
/// The threads meet at a barrier every [`ROUNDS_PER_SYNC`] rounds, so none runs more than
/// about a thousand requests ahead of the others: without it, one thread can run far ahead,
/// which replays a reordered trace (two distant stretches interleaved) and measures the
/// scheduler rather than the cache.
pub(crate) fn replay<C: SimCache>(
    cache: &C,
    pages: &[u64],
    threads: usize,
    progress: &ProgressBar,
) -> u64 {
    let threads = threads.max(1);
    let rounds = pages.len().div_ceil(threads * BLOCK);
    let barrier = std::sync::Barrier::new(threads);
    let one = |thread: usize| {
        let mut local = C::Local::default();
        let mut hits = 0u64;
        let mut done = 0u64;
        for round in 0..rounds {
            let start = (round * threads + thread) * BLOCK;
            if start < pages.len() {
                let range = start..(start + BLOCK).min(pages.len());
                done += range.len() as u64;
                for &page in &pages[range] {
                    hits += u64::from(cache.access(&mut local, page));
                }
            }
            if threads > 1 && round % ROUNDS_PER_SYNC == ROUNDS_PER_SYNC - 1 {
                barrier.wait();
            }
            if round % BLOCKS_PER_TICK == BLOCKS_PER_TICK - 1 {
                progress.inc(done);
                done = 0;
            }
        }
        progress.inc(done);
        hits
    };
    if threads <= 1 {
        return one(0);
    }
    std::thread::scope(|s| {
        let one = &one;
        let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || one(t))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a replay thread panicked"))
            .sum()
    })
}

impl Contender {
    /// Replays `pages` against this cache; returns the hits.
    pub(crate) fn replay(&self, pages: &[u64], threads: usize, progress: &ProgressBar) -> u64 {
        match self {
            Contender::Strata(c) => replay(c, pages, threads, progress),
            Contender::Lru(c) => replay(c, pages, threads, progress),
            Contender::Moka(c) => replay(c, pages, threads, progress),
            Contender::QuickCache(c) => replay(c, pages, threads, progress),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyName;

    #[test]
    fn deals_blocks_of_64_round_robin() {
        let t0: Vec<_> = blocks(300, 2, 0).collect();
        let t1: Vec<_> = blocks(300, 2, 1).collect();
        assert_eq!(t0, vec![0..64, 128..192, 256..300]);
        assert_eq!(t1, vec![64..128, 192..256]);
        assert_eq!(
            blocks(130, 1, 0).collect::<Vec<_>>(),
            vec![0..64, 64..128, 128..130]
        );
        assert_eq!(blocks(64, 3, 1).count(), 0);
        // Every request is dealt exactly once.
        for threads in 1..5 {
            let mut seen = vec![0u8; 1000];
            for t in 0..threads {
                for r in blocks(1000, threads, t) {
                    seen[r].iter_mut().for_each(|s| *s += 1);
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "{threads} threads");
        }
    }

    /// 1 2 1 3 2 1 in an LRU of 2: only the second 1 hits.
    const SEQ: [u64; 6] = [1, 2, 1, 3, 2, 1];

    fn hits(policy: PolicyName, size: u64, pages: &[u64], threads: usize) -> u64 {
        let cache = Contender::build(policy, size, 1).unwrap().unwrap();
        cache.replay(pages, threads, &ProgressBar::hidden())
    }

    #[test]
    fn lru_replay_on_a_tiny_sequence() {
        assert_eq!(hits(PolicyName::Lru, 2, &SEQ, 1), 1);
        assert_eq!(hits(PolicyName::Lru, 3, &SEQ, 1), 3);
        // Strata's LRU with one shard (a cache this small has one) agrees.
        assert_eq!(hits(PolicyName::StrataLru, 2, &SEQ, 1), 1);
    }

    #[test]
    fn threads_replay_their_blocks() {
        // Thread 0 gets 0..64 twice, thread 1 gets 100..164 twice: whatever the interleaving,
        // each thread hits on its whole second block.
        let pages: Vec<u64> = (0..64)
            .chain(100..164)
            .chain(0..64)
            .chain(100..164)
            .collect();
        for policy in [
            PolicyName::Lru,
            PolicyName::QuickCache,
            PolicyName::StrataLru,
        ] {
            assert_eq!(hits(policy, 1000, &pages, 2), 128, "{policy}");
            assert_eq!(hits(policy, 1000, &pages, 1), 128, "{policy}");
        }
        // In order, an LRU of 64 misses everything.
        assert_eq!(hits(PolicyName::Lru, 64, &pages, 1), 0);
    }
}
