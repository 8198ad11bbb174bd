//! [`TieredBuilder`]: the two tiers and the promotion strategies.

use std::collections::HashMap;

use strata_core::{GetWithTtl, Namespace, SharedClock, Store, SystemClock};

use crate::promotion::Promotion;
use crate::store::TieredStore;

/// Builds a [`TieredStore`]; made by [`TieredStore::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct TieredBuilder<L1, L2> {
    l1: L1,
    l2: L2,
    default_promotion: Promotion,
    promotions: HashMap<Namespace, Promotion>,
    clock: Option<SharedClock>,
}

impl<L1: Store, L2: Store + GetWithTtl> TieredStore<L1, L2> {
    /// A builder for `l1` over `l2`.
    pub fn builder(l1: L1, l2: L2) -> TieredBuilder<L1, L2> {
        TieredBuilder {
            l1,
            l2,
            default_promotion: Promotion::default(),
            promotions: HashMap::new(),
            clock: None,
        }
    }
}

impl<L1: Store, L2: Store + GetWithTtl> TieredBuilder<L1, L2> {
    /// The promotion strategy of namespaces without their own (default
    /// [`Promotion::Immediate`]).
    pub fn promotion(mut self, promotion: Promotion) -> Self {
        self.default_promotion = promotion;
        self
    }

    /// The promotion strategy of `namespace`.
    pub fn namespace_promotion(mut self, namespace: Namespace, promotion: Promotion) -> Self {
        self.promotions.insert(namespace, promotion);
        self
    }

    /// The clock of promotion windows (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The store.
    pub fn build(self) -> TieredStore<L1, L2> {
        TieredStore::new(
            self.l1,
            self.l2,
            self.default_promotion,
            self.promotions,
            self.clock.unwrap_or_else(SystemClock::shared),
        )
    }
}
