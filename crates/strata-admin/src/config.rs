//! [`AdminConfig`]: API keys, the open-on-loopback switch and the limits, from code or the
//! environment.

use std::fmt;
use std::net::SocketAddr;

use strata::core::config::Problems;

/// Comma-separated read-only keys: they reach the `GET` endpoints.
pub const ENV_READ_KEYS: &str = "STRATA_ADMIN_READ_KEYS";
/// Comma-separated admin keys: they reach every endpoint.
pub const ENV_WRITE_KEYS: &str = "STRATA_ADMIN_WRITE_KEYS";
/// `true` to serve loopback clients without keys when none is configured.
pub const ENV_OPEN_ON_LOOPBACK: &str = "STRATA_ADMIN_OPEN_ON_LOOPBACK";
/// The largest `operations` a test load may ask for.
pub const ENV_MAX_TEST_OPERATIONS: &str = "STRATA_ADMIN_MAX_TEST_OPERATIONS";
/// The largest request body, in bytes.
pub const ENV_MAX_BODY_BYTES: &str = "STRATA_ADMIN_MAX_BODY_BYTES";
/// The address the example server listens on.
pub const ENV_ADDR: &str = "STRATA_ADMIN_ADDR";
/// The default of [`ENV_ADDR`]: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9464";
/// The default largest `operations` of a test load.
pub const DEFAULT_MAX_TEST_OPERATIONS: u64 = 10_000;
/// The default largest concurrency of a test load.
pub const DEFAULT_MAX_TEST_CONCURRENCY: usize = 32;
/// The default largest request body: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// The shortest key accepted.
const MIN_KEY_LEN: usize = 16;

/// A key, kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the admin router authenticates and what it allows. Keys are never shown by `Debug`.
///
/// ```
/// use strata_admin::AdminConfig;
/// let config = AdminConfig::from_vars([
///     ("STRATA_ADMIN_READ_KEYS", "read-key-0123456789abcdef"),
///     ("STRATA_ADMIN_WRITE_KEYS", "write-key-0123456789abcdef"),
/// ])?
/// .max_test_operations(1_000);
/// assert!(!format!("{config:?}").contains("0123456789"));
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct AdminConfig {
    pub(crate) read_keys: Vec<Secret>,
    pub(crate) write_keys: Vec<Secret>,
    pub(crate) open_on_loopback: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_test_operations: u64,
    pub(crate) max_test_concurrency: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl AdminConfig {
    /// No keys (so [`router`](crate::router) refuses to build until one is added or
    /// [`AdminConfig::allow_open_on_loopback`] is set), and the default limits.
    pub fn new() -> Self {
        AdminConfig {
            read_keys: Vec::new(),
            write_keys: Vec::new(),
            open_on_loopback: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_test_operations: DEFAULT_MAX_TEST_OPERATIONS,
            max_test_concurrency: DEFAULT_MAX_TEST_CONCURRENCY,
        }
    }

    /// From the process environment ([`ENV_READ_KEYS`], [`ENV_WRITE_KEYS`],
    /// [`ENV_OPEN_ON_LOOPBACK`], [`ENV_MAX_TEST_OPERATIONS`], [`ENV_MAX_BODY_BYTES`]).
    ///
    /// # Errors
    ///
    /// `InvalidConfig` listing every variable that cannot be used (never showing a key).
    pub fn from_env() -> strata::Result<Self> {
        Self::from_vars(std::env::vars())
    }

    /// From these variables instead of the process environment.
    ///
    /// # Errors
    ///
    /// As [`AdminConfig::from_env`].
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> strata::Result<Self>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = AdminConfig::new();
        let mut problems = Problems::default();
        for (k, v) in vars {
            let (k, v) = (k.as_ref(), v.as_ref().trim());
            match k {
                ENV_READ_KEYS => config.read_keys.extend(split_keys(v)),
                ENV_WRITE_KEYS => config.write_keys.extend(split_keys(v)),
                ENV_OPEN_ON_LOOPBACK => match v.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => config.open_on_loopback = true,
                    "" | "0" | "false" | "no" | "off" => config.open_on_loopback = false,
                    _ => problems.push(k, format!("{v:?} is not a boolean (true or false)")),
                },
                ENV_MAX_TEST_OPERATIONS => match v.parse::<u64>() {
                    Ok(n) => config.max_test_operations = n,
                    Err(_) => problems.push(k, format!("{v:?} is not a whole number")),
                },
                ENV_MAX_BODY_BYTES => match v.parse::<usize>() {
                    Ok(n) => config.max_body_bytes = n,
                    Err(_) => problems.push(k, format!("{v:?} is not a whole number of bytes")),
                },
                _ => {}
            }
        }
        problems.into_result()?;
        Ok(config)
    }

    /// Adds a read-only key: it reaches the `GET` endpoints.
    pub fn read_key(mut self, key: impl Into<String>) -> Self {
        self.read_keys.push(Secret(key.into()));
        self
    }

    /// Adds an admin key: it reaches every endpoint.
    pub fn write_key(mut self, key: impl Into<String>) -> Self {
        self.write_keys.push(Secret(key.into()));
        self
    }

    /// With no key configured, serve clients on loopback addresses without a key instead of
    /// refusing to build (default false). Ignored once any key is configured.
    pub fn allow_open_on_loopback(mut self, on: bool) -> Self {
        self.open_on_loopback = on;
        self
    }

    /// The largest request body accepted, in bytes (default 64 KiB); larger is `413`.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The largest `operations` a test load may ask for (default 10,000); more is `400` and
    /// nothing runs.
    pub fn max_test_operations(mut self, n: u64) -> Self {
        self.max_test_operations = n;
        self
    }

    /// The largest `concurrency` a test load may ask for (default 32).
    pub fn max_test_concurrency(mut self, n: usize) -> Self {
        self.max_test_concurrency = n;
        self
    }

    /// True when it runs without keys, open to loopback clients.
    pub fn is_open(&self) -> bool {
        self.read_keys.is_empty() && self.write_keys.is_empty() && self.open_on_loopback
    }

    /// Every problem: keys shorter than 16 characters or with characters other than
    /// visible ASCII (the key is never shown, only its position), zero limits.
    ///
    /// # Errors
    ///
    /// `InvalidConfig` listing every problem.
    pub fn validate(&self) -> strata::Result<()> {
        let mut problems = Problems::default();
        for (var, keys) in [
            (ENV_READ_KEYS, &self.read_keys),
            (ENV_WRITE_KEYS, &self.write_keys),
        ] {
            for (i, Secret(k)) in keys.iter().enumerate() {
                if k.len() < MIN_KEY_LEN {
                    problems.push(
                        var,
                        format!(
                            "key {} is {} characters; use at least {MIN_KEY_LEN}",
                            i + 1,
                            k.len()
                        ),
                    );
                }
                if !k.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
                    problems.push(
                        var,
                        format!(
                            "key {} has a character other than visible ASCII (or a comma)",
                            i + 1
                        ),
                    );
                }
            }
        }
        if self.max_body_bytes == 0 {
            problems.push(ENV_MAX_BODY_BYTES, "must be at least 1");
        }
        if self.max_test_operations == 0 {
            problems.push(ENV_MAX_TEST_OPERATIONS, "must be at least 1");
        }
        if self.max_test_concurrency == 0 {
            problems.push("max_test_concurrency", "must be at least 1");
        }
        problems.into_result()
    }
}

fn split_keys(v: &str) -> impl Iterator<Item = Secret> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| Secret(k.to_owned()))
}

/// The address to serve on: [`ENV_ADDR`], or [`DEFAULT_ADDR`] (loopback).
///
/// # Errors
///
/// `InvalidConfig` naming the variable when it is not a socket address.
pub fn addr_from_env() -> strata::Result<SocketAddr> {
    let raw = std::env::var(ENV_ADDR).unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    raw.trim().parse().map_err(|_| {
        strata::Error::invalid_config(format!(
            "{ENV_ADDR}={raw:?} is not an address such as {DEFAULT_ADDR}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_variable_and_never_the_key() {
        let err = AdminConfig::from_vars([
            (ENV_READ_KEYS, "short-secret, fine-key-0123456789"),
            (ENV_OPEN_ON_LOOPBACK, "perhaps"),
            (ENV_MAX_TEST_OPERATIONS, "many"),
        ])
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(ENV_OPEN_ON_LOOPBACK), "{text}");
        assert!(text.contains(ENV_MAX_TEST_OPERATIONS), "{text}");
        let config =
            AdminConfig::from_vars([(ENV_READ_KEYS, "short-secret, fine-key-0123456789")]).unwrap();
        let text = config.validate().unwrap_err().to_string();
        assert!(text.contains("key 1 is 12 characters"), "{text}");
        assert!(!text.contains("short-secret"), "{text}");
        assert!(!format!("{config:?}").contains("fine-key"));
    }

    #[test]
    fn open_only_without_keys() {
        assert!(AdminConfig::new().allow_open_on_loopback(true).is_open());
        assert!(
            !AdminConfig::new()
                .allow_open_on_loopback(true)
                .read_key("k".repeat(16))
                .is_open()
        );
    }
}
