//! [`CompiledPolicy`]: the validated policy as a lookup table from namespace to [`Rule`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use strata_core::Namespace;

use super::{AllowedTiers, Mode, Policy, Priority, Profile, TtlSpec};
use crate::namespaces;

/// Where a namespace's rule comes from.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A built-in namespace or cache type.
    BuiltIn,
    /// A namespace the policy declares.
    Declared,
    /// An undeclared namespace, governed by the fallback namespace's rule.
    Fallback,
}

/// The resolved rule of one namespace: every field has its value.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Rule {
    /// The namespace whose rule this is (the fallback namespace for undeclared ones).
    pub namespace: String,
    /// Where it comes from.
    pub origin: Origin,
    /// The TTL of writes that do not ask for one.
    #[serde(serialize_with = "ser_ttl")]
    pub ttl: TtlSpec,
    /// The shortest TTL allowed.
    pub floor: Option<Duration>,
    /// The longest TTL allowed.
    pub ceiling: Option<Duration>,
    /// The largest value, in bytes.
    pub max_payload: Option<u64>,
    /// TTLs spread by up to this fraction either way.
    pub jitter: f64,
    /// Which tiers may hold the entries.
    pub tiers: AllowedTiers,
    /// Promotion and eviction priority.
    pub priority: Priority,
    /// How the rule is enforced.
    pub mode: Mode,
}

fn ser_ttl<S: serde::Serializer>(t: &TtlSpec, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// A validated policy compiled for lookups: one [`Rule`] per declared namespace and the
/// fallback rule for the rest.
#[derive(Debug)]
pub struct CompiledPolicy {
    rules: HashMap<Namespace, Arc<Rule>>,
    by_name: Vec<Arc<Rule>>,
    fallback: Arc<Rule>,
    profile: Option<Profile>,
}

impl CompiledPolicy {
    /// Compiles a policy that passed [`Policy::validate`].
    pub(super) fn new(policy: &Policy) -> strata_core::Result<Self> {
        let (namespaces, rules, mode) = policy.effective();
        let mut table = HashMap::with_capacity(namespaces.len());
        let mut by_name = Vec::with_capacity(namespaces.len());
        for (name, ttl) in &namespaces {
            let spec = rules.get(name).cloned().unwrap_or_default();
            let rule = Arc::new(Rule {
                namespace: name.clone(),
                origin: if namespaces::is_built_in(name) {
                    Origin::BuiltIn
                } else {
                    Origin::Declared
                },
                ttl: *ttl,
                floor: spec.floor,
                ceiling: spec.ceiling,
                max_payload: spec.max_payload,
                jitter: spec.jitter.unwrap_or(0.0),
                tiers: spec.tiers.unwrap_or_default(),
                priority: spec.priority.unwrap_or_default(),
                mode: spec.mode.unwrap_or(mode),
            });
            table.insert(Namespace::new(name)?, Arc::clone(&rule));
            by_name.push(rule);
        }
        let fallback = match table.get(&Namespace::new(&policy.fallback)?) {
            Some(rule) => Arc::new(Rule {
                origin: Origin::Fallback,
                ..Rule::clone(rule)
            }),
            None => {
                return Err(strata_core::Error::invalid_config(format!(
                    "the fallback namespace {:?} is not declared",
                    policy.fallback
                )));
            }
        };
        Ok(CompiledPolicy {
            rules: table,
            by_name,
            fallback,
            profile: policy.profile,
        })
    }

    /// The rule governing `ns`: its own, or the fallback rule.
    pub fn rule(&self, ns: &Namespace) -> &Arc<Rule> {
        self.rules.get(ns).unwrap_or(&self.fallback)
    }

    /// Every declared namespace's rule, by name.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.by_name
    }

    /// The rule of undeclared namespaces.
    pub fn fallback(&self) -> &Arc<Rule> {
        &self.fallback
    }

    /// The active profile.
    pub fn profile(&self) -> Option<Profile> {
        self.profile
    }
}
