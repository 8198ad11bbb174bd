//! The health rules: each compares one figure with its threshold and, when it is crossed,
//! deducts its weight from 100 with an issue and a recommendation a person can act on.

use std::time::Duration;

use strata_core::HealthStatus;

use super::{HealthThresholds, Issue, Severity};

/// The figures the rules judge.
#[derive(Clone, Debug, Default)]
pub(crate) struct Inputs {
    /// Reads through the whole stack.
    pub(crate) requests: u64,
    /// Overall hit ratio.
    pub(crate) overall_hit_ratio: Option<f64>,
    /// Reads of the L1 tier and its hit ratio.
    pub(crate) l1_requests: u64,
    pub(crate) l1_hit_ratio: Option<f64>,
    /// Errors ÷ operations.
    pub(crate) operations: u64,
    pub(crate) error_rate: Option<f64>,
    /// 95th percentile of `get` and its sample count.
    pub(crate) get_p95: Option<(Duration, u64)>,
    /// The backend's own verdict.
    pub(crate) backend: Option<HealthStatus>,
    pub(crate) backend_message: Option<String>,
    pub(crate) breaker_open: bool,
    /// Memory in use ÷ limit.
    pub(crate) l1_pressure: Option<f64>,
    pub(crate) l2_pressure: Option<f64>,
    /// The longest recent invalidation lag.
    pub(crate) lag: Option<Duration>,
}

/// A rule's name, weight and severity, as documented.
pub(crate) struct RuleInfo {
    pub(crate) name: &'static str,
    pub(crate) weight: u32,
    pub(crate) severity: Severity,
}

/// Every rule, in the order they are checked (docs/observability.md lists the same table).
pub(crate) const RULES: [RuleInfo; 10] = [
    RuleInfo {
        name: "backend_unhealthy",
        weight: 50,
        severity: Severity::Critical,
    },
    RuleInfo {
        name: "backend_degraded",
        weight: 15,
        severity: Severity::Warning,
    },
    RuleInfo {
        name: "circuit_breaker_open",
        weight: 40,
        severity: Severity::Critical,
    },
    RuleInfo {
        name: "error_rate_high",
        weight: 25,
        severity: Severity::Critical,
    },
    RuleInfo {
        name: "overall_hit_ratio_low",
        weight: 20,
        severity: Severity::Warning,
    },
    RuleInfo {
        name: "l1_hit_ratio_low",
        weight: 15,
        severity: Severity::Warning,
    },
    RuleInfo {
        name: "p95_latency_high",
        weight: 10,
        severity: Severity::Warning,
    },
    RuleInfo {
        name: "l1_memory_pressure",
        weight: 10,
        severity: Severity::Warning,
    },
    RuleInfo {
        name: "l2_memory_pressure",
        weight: 10,
        severity: Severity::Warning,
    },
    RuleInfo {
        name: "invalidation_lag_high",
        weight: 10,
        severity: Severity::Warning,
    },
];

fn issue(name: &'static str, message: String, recommendation: String) -> Issue {
    let info = RULES.iter().find(|r| r.name == name);
    Issue {
        rule: name,
        severity: info.map_or(Severity::Warning, |r| r.severity),
        weight: info.map_or(0, |r| r.weight),
        message,
        recommendation,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// The issues `inputs` raise against `t`, and whether hit ratios were left unjudged because
/// too few reads were seen.
pub(crate) fn evaluate(inputs: &Inputs, t: &HealthThresholds) -> (Vec<Issue>, bool) {
    let mut out = Vec::new();
    match inputs.backend {
        Some(HealthStatus::Unhealthy) => out.push(issue(
            "backend_unhealthy",
            format!(
                "the backend reports unhealthy: {}",
                inputs
                    .backend_message
                    .as_deref()
                    .unwrap_or("no reason given")
            ),
            "check the backend's reachability and logs; reads fall through to the loader meanwhile"
                .into(),
        )),
        Some(HealthStatus::Degraded) => out.push(issue(
            "backend_degraded",
            format!(
                "the backend reports degraded: {}",
                inputs
                    .backend_message
                    .as_deref()
                    .unwrap_or("no reason given")
            ),
            "look at the backend's health details before it gets worse".into(),
        )),
        _ => {}
    }
    if inputs.breaker_open {
        out.push(issue(
            "circuit_breaker_open",
            "the circuit breaker is open: calls to the backend are failing fast".into(),
            "restore the backend; the breaker closes by itself after its cool-down once calls succeed".into(),
        ));
    }
    if let Some(rate) = inputs.error_rate
        && inputs.operations >= t.min_operations
        && rate > t.error_rate
    {
        out.push(issue(
            "error_rate_high",
            format!(
                "error rate {rate:.3} is over {:.3} ({} operations)",
                t.error_rate, inputs.operations
            ),
            "look at errors by kind in the analytics snapshot: timeouts and unavailable point at the backend, codec errors at a schema change".into(),
        ));
    }
    let warming_up = inputs.requests < t.min_requests;
    if !warming_up
        && let Some(r) = inputs.overall_hit_ratio
        && r < t.overall_hit_ratio
    {
        out.push(issue(
            "overall_hit_ratio_low",
            format!("overall hit ratio {r:.2} is under {:.2}", t.overall_hit_ratio),
            "raise TTLs where data allows, warm the cache at start-up, or check that keys are stable (no timestamps or request ids in them)".into(),
        ));
    }
    if inputs.l1_requests >= t.min_requests
        && let Some(r) = inputs.l1_hit_ratio
        && r < t.l1_hit_ratio
    {
        out.push(issue(
            "l1_hit_ratio_low",
            format!("L1 hit ratio {r:.2} is under {:.2}", t.l1_hit_ratio),
            "raise L1 capacity (max_entries / max_bytes) or switch promotion to immediate".into(),
        ));
    }
    if let Some((p95, samples)) = inputs.get_p95
        && samples >= t.min_latency_samples
        && p95 > t.p95_latency
    {
        out.push(issue(
            "p95_latency_high",
            format!(
                "get p95 latency {:.3} ms is over {:.3} ms",
                ms(p95),
                ms(t.p95_latency)
            ),
            "check the backend's round-trip time and batch reads with get_many; an L1 in front of a remote store cuts hit latency".into(),
        ));
    }
    for (name, tier, pressure, advice) in [
        (
            "l1_memory_pressure",
            "L1",
            inputs.l1_pressure,
            "raise max_bytes, lower TTLs of large namespaces, or cap payloads with a governance rule",
        ),
        (
            "l2_memory_pressure",
            "Redis",
            inputs.l2_pressure,
            "raise Redis maxmemory or shorten TTLs; check the eviction policy is an allkeys-* one",
        ),
    ] {
        if let Some(p) = pressure
            && p > t.memory_pressure
        {
            out.push(issue(
                name,
                format!(
                    "{tier} memory use is {:.0} % of its limit, over {:.0} %",
                    p * 100.0,
                    t.memory_pressure * 100.0
                ),
                advice.into(),
            ));
        }
    }
    if let Some(lag) = inputs.lag
        && lag > t.invalidation_lag
    {
        out.push(issue(
            "invalidation_lag_high",
            format!(
                "invalidations took up to {:.0} ms to reach every node, over {:.0} ms",
                ms(lag),
                ms(t.invalidation_lag)
            ),
            "check the backplane connection and the load on the subscribers; stale reads last as long as the lag".into(),
        ));
    }
    (out, warming_up)
}
