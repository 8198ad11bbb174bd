//! Eviction policies: which entry leaves a full shard.

use std::fmt;
use std::str::FromStr;

use strata_core::{Error, Result};

/// How a full cache chooses the entry to evict.
///
/// The names are the ones users of the older cache managers know (`CACHE_EVICTION_POLICY`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EvictionPolicy {
    /// Least recently used.
    #[default]
    Lru,
    /// The entry that would expire soonest; entries without expiry go last, least recently
    /// used first.
    TtlSoonest,
    /// A uniformly random entry.
    Random,
}

impl EvictionPolicy {
    /// The name used in configuration: `lru`, `ttl`, `random`.
    pub const fn as_str(self) -> &'static str {
        match self {
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
            "lru" => Ok(EvictionPolicy::Lru),
            "ttl" | "ttl_soonest" | "ttl-soonest" => Ok(EvictionPolicy::TtlSoonest),
            "random" => Ok(EvictionPolicy::Random),
            other => Err(Error::invalid_config(format!(
                "unknown eviction policy {other:?}; expected one of lru, ttl, random"
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
