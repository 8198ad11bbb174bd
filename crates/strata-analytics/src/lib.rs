//! # strata-analytics
//!
//! An [`AnalyticsLayer`] wraps any [`Store`](strata_core::Store) and records, per namespace
//! and per [`Tier`]: requests, hits, misses and the hit ratio, sets, deletes, errors by kind,
//! bytes written, and entries evicted by reason (from the store's own counters);
//! latency histograms per [`Operation`] (hdrhistogram, one operation in N timed, default 64);
//! an [invalidation event log](AnalyticsLayer::invalidation_events); a `tracing` span per
//! operation (`strata.cache`, with namespace, operation, tier and outcome; keys only with
//! [`AnalyticsBuilder::record_keys`], values never); OpenTelemetry instruments with stable
//! names ([`names`], [`AnalyticsLayer::register_metrics`]); and a [`HealthAssessment`]:
//! a score from 100 down by documented weights, a status, issues, recommendations, warming-up
//! and a trend.
//!
//! The hit path costs a relaxed load to see whether spans are wanted, one thread-local cell
//! (the sampling countdown, where the thread counts reads of the namespace it read last)
//! and one striped increment (no atomic read-modify-write on a stripe the thread owns).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use strata_analytics::{AnalyticsLayer, Status};
//! use strata_core::{Bytes, Invalidation, Key, Namespace, SetOptions, Store, StoreExt, Timestamp};
//! use strata_memory::MemoryStore;
//!
//! let analytics = AnalyticsLayer::new();
//! let store = MemoryStore::new().layer(analytics.clone());
//! let curves = Namespace::new("curves")?;
//! let key = Key::new(&curves, "CAISO:RT")?;
//! store.set(&key, Bytes::from_static(b"42.1"), SetOptions::new()).await?;
//! store
//!     .invalidate(&Invalidation::namespace(curves).triggered_by("curve-loader"))
//!     .await?;
//! let events = analytics.invalidation_events(Timestamp::EPOCH);
//! assert_eq!(events[0].count, 1);
//!
//! let health = store.assess().await;
//! assert_eq!(health.status, Status::WarmingUp); // too few reads to judge hit ratios
//! assert_eq!(health.score, 100);
//! # Ok::<(), strata_core::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod config;
mod events;
mod health;
mod layer;
mod metrics;
mod otel;
mod tier;

pub use config::AnalyticsBuilder;
pub use events::InvalidationEvent;
pub use health::{
    HealthAssessment, HealthThresholds, Issue, Severity, Status, Trend, TrendDirection,
};
pub use layer::{AnalyticsLayer, AnalyticsSnapshot, AnalyticsStore};
pub use metrics::{LatencySummary, NamespaceStats, Operation, TierSnapshot};
pub use otel::names;
pub use tier::Tier;

/// The health rules as `(name, weight)`, in the order they are checked; docs/observability.md
/// documents each one.
pub fn health_rules() -> impl Iterator<Item = (&'static str, u32)> {
    health::RULES.iter().map(|r| (r.name, r.weight))
}
