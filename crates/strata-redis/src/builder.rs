//! [`RedisStoreBuilder`]: every setting of a [`RedisStore`](crate::RedisStore), then
//! `connect()`.

use std::time::Duration;

use strata_core::envelope::Compression;
use strata_core::{Result, SharedClock};

use crate::breaker::BreakerConfig;
use crate::config::{Client, CompressionConfig, RedisConfig, Topology};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::store::RedisStore;

/// Builds a [`RedisStore`]; made by [`RedisStore::builder`].
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `connect` is awaited"]
pub struct RedisStoreBuilder {
    config: RedisConfig,
}

impl RedisStoreBuilder {
    /// A standalone server: `redis://[user[:password]@]host[:port][/db]`, or `rediss://...`
    /// for TLS (feature `tls`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.topology = Some(Topology::Standalone(url.into()));
        self
    }

    /// A Redis Cluster, reached through any of these seed nodes (`redis://host:port`, or
    /// `rediss://host:port` for TLS with the `tls` feature).
    pub fn cluster<I, S>(mut self, nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.topology = Some(Topology::Cluster(
            nodes.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// The client library (default [`Client::RedisRs`]; `Client::Fred` with the `fred`
    /// feature). The store behaves the same on either.
    pub fn client(mut self, client: Client) -> Self {
        self.config.client = client;
        self
    }

    /// Trusts these PEM certificates (one or more) as the roots for `rediss://` servers,
    /// instead of the system's (feature `tls`).
    #[cfg(feature = "tls")]
    pub fn tls_root_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.tls.set_root_ca(pem.into());
        self
    }

    /// Presents this client certificate chain and private key (both PEM) to `rediss://`
    /// servers, for mutual TLS (feature `tls`). The key is never shown by `Debug` or in errors.
    #[cfg(feature = "tls")]
    pub fn tls_client_cert_pem(
        mut self,
        cert_chain_pem: impl Into<Vec<u8>>,
        private_key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.config
            .tls
            .set_client_auth(cert_chain_pem.into(), private_key_pem.into());
        self
    }

    /// The prefix of every key (default `strata`): 1 to 64 characters of `[A-Za-z0-9_.-]`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.prefix = prefix.into();
        self
    }

    /// The ACL user (overrides one in the URL).
    pub fn username(mut self, user: impl Into<String>) -> Self {
        self.config.username = Some(user.into());
        self
    }

    /// The password (overrides one in the URL). Never logged or shown by `Debug`.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.config.password = Some(Secret::new(password));
        self
    }

    /// How long connecting may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How long one call may take, retries included (default 2 s); then `ErrorKind::Timeout`.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.config.command_timeout = timeout;
        self
    }

    /// How calls that failed with an error safe to retry are repeated.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Compresses payloads of at least `threshold` bytes with `algorithm` (default LZ4 from
    /// 4 KiB); `Compression::None` turns it off.
    pub fn compression(mut self, algorithm: Compression, threshold: usize) -> Self {
        self.config.compression = CompressionConfig {
            algorithm,
            threshold,
        };
        self
    }

    /// Values over this many bytes are refused before they are sent (default 16 MiB).
    pub fn max_value_bytes(mut self, max: usize) -> Self {
        self.config.max_value_bytes = max;
        self
    }

    /// Reads values that are raw JSON (written by the older cache managers) as JSON payloads
    /// instead of failing with a codec error. Off by default.
    pub fn legacy_json(mut self, enabled: bool) -> Self {
        self.config.legacy_json = enabled;
        self
    }

    /// The circuit breaker's settings.
    pub fn breaker(mut self, breaker: BreakerConfig) -> Self {
        self.config.breaker = breaker;
        self
    }

    /// The COUNT hint of each SCAN page (default 1,000) and the most keys one UNLINK removes
    /// (default 500).
    pub fn bulk_sizes(mut self, scan_count: usize, unlink_batch: usize) -> Self {
        self.config.scan_count = scan_count;
        self.config.unlink_batch = unlink_batch;
        self
    }

    /// The clock for created-at and expiry metadata and the breaker (default: system time).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.config.clock = clock;
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// Validates the settings (every problem at once), connects and loads the store's Lua
    /// scripts.
    ///
    /// # Errors
    ///
    /// `InvalidConfig` for bad settings or refused credentials, `Unavailable` or `Timeout`
    /// when the server cannot be reached; the message names the address (never the
    /// password).
    pub async fn connect(self) -> Result<RedisStore> {
        RedisStore::from_config(self.config).await
    }
}
