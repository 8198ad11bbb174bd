//! Reading one setting, from TOML or an environment variable, into its type. Each reader
//! records a problem naming the setting and the value instead of stopping, so a load lists
//! every mistake.

use std::str::FromStr;
use std::time::Duration;

use strata_core::config::{Problems, parse_bytes, parse_duration};

use super::{ClusterNodes, MemorySize};

/// A setting's value before it is typed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Raw<'a> {
    /// A TOML value.
    Toml(&'a toml::Value),
    /// An environment variable's text.
    Text(&'a str),
}

impl Raw<'_> {
    /// The value as the user wrote it, for messages.
    fn shown(&self) -> String {
        match self {
            Raw::Toml(v) => v.to_string(),
            Raw::Text(t) => format!("{t:?}"),
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Raw::Toml(toml::Value::String(s)) => Some(s),
            Raw::Text(s) => Some(s),
            _ => None,
        }
    }

    fn integer(&self) -> Option<i64> {
        match self {
            Raw::Toml(toml::Value::Integer(n)) => Some(*n),
            Raw::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

fn problem(out: &mut Problems, label: &str, raw: Raw<'_>, what: impl std::fmt::Display) {
    out.push(label, format!("{} {what}", raw.shown()));
}

pub(crate) fn boolean(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<bool> {
    if let Raw::Toml(toml::Value::Boolean(b)) = raw {
        return Some(*b);
    }
    match raw.text().map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        Some("true" | "1" | "yes" | "on") => Some(true),
        Some("false" | "0" | "no" | "off") => Some(false),
        _ => {
            problem(out, label, raw, "is not a boolean; write true or false");
            None
        }
    }
}

pub(crate) fn string(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<String> {
    match raw.text() {
        Some(t) => Some(t.trim().to_owned()),
        None => {
            problem(out, label, raw, "is not a string");
            None
        }
    }
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

/// A number of seconds, or a duration text (`"250ms"`, `"45s"`, `"5m"`).
pub(crate) fn duration(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<Duration> {
    if let Some(n) = raw.integer() {
        return match u64::try_from(n) {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => {
                problem(out, label, raw, "is negative; a duration is 0 or more");
                None
            }
        };
    }
    match raw.text().map(parse_duration) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            out.push(label, e);
            None
        }
        None => {
            problem(
                out,
                label,
                raw,
                "is not a duration; write 300, \"45s\" or \"5m\"",
            );
            None
        }
    }
}

pub(crate) fn unsigned<T: TryFrom<i64>>(
    raw: Raw<'_>,
    label: &str,
    out: &mut Problems,
) -> Option<T> {
    match raw.integer().map(T::try_from) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            problem(out, label, raw, "is out of range");
            None
        }
        None => {
            problem(out, label, raw, "is not a whole number");
            None
        }
    }
}

pub(crate) fn fraction(raw: Raw<'_>, label: &str, out: &mut Problems) -> Option<f64> {
    let n = match raw {
        Raw::Toml(toml::Value::Float(f)) => Some(*f),
        Raw::Toml(toml::Value::Integer(n)) => Some(*n as f64),
        _ => raw.text().and_then(|t| t.trim().parse::<f64>().ok()),
    };
    if n.is_none() {
        problem(
            out,
            label,
            raw,
            "is not a number; write a fraction such as 0.1",
        );
    }
    n
}

pub(crate) fn named<T: FromStr<Err = String>>(
    raw: Raw<'_>,
    label: &str,
    out: &mut Problems,
) -> Option<T> {
    let text = string(raw, label, out)?;
    text.parse().map_err(|e: String| out.push(label, e)).ok()
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
