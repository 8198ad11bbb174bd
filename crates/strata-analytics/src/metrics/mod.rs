//! The registry of counters and latency histograms, per tier and per namespace, and its
//! serializable snapshot.

mod counts;
mod latency;
mod operation;
mod reads;
pub(crate) mod sampler;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, Weak};

use serde::Serialize;
use strata_core::counters::NamespaceMap;
use strata_core::{EvictionCounts, Namespace, Store, StoreStats};

pub(crate) use counts::Counts;
pub use counts::NamespaceStats;
pub(crate) use latency::Latencies;
pub use latency::LatencySummary;
pub use operation::Operation;
pub(crate) use reads::ReadTable;

use crate::tier::Tier;

/// A store whose counters (entries, bytes, evictions by reason) a tier's snapshot includes.
pub(crate) trait StatsSource: Send + Sync {
    fn stats(&self) -> StoreStats;
}

impl<S: Store> StatsSource for S {
    fn stats(&self) -> StoreStats {
        Store::stats(self)
    }
}

/// One tier's counters.
pub(crate) struct TierStats {
    /// Each namespace's counters but reads (boxed: the table's slots stay small, and most
    /// namespaces only read).
    pub(crate) namespaces: NamespaceMap<Box<Counts>>,
    /// Operations that name no namespace (tag and global invalidations).
    pub(crate) unscoped: Counts,
    /// Hits and misses: a column per namespace slot, then the overflow's, then the
    /// unscoped one.
    pub(crate) reads: ReadTable,
    pub(crate) latency: Latencies,
    source: Mutex<Option<Weak<dyn StatsSource>>>,
    used: AtomicBool,
}

impl TierStats {
    fn new(namespace_slots: usize) -> Self {
        let namespaces = NamespaceMap::with_capacity(namespace_slots);
        // Slot columns, the overflow's (`capacity()`), the unscoped one.
        let reads = ReadTable::new(namespaces.capacity() + 2);
        TierStats {
            namespaces,
            unscoped: Counts::default(),
            reads,
            latency: Latencies::default(),
            source: Mutex::new(None),
            used: AtomicBool::new(false),
        }
    }

    /// The counters of `ns` but reads.
    #[inline]
    pub(crate) fn ns(&self, ns: &Namespace) -> &Counts {
        self.namespaces.get_or_default(ns)
    }

    /// The counters of `ns` (or of operations without one) but reads.
    pub(crate) fn counts(&self, ns: Option<&Namespace>) -> &Counts {
        match ns {
            Some(ns) => self.ns(ns),
            None => &self.unscoped,
        }
    }

    fn unscoped_column(&self) -> usize {
        self.namespaces.capacity() + 1
    }

    /// The column of `ns`'s read counters (the namespace gets its counters on first use).
    #[inline]
    pub(crate) fn column(&self, ns: &Namespace) -> usize {
        self.namespaces.get_or_default_with_index(ns).0
    }

    /// Counts one read in `ns` (or without one) on this thread's stripe (the namespace gets
    /// its counters on first use).
    pub(crate) fn read(&self, ns: Option<&Namespace>, hit: bool) {
        let column = match ns {
            Some(ns) => self.column(ns),
            None => self.unscoped_column(),
        };
        self.reads.count(self.reads.my_place(column), hit);
    }

    /// The figures of `ns` (or of operations without one).
    pub(crate) fn ns_snapshot(&self, ns: Option<&Namespace>) -> NamespaceStats {
        match ns {
            Some(ns) => {
                let (column, counts) = self.namespaces.get_or_default_with_index(ns);
                counts.snapshot(self.reads.sum(column))
            }
            None => self
                .unscoped
                .snapshot(self.reads.sum(self.unscoped_column())),
        }
    }

    /// Marks the tier as recorded and remembers the store whose counters it reports.
    pub(crate) fn attach(&self, source: Weak<dyn StatsSource>) {
        self.used.store(true, Ordering::Release);
        *self.source.lock().unwrap_or_else(PoisonError::into_inner) = Some(source);
    }

    fn store_stats(&self) -> Option<StoreStats> {
        let source = self
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        source.upgrade().map(|s| s.stats())
    }

    fn snapshot(&self) -> TierSnapshot {
        let mut namespaces: BTreeMap<String, NamespaceStats> = self
            .namespaces
            .iter_indexed()
            .map(|(i, ns, c)| (ns.as_str().to_owned(), c.snapshot(self.reads.sum(i))))
            .collect();
        let overflow = self
            .namespaces
            .overflow()
            .snapshot(self.reads.sum(self.namespaces.capacity()));
        if overflow != NamespaceStats::default() {
            namespaces.insert("(other namespaces)".to_owned(), overflow);
        }
        let mut totals = self
            .unscoped
            .snapshot(self.reads.sum(self.unscoped_column()));
        for s in namespaces.values() {
            totals.add(s);
        }
        let latency = Operation::ALL
            .into_iter()
            .filter_map(|op| self.latency.summary(op).map(|s| (op, s)))
            .collect();
        let store = self.store_stats();
        TierSnapshot {
            totals,
            namespaces,
            latency,
            entries: store.map(|s| s.entries),
            store_bytes: store.map(|s| s.bytes),
            evictions: store.map(|s| s.evictions),
        }
    }
}

/// Every tier's counters.
pub(crate) struct Registry {
    tiers: [TierStats; 3],
}

impl Registry {
    pub(crate) fn new(namespace_slots: usize) -> Self {
        Registry {
            tiers: [
                TierStats::new(namespace_slots),
                TierStats::new(namespace_slots),
                TierStats::new(namespace_slots),
            ],
        }
    }

    #[inline]
    pub(crate) fn tier(&self, tier: Tier) -> &TierStats {
        &self.tiers[tier.index()]
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<Tier, TierSnapshot> {
        Tier::ALL
            .into_iter()
            .filter(|t| self.tier(*t).used.load(Ordering::Acquire))
            .map(|t| (t, self.tier(t).snapshot()))
            .collect()
    }
}

/// One tier's figures.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierSnapshot {
    /// The sum over namespaces (and operations without one).
    pub totals: NamespaceStats,
    /// By namespace.
    pub namespaces: BTreeMap<String, NamespaceStats>,
    /// Latency by operation, over the sampled operations.
    pub latency: BTreeMap<Operation, LatencySummary>,
    /// Entries the store holds, as it reports them.
    pub entries: Option<u64>,
    /// Bytes the store holds, as it reports them.
    pub store_bytes: Option<u64>,
    /// Entries that left the store, by reason, as it reports them.
    pub evictions: Option<EvictionCounts>,
}
