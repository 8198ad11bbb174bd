//! Results: the table printed as they come, the summary, JSON and CSV.

use std::fmt::Write as _;
use std::path::Path;

use crate::policy::PolicyName;

/// The version of the JSON layout.
pub(crate) const SCHEMA: u64 = 1;

/// One replay's result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The trace's file stem (`OLTP`).
    pub(crate) trace: String,
    /// Cache size in entries.
    pub(crate) size: u64,
    /// The policy.
    pub(crate) policy: PolicyName,
    /// Hits.
    pub(crate) hits: u64,
    /// Requests replayed.
    pub(crate) requests: u64,
    /// Wall time of the replay, seconds.
    pub(crate) seconds: f64,
}

impl Row {
    /// Hits / requests, in 0..1 (0 for an empty trace).
    pub(crate) fn hit_ratio(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.hits as f64 / self.requests as f64
        }
    }
}

/// The table header.
pub(crate) fn header() -> String {
    format!(
        "{:<10} {:>9} {:<14} {:>7} {:>9}",
        "trace", "size", "policy", "hit %", "seconds"
    )
}

/// One table line.
pub(crate) fn line(row: &Row) -> String {
    format!(
        "{:<10} {:>9} {:<14} {:>7.2} {:>9.2}",
        row.trace,
        row.size,
        row.policy.as_str(),
        row.hit_ratio() * 100.0,
        row.seconds
    )
}

/// The hit ratio (in %) of `policy` at (`trace`, `size`), if it ran.
fn percent(rows: &[Row], trace: &str, size: u64, policy: PolicyName) -> Option<f64> {
    rows.iter()
        .find(|r| r.trace == trace && r.size == size && r.policy == policy)
        .map(|r| r.hit_ratio() * 100.0)
}

/// `a - b` in points, or `n/a`.
fn diff(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("{:+.2}", a - b),
        _ => "n/a".to_owned(),
    }
}

/// A percentage or `n/a`.
fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

/// Per (trace, size), in the order they ran: strata's hit ratio, the best of moka and
/// quick_cache, lru, opt, and strata's lead over the best peer and over lru, in points.
pub(crate) fn summary(rows: &[Row]) -> String {
    let mut keys: Vec<(&str, u64)> = Vec::new();
    for r in rows {
        if !keys.contains(&(r.trace.as_str(), r.size)) {
            keys.push((r.trace.as_str(), r.size));
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>9} {:>8} {:>20} {:>8} {:>8} {:>14} {:>12}",
        "trace", "size", "strata", "best moka/qc", "lru", "opt", "strata-best", "strata-lru"
    );
    for (trace, size) in keys {
        let strata = percent(rows, trace, size, PolicyName::Strata);
        let best = [PolicyName::Moka, PolicyName::QuickCache]
            .into_iter()
            .filter_map(|p| percent(rows, trace, size, p).map(|v| (v, p)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let best_text = best.map_or_else(
            || "n/a".to_owned(),
            |(v, p)| format!("{v:.2} ({})", p.as_str()),
        );
        let lru = percent(rows, trace, size, PolicyName::Lru);
        let opt = percent(rows, trace, size, PolicyName::Opt);
        let _ = writeln!(
            out,
            "{:<10} {:>9} {:>8} {:>20} {:>8} {:>8} {:>14} {:>12}",
            trace,
            size,
            pct(strata),
            best_text,
            pct(lru),
            pct(opt),
            diff(strata, best.map(|b| b.0)),
            diff(strata, lru)
        );
    }
    out
}

/// `{"schema": 1, "results": [{trace, size, policy, hit_ratio, requests, seconds}]}`.
pub(crate) fn to_json(rows: &[Row]) -> serde_json::Value {
    let results: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "trace": r.trace,
                "size": r.size,
                "policy": r.policy.as_str(),
                "hit_ratio": r.hit_ratio(),
                "requests": r.requests,
                "seconds": r.seconds,
            })
        })
        .collect();
    serde_json::json!({ "schema": SCHEMA, "results": results })
}

/// The same rows as CSV, with a header line.
pub(crate) fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from("trace,size,policy,hit_ratio,requests,seconds\n");
    for r in rows {
        let trace = if r.trace.contains([',', '"', '\n']) {
            format!("\"{}\"", r.trace.replace('"', "\"\""))
        } else {
            r.trace.clone()
        };
        let _ = writeln!(
            out,
            "{trace},{},{},{},{},{}",
            r.size,
            r.policy.as_str(),
            r.hit_ratio(),
            r.requests,
            r.seconds
        );
    }
    out
}

/// Writes `contents` to `path`, creating its directory.
pub(crate) fn write_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: PolicyName, hits: u64) -> Row {
        Row {
            trace: "T".into(),
            size: 10,
            policy,
            hits,
            requests: 200,
            seconds: 0.5,
        }
    }

    #[test]
    fn json_and_csv_carry_every_field() {
        let rows = [row(PolicyName::Lru, 50)];
        let json = to_json(&rows);
        assert_eq!(json["schema"], 1);
        let r = &json["results"][0];
        assert_eq!(r["trace"], "T");
        assert_eq!(r["size"], 10);
        assert_eq!(r["policy"], "lru");
        assert_eq!(r["hit_ratio"], 0.25);
        assert_eq!(r["requests"], 200);
        assert_eq!(r["seconds"], 0.5);
        assert_eq!(
            to_csv(&rows),
            "trace,size,policy,hit_ratio,requests,seconds\nT,10,lru,0.25,200,0.5\n"
        );
    }

    #[test]
    fn summary_compares_strata_with_the_best_peer_and_lru() {
        let rows = [
            row(PolicyName::Strata, 100),
            row(PolicyName::Moka, 90),
            row(PolicyName::QuickCache, 110),
            row(PolicyName::Lru, 80),
        ];
        let s = summary(&rows);
        let last = s.lines().nth(1).unwrap();
        assert!(last.contains("55.00 (quick_cache)"), "{last}");
        assert!(last.contains("-5.00"), "{last}");
        assert!(last.contains("+10.00"), "{last}");
        assert!(last.contains("n/a"), "{last}");
    }
}
