//! A policy written back as TOML.

use std::collections::BTreeMap;

use crate::policy::{Policy, RuleSpec, TtlSpec};
use strata_core::config::format_duration;

fn ttl_text(t: &TtlSpec) -> toml::Value {
    toml::Value::String(match t {
        TtlSpec::Tier(tier) => tier.as_str().to_owned(),
        TtlSpec::After(d) => format_duration(*d),
        TtlSpec::Never => "none".to_owned(),
    })
}

fn rule_table(r: &RuleSpec) -> toml::Table {
    let mut t = toml::Table::new();
    let s = |v: String| toml::Value::String(v);
    if let Some(d) = r.floor {
        t.insert("floor".into(), s(format_duration(d)));
    }
    if let Some(d) = r.ceiling {
        t.insert("ceiling".into(), s(format_duration(d)));
    }
    if let Some(b) = r.max_payload {
        t.insert(
            "max_payload".into(),
            toml::Value::Integer(i64::try_from(b).unwrap_or(i64::MAX)),
        );
    }
    if let Some(j) = r.jitter {
        t.insert("jitter".into(), toml::Value::Float(j));
    }
    if let Some(x) = r.tiers {
        t.insert("tiers".into(), s(x.to_string()));
    }
    if let Some(x) = r.priority {
        t.insert("priority".into(), s(x.to_string()));
    }
    if let Some(x) = r.mode {
        t.insert("mode".into(), s(x.to_string()));
    }
    t
}

fn namespaces(n: &BTreeMap<String, TtlSpec>) -> toml::Value {
    toml::Value::Table(n.iter().map(|(k, v)| (k.clone(), ttl_text(v))).collect())
}

fn rules(r: &BTreeMap<String, RuleSpec>) -> toml::Value {
    toml::Value::Table(
        r.iter()
            .map(|(k, v)| (k.clone(), toml::Value::Table(rule_table(v))))
            .collect(),
    )
}

pub(super) fn to_toml(p: &Policy) -> String {
    let mut top = toml::Table::new();
    if let Some(profile) = p.profile {
        top.insert("profile".into(), toml::Value::String(profile.to_string()));
    }
    top.insert("mode".into(), toml::Value::String(p.mode.to_string()));
    top.insert("fallback".into(), toml::Value::String(p.fallback.clone()));
    top.insert("namespaces".into(), namespaces(&p.namespaces));
    if !p.rules.is_empty() {
        top.insert("rules".into(), rules(&p.rules));
    }
    if !p.profiles.is_empty() {
        let mut profiles = toml::Table::new();
        for (profile, o) in &p.profiles {
            let mut t = toml::Table::new();
            if let Some(m) = o.mode {
                t.insert("mode".into(), toml::Value::String(m.to_string()));
            }
            if !o.namespaces.is_empty() {
                t.insert("namespaces".into(), namespaces(&o.namespaces));
            }
            if !o.rules.is_empty() {
                t.insert("rules".into(), rules(&o.rules));
            }
            profiles.insert(profile.to_string(), toml::Value::Table(t));
        }
        top.insert("profiles".into(), toml::Value::Table(profiles));
    }
    // A table of strings, numbers and tables always serializes.
    toml::to_string(&top).unwrap_or_else(|e| format!("# the policy could not be written: {e}\n"))
}
