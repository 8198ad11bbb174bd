//! Per-namespace counters: operations, policy violations, TTL overrides and rejections.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use strata_core::Namespace;
use strata_core::counters::{NamespaceMap, StripedCounter};

/// How many namespaces get counters of their own; the rest are counted together.
const NAMESPACE_SLOTS: usize = 1024;

/// One namespace's counters. Operations are counted on every call (striped, relaxed); the
/// others only when a rule is broken.
#[derive(Default)]
pub(crate) struct NsCounters {
    operations: StripedCounter,
    violations: AtomicU64,
    overrides: AtomicU64,
    rejections: AtomicU64,
}

impl NsCounters {
    fn snapshot(&self) -> NamespaceCounts {
        NamespaceCounts {
            operations: self.operations.sum(),
            violations: self.violations.load(Ordering::Relaxed),
            overrides: self.overrides.load(Ordering::Relaxed),
            rejections: self.rejections.load(Ordering::Relaxed),
        }
    }
}

/// What a broken rule led to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Enforced {
    /// Logged and let through (warn mode).
    Warned,
    /// The TTL was fixed (clamp mode).
    Overridden,
    /// The write was refused.
    Rejected,
}

/// Every namespace's counters, plus those of operations without one (tag and global
/// invalidations).
pub(crate) struct Counters {
    by_namespace: NamespaceMap<NsCounters>,
    unscoped: NsCounters,
}

impl Counters {
    pub(crate) fn new() -> Self {
        Counters {
            by_namespace: NamespaceMap::with_capacity(NAMESPACE_SLOTS),
            unscoped: NsCounters::default(),
        }
    }

    /// Counts `n` operations in `ns`.
    #[inline]
    pub(crate) fn operation(&self, ns: &Namespace, n: u64) {
        self.by_namespace.get_or_default(ns).operations.add(n);
    }

    /// Counts an operation that names no namespace.
    pub(crate) fn unscoped_operation(&self) {
        self.unscoped.operations.add(1);
    }

    /// Counts `violations` broken rule fields in `ns` and what was done about them.
    pub(crate) fn enforced(&self, ns: &Namespace, violations: usize, what: Enforced) {
        let c = self.by_namespace.get_or_default(ns);
        c.violations.fetch_add(violations as u64, Ordering::Relaxed);
        match what {
            Enforced::Warned => {}
            Enforced::Overridden => {
                c.overrides.fetch_add(1, Ordering::Relaxed);
            }
            Enforced::Rejected => {
                c.rejections.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counts of every namespace seen so far.
    pub(crate) fn namespaces(&self) -> BTreeMap<String, NamespaceCounts> {
        let mut out: BTreeMap<String, NamespaceCounts> = self
            .by_namespace
            .iter()
            .map(|(ns, c)| (ns.as_str().to_owned(), c.snapshot()))
            .collect();
        let overflow = self.by_namespace.overflow().snapshot();
        if overflow != NamespaceCounts::default() {
            out.insert("(other namespaces)".to_owned(), overflow);
        }
        out
    }

    /// Operations that named no namespace.
    pub(crate) fn unscoped(&self) -> NamespaceCounts {
        self.unscoped.snapshot()
    }
}

/// One namespace's counts.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NamespaceCounts {
    /// Calls that touched the namespace.
    pub operations: u64,
    /// Rule fields broken (a write over the payload limit and the ceiling counts two).
    pub violations: u64,
    /// Writes whose TTL was fixed (clamp mode).
    pub overrides: u64,
    /// Writes refused.
    pub rejections: u64,
}
