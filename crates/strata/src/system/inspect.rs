//! Read-only views of a running [`CacheSystem`] for status pages and admin endpoints (the
//! in-memory store's own report, the tiered store's counters and promotion strategies), and
//! warming of one cache on demand.

use std::sync::Arc;
#[cfg(any(feature = "memory", feature = "tiered"))]
use std::sync::PoisonError;

use strata_core::{Error, Result};

use super::CacheSystem;
use crate::warming::WarmReport;

/// The tiered store's counters and strategies, type-erased so the system does not carry the
/// tiers' types.
#[cfg(feature = "tiered")]
#[derive(Clone)]
pub(crate) struct TierProbe {
    stats: Arc<dyn Fn() -> strata_tiered::TierStats + Send + Sync>,
    promotion: Arc<dyn Fn(&strata_core::Namespace) -> strata_tiered::Promotion + Send + Sync>,
    coherence: Arc<dyn Fn() -> Option<strata_tiered::CoherenceStats> + Send + Sync>,
}

#[cfg(feature = "tiered")]
impl TierProbe {
    // Built by the multi_tier backend, which also needs `redis` and `memory`.
    #[cfg_attr(not(all(feature = "redis", feature = "memory")), allow(dead_code))]
    pub(crate) fn new<L1, L2>(store: strata_tiered::TieredStore<L1, L2>) -> Self
    where
        L1: strata_core::Store,
        L2: strata_core::Store + strata_core::GetWithTtl,
    {
        let probe = store.clone();
        let coherence = store.clone();
        TierProbe {
            stats: Arc::new(move || probe.tier_stats()),
            promotion: Arc::new(move |ns| store.promotion(ns)),
            coherence: Arc::new(move || coherence.coherence_stats()),
        }
    }
}

impl CacheSystem {
    /// The names of the caches that have warming configured (see
    /// [`CacheSystemBuilder::warming`](super::CacheSystemBuilder::warming)).
    pub fn warming_caches(&self) -> Vec<String> {
        self.inner.warmers.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Runs the warming configured for the cache `name` now: its configured keys, or only
    /// `keys` when given (through the same loader, concurrency and TTL).
    ///
    /// # Errors
    ///
    /// `InvalidArgument` when no warming is configured for `name`.
    pub async fn warm_cache(&self, name: &str, keys: Option<Vec<String>>) -> Result<WarmReport> {
        let name = name.to_ascii_lowercase();
        let Some((_, run)) = self.inner.warmers.iter().find(|(n, _)| *n == name) else {
            return Err(Error::invalid_argument(format!(
                "no warming is configured for the cache {name:?}"
            )));
        };
        let keys = keys.map(Arc::from);
        Ok(run(self.inner.registry.clone(), keys).await)
    }

    /// The in-memory store's own health report (the `memory` backend, or the L1 of
    /// `multi_tier`): entries, bytes and their limits, eviction policy. `None` on other
    /// backends and after shutdown.
    #[cfg(feature = "memory")]
    pub async fn memory_health(&self) -> Option<strata_core::Health> {
        let memory = {
            let parts = self
                .inner
                .parts
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            parts.as_ref().and_then(|p| p.memory.clone())
        }?;
        Some(strata_core::Store::health(&memory).await)
    }

    /// The tiered store's counters (L1 and L2 hits, promotions, deferred and refused
    /// promotions, L2 errors, write-back backlog) on `multi_tier`; `None` otherwise.
    #[cfg(feature = "tiered")]
    pub fn tier_stats(&self) -> Option<strata_tiered::TierStats> {
        self.tier_probe().map(|p| (p.stats)())
    }

    /// The promotion strategy of `namespace` on `multi_tier`; `None` otherwise.
    #[cfg(feature = "tiered")]
    pub fn promotion(
        &self,
        namespace: &strata_core::Namespace,
    ) -> Option<strata_tiered::Promotion> {
        self.tier_probe().map(|p| (p.promotion)(namespace))
    }

    /// Cross-node coherence on `multi_tier` with coherence on: messages, gaps, L1 drops,
    /// whether L1 is served, and the invalidation lag; `None` otherwise.
    #[cfg(feature = "tiered")]
    pub fn coherence_stats(&self) -> Option<strata_tiered::CoherenceStats> {
        self.tier_probe().and_then(|p| (p.coherence)())
    }

    #[cfg(feature = "tiered")]
    fn tier_probe(&self) -> Option<TierProbe> {
        let parts = self
            .inner
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        parts.as_ref().and_then(|p| p.tiers.clone())
    }
}
