//! Which part of a cache an analytics layer records: the whole stack, or one tier of it.

use std::fmt;

/// The label an [`AnalyticsLayer`](crate::AnalyticsLayer) records under.
///
/// A layer over a whole store records [`Tier::Overall`]; a tiered cache can wrap its L1 and
/// L2 stores with [`AnalyticsLayer::for_tier`](crate::AnalyticsLayer::for_tier) so the same
/// analytics see each tier too (the L1 hit ratio in the health assessment comes from
/// [`Tier::L1`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The whole store under the layer.
    Overall,
    /// The in-process tier.
    L1,
    /// The shared tier.
    L2,
}

impl Tier {
    /// Every tier.
    pub const ALL: [Tier; 3] = [Tier::Overall, Tier::L1, Tier::L2];

    /// The label used in metrics and spans: `overall`, `l1`, `l2`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::Overall => "overall",
            Tier::L1 => "l1",
            Tier::L2 => "l2",
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Tier::Overall => 0,
            Tier::L1 => 1,
            Tier::L2 => 2,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
