//! Reading the settings that are the umbrella's own (TTLs by tier name, memory sizes, cluster
//! nodes); the common readers are strata-core's (`strata_core::config::values`), shared with
//! the governance policy. Each records a problem naming the setting and the value instead of
//! stopping, so a load lists every mistake.

use std::time::Duration;

use strata_core::config::Problems;
use strata_core::config::parse_bytes;
pub(crate) use strata_core::config::values::{
    Raw, boolean, duration, fraction, named, string, unsigned,
};

use super::{ClusterNodes, MemorySize};

fn problem(out: &mut Problems, label: &str, raw: Raw<'_>, what: impl std::fmt::Display) {
    out.push(label, format!("{} {what}", raw.shown()));
}

/// A TTL: a duration, or a tier name (`"SHORT"`: 5 minutes).
pub(crate) fn ttl(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<Duration> {
    if let Some(tier) = raw
        .text()
        .and_then(|t| t.parse::<strata_core::TtlTier>().ok())
    {
        return Some(tier.duration());
    }
    duration(raw, label, out)
}

/// A number of entries (`10000`), or bytes with a unit (`"64MiB"`).
pub(crate) fn memory_size(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<MemorySize> {
    if let Some(n) = raw.integer() {
        return match u64::try_from(n) {
            Ok(n) => Some(MemorySize::Entries(n)),
            Err(_) => {
                problem(out, label, raw, "is negative");
                None
            }
        };
    }
    match raw.text().map(parse_bytes) {
        Some(Ok(n)) => Some(MemorySize::Bytes(n)),
        Some(Err(e)) => {
            out.push(label, e);
            None
        }
        None => {
            problem(
                out,
                label,
                raw,
                "is not a size; write 10000 (entries) or \"64MiB\"",
            );
            None
        }
    }
}

/// `true`/`false`, a list of nodes, or a comma-separated text of nodes.
pub(crate) fn cluster(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<ClusterNodes> {
    let nodes: Vec<String> = match raw {
        Raw::Toml(toml::Value::Boolean(true)) => return Some(ClusterNodes::SeedFromUrl),
        Raw::Toml(toml::Value::Boolean(false)) => return Some(ClusterNodes::No),
        Raw::Toml(toml::Value::Array(items)) => {
            let mut nodes = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) => nodes.push(s.to_owned()),
                    None => {
                        problem(out, label, raw, "must list nodes as strings");
                        return None;
                    }
                }
            }
            nodes
        }
        _ => {
            let text = string(raw, label, out)?;
            match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => return Some(ClusterNodes::SeedFromUrl),
                "false" | "no" | "0" | "off" | "" => return Some(ClusterNodes::No),
                _ => text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }
        }
    };
    if nodes.is_empty() {
        return Some(ClusterNodes::No);
    }
    Some(ClusterNodes::Nodes(
        nodes
            .into_iter()
            .map(|n| {
                if n.contains("://") {
                    n
                } else {
                    format!("redis://{n}")
                }
            })
            .collect(),
    ))
}
