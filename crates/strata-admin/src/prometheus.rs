//! `GET /metrics`: the figures of `/cache-metrics` in the Prometheus text format (0.0.4).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Reads one counter of a namespace's figures.
type Field = fn(&strata::analytics::NamespaceStats) -> u64;

/// Escapes a label value: backslash, double quote and newline.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Builds the exposition text, one `# HELP`/`# TYPE` header per family.
#[derive(Default)]
struct Text {
    out: String,
}

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        if value.is_finite() {
            let _ = writeln!(self.out, " {value}");
        } else {
            let _ = writeln!(self.out, " NaN");
        }
    }
}

/// The exposition text of `state`'s system.
pub(crate) fn render(state: &AppState) -> String {
    let system = &state.system;
    let mut t = Text::default();

    t.family("strata_up", "gauge", "1 while the cache system runs.");
    t.sample("strata_up", &[("backend", system.backend())], 1.0);
    t.family(
        "strata_uptime_seconds",
        "gauge",
        "Seconds since the cache system started.",
    );
    t.sample("strata_uptime_seconds", &[], system.uptime().as_secs_f64());

    if let Some(a) = system.analytics() {
        let snap = a.snapshot();
        let counters: [(&str, &str, Field); 6] = [
            (
                "strata_cache_requests_total",
                "Reads of one key (hits + misses).",
                |s| s.requests,
            ),
            (
                "strata_cache_hits_total",
                "Reads that found a value.",
                |s| s.hits,
            ),
            ("strata_cache_misses_total", "Reads that found none.", |s| {
                s.misses
            }),
            ("strata_cache_sets_total", "Values written.", |s| s.sets),
            ("strata_cache_deletes_total", "Deletes.", |s| s.deletes),
            (
                "strata_cache_bytes_written_total",
                "Bytes of the values written.",
                |s| s.bytes_written,
            ),
        ];
        for (name, help, get) in counters {
            t.family(name, "counter", help);
            for (tier, ts) in &snap.tiers {
                for (ns, s) in &ts.namespaces {
                    t.sample(
                        name,
                        &[("tier", tier.as_str()), ("namespace", ns)],
                        get(s) as f64,
                    );
                }
            }
        }
        t.family("strata_cache_errors_total", "counter", "Errors by kind.");
        for (tier, ts) in &snap.tiers {
            for (ns, s) in &ts.namespaces {
                for (kind, n) in &s.errors {
                    t.sample(
                        "strata_cache_errors_total",
                        &[("tier", tier.as_str()), ("namespace", ns), ("kind", kind)],
                        *n as f64,
                    );
                }
            }
        }
        t.family("strata_cache_hit_ratio", "gauge", "Hits / requests.");
        for (tier, ts) in &snap.tiers {
            for (ns, s) in &ts.namespaces {
                if let Some(r) = s.hit_ratio {
                    t.sample(
                        "strata_cache_hit_ratio",
                        &[("tier", tier.as_str()), ("namespace", ns)],
                        r,
                    );
                }
            }
        }
        t.family(
            "strata_cache_operation_latency_seconds",
            "gauge",
            "Latency of the sampled operations, by quantile.",
        );
        for (tier, ts) in &snap.tiers {
            for (op, l) in &ts.latency {
                let op = serde_json::to_value(op)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                for (q, us) in [("0.5", l.p50_us), ("0.95", l.p95_us), ("0.99", l.p99_us)] {
                    t.sample(
                        "strata_cache_operation_latency_seconds",
                        &[("tier", tier.as_str()), ("operation", &op), ("quantile", q)],
                        us / 1e6,
                    );
                }
            }
        }
        t.family("strata_cache_entries", "gauge", "Entries the store holds.");
        for (tier, ts) in &snap.tiers {
            if let Some(n) = ts.entries {
                t.sample("strata_cache_entries", &[("tier", tier.as_str())], n as f64);
            }
        }
        t.family(
            "strata_cache_invalidations_total",
            "counter",
            "Invalidation requests run.",
        );
        t.sample(
            "strata_cache_invalidations_total",
            &[],
            snap.invalidations as f64,
        );
        if let Some(score) = a.last_score() {
            t.family(
                "strata_cache_health_score",
                "gauge",
                "The last health assessment's score (0-100).",
            );
            t.sample("strata_cache_health_score", &[], f64::from(score));
        }
    }

    let stats = system.stats_all();
    t.family(
        "strata_registry_cache_hits_total",
        "counter",
        "Hits of each named cache.",
    );
    for (name, c) in &stats.caches {
        t.sample(
            "strata_registry_cache_hits_total",
            &[("cache", name)],
            c.counts.hits as f64,
        );
    }
    t.family(
        "strata_registry_cache_misses_total",
        "counter",
        "Misses of each named cache.",
    );
    for (name, c) in &stats.caches {
        t.sample(
            "strata_registry_cache_misses_total",
            &[("cache", name)],
            c.counts.misses as f64,
        );
    }

    if let Some(tiers) = system.tier_stats() {
        t.family(
            "strata_tier_reads_total",
            "counter",
            "Reads of the tiered store by outcome.",
        );
        for (outcome, n) in [
            ("l1_hit", tiers.l1_hits),
            ("l2_hit", tiers.l2_hits),
            ("miss", tiers.misses),
        ] {
            t.sample("strata_tier_reads_total", &[("outcome", outcome)], n as f64);
        }
        t.family(
            "strata_tier_promotions_total",
            "counter",
            "L2 hits copied into L1.",
        );
        t.sample("strata_tier_promotions_total", &[], tiers.promotions as f64);
        t.family(
            "strata_tier_write_back_pending",
            "gauge",
            "Write-back operations not yet in L2.",
        );
        t.sample(
            "strata_tier_write_back_pending",
            &[],
            tiers.write_back_pending as f64,
        );
    }

    if let Some(g) = system.governance() {
        let r = g.report();
        t.family(
            "strata_governance_policy_version",
            "gauge",
            "The governance policy version.",
        );
        t.sample(
            "strata_governance_policy_version",
            &[],
            r.policy_version as f64,
        );
        t.family(
            "strata_governance_violations_total",
            "counter",
            "Policy rule fields broken.",
        );
        t.sample(
            "strata_governance_violations_total",
            &[],
            r.policy_violations as f64,
        );
        t.family(
            "strata_governance_rejections_total",
            "counter",
            "Writes refused by policy.",
        );
        t.sample(
            "strata_governance_rejections_total",
            &[],
            r.rejections as f64,
        );
    }

    let c = state.counters.snapshot();
    t.family(
        "strata_admin_requests_total",
        "counter",
        "Admin requests by authentication outcome.",
    );
    for (outcome, n) in [
        ("accepted", c.accepted),
        ("missing_key", c.missing_key),
        ("wrong_key", c.wrong_key),
        ("wrong_role", c.wrong_role),
        ("not_loopback", c.not_loopback),
    ] {
        t.sample(
            "strata_admin_requests_total",
            &[("outcome", outcome)],
            n as f64,
        );
    }
    t.out
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut response = render(&state).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let mut t = Text::default();
        t.sample("m", &[("a", "x\"y\\z\nw")], 1.5);
        assert_eq!(t.out, "m{a=\"x\\\"y\\\\z\\nw\"} 1.5\n");
    }
}
