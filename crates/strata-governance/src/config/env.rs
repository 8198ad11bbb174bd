//! Environment variables over a policy.
//!
//! | variable | sets |
//! |---|---|
//! | `STRATA_GOVERNANCE_PROFILE` | the active profile (`development`, `staging`, `production`) |
//! | `STRATA_GOVERNANCE_MODE` | the default enforcement mode |
//! | `STRATA_NS_<NAMESPACE>_TTL` | a namespace's default TTL (declares it when new) |
//! | `STRATA_NS_<NAMESPACE>_{FLOOR,CEILING,MAX_PAYLOAD,JITTER,TIERS,PRIORITY,MODE}` | a rule field |
//! | `CACHE_<NAMESPACE>_TTL` | as `STRATA_NS_<NAMESPACE>_TTL` (the older managers' name, e.g. `CACHE_SESSION_TTL=300`) |
//!
//! `<NAMESPACE>` is the namespace in upper case (`MODEL_REGISTRY` for `model_registry`); the
//! variable's name is the field path of its problems.

use super::from_toml::set_rule_field;
use super::values::{self, Raw};
use crate::policy::{Policy, Problems};

const RULE_SUFFIXES: &[(&str, &str)] = &[
    ("_MAX_PAYLOAD", "max_payload"),
    ("_FLOOR", "floor"),
    ("_CEILING", "ceiling"),
    ("_JITTER", "jitter"),
    ("_TIERS", "tiers"),
    ("_PRIORITY", "priority"),
    ("_MODE", "mode"),
];

/// Applies the variables among `vars` that this module reads; others are ignored.
pub(crate) fn merge<K, V>(
    vars: impl IntoIterator<Item = (K, V)>,
    base: &mut Policy,
    out: &mut Problems,
) where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
        .collect();
    // A stable order, so problems are listed the same way every time.
    vars.sort();
    for (name, value) in &vars {
        let raw = Raw::Text(value);
        match name.as_str() {
            "STRATA_GOVERNANCE_PROFILE" => base.profile = values::named(raw, name, out),
            "STRATA_GOVERNANCE_MODE" => {
                if let Some(m) = values::named(raw, name, out) {
                    base.mode = m;
                }
            }
            _ => {
                let Some(rest) = name
                    .strip_prefix("STRATA_NS_")
                    .or_else(|| name.strip_prefix("CACHE_").filter(|r| r.ends_with("_TTL")))
                else {
                    continue;
                };
                if let Some(ns) = rest.strip_suffix("_TTL") {
                    if let Some(spec) = values::ttl(raw, name, out) {
                        base.namespaces.insert(ns.to_ascii_lowercase(), spec);
                    }
                    continue;
                }
                if let Some((ns, field)) = RULE_SUFFIXES
                    .iter()
                    .find_map(|(suffix, field)| rest.strip_suffix(suffix).map(|ns| (ns, *field)))
                {
                    let spec = base.rules.entry(ns.to_ascii_lowercase()).or_default();
                    set_rule_field(spec, field, raw, name, out);
                }
            }
        }
    }
}
