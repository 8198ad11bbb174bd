//! [`TieredBuilder`]: the two tiers and the promotion strategies.

use std::collections::HashMap;
use std::sync::Arc;

use strata_core::{Admission, GetWithTtl, Namespace, SharedClock, SharedStore, Store, SystemClock};

use crate::coherence::Coherence;
use crate::placement::PlacementPolicy;
use crate::promotion::Promotion;
use crate::store::{Settings, TieredStore};
use crate::write_back::{WriteBack, WriteBackConfig};

/// Builds a [`TieredStore`]; made by [`TieredStore::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct TieredBuilder<L1, L2> {
    l1: L1,
    l2: L2,
    default_promotion: Promotion,
    promotions: HashMap<Namespace, Promotion>,
    clock: Option<SharedClock>,
    write_back: Option<WriteBack>,
    fallback: Option<SharedStore>,
    admission: Option<Arc<dyn Admission>>,
    placement: Option<Arc<dyn PlacementPolicy>>,
    pressure: Option<(u64, f64)>,
    coherence: Option<(Coherence, tokio::runtime::Handle)>,
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
            write_back: None,
            fallback: None,
            admission: None,
            placement: None,
            pressure: None,
            coherence: None,
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

    /// Memory pressure: when L1 holds at least `ratio` (0 to 1) of `l1_max_bytes`, L2 hits
    /// are served without being promoted, so reads of cold keys cannot push L1's hot set
    /// out. (Writes through this store still land in L1.)
    pub fn promotion_pressure(mut self, l1_max_bytes: u64, ratio: f64) -> Self {
        self.pressure = Some((l1_max_bytes, ratio.clamp(0.0, 1.0)));
        self
    }

    /// A store that answers reads L1 misses while L2 fails (a local snapshot, another
    /// region's Redis, ...). Its answers are served, not promoted.
    pub fn fallback(mut self, store: SharedStore) -> Self {
        self.fallback = Some(store);
        self
    }

    /// What [`Promotion::Predictive`] asks before promoting: usually the L1 itself (a
    /// `MemoryStore`, whose frequency sketch weighs the key against its next victim). Without
    /// one, predictive promotion promotes like [`Promotion::Immediate`].
    pub fn admission(mut self, admission: impl Admission) -> Self {
        self.admission = Some(Arc::new(admission));
        self
    }

    /// Which tiers serve each namespace and how eagerly its L2 hits are promoted, asked on
    /// every operation (so a governance policy's allowed tiers and priorities, reloaded,
    /// apply at once). Without one, every namespace is served by both tiers.
    pub fn placement(mut self, policy: impl PlacementPolicy) -> Self {
        self.placement = Some(Arc::new(policy));
        self
    }

    /// The clock of promotion windows (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Keeps L1 coherent with the other nodes sharing L2: invalidations go out on the bus
    /// and come in from it, key tracking (where given and available) evicts what any client
    /// writes, and fills are fenced (see docs/consistency.md). The store starts two tasks on
    /// the current tokio runtime, and bypasses L1 until its subscriptions are up
    /// ([`TieredStore::wait_coherent`]).
    ///
    /// # Errors
    ///
    /// `InvalidConfig` outside a tokio runtime, with a zero interval or TTL, or with
    /// write-back (coherence publishes after the L2 write, which write-back defers).
    pub fn coherence(mut self, coherence: Coherence) -> strata_core::Result<Self> {
        let runtime = coherence.validate()?;
        if self.write_back.is_some() {
            return Err(strata_core::Error::new(
                strata_core::ErrorKind::InvalidConfig,
                "coherence needs write-through: write-back defers L2 writes past the \
                 invalidations other nodes would act on",
            ));
        }
        self.coherence = Some((coherence, runtime));
        Ok(self)
    }

    /// The store.
    pub fn build(self) -> TieredStore<L1, L2> {
        let settings = Settings {
            default_promotion: self.default_promotion,
            promotions: self.promotions,
            clock: self.clock.unwrap_or_else(SystemClock::shared),
            write_back: self.write_back,
            fallback: self.fallback,
            admission: self.admission,
            placement: self.placement,
            pressure: self.pressure,
            coherence: self.coherence,
        };
        TieredStore::new(self.l1, self.l2, settings)
    }
}

impl<L1: Store, L2: Store + GetWithTtl + Clone> TieredBuilder<L1, L2> {
    /// Write-back instead of write-through: writes land in L1 at once and reach L2 from a
    /// bounded queue flushed in batches by a task started here (on the current tokio
    /// runtime). Conditional writes (NX/XX) still go through L2 first, since only L2 can
    /// answer them.
    ///
    /// # Errors
    ///
    /// `InvalidConfig` outside a tokio runtime, with a zero queue or batch, or together with
    /// coherence.
    pub fn write_back(mut self, config: WriteBackConfig) -> strata_core::Result<Self> {
        if self.coherence.is_some() {
            return Err(strata_core::Error::new(
                strata_core::ErrorKind::InvalidConfig,
                "write-back cannot be combined with coherence, which needs write-through",
            ));
        }
        self.write_back = Some(WriteBack::start(self.l2.clone(), config)?);
        Ok(self)
    }
}
