//! Placement: which tiers serve a namespace, and how eagerly its L2 hits are promoted —
//! decided by a [`PlacementPolicy`] (a governance policy, say) each time, so a policy reload
//! takes effect at once.

use strata_core::Namespace;

use crate::Promotion;

/// The tiers that serve a namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tiers {
    /// L1 over L2 (the default).
    #[default]
    Both,
    /// L1 alone: node-local values, never written to (nor read from) L2.
    L1Only,
    /// L2 alone: read and written in L2, never copied into L1 (values every node must see
    /// at once, or too big for L1).
    L2Only,
}

/// How a namespace is placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    /// The tiers that serve it.
    pub tiers: Tiers,
    /// A promotion strategy over the namespace's own (for example `Immediate` for
    /// high-priority namespaces, `Predictive` for low-priority ones).
    pub promotion: Option<Promotion>,
}

/// Decides the placement of each namespace; asked on every operation, so keep it cheap.
///
/// ```
/// use strata_core::Namespace;
/// use strata_tiered::{Placement, PlacementPolicy, Tiers};
/// struct SessionsStayLocal;
/// impl PlacementPolicy for SessionsStayLocal {
///     fn placement(&self, ns: &Namespace) -> Placement {
///         let tiers = if ns.as_str() == "session" { Tiers::L1Only } else { Tiers::Both };
///         Placement { tiers, promotion: None }
///     }
/// }
/// assert_eq!(SessionsStayLocal.placement(&Namespace::new("session")?).tiers, Tiers::L1Only);
/// # Ok::<(), strata_core::Error>(())
/// ```
pub trait PlacementPolicy: Send + Sync + 'static {
    /// The placement of `namespace`.
    fn placement(&self, namespace: &Namespace) -> Placement;
}
