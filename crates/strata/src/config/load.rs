//! [`ConfigSource`]: the layers a [`Config`] is loaded from (defaults or a config built in
//! code, then TOML, then environment variables), and how each setting is applied.

use std::path::PathBuf;

use strata_core::Result;
use strata_core::config::{Problems, Sources};

use super::Config;
use super::values::{self, Raw};
use super::vars::SETTINGS;

/// Where a [`Config`] comes from, each layer over the one before: a base (the defaults, or
/// a config built in code), a TOML file or text, then environment variables.
///
/// ```
/// use strata::config::{Backend, Config};
/// let config = Config::source()
///     .toml_str("backend = \"redis\"\n[redis]\nurl = \"redis://127.0.0.1:6379\"\n")
///     .env_vars([("CACHE_BACKEND", "memory")]) // the environment wins
///     .load()?;
/// assert_eq!(config.backend, Backend::Memory);
/// assert_eq!(config.redis.url.as_deref(), Some("redis://127.0.0.1:6379"));
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ConfigSource {
    base: Config,
    sources: Sources,
}

impl Default for ConfigSource {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigSource {
    /// The defaults alone.
    pub fn new() -> Self {
        ConfigSource {
            base: Config::default(),
            sources: Sources::default(),
        }
    }

    /// Starts from `config` (built in code) instead of the defaults.
    pub fn base(mut self, config: Config) -> Self {
        self.base = config;
        self
    }

    /// Reads this TOML file.
    pub fn toml_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.toml_file(path);
        self
    }

    /// Reads this TOML text.
    pub fn toml_str(mut self, text: impl Into<String>) -> Self {
        self.sources.toml_str(text);
        self
    }

    /// Reads the process environment; `STRATA_CONFIG` names a TOML file when no other is set.
    pub fn process_env(mut self) -> Self {
        self.sources.process_env();
        self
    }

    /// Reads these variables instead of the process environment (tests, or a config map);
    /// `STRATA_CONFIG` among them names a TOML file when no other is set.
    pub fn env_vars<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.sources.env_vars(vars);
        self
    }

    /// Loads and validates: every problem, from reading and from validation, in one
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) error.
    pub fn load(&self) -> Result<Config> {
        let (config, problems) = self.load_with_problems()?;
        problems.into_result()?;
        Ok(config)
    }

    /// Loads, listing the problems without failing on them (a file that cannot be read is
    /// still an error).
    pub fn load_with_problems(&self) -> Result<(Config, Problems)> {
        let mut config = self.base.clone();
        let mut problems = Problems::default();
        let env = self.sources.env();
        let named_file = env
            .iter()
            .find(|(k, v)| k == "STRATA_CONFIG" && !v.trim().is_empty())
            .map(|(_, v)| PathBuf::from(v.trim()));
        if let Some((label, text)) = self.sources.read_toml("the configuration", named_file)? {
            merge_toml(&text, &label, &mut config, &mut problems);
        }
        merge_env(&env, &mut config, &mut problems);
        // A value read by two parts (CACHE_SESSION_TTL: the TTL table and the governance
        // policy) is reported once.
        for p in config.problems().0 {
            let seen = problems
                .0
                .iter()
                .any(|q| q.path == p.path || q.path.split(' ').next() == Some(p.path.as_str()));
            if !seen {
                problems.0.push(p);
            }
        }
        Ok((config, problems))
    }
}

fn merge_toml(text: &str, file: &str, config: &mut Config, out: &mut Problems) {
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            out.push(file, format!("is not valid TOML: {}", e.message()));
            return;
        }
    };
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("governance", toml::Value::Table(t)) => {
                config.governance_toml = Some(toml::to_string(t).unwrap_or_default());
            }
            ("ttl", toml::Value::Table(t)) => {
                for (name, v) in t {
                    let path = format!("ttl.{name}");
                    if let Some(d) = values::ttl(Raw::Toml(v), &path, out) {
                        config.ttls.insert(name.to_ascii_lowercase(), d);
                    }
                }
            }
            ("redis" | "memory" | "warming", toml::Value::Table(t)) => {
                for (k, v) in t {
                    let path = format!("{key}.{k}");
                    apply(&path, Raw::Toml(v), &path, config, out);
                }
            }
            _ => apply(key, Raw::Toml(value), key, config, out),
        }
    }
}

/// True for the variables the governance policy reads.
fn is_governance_var(name: &str) -> bool {
    name.starts_with("STRATA_NS_")
        || name.starts_with("STRATA_GOVERNANCE_")
        || (name.starts_with("CACHE_") && name.ends_with("_TTL"))
}

fn merge_env(env: &[(String, String)], config: &mut Config, out: &mut Problems) {
    for (name, value) in env {
        if let Some(setting) = SETTINGS.iter().find(|s| s.var == name) {
            if setting.path != "(file)" {
                let label = format!("{name} ({})", setting.path);
                apply(setting.path, Raw::Text(value), &label, config, out);
            }
            continue;
        }
        if is_governance_var(name) {
            config.governance_env.push((name.clone(), value.clone()));
        }
        if let Some(ty) = name
            .strip_prefix("CACHE_")
            .and_then(|r| r.strip_suffix("_TTL"))
            .filter(|t| !t.is_empty())
            && let Some(d) = values::ttl(
                Raw::Text(value),
                &format!("{name} (ttl.{})", ty.to_ascii_lowercase()),
                out,
            )
        {
            config.ttls.insert(ty.to_ascii_lowercase(), d);
        }
    }
}

/// Sets the setting at `path` from `raw`; `label` (the TOML path or the variable) names it
/// in problems.
fn apply(path: &str, raw: Raw<'_>, label: &str, c: &mut Config, out: &mut Problems) {
    use values::*;
    match path {
        "enabled" => set(&mut c.enabled, boolean(raw, label, out)),
        "backend" => set(&mut c.backend, named(raw, label, out)),
        "namespace" => set(&mut c.namespace, string(raw, label, out)),
        "default_ttl" => c.default_ttl = duration(raw, label, out).or(c.default_ttl),
        "fail_safe" => c.fail_safe = duration(raw, label, out).or(c.fail_safe),
        "loader_timeout" => c.loader_timeout = duration(raw, label, out).or(c.loader_timeout),
        "write_mode" => set(&mut c.write_mode, named(raw, label, out)),
        "promotion" => set(&mut c.promotion, string(raw, label, out)),
        "coherence" => match raw.text().map(|t| t.trim().eq_ignore_ascii_case("auto")) {
            Some(true) => c.coherence = None,
            _ => c.coherence = boolean(raw, label, out).map(Some).unwrap_or(c.coherence),
        },
        "coherence_heartbeat" => set(&mut c.coherence_heartbeat, duration(raw, label, out)),
        "shutdown_timeout" => set(&mut c.shutdown_timeout, duration(raw, label, out)),
        "profile" => c.profile = string(raw, label, out).or(c.profile.take()),
        "redis.url" => c.redis.url = string(raw, label, out).or(c.redis.url.take()),
        "redis.host" => c.redis.host = string(raw, label, out).or(c.redis.host.take()),
        "redis.port" => set(&mut c.redis.port, unsigned(raw, label, out)),
        "redis.cluster" => set(&mut c.redis.cluster, cluster(raw, label, out)),
        "redis.prefix" => set(&mut c.redis.prefix, string(raw, label, out)),
        "redis.client" => set(&mut c.redis.client, string(raw, label, out)),
        "redis.connect_timeout" => set(&mut c.redis.connect_timeout, duration(raw, label, out)),
        "redis.command_timeout" => set(&mut c.redis.command_timeout, duration(raw, label, out)),
        "redis.legacy_json" => set(&mut c.redis.legacy_json, boolean(raw, label, out)),
        "memory.max_size" => set(&mut c.memory.max_size, memory_size(raw, label, out)),
        "memory.l1_size_ratio" => set(&mut c.memory.l1_size_ratio, fraction(raw, label, out)),
        "memory.eviction_policy" => set(&mut c.memory.eviction_policy, string(raw, label, out)),
        "warming.on_startup" => set(&mut c.warming.on_startup, boolean(raw, label, out)),
        "warming.concurrency" => set(&mut c.warming.concurrency, unsigned(raw, label, out)),
        "warming.interval" => c.warming.interval = duration(raw, label, out).or(c.warming.interval),
        _ => out.push(label, "is not a setting (see docs/configuration.md)"),
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}
