//! The health assessment: a score from 0 to 100 (documented weighted deductions), a status,
//! issues with a severity, recommendations, the thresholds used, warming-up and the trend.

mod rules;
mod thresholds;
mod trend;

use std::time::Duration;

use serde::Serialize;
use strata_core::{Health, HealthStatus, Timestamp};

pub(crate) use rules::{Inputs, RULES};
pub use thresholds::HealthThresholds;
pub(crate) use trend::History;
pub use trend::{Trend, TrendDirection};

/// How bad an issue is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// The cache is not doing its job.
    Critical,
}

/// The verdict.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No issue.
    Healthy,
    /// No issue, but too few reads to judge hit ratios yet (a fresh deployment).
    WarmingUp,
    /// Issues, none critical, score 50 or more.
    Degraded,
    /// A critical issue, or a score under 50.
    Critical,
}

/// One rule that was crossed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Issue {
    /// The rule's name (`l1_hit_ratio_low`, ...).
    pub rule: &'static str,
    /// How bad.
    pub severity: Severity,
    /// Points deducted from 100.
    pub weight: u32,
    /// What is wrong, with the figures.
    pub message: String,
    /// What to do about it.
    pub recommendation: String,
}

/// A health assessment. Serializes to the JSON documented in docs/observability.md.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthAssessment {
    /// 100 minus the weights of the issues, at least 0.
    pub score: u32,
    /// The verdict.
    pub status: Status,
    /// False only when the status is critical.
    pub is_healthy: bool,
    /// Fewer reads than `thresholds.min_requests`: hit ratios are not judged yet.
    pub warming_up: bool,
    /// Reads seen.
    pub requests: u64,
    /// Errors ÷ operations.
    pub error_rate: Option<f64>,
    /// Hits ÷ reads through the whole stack.
    pub overall_hit_ratio: Option<f64>,
    /// Hits ÷ reads of the L1.
    pub l1_hit_ratio: Option<f64>,
    /// 95th percentile of `get`, in ms.
    pub get_p95_ms: Option<f64>,
    /// L1 bytes ÷ its byte limit.
    pub l1_memory_pressure: Option<f64>,
    /// Redis `used_memory` ÷ `maxmemory`.
    pub l2_memory_pressure: Option<f64>,
    /// The longest recent invalidation lag, in ms.
    pub invalidation_lag_ms: Option<f64>,
    /// The backend's own verdict.
    pub backend: Option<HealthStatus>,
    /// What is wrong, worst first.
    pub issues: Vec<Issue>,
    /// What to do, one per issue, in the same order.
    pub recommendations: Vec<String>,
    /// The thresholds used.
    pub thresholds: HealthThresholds,
    /// The score's trend.
    pub trend: Trend,
    /// When the assessment was made (ms since the epoch).
    pub assessed_at_ms: u64,
}

/// Scores `inputs` against `thresholds`, records the score in `history` and returns the
/// assessment.
pub(crate) fn assess(
    inputs: &Inputs,
    thresholds: &HealthThresholds,
    history: &mut History,
    now: Timestamp,
    window: Duration,
) -> HealthAssessment {
    let (mut issues, warming_up) = rules::evaluate(inputs, thresholds);
    issues.sort_by(|a, b| {
        (b.severity == Severity::Critical)
            .cmp(&(a.severity == Severity::Critical))
            .then(b.weight.cmp(&a.weight))
    });
    let deducted: u32 = issues.iter().map(|i| i.weight).sum();
    let score = 100u32.saturating_sub(deducted);
    let status = if score < 50 || issues.iter().any(|i| i.severity == Severity::Critical) {
        Status::Critical
    } else if !issues.is_empty() {
        Status::Degraded
    } else if warming_up {
        Status::WarmingUp
    } else {
        Status::Healthy
    };
    let trend = history.record(now, score, window);
    HealthAssessment {
        score,
        status,
        is_healthy: status != Status::Critical,
        warming_up,
        requests: inputs.requests,
        error_rate: inputs.error_rate,
        overall_hit_ratio: inputs.overall_hit_ratio,
        l1_hit_ratio: inputs.l1_hit_ratio,
        get_p95_ms: inputs.get_p95.map(|(d, _)| d.as_secs_f64() * 1_000.0),
        l1_memory_pressure: inputs.l1_pressure,
        l2_memory_pressure: inputs.l2_pressure,
        invalidation_lag_ms: inputs.lag.map(|d| d.as_secs_f64() * 1_000.0),
        backend: inputs.backend,
        recommendations: issues.iter().map(|i| i.recommendation.clone()).collect(),
        issues,
        thresholds: thresholds.clone(),
        trend,
        assessed_at_ms: now.as_millis(),
    }
}

/// Reads `used ÷ limit` from a backend's health details (a limit of 0 means none).
pub(crate) fn pressure(health: &Health, used: &str, limit: &str) -> Option<f64> {
    let used = health.details.get(used)?.as_f64()?;
    let limit = health.details.get(limit)?.as_f64()?;
    (limit > 0.0).then(|| used / limit)
}

/// True when a backend's health details say its circuit breaker is open.
pub(crate) fn breaker_open(health: &Health) -> bool {
    ["circuit_breaker", "breaker"].iter().any(|k| {
        health
            .details
            .get(*k)
            .and_then(|v| v.as_str())
            .is_some_and(|s| s.eq_ignore_ascii_case("open"))
    })
}
