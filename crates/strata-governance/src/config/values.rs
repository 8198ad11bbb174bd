//! Reading a governance TTL from TOML or an environment variable; the other readers are
//! strata-core's (`strata_core::config::values`), shared with the umbrella's configuration.

use std::time::Duration;

pub(crate) use strata_core::config::values::{Raw, bytes, describe, duration, fraction, named};

use crate::policy::{Problems, TtlSpec};

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
                    "expected a TTL (seconds, \"45s\", a tier such as \"MEDIUM\", or \"none\"), found {}",
                    describe(&raw)
                ),
            );
            None
        }
    }
}
