//! What a [`RedisStore`](crate::RedisStore) connects to and how it behaves: the builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use strata_core::envelope::Compression;
use strata_core::{Error, Result, SharedClock, SystemClock};

use crate::breaker::BreakerConfig;
use crate::keys::KeyLayout;
use crate::retry::RetryPolicy;
use crate::secret::{Secret, redact_url};

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Topology {
    /// One server (or a primary behind a proxy).
    Standalone(String),
    /// A Redis Cluster, reached through any of these seed nodes.
    Cluster(Vec<String>),
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topology::Standalone(url) => write!(f, "Standalone({})", redact_url(url)),
            Topology::Cluster(urls) => {
                let urls: Vec<String> = urls.iter().map(|u| redact_url(u)).collect();
                write!(f, "Cluster({urls:?})")
            }
        }
    }
}

/// The Redis client library under a [`RedisStore`](crate::RedisStore); chosen with
/// [`RedisStoreBuilder::client`](crate::RedisStoreBuilder::client).
///
/// Both run the same store logic (keys, envelope, tags, batching, retries, breaker); only the
/// connection differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Client {
    /// redis-rs (the default): a `ConnectionManager` on a standalone server, the async cluster
    /// client on a cluster.
    #[default]
    RedisRs,
    /// fred (feature `fred`): one fred client whose router multiplexes every command, follows
    /// cluster redirections and reconnects in the background. Commands are never re-sent by
    /// fred after a dropped connection; the store's retry policy decides what is repeated.
    #[cfg(feature = "fred")]
    Fred,
}

/// When values are compressed before they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompressionConfig {
    /// The algorithm; [`Compression::None`] turns compression off.
    pub algorithm: Compression,
    /// Payloads of at least this many bytes are compressed (smaller ones are not worth it).
    pub threshold: usize,
}

impl Default for CompressionConfig {
    /// LZ4 from 4 KiB.
    fn default() -> Self {
        CompressionConfig {
            algorithm: Compression::Lz4,
            threshold: 4 * 1024,
        }
    }
}

/// The default prefix of every key a store writes.
pub const DEFAULT_PREFIX: &str = "strata";
/// The default limit on one encoded value (Redis itself allows 512 MiB).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// Configuration of a [`RedisStore`](crate::RedisStore); built by
/// [`RedisStore::builder`](crate::RedisStore::builder).
///
/// `Debug` output never shows a password: URLs are printed with the password replaced by
/// `***`.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    pub(crate) topology: Option<Topology>,
    pub(crate) client: Client,
    #[cfg(feature = "tls")]
    pub(crate) tls: crate::tls::TlsOptions,
    pub(crate) prefix: String,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) compression: CompressionConfig,
    pub(crate) max_value_bytes: usize,
    pub(crate) legacy_json: bool,
    pub(crate) breaker: BreakerConfig,
    pub(crate) scan_count: usize,
    pub(crate) unlink_batch: usize,
    pub(crate) clock: SharedClock,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            topology: None,
            client: Client::default(),
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsOptions::default(),
            prefix: DEFAULT_PREFIX.to_owned(),
            username: None,
            password: None,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(2),
            retry: RetryPolicy::default(),
            compression: CompressionConfig::default(),
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            legacy_json: false,
            breaker: BreakerConfig::default(),
            scan_count: 1_000,
            unlink_batch: 500,
            clock: Arc::new(SystemClock::new()),
        }
    }
}

impl RedisConfig {
    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The client library the store runs on.
    pub fn client(&self) -> Client {
        self.client
    }

    /// The timeout of one command (or one batch), retries included.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Checks every setting and reports every problem at once.
    pub(crate) fn validate(&self) -> Result<KeyLayout> {
        let mut problems = Vec::new();
        match &self.topology {
            None => problems.push(
                "no server: call `url(..)` for a standalone server or `cluster(..)` for a cluster"
                    .to_owned(),
            ),
            Some(Topology::Standalone(url)) => {
                if let Err(e) = check_url(url) {
                    problems.push(e);
                }
            }
            Some(Topology::Cluster(urls)) => {
                if urls.is_empty() {
                    problems.push("cluster: the list of seed nodes is empty".to_owned());
                }
                problems.extend(urls.iter().filter_map(|u| check_url(u).err()));
            }
        }
        let layout = match KeyLayout::new(&self.prefix) {
            Ok(layout) => Some(layout),
            Err(e) => {
                problems.push(e.message().to_owned());
                None
            }
        };
        for (name, value) in [
            ("connect_timeout", self.connect_timeout),
            ("command_timeout", self.command_timeout),
        ] {
            if value.is_zero() {
                problems.push(format!("{name} is zero; give it at least a millisecond"));
            }
        }
        if self.max_value_bytes == 0 {
            problems.push("max_value_bytes is zero: no value could be written".to_owned());
        }
        if self.scan_count == 0 || self.unlink_batch == 0 {
            problems.push("scan_count and unlink_batch must be at least 1".to_owned());
        }
        #[cfg(feature = "tls")]
        {
            let uses_tls = match &self.topology {
                Some(Topology::Standalone(url)) => url.starts_with("rediss://"),
                Some(Topology::Cluster(urls)) => urls.iter().any(|u| u.starts_with("rediss://")),
                None => false,
            };
            problems.extend(self.tls.problems(uses_tls));
        }
        problems.extend(self.breaker.problems());
        problems.extend(self.retry.problems());
        match (layout, problems.is_empty()) {
            (Some(layout), true) => Ok(layout),
            _ => Err(Error::invalid_config(format!(
                "invalid Redis configuration: {}",
                problems.join("; ")
            ))),
        }
    }
}

/// Checks a URL's scheme and that redis-rs can read it; the error names the URL without its
/// password.
fn check_url(url: &str) -> std::result::Result<(), String> {
    use redis::IntoConnectionInfo;
    let shown = redact_url(url);
    let scheme_ok = url.starts_with("redis://") || url.starts_with("rediss://");
    if !scheme_ok {
        return Err(format!(
            "`{shown}` is not a Redis URL: it must start with redis:// (or rediss:// for TLS)"
        ));
    }
    if url.starts_with("rediss://") && !cfg!(feature = "tls") {
        return Err(format!(
            "`{shown}` asks for TLS (rediss://), which this build does not include: enable the \
             `tls` feature of strata-redis"
        ));
    }
    url.into_connection_info().map(|_| ()).map_err(|e| {
        // redis-rs says what is wrong before " - <kind>" and never echoes the URL.
        let text = e.to_string();
        let why = e
            .detail()
            .unwrap_or_else(|| text.split(" - ").next().unwrap_or(&text));
        format!(
            "`{shown}` is not a valid Redis URL ({why}); expected \
             redis://[user[:password]@]host[:port][/db]"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn rediss_needs_the_tls_feature() {
        let checked = check_url("rediss://:pw@127.0.0.1:6380/");
        if cfg!(feature = "tls") {
            assert!(checked.is_ok(), "{checked:?}");
        } else {
            let e = checked.expect_err("rediss:// without the tls feature");
            assert!(e.contains("enable the `tls` feature"), "{e}");
            assert!(!e.contains("pw@"), "{e}");
        }
        assert!(check_url("http://127.0.0.1:6379").is_err());
    }
}
