//! The policies the simulator compares, and the caches behind them.

use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;

use parking_lot::Mutex;
use strata_memory::EvictionPolicy;

/// A policy's name on the command line and in the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PolicyName {
    /// Strata's default policy (`EvictionPolicy::default()`).
    Strata,
    /// Strata with `EvictionPolicy` `lru`.
    StrataLru,
    /// Strata with `EvictionPolicy` `ttl` (no entry has a TTL here).
    StrataTtl,
    /// Strata with `EvictionPolicy` `random`.
    StrataRandom,
    /// The `lru` crate (`lru::LruCache` behind a mutex).
    Lru,
    /// `moka::sync::Cache`.
    Moka,
    /// `quick_cache::sync::Cache`.
    QuickCache,
    /// Belady's OPT with bypass: the bound no online policy beats.
    Opt,
}

impl PolicyName {
    /// Every policy, in the order the results list them.
    pub(crate) const ALL: [PolicyName; 8] = [
        PolicyName::Strata,
        PolicyName::StrataLru,
        PolicyName::StrataTtl,
        PolicyName::StrataRandom,
        PolicyName::Lru,
        PolicyName::Moka,
        PolicyName::QuickCache,
        PolicyName::Opt,
    ];

    /// The name used on the command line and in the results.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            PolicyName::Strata => "strata",
            PolicyName::StrataLru => "strata-lru",
            PolicyName::StrataTtl => "strata-ttl",
            PolicyName::StrataRandom => "strata-random",
            PolicyName::Lru => "lru",
            PolicyName::Moka => "moka",
            PolicyName::QuickCache => "quick_cache",
            PolicyName::Opt => "opt",
        }
    }

    /// The Strata eviction policy, for the `strata*` names. Built through `FromStr` (and
    /// `Default`) so the simulator keeps up with the policy crate.
    fn strata_policy(self) -> Option<Result<EvictionPolicy, String>> {
        let name = match self {
            PolicyName::Strata => return Some(Ok(EvictionPolicy::default())),
            PolicyName::StrataLru => "lru",
            PolicyName::StrataTtl => "ttl",
            PolicyName::StrataRandom => "random",
            _ => return None,
        };
        Some(
            name.parse::<EvictionPolicy>()
                .map_err(|e| format!("strata-memory rejects policy `{name}`: {e}")),
        )
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        PolicyName::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PolicyName::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown policy `{s}`; expected one of {}", names.join(", "))
            })
    }
}

/// A cache under replay: `access` does the `get` and, on a miss, the `insert`.
pub(crate) trait SimCache: Sync {
    /// Per-thread state (a counter for moka's maintenance schedule).
    type Local: Default;

    /// Requests `page`: `get`, and `insert` on a miss. True on a hit.
    fn access(&self, local: &mut Self::Local, page: u64) -> bool;
}

/// Strata's `Cache<u64, ()>`.
pub(crate) struct StrataSim(strata_memory::Cache<u64, ()>);

impl SimCache for StrataSim {
    type Local = ();

    #[inline]
    fn access(&self, _: &mut (), page: u64) -> bool {
        if self.0.get(&page).is_some() {
            return true;
        }
        if let Err(e) = self.0.insert(page, ()) {
            panic!("strata insert of a weight-1 entry failed: {e}");
        }
        false
    }
}

/// `lru::LruCache` behind a mutex (uncontended with one thread).
pub(crate) struct LruSim(Mutex<lru::LruCache<u64, ()>>);

impl SimCache for LruSim {
    type Local = ();

    #[inline]
    fn access(&self, _: &mut (), page: u64) -> bool {
        let mut cache = self.0.lock();
        if cache.get(&page).is_some() {
            return true;
        }
        cache.put(page, ());
        false
    }
}

/// `moka::sync::Cache`, with `run_pending_tasks` every `sync_every` inserts of a thread.
pub(crate) struct MokaSim {
    cache: moka::sync::Cache<u64, ()>,
    sync_every: u64,
}

impl SimCache for MokaSim {
    /// Inserts since the last `run_pending_tasks` by this thread.
    type Local = u64;

    #[inline]
    fn access(&self, inserts: &mut u64, page: u64) -> bool {
        if self.cache.get(&page).is_some() {
            return true;
        }
        self.cache.insert(page, ());
        *inserts += 1;
        if *inserts >= self.sync_every {
            *inserts = 0;
            self.cache.run_pending_tasks();
        }
        false
    }
}

/// `quick_cache::sync::Cache`.
pub(crate) struct QuickCacheSim(quick_cache::sync::Cache<u64, ()>);

impl SimCache for QuickCacheSim {
    type Local = ();

    #[inline]
    fn access(&self, _: &mut (), page: u64) -> bool {
        if self.0.get(&page).is_some() {
            return true;
        }
        self.0.insert(page, ());
        false
    }
}

/// A freshly built cache for one online policy (OPT is simulated apart: see `opt`).
pub(crate) enum Contender {
    /// `strata*`.
    Strata(StrataSim),
    /// `lru`.
    Lru(LruSim),
    /// `moka`.
    Moka(MokaSim),
    /// `quick_cache`.
    QuickCache(QuickCacheSim),
}

impl Contender {
    /// An empty cache of `size` entries for `policy`; `None` for `opt`.
    pub(crate) fn build(
        policy: PolicyName,
        size: u64,
        moka_sync_every: u64,
    ) -> Result<Option<Self>, String> {
        let entries = usize::try_from(size).map_err(|_| format!("size {size} is too large"))?;
        let contender = match policy {
            PolicyName::Strata
            | PolicyName::StrataLru
            | PolicyName::StrataTtl
            | PolicyName::StrataRandom => {
                let eviction = policy.strata_policy().expect("a strata policy name")?;
                let cache = strata_memory::Cache::<u64, ()>::builder()
                    .max_entries(size)
                    .eviction_policy(eviction)
                    .build()
                    .map_err(|e| format!("building the {policy} cache of {size}: {e}"))?;
                Contender::Strata(StrataSim(cache))
            }
            PolicyName::Lru => {
                let cap = NonZeroUsize::new(entries).ok_or("size must be at least 1")?;
                Contender::Lru(LruSim(Mutex::new(lru::LruCache::new(cap))))
            }
            PolicyName::Moka => Contender::Moka(MokaSim {
                cache: moka::sync::Cache::new(size),
                sync_every: moka_sync_every.max(1),
            }),
            PolicyName::QuickCache => {
                Contender::QuickCache(QuickCacheSim(quick_cache::sync::Cache::new(entries)))
            }
            PolicyName::Opt => return Ok(None),
        };
        Ok(Some(contender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in PolicyName::ALL {
            assert_eq!(p.as_str().parse::<PolicyName>().unwrap(), p);
        }
        assert!("LRU".parse::<PolicyName>().is_err());
        assert!(
            "strata-arc"
                .parse::<PolicyName>()
                .unwrap_err()
                .contains("strata-arc")
        );
    }

    #[test]
    fn strata_policies_build() {
        for p in [
            PolicyName::Strata,
            PolicyName::StrataLru,
            PolicyName::StrataTtl,
            PolicyName::StrataRandom,
        ] {
            assert!(matches!(
                Contender::build(p, 10, 1),
                Ok(Some(Contender::Strata(_)))
            ));
        }
        assert!(matches!(Contender::build(PolicyName::Opt, 10, 1), Ok(None)));
    }
}
