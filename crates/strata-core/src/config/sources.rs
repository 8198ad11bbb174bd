//! [`Sources`]: where configuration text comes from — a TOML file or text, and environment
//! variables (the process's, or a given list) — read the same way by every loader.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

#[derive(Clone, Debug, Default)]
enum Toml {
    #[default]
    None,
    File(PathBuf),
    Text(String),
}

#[derive(Clone, Debug, Default)]
enum Env {
    #[default]
    None,
    Process,
    Vars(Vec<(String, String)>),
}

/// A TOML file or text, and environment variables, for a configuration loader.
///
/// ```
/// use strata_core::config::Sources;
/// let mut s = Sources::default();
/// s.toml_str("backend = \"memory\"");
/// s.env_vars([("CACHE_ENABLED", "true")]);
/// assert_eq!(s.env(), vec![("CACHE_ENABLED".to_owned(), "true".to_owned())]);
/// assert_eq!(s.read_toml("the configuration", None)?.unwrap().1, "backend = \"memory\"");
/// # Ok::<(), strata_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sources {
    toml: Toml,
    env: Env,
}

impl Sources {
    /// Reads this TOML file (again at every load).
    pub fn toml_file(&mut self, path: impl Into<PathBuf>) {
        self.toml = Toml::File(path.into());
    }

    /// Reads this TOML text.
    pub fn toml_str(&mut self, text: impl Into<String>) {
        self.toml = Toml::Text(text.into());
    }

    /// Reads the process environment (again at every load).
    pub fn process_env(&mut self) {
        self.env = Env::Process;
    }

    /// Reads these variables instead of the process environment.
    pub fn env_vars<K: Into<String>, V: Into<String>>(
        &mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) {
        self.env = Env::Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
    }

    /// The TOML file, when there is one.
    pub fn file(&self) -> Option<&Path> {
        match &self.toml {
            Toml::File(p) => Some(p),
            _ => None,
        }
    }

    /// The environment variables, sorted by name (so problems are listed the same way
    /// every time).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = match &self.env {
            Env::None => Vec::new(),
            Env::Process => std::env::vars().collect(),
            Env::Vars(v) => v.clone(),
        };
        vars.sort();
        vars
    }

    /// The TOML text with a label for problems (the file's path, or `(toml)`); `fallback`
    /// is read when no TOML was given. `None` when there is none.
    ///
    /// # Errors
    ///
    /// `InvalidConfig` naming `what` and the file when it cannot be read.
    pub fn read_toml(
        &self,
        what: &str,
        fallback: Option<PathBuf>,
    ) -> Result<Option<(String, String)>> {
        let path = match (&self.toml, fallback) {
            (Toml::Text(text), _) => return Ok(Some(("(toml)".to_owned(), text.clone()))),
            (Toml::File(p), _) => p.clone(),
            (Toml::None, Some(p)) => p,
            (Toml::None, None) => return Ok(None),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::invalid_config(format!("cannot read {what} file {}: {e}", path.display()))
                .with_source(e)
        })?;
        Ok(Some((path.display().to_string(), text)))
    }
}
