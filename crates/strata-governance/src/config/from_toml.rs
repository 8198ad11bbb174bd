//! A policy from TOML text, merged over a base policy; every problem is collected.

use std::collections::BTreeMap;
use strata_core::config::values::with_article;

use super::values::{self, Raw};
use crate::policy::{Overrides, Policy, Problems, RuleSpec, TtlSpec};

const TOP: &[&str] = &[
    "profile",
    "mode",
    "fallback",
    "namespaces",
    "rules",
    "profiles",
];
const RULE_FIELDS: &[&str] = &[
    "floor",
    "ceiling",
    "max_payload",
    "jitter",
    "tiers",
    "priority",
    "mode",
];
const PROFILE_FIELDS: &[&str] = &["mode", "namespaces", "rules"];

/// Merges the TOML `text` over `base`, recording every problem in `out`.
pub(crate) fn merge(text: &str, base: &mut Policy, out: &mut Problems) {
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            out.push("toml", e.to_string().trim_end().to_owned());
            return;
        }
    };
    unknown_fields(&table, "", TOP, out);
    if let Some(v) = table.get("profile") {
        base.profile = values::named(Raw::Toml(v), "profile", out);
    }
    if let Some(v) = table.get("mode")
        && let Some(m) = values::named(Raw::Toml(v), "mode", out)
    {
        base.mode = m;
    }
    if let Some(v) = table.get("fallback") {
        match v.as_str() {
            Some(s) => base.fallback = s.to_owned(),
            None => out.push(
                "fallback",
                format!(
                    "expected a namespace name, found {}",
                    with_article(v.type_str())
                ),
            ),
        }
    }
    if let Some(v) = table.get("namespaces") {
        namespaces(v, "namespaces", &mut base.namespaces, out);
    }
    if let Some(v) = table.get("rules") {
        rules(v, "rules", &mut base.rules, out);
    }
    if let Some(v) = table.get("profiles") {
        let Some(profiles) = as_table(v, "profiles", out) else {
            return;
        };
        for (name, body) in profiles {
            let path = format!("profiles.{name}");
            let Some(profile) = values::named(Raw::Text(name), &path, out) else {
                continue;
            };
            let Some(body) = as_table(body, &path, out) else {
                continue;
            };
            unknown_fields(body, &path, PROFILE_FIELDS, out);
            let o: &mut Overrides = base.profiles.entry(profile).or_default();
            if let Some(v) = body.get("mode") {
                o.mode = values::named(Raw::Toml(v), &format!("{path}.mode"), out);
            }
            if let Some(v) = body.get("namespaces") {
                namespaces(v, &format!("{path}.namespaces"), &mut o.namespaces, out);
            }
            if let Some(v) = body.get("rules") {
                rules(v, &format!("{path}.rules"), &mut o.rules, out);
            }
        }
    }
}

fn as_table<'a>(v: &'a toml::Value, path: &str, out: &mut Problems) -> Option<&'a toml::Table> {
    let t = v.as_table();
    if t.is_none() {
        out.push(
            path,
            format!("expected a table, found {}", with_article(v.type_str())),
        );
    }
    t
}

fn unknown_fields(table: &toml::Table, path: &str, known: &[&str], out: &mut Problems) {
    for key in table.keys().filter(|k| !known.contains(&k.as_str())) {
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        out.push(
            at,
            format!("unknown field; expected one of {}", known.join(", ")),
        );
    }
}

fn namespaces(
    v: &toml::Value,
    path: &str,
    into: &mut BTreeMap<String, TtlSpec>,
    out: &mut Problems,
) {
    let Some(table) = as_table(v, path, out) else {
        return;
    };
    for (name, ttl) in table {
        let at = format!("{path}.{name}");
        if let Some(spec) = values::ttl(Raw::Toml(ttl), &at, out) {
            into.insert(name.clone(), spec);
        }
    }
}

fn rules(v: &toml::Value, path: &str, into: &mut BTreeMap<String, RuleSpec>, out: &mut Problems) {
    let Some(table) = as_table(v, path, out) else {
        return;
    };
    for (name, body) in table {
        let at = format!("{path}.{name}");
        let Some(body) = as_table(body, &at, out) else {
            continue;
        };
        unknown_fields(body, &at, RULE_FIELDS, out);
        let spec = into.entry(name.clone()).or_default();
        for (field, value) in body {
            set_rule_field(spec, field, Raw::Toml(value), &format!("{at}.{field}"), out);
        }
    }
}

/// Sets one rule field from a raw value (shared with the environment reader).
pub(crate) fn set_rule_field(
    spec: &mut RuleSpec,
    field: &str,
    raw: Raw<'_>,
    path: &str,
    out: &mut Problems,
) {
    match field {
        "floor" => spec.floor = values::duration(raw, path, out).or(spec.floor),
        "ceiling" => spec.ceiling = values::duration(raw, path, out).or(spec.ceiling),
        "max_payload" => spec.max_payload = values::bytes(raw, path, out).or(spec.max_payload),
        "jitter" => spec.jitter = values::fraction(raw, path, out).or(spec.jitter),
        "tiers" => spec.tiers = values::named(raw, path, out).or(spec.tiers),
        "priority" => spec.priority = values::named(raw, path, out).or(spec.priority),
        "mode" => spec.mode = values::named(raw, path, out).or(spec.mode),
        // Unknown fields were reported by the caller.
        _ => {}
    }
}
