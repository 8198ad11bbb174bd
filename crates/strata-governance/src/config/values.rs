//! Reading one configuration value, from TOML or an environment variable, into its type.
//! Each reader reports a problem instead of stopping, so a load lists every mistake.

use std::str::FromStr;
use std::time::Duration;

use crate::policy::{Problems, TtlSpec};
use strata_core::config::{parse_bytes, parse_duration};

/// A configuration value before it is typed: TOML's scalar kinds, or an environment string.
#[derive(Clone, Debug)]
pub(crate) enum Raw<'a> {
    /// A TOML value.
    Toml(&'a toml::Value),
    /// An environment variable's text.
    Text(&'a str),
}

impl Raw<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Raw::Toml(v) => v.type_str(),
            Raw::Text(_) => "string",
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

/// A default TTL: a number of seconds, a duration text, a tier name or `none`.
pub(crate) fn ttl(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<TtlSpec> {
    if let Some(n) = raw.integer() {
        return match u64::try_from(n) {
            Ok(secs) => Some(TtlSpec::After(Duration::from_secs(secs))),
            Err(_) => {
                out.push(path, format!("ttl {n} is negative"));
                None
            }
        };
    }
    match raw.text() {
        Some(t) => TtlSpec::parse(t).map_err(|e| out.push(path, e)).ok(),
        None => {
            out.push(
                path,
                format!(
                    "expected a TTL (seconds, \"45s\", a tier such as \"MEDIUM\", or \"none\"), found a {}",
                    raw.kind()
                ),
            );
            None
        }
    }
}

/// A duration: a number of seconds or a duration text.
pub(crate) fn duration(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<Duration> {
    if let Some(n) = raw.integer() {
        return match u64::try_from(n) {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => {
                out.push(path, format!("duration {n} is negative"));
                None
            }
        };
    }
    match raw.text() {
        Some(t) => parse_duration(t).map_err(|e| out.push(path, e)).ok(),
        None => {
            out.push(
                path,
                format!(
                    "expected a duration (seconds or \"45s\"), found a {}",
                    raw.kind()
                ),
            );
            None
        }
    }
}

/// A size in bytes: a number or a size text (`"1MiB"`).
pub(crate) fn bytes(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<u64> {
    if let Some(n) = raw.integer() {
        return match u64::try_from(n) {
            Ok(b) => Some(b),
            Err(_) => {
                out.push(path, format!("size {n} is negative"));
                None
            }
        };
    }
    match raw.text() {
        Some(t) => parse_bytes(t).map_err(|e| out.push(path, e)).ok(),
        None => {
            out.push(
                path,
                format!(
                    "expected a size (bytes or \"1MiB\"), found a {}",
                    raw.kind()
                ),
            );
            None
        }
    }
}

/// A fraction.
pub(crate) fn fraction(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<f64> {
    let parsed = match &raw {
        Raw::Toml(toml::Value::Float(f)) => Some(*f),
        Raw::Toml(toml::Value::Integer(n)) => Some(*n as f64),
        Raw::Text(s) => s.trim().parse().ok(),
        _ => None,
    };
    if parsed.is_none() {
        out.push(
            path,
            format!("expected a fraction such as 0.1, found {}", describe(&raw)),
        );
    }
    parsed
}

/// A name parsed with `FromStr` (a mode, priority, tier choice or profile).
pub(crate) fn named<T: FromStr<Err = String>>(
    raw: Raw<'_>,
    path: &str,
    out: &mut Problems,
) -> Option<T> {
    match raw.text() {
        Some(t) => t.parse().map_err(|e| out.push(path, e)).ok(),
        None => {
            out.push(path, format!("expected a string, found a {}", raw.kind()));
            None
        }
    }
}

fn describe(raw: &Raw<'_>) -> String {
    match raw {
        Raw::Text(s) => format!("{s:?}"),
        Raw::Toml(v) => format!("a {}", v.type_str()),
    }
}
