//! OpenTelemetry export: observable instruments with stable names whose callbacks read the
//! analytics at collection time, so the hot path pays nothing for them.
//!
//! Attributes are `namespace`, `tier`, and where it applies `kind` (errors), `reason`
//! (evictions, invalidations), `operation` and `quantile` (latency); never keys or tags, so
//! the number of series stays bounded by namespaces × tiers.

use std::sync::{Arc, Weak};

use opentelemetry::KeyValue;
use opentelemetry::metrics::Meter;

use crate::config::Shared;
use crate::layer::{AnalyticsLayer, AnalyticsSnapshot};
use crate::metrics::{NamespaceStats, Operation};

/// The metric names, stable across releases (documented in docs/observability.md).
pub mod names {
    /// Reads of one key (hits + misses). Counter, `{request}`.
    pub const REQUESTS: &str = "strata.cache.requests";
    /// Reads that found a value. Counter, `{hit}`.
    pub const HITS: &str = "strata.cache.hits";
    /// Reads that found none. Counter, `{miss}`.
    pub const MISSES: &str = "strata.cache.misses";
    /// Values written. Counter, `{set}`.
    pub const SETS: &str = "strata.cache.sets";
    /// Deletes. Counter, `{delete}`.
    pub const DELETES: &str = "strata.cache.deletes";
    /// Errors, with attribute `kind`. Counter, `{error}`.
    pub const ERRORS: &str = "strata.cache.errors";
    /// Bytes of values written. Counter, `By`.
    pub const BYTES_WRITTEN: &str = "strata.cache.bytes_written";
    /// Entries that left the store, with attribute `reason` (per tier). Counter, `{entry}`.
    pub const EVICTIONS: &str = "strata.cache.evictions";
    /// Invalidation requests run. Counter, `{invalidation}`.
    pub const INVALIDATIONS: &str = "strata.cache.invalidations";
    /// Hits ÷ reads. Gauge, `1`.
    pub const HIT_RATIO: &str = "strata.cache.hit_ratio";
    /// Latency quantiles of the sampled operations, with `operation` and `quantile`
    /// (`p50`, `p95`, `p99`). Gauge, `s`.
    pub const LATENCY: &str = "strata.cache.operation.latency";
    /// The last health assessment's score (0 to 100). Gauge, `1`.
    pub const HEALTH_SCORE: &str = "strata.cache.health.score";
}

fn attrs(namespace: &str, tier: &str) -> [KeyValue; 2] {
    [
        KeyValue::new("namespace", namespace.to_owned()),
        KeyValue::new("tier", tier.to_owned()),
    ]
}

/// Calls `each` with every namespace's counts of every tier, from a fresh snapshot (none
/// once the analytics are gone).
fn for_each_ns(shared: &Weak<Shared>, mut each: impl FnMut(&NamespaceStats, [KeyValue; 2])) {
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let snapshot = AnalyticsLayer::from_shared(shared, crate::Tier::Overall).snapshot();
    for (tier, t) in &snapshot.tiers {
        for (ns, stats) in &t.namespaces {
            each(stats, attrs(ns, tier.as_str()));
        }
    }
}

fn snapshot(shared: &Weak<Shared>) -> Option<AnalyticsSnapshot> {
    let shared = shared.upgrade()?;
    Some(AnalyticsLayer::from_shared(shared, crate::Tier::Overall).snapshot())
}

impl AnalyticsLayer {
    /// Registers the `strata.cache.*` instruments on `meter` (see [`names`]). Their callbacks
    /// read these analytics at each collection; they stop reporting once every handle to
    /// the analytics is dropped.
    pub fn register_metrics(&self, meter: &Meter) {
        let weak: Weak<Shared> = Arc::downgrade(self.shared());
        let counter = |name: &'static str, unit: &'static str, get: fn(&NamespaceStats) -> u64| {
            let w = weak.clone();
            meter
                .u64_observable_counter(name)
                .with_unit(unit)
                .with_callback(move |o| for_each_ns(&w, |s, a| o.observe(get(s), &a)))
                .build();
        };
        counter(names::REQUESTS, "{request}", |s| s.requests);
        counter(names::HITS, "{hit}", |s| s.hits);
        counter(names::MISSES, "{miss}", |s| s.misses);
        counter(names::SETS, "{set}", |s| s.sets);
        counter(names::DELETES, "{delete}", |s| s.deletes);
        counter(names::BYTES_WRITTEN, "By", |s| s.bytes_written);

        let w = weak.clone();
        meter
            .u64_observable_counter(names::ERRORS)
            .with_unit("{error}")
            .with_callback(move |o| {
                for_each_ns(&w, |s, [ns, tier]| {
                    for (kind, n) in &s.errors {
                        o.observe(
                            *n,
                            &[
                                ns.clone(),
                                tier.clone(),
                                KeyValue::new("kind", kind.clone()),
                            ],
                        );
                    }
                });
            })
            .build();

        let w = weak.clone();
        meter
            .u64_observable_counter(names::EVICTIONS)
            .with_unit("{entry}")
            .with_callback(move |o| {
                let Some(s) = snapshot(&w) else { return };
                for (tier, t) in &s.tiers {
                    let Some(e) = t.evictions else { continue };
                    for (reason, n) in [
                        ("expired", e.expired),
                        ("capacity", e.capacity),
                        ("invalidated", e.invalidated),
                        ("replaced", e.replaced),
                    ] {
                        o.observe(
                            n,
                            &[
                                KeyValue::new("tier", tier.as_str()),
                                KeyValue::new("reason", reason),
                            ],
                        );
                    }
                }
            })
            .build();

        let w = weak.clone();
        meter
            .u64_observable_counter(names::INVALIDATIONS)
            .with_unit("{invalidation}")
            .with_callback(move |o| {
                if let Some(s) = snapshot(&w) {
                    o.observe(s.invalidations, &[]);
                }
            })
            .build();

        let w = weak.clone();
        meter
            .f64_observable_gauge(names::HIT_RATIO)
            .with_unit("1")
            .with_callback(move |o| {
                for_each_ns(&w, |s, a| {
                    if let Some(r) = s.hit_ratio {
                        o.observe(r, &a);
                    }
                });
            })
            .build();

        let w = weak.clone();
        meter
            .f64_observable_gauge(names::LATENCY)
            .with_unit("s")
            .with_callback(move |o| {
                let Some(s) = snapshot(&w) else { return };
                for (tier, t) in &s.tiers {
                    for (op, l) in &t.latency {
                        for (q, us) in [("p50", l.p50_us), ("p95", l.p95_us), ("p99", l.p99_us)] {
                            o.observe(
                                us / 1e6,
                                &[
                                    KeyValue::new("tier", tier.as_str()),
                                    KeyValue::new("operation", Operation::as_str(*op)),
                                    KeyValue::new("quantile", q),
                                ],
                            );
                        }
                    }
                }
            })
            .build();

        let w = weak;
        meter
            .u64_observable_gauge(names::HEALTH_SCORE)
            .with_unit("1")
            .with_callback(move |o| {
                let Some(shared) = w.upgrade() else { return };
                let layer = AnalyticsLayer::from_shared(shared, crate::Tier::Overall);
                if let Some(score) = layer.last_score() {
                    o.observe(u64::from(score), &[]);
                }
            })
            .build();
    }
}
