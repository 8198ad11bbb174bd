//! Where a policy comes from: the built-ins (or a policy built in code), then a TOML file or
//! text, then environment variables, each overriding the one before; and the TOML dump of a
//! policy.
//!
//! The TOML format:
//!
//! ```toml
//! profile = "production"        # the active profile (optional)
//! mode = "clamp"                # default enforcement: warn, clamp or reject
//! fallback = "general"          # the rule of undeclared namespaces
//!
//! [namespaces]                  # declarations: name = default TTL
//! orders = "MEDIUM"             # a tier,
//! quotes = "45s"                # a duration ("250ms", "45s", "5m", "4h", "7d"),
//! audit = 86400                 # seconds, or "none" for no expiry
//!
//! [rules.orders]                # a rule of a declared (or built-in) namespace
//! floor = "1m"
//! ceiling = "2h"
//! max_payload = "1MiB"
//! jitter = 0.1                  # TTLs spread by up to 10 % either way
//! tiers = "both"                # l1, l2 or both
//! priority = "high"             # high, medium or low
//! mode = "reject"
//!
//! [profiles.development]        # applied when the profile is active
//! mode = "warn"
//! namespaces = { orders = "30s" }
//! rules.orders = { floor = "1s" }
//! ```

mod dump;
mod env;
mod from_toml;
mod values;

use std::path::{Path, PathBuf};

use strata_core::Result;
use strata_core::config::Sources;

use crate::policy::{Policy, Problems};

/// The layers of configuration a policy is loaded from, in order: a base policy (the
/// built-ins unless [`PolicySource::base`] says otherwise), TOML, then the environment
/// (see the `config::env` variables in the crate docs). [`GovernanceLayer::reload`] loads
/// the same source again.
///
/// ```
/// use strata_governance::PolicySource;
/// let policy = PolicySource::new()
///     .toml_str("[namespaces]\norders = \"MEDIUM\"\n")
///     .env_vars([("STRATA_NS_ORDERS_CEILING", "2h")])
///     .load()?;
/// assert!(policy.rules().contains_key("orders"));
/// # Ok::<(), strata_core::Error>(())
/// ```
///
/// [`GovernanceLayer::reload`]: crate::GovernanceLayer::reload
#[derive(Clone, Debug)]
pub struct PolicySource {
    base: Policy,
    sources: Sources,
}

impl Default for PolicySource {
    fn default() -> Self {
        Self::new()
    }
}

impl PolicySource {
    /// The built-in policy alone.
    pub fn new() -> Self {
        PolicySource {
            base: Policy::built_in(),
            sources: Sources::default(),
        }
    }

    /// Starts from `policy` (built in code) instead of the built-ins.
    pub fn base(mut self, policy: Policy) -> Self {
        self.base = policy;
        self
    }

    /// Reads this TOML file (again at every reload).
    pub fn toml_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.toml_file(path);
        self
    }

    /// Reads this TOML text.
    pub fn toml_str(mut self, text: impl Into<String>) -> Self {
        self.sources.toml_str(text);
        self
    }

    /// Reads the process environment (again at every reload).
    pub fn process_env(mut self) -> Self {
        self.sources.process_env();
        self
    }

    /// Reads these variables instead of the process environment (tests, or a config map).
    pub fn env_vars<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.sources.env_vars(vars);
        self
    }

    /// The TOML file, when the source has one.
    pub fn file(&self) -> Option<&Path> {
        self.sources.file()
    }

    /// Loads and validates the policy. Every problem, from parsing and from validation, is
    /// listed in one [`ErrorKind::InvalidConfig`](strata_core::ErrorKind::InvalidConfig) error.
    pub fn load(&self) -> Result<Policy> {
        let (policy, problems) = self.load_with_problems()?;
        problems.into_result()?;
        Ok(policy)
    }

    /// Loads the policy and lists its problems without failing on them; the error is kept for
    /// a file that cannot be read.
    pub fn load_with_problems(&self) -> Result<(Policy, Problems)> {
        let mut policy = self.base.clone();
        let mut problems = Problems::default();
        if let Some((_, text)) = self.sources.read_toml("the governance policy", None)? {
            from_toml::merge(&text, &mut policy, &mut problems);
        }
        env::merge(self.sources.env(), &mut policy, &mut problems);
        problems.0.extend(policy.problems().0);
        Ok((policy, problems))
    }
}

impl Policy {
    /// The built-ins with this TOML merged over them, validated.
    pub fn from_toml_str(text: &str) -> Result<Policy> {
        PolicySource::new().toml_str(text).load()
    }

    /// The policy as TOML that [`Policy::from_toml_str`] reads back (a config dump).
    pub fn to_toml(&self) -> String {
        dump::to_toml(self)
    }
}
