//! Eviction policies: which entry leaves a full shard.
//!
//! The decision logic lives here (the adaptive policy's frequency sketch, the tuner that
//! sizes its window, the miniature caches it compares window sizes with, the trial caches
//! that tell it whether moving pays, and the admission rule's lead, chosen by another
//! trial); the shard
//! (`shard.rs`) holds the mechanism: lists, slab and index.

pub(crate) mod lead;
mod mini;
pub(crate) mod sketch;
mod trial;
pub(crate) mod tuner;
#[cfg(test)]
mod workloads;

use std::fmt;
use std::str::FromStr;

use strata_core::{Error, Result};

/// How a full cache chooses the entry to evict.
///
/// The names are the ones users of the older cache managers know (`CACHE_EVICTION_POLICY`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EvictionPolicy {
    /// The default: W-TinyLFU with an adaptive window. New entries enter a small recency
    /// window; to enter the main space they must be seen more often than the entry they would
    /// replace (a count-min sketch remembers how often keys were seen, also after they left),
    /// which keeps one-off scans from flushing the working set. The window's size is chosen
    /// by replaying a sampled slice of the traffic against miniature caches with different
    /// window sizes, so recency-heavy workloads get a large window (close to LRU) and
    /// frequency-heavy ones a small one (close to LFU). Reads take only a shared lock.
    #[default]
    Adaptive,
    /// Least recently used (every hit reorders, under the shard's write lock).
    Lru,
    /// The entry that would expire soonest; entries without expiry go last, oldest first.
    TtlSoonest,
    /// A uniformly random entry.
    Random,
}

impl EvictionPolicy {
    /// The name used in configuration: `adaptive`, `lru`, `ttl`, `random`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EvictionPolicy::Adaptive => "adaptive",
            EvictionPolicy::Lru => "lru",
            EvictionPolicy::TtlSoonest => "ttl",
            EvictionPolicy::Random => "random",
        }
    }
}

impl fmt::Display for EvictionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EvictionPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "adaptive" | "tinylfu" | "w-tinylfu" | "default" => Ok(EvictionPolicy::Adaptive),
            "lru" => Ok(EvictionPolicy::Lru),
            "ttl" | "ttl_soonest" | "ttl-soonest" => Ok(EvictionPolicy::TtlSoonest),
            "random" => Ok(EvictionPolicy::Random),
            other => Err(Error::invalid_config(format!(
                "unknown eviction policy {other:?}; expected one of adaptive, lru, ttl, random"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_names() {
        assert_eq!(
            "LRU".parse::<EvictionPolicy>().unwrap(),
            EvictionPolicy::Lru
        );
        assert_eq!(
            "ttl".parse::<EvictionPolicy>().unwrap(),
            EvictionPolicy::TtlSoonest
        );
        assert_eq!(
            "random".parse::<EvictionPolicy>().unwrap(),
            EvictionPolicy::Random
        );
        let e = "lfu2".parse::<EvictionPolicy>().unwrap_err();
        assert_eq!(e.kind(), strata_core::ErrorKind::InvalidConfig);
        assert!(e.message().contains("lfu2"));
    }
}
