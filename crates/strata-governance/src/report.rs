//! [`GovernanceReport`]: the counters and the policy in force, for people and dashboards.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::counters::NamespaceCounts;
use crate::policy::Profile;

/// Totals and per-namespace counts, with the policy version and profile in force. Serializes
/// to the JSON the older managers' `governance` section had (`total_operations`,
/// `policy_violations`, `ttl_overrides`), plus rejections and the per-namespace breakdown.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GovernanceReport {
    /// Every call through the layer.
    pub total_operations: u64,
    /// Rule fields broken.
    pub policy_violations: u64,
    /// Writes whose TTL was fixed.
    pub ttl_overrides: u64,
    /// Writes refused.
    pub rejections: u64,
    /// Increments at every successful reload (1 for the first policy).
    pub policy_version: u64,
    /// Reloads that failed (the previous policy stayed in force).
    pub reload_failures: u64,
    /// The active profile.
    pub profile: Option<Profile>,
    /// Counts by namespace.
    pub namespaces: BTreeMap<String, NamespaceCounts>,
}
