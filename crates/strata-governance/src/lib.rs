//! # strata-governance
//!
//! A [`GovernanceLayer`] puts a namespace policy between callers and any
//! [`Store`](strata_core::Store): every write gets its namespace's default TTL (optionally
//! spread by jitter so entries written together do not expire together), TTLs outside a
//! rule's floor and ceiling and payloads over its limit are handled in the rule's mode
//! ([`Mode::Warn`]: log and count; [`Mode::Clamp`]: fix the TTL and count an override;
//! [`Mode::Reject`]: refuse with [`ErrorKind::Rejected`](strata_core::ErrorKind::Rejected)
//! naming the rule), and every call is counted per namespace ([`GovernanceReport`]).
//!
//! The policy starts from the [built-in namespaces](namespaces) and [`TtlTier`]s of the cache
//! managers Strata replaces, and comes from code ([`Policy::builder`]), TOML and environment
//! variables ([`PolicySource`]), with development, staging and production [`Profile`]s.
//! Validation reports every problem with its field path ([`Problems`]). [`GovernanceLayer::reload`]
//! swaps a new policy in without disturbing operations in flight; with the `watch` feature, a
//! `PolicyWatcher` does so when the policy file changes.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::{sync::Arc, time::Duration};
//! use strata_core::{Bytes, Key, ManualClock, Namespace, SetOptions, Store, StoreExt, TtlState};
//! use strata_governance::{GovernanceLayer, PolicySource};
//! use strata_memory::MemoryStore;
//!
//! let source = PolicySource::new().toml_str(
//!     r#"
//!     [namespaces]
//!     orders = "MEDIUM"
//!     [rules.orders]
//!     ceiling = "1h"
//!     mode = "clamp"
//!     "#,
//! );
//! let governance = GovernanceLayer::from_source(source)?;
//! let clock = Arc::new(ManualClock::new()); // time stands still, so the TTL reads exactly
//! let store = MemoryStore::builder().clock(clock).build()?.layer(governance.clone());
//! let key = Key::new(&Namespace::new("orders")?, "1001")?;
//! let asked = SetOptions::new().ttl(Duration::from_secs(86_400)); // over the ceiling
//! store.set(&key, Bytes::from_static(b"{}"), asked).await?;
//! assert_eq!(store.ttl(&key).await?, TtlState::Remaining(Duration::from_secs(3600)));
//! assert_eq!(governance.report().ttl_overrides, 1);
//! # Ok::<(), strata_core::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

pub mod config;
mod counters;
mod jitter;
mod layer;
pub mod policy;
mod report;
#[cfg(feature = "watch")]
mod watch;

pub use config::PolicySource;
pub use counters::NamespaceCounts;
pub use layer::{GovernanceLayer, GovernedStore};
pub use policy::{
    AllowedTiers, CompiledPolicy, Mode, Origin, Overrides, Policy, PolicyBuilder, Priority,
    Problem, Problems, Profile, Rule, RuleSpec, TtlSpec,
};
pub use report::GovernanceReport;
/// TTL tiers live in `strata_core` (the umbrella's configuration reads them too).
pub use strata_core::TtlTier;
/// The built-in namespaces and cache types (they live in `strata_core`, which the umbrella's
/// registry shares).
pub use strata_core::namespaces;
#[cfg(feature = "watch")]
pub use watch::PolicyWatcher;
