//! The policy table: declared namespaces with their default TTLs, per-namespace rules, the
//! enforcement mode, the fallback rule for undeclared namespaces, and environment profiles.
//!
//! A [`Policy`] is what users write (in code, TOML or environment variables); it is checked by
//! [`Policy::validate`] and compiled into a [`CompiledPolicy`], the lookup table the layer
//! reads on every write.

mod compiled;
mod enforce;
mod profile;
mod rule;
mod ttl;
mod validate;

use std::collections::BTreeMap;

pub use compiled::{CompiledPolicy, Origin, Rule};
pub(crate) use enforce::{Decision, Outcome};
pub use profile::Profile;
pub use rule::{AllowedTiers, Mode, Priority, RuleSpec};
pub use strata_core::config::{Problem, Problems};
pub use ttl::TtlSpec;

use crate::namespaces;

/// What a profile changes: namespace TTLs, rules (field by field) and the default mode.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Namespace default TTLs (a namespace may also be declared here).
    pub namespaces: BTreeMap<String, TtlSpec>,
    /// Rule fields, merged over the base rule.
    pub rules: BTreeMap<String, RuleSpec>,
    /// The default enforcement mode.
    pub mode: Option<Mode>,
}

/// A governance policy as written. Start from [`Policy::builder`] (the built-in namespaces),
/// [`Policy::from_toml_str`] or [`PolicySource`](crate::PolicySource).
///
/// ```
/// use std::time::Duration;
/// use strata_governance::{Mode, Policy, RuleSpec, TtlTier};
///
/// let policy = Policy::builder()
///     .namespace("orders", TtlTier::Medium)
///     .rule("orders", RuleSpec::new().ceiling(Duration::from_secs(3600)).mode(Mode::Reject))
///     .build()?;
/// assert!(policy.namespaces().contains_key("curves")); // built-ins stay declared
/// # Ok::<(), strata_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub(crate) namespaces: BTreeMap<String, TtlSpec>,
    pub(crate) rules: BTreeMap<String, RuleSpec>,
    pub(crate) mode: Mode,
    pub(crate) fallback: String,
    pub(crate) profiles: BTreeMap<Profile, Overrides>,
    pub(crate) profile: Option<Profile>,
}

impl Default for Policy {
    fn default() -> Self {
        Self::built_in()
    }
}

impl Policy {
    /// The built-in namespaces and cache types with their TTLs, no rules, mode
    /// [`Mode::Clamp`], and [`GENERAL`](crate::namespaces::GENERAL) as the fallback.
    pub fn built_in() -> Self {
        Policy {
            namespaces: namespaces::BUILT_IN
                .iter()
                .map(|(name, ttl)| ((*name).to_owned(), TtlSpec::After(*ttl)))
                .collect(),
            rules: BTreeMap::new(),
            mode: Mode::default(),
            fallback: namespaces::GENERAL.to_owned(),
            profiles: BTreeMap::new(),
            profile: None,
        }
    }

    /// A builder starting from [`Policy::built_in`].
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            policy: Self::built_in(),
        }
    }

    /// Declared namespaces and their default TTLs (before the profile's overrides).
    pub fn namespaces(&self) -> &BTreeMap<String, TtlSpec> {
        &self.namespaces
    }

    /// Rules by namespace (before the profile's overrides).
    pub fn rules(&self) -> &BTreeMap<String, RuleSpec> {
        &self.rules
    }

    /// The default enforcement mode (before the profile's overrides).
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The namespace whose rule governs namespaces the policy does not declare.
    pub fn fallback(&self) -> &str {
        &self.fallback
    }

    /// The active profile.
    pub fn profile(&self) -> Option<Profile> {
        self.profile
    }

    /// The overrides of each profile.
    pub fn profiles(&self) -> &BTreeMap<Profile, Overrides> {
        &self.profiles
    }

    /// Activates `profile` (or none).
    pub fn with_profile(mut self, profile: Option<Profile>) -> Self {
        self.profile = profile;
        self
    }

    /// Every problem with the policy, each with its field path (see [`Problems`]).
    pub fn problems(&self) -> Problems {
        validate::problems(self)
    }

    /// `Ok(())`, or [`ErrorKind::InvalidConfig`](strata_core::ErrorKind::InvalidConfig)
    /// listing every problem.
    pub fn validate(&self) -> strata_core::Result<()> {
        self.problems().into_result()
    }

    /// The namespaces, rules and mode with the active profile's overrides applied.
    pub fn effective(&self) -> (BTreeMap<String, TtlSpec>, BTreeMap<String, RuleSpec>, Mode) {
        let mut namespaces = self.namespaces.clone();
        let mut rules = self.rules.clone();
        let mut mode = self.mode;
        if let Some(o) = self.profile.and_then(|p| self.profiles.get(&p)) {
            apply(&mut namespaces, &mut rules, &mut mode, o);
        }
        (namespaces, rules, mode)
    }

    /// Validates and compiles the policy into the table the layer reads.
    pub fn compile(&self) -> strata_core::Result<CompiledPolicy> {
        self.validate()?;
        CompiledPolicy::new(self)
    }
}

/// Applies a profile's overrides.
pub(crate) fn apply(
    namespaces: &mut BTreeMap<String, TtlSpec>,
    rules: &mut BTreeMap<String, RuleSpec>,
    mode: &mut Mode,
    o: &Overrides,
) {
    for (name, ttl) in &o.namespaces {
        namespaces.insert(name.clone(), *ttl);
    }
    for (name, spec) in &o.rules {
        let merged = rules.get(name).cloned().unwrap_or_default().merged(spec);
        rules.insert(name.clone(), merged);
    }
    if let Some(m) = o.mode {
        *mode = m;
    }
}

/// Builds a [`Policy`] in code, starting from the built-in namespaces.
#[derive(Clone, Debug)]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    /// Declares a namespace (or changes a built-in one's TTL).
    pub fn namespace(mut self, name: impl Into<String>, ttl: impl Into<TtlSpec>) -> Self {
        self.policy.namespaces.insert(name.into(), ttl.into());
        self
    }

    /// Sets the rule of a declared namespace, merged over any rule it has.
    pub fn rule(mut self, name: impl Into<String>, rule: RuleSpec) -> Self {
        let name = name.into();
        let merged = self
            .policy
            .rules
            .get(&name)
            .cloned()
            .unwrap_or_default()
            .merged(&rule);
        self.policy.rules.insert(name, merged);
        self
    }

    /// The default enforcement mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.policy.mode = mode;
        self
    }

    /// The namespace whose rule governs undeclared namespaces.
    pub fn fallback(mut self, name: impl Into<String>) -> Self {
        self.policy.fallback = name.into();
        self
    }

    /// The overrides of `profile`.
    pub fn profile_overrides(mut self, profile: Profile, overrides: Overrides) -> Self {
        self.policy.profiles.insert(profile, overrides);
        self
    }

    /// Activates a profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.policy.profile = Some(profile);
        self
    }

    /// The policy, unvalidated (to inspect [`Policy::problems`]).
    pub fn build_unchecked(self) -> Policy {
        self.policy
    }

    /// The policy, or [`ErrorKind::InvalidConfig`](strata_core::ErrorKind::InvalidConfig)
    /// listing every problem.
    pub fn build(self) -> strata_core::Result<Policy> {
        self.policy.validate()?;
        Ok(self.policy)
    }
}
