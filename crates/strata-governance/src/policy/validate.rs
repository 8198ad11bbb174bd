//! Semantic checks of a policy: every problem, with the path of the field at fault.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use strata_core::Namespace;

use super::{Policy, Problems, RuleSpec, TtlSpec, apply};
use crate::namespaces;
use strata_core::config::format_duration;

/// The largest jitter fraction: beyond it a TTL could be halved or worse.
pub(crate) const MAX_JITTER: f64 = 0.5;

/// Every problem of `policy`: the base view first, then each profile's changes.
pub(super) fn problems(policy: &Policy) -> Problems {
    let mut out = Problems::default();
    check_view("", &policy.namespaces, &policy.rules, None, &mut out);
    if !policy.namespaces.contains_key(&policy.fallback) {
        out.push(
            "fallback",
            format!(
                "unknown namespace {:?}; the fallback must be a declared namespace such as {:?}",
                policy.fallback,
                namespaces::GENERAL
            ),
        );
    }
    for (profile, o) in &policy.profiles {
        let mut ns = policy.namespaces.clone();
        let mut rules = policy.rules.clone();
        let mut mode = policy.mode;
        apply(&mut ns, &mut rules, &mut mode, o);
        let touched: BTreeSet<String> =
            o.namespaces.keys().chain(o.rules.keys()).cloned().collect();
        check_view(
            &format!("profiles.{profile}."),
            &ns,
            &rules,
            Some(&touched),
            &mut out,
        );
    }
    out
}

fn check_view(
    prefix: &str,
    namespaces: &BTreeMap<String, TtlSpec>,
    rules: &BTreeMap<String, RuleSpec>,
    only: Option<&BTreeSet<String>>,
    out: &mut Problems,
) {
    let wanted = |name: &String| only.is_none_or(|o| o.contains(name));
    for (name, ttl) in namespaces.iter().filter(|(n, _)| wanted(n)) {
        let path = format!("{prefix}namespaces.{name}");
        if let Err(e) = Namespace::new(name) {
            out.push(&path, e.message().to_owned());
        }
        if let Some(d) = ttl.duration()
            && d < Duration::from_millis(1)
        {
            out.push(
                &path,
                format!(
                    "ttl {} is zero; write a duration of at least 1ms, or \"none\" for no expiry",
                    format_duration(d)
                ),
            );
        }
    }
    for (name, rule) in rules.iter().filter(|(n, _)| wanted(n)) {
        let path = format!("{prefix}rules.{name}");
        let Some(ttl) = namespaces.get(name) else {
            out.push(
                &path,
                format!(
                    "unknown namespace {name:?}; declare it under [namespaces] or use a built-in one ({})",
                    namespaces::BUILT_IN.map(|(n, _)| n).join(", ")
                ),
            );
            continue;
        };
        check_rule(
            &path,
            &format!("{prefix}namespaces.{name}"),
            *ttl,
            rule,
            out,
        );
    }
}

fn check_rule(path: &str, ns_path: &str, ttl: TtlSpec, rule: &RuleSpec, out: &mut Problems) {
    for (field, value) in [("floor", rule.floor), ("ceiling", rule.ceiling)] {
        if value.is_some_and(|d| d < Duration::from_millis(1)) {
            out.push(
                format!("{path}.{field}"),
                format!("{field} is zero; write a duration of at least 1ms or leave it out"),
            );
        }
    }
    if rule.max_payload == Some(0) {
        out.push(
            format!("{path}.max_payload"),
            "max_payload is zero, which refuses every value; leave it out for no limit",
        );
    }
    if let Some(j) = rule.jitter
        && !(0.0..=MAX_JITTER).contains(&j)
    {
        out.push(
            format!("{path}.jitter"),
            format!("jitter {j} is outside 0 to {MAX_JITTER} (a fraction of the TTL)"),
        );
    }
    if let (Some(floor), Some(ceiling)) = (rule.floor, rule.ceiling)
        && floor > ceiling
    {
        out.push(
            path,
            format!(
                "floor {} is above ceiling {}",
                format_duration(floor),
                format_duration(ceiling)
            ),
        );
        return;
    }
    match ttl.duration() {
        Some(d) => {
            if let Some(floor) = rule.floor
                && d < floor
            {
                out.push(
                    ns_path,
                    format!(
                        "default ttl {} is below the floor {} of {path}",
                        format_duration(d),
                        format_duration(floor)
                    ),
                );
            }
            if let Some(ceiling) = rule.ceiling
                && d > ceiling
            {
                out.push(
                    ns_path,
                    format!(
                        "default ttl {} is above the ceiling {} of {path}",
                        format_duration(d),
                        format_duration(ceiling)
                    ),
                );
            }
        }
        None => {
            if let Some(ceiling) = rule.ceiling {
                out.push(
                    ns_path,
                    format!(
                        "default ttl none (no expiry) is above the ceiling {} of {path}",
                        format_duration(ceiling)
                    ),
                );
            }
        }
    }
}
