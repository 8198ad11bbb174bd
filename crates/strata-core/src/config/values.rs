//! Reading one configuration value, from TOML or an environment variable, into its type.
//! Each reader records a [`Problem`](super::Problem) naming the field and the value instead of
//! stopping, so a load lists every mistake. The governance policy and the umbrella's
//! configuration read through these.
//!
//! ```
//! use strata_core::config::{values::{self, Raw}, Problems};
//! let mut problems = Problems::default();
//! assert_eq!(values::boolean(Raw::Text("yes"), "CACHE_ENABLED", &mut problems), Some(true));
//! assert_eq!(values::duration(Raw::Text("soon"), "STRATA_DEFAULT_TTL", &mut problems), None);
//! assert_eq!(problems.0[0].path, "STRATA_DEFAULT_TTL");
//! ```

use std::str::FromStr;
use std::time::Duration;

use super::{Problems, parse_bytes, parse_duration};

/// A configuration value before it is typed: TOML's scalar kinds, or an environment string.
#[derive(Clone, Copy, Debug)]
pub enum Raw<'a> {
    /// A TOML value.
    Toml(&'a toml::Value),
    /// An environment variable's text.
    Text(&'a str),
}

impl Raw<'_> {
    /// The kind of value (`string`, `integer`, ...), for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Raw::Toml(v) => v.type_str(),
            Raw::Text(_) => "string",
        }
    }

    /// The text, for a string.
    pub fn text(&self) -> Option<&str> {
        match self {
            Raw::Toml(toml::Value::String(s)) => Some(s),
            Raw::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The number, for an integer (or a text that parses as one).
    pub fn integer(&self) -> Option<i64> {
        match self {
            Raw::Toml(toml::Value::Integer(n)) => Some(*n),
            Raw::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as the user wrote it, for messages (`"5 weeks"`, `3`).
    pub fn shown(&self) -> String {
        match self {
            Raw::Toml(v) => v.to_string(),
            Raw::Text(t) => format!("{t:?}"),
        }
    }
}

/// A duration: a number of seconds or a duration text.
pub fn duration(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<Duration> {
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
                    "expected a duration (seconds or \"45s\"), found {}",
                    describe(&raw)
                ),
            );
            None
        }
    }
}

/// A size in bytes: a number or a size text (`"1MiB"`).
pub fn bytes(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<u64> {
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
                    "expected a size (bytes or \"1MiB\"), found {}",
                    describe(&raw)
                ),
            );
            None
        }
    }
}

/// A fraction.
pub fn fraction(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<f64> {
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
pub fn named<T: FromStr<Err = String>>(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<T> {
    match raw.text() {
        Some(t) => t.parse().map_err(|e| out.push(path, e)).ok(),
        None => {
            out.push(path, format!("expected a string, found {}", describe(&raw)));
            None
        }
    }
}

/// The value for messages: a text quoted, another TOML value by its kind (`an integer`).
pub fn describe(raw: &Raw<'_>) -> String {
    match raw {
        Raw::Text(s) => format!("{s:?}"),
        Raw::Toml(toml::Value::String(s)) => format!("{s:?}"),
        Raw::Toml(v) => with_article(v.type_str()),
    }
}

/// `an integer`, `a string`.
pub fn with_article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// A boolean: `true`/`false`, also `1`/`0`, `yes`/`no`, `on`/`off`.
pub fn boolean(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<bool> {
    if let Raw::Toml(toml::Value::Boolean(b)) = raw {
        return Some(*b);
    }
    match raw.text().map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        Some("true" | "1" | "yes" | "on") => Some(true),
        Some("false" | "0" | "no" | "off") => Some(false),
        _ => {
            out.push(
                path,
                format!("expected true or false, found {}", describe(&raw)),
            );
            None
        }
    }
}

/// A string, trimmed.
pub fn string(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<String> {
    match raw.text() {
        Some(t) => Some(t.trim().to_owned()),
        None => {
            out.push(path, format!("expected a string, found {}", describe(&raw)));
            None
        }
    }
}

/// A whole number that fits `T`.
pub fn unsigned<T: TryFrom<i64>>(raw: Raw<'_>, path: &str, out: &mut Problems) -> Option<T> {
    match raw.integer().map(T::try_from) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            out.push(path, format!("{} is out of range", raw.shown()));
            None
        }
        None => {
            out.push(
                path,
                format!("expected a whole number, found {}", describe(&raw)),
            );
            None
        }
    }
}
