//! TLS settings for `rediss://` URLs (feature `tls`): a custom root CA and an optional client
//! certificate for mutual TLS, turned into what each client library takes. rustls with the
//! `ring` provider, never aws-lc.

use std::fmt;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// PEM bytes that must never be shown (a private key): `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SecretPem(Vec<u8>);

impl fmt::Debug for SecretPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The TLS settings of a store; empty means "the system's trusted roots, no client
/// certificate".
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsOptions {
    /// PEM certificates trusted as roots instead of the system's.
    pub(crate) root_ca: Option<Vec<u8>>,
    /// PEM certificate chain and private key presented to the server.
    pub(crate) client: Option<(Vec<u8>, SecretPem)>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("custom_root_ca", &self.root_ca.is_some())
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl TlsOptions {
    pub(crate) fn set_root_ca(&mut self, pem: Vec<u8>) {
        self.root_ca = Some(pem);
    }

    pub(crate) fn set_client_auth(&mut self, cert_pem: Vec<u8>, key_pem: Vec<u8>) {
        self.client = Some((cert_pem, SecretPem(key_pem)));
    }

    fn is_set(&self) -> bool {
        self.root_ca.is_some() || self.client.is_some()
    }

    /// Every problem with the settings (unreadable PEM, settings without a `rediss://` URL).
    pub(crate) fn problems(&self, uses_tls: bool) -> Vec<String> {
        let mut out = Vec::new();
        if self.is_set() && !uses_tls {
            out.push(
                "TLS certificates are configured but no URL uses rediss://; use rediss:// URLs \
                 for TLS"
                    .to_owned(),
            );
        }
        if let Some(pem) = &self.root_ca
            && let Err(e) = certificates(pem, "tls root CA")
        {
            out.push(e);
        }
        if let Some((cert, key)) = &self.client {
            if let Err(e) = certificates(cert, "tls client certificate") {
                out.push(e);
            }
            if let Err(e) = private_key(&key.0) {
                out.push(e);
            }
        }
        out
    }

    /// The certificates as redis-rs takes them; `None` when nothing is configured (redis-rs
    /// then trusts the system's roots).
    pub(crate) fn redis_certificates(&self) -> Option<redis::TlsCertificates> {
        if !self.is_set() {
            return None;
        }
        Some(redis::TlsCertificates {
            client_tls: self
                .client
                .as_ref()
                .map(|(cert, key)| redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.0.clone(),
                }),
            root_cert: self.root_ca.clone(),
        })
    }

    /// A rustls client configuration (ring provider): the custom roots or the system's, and
    /// the client certificate when one is set.
    #[cfg(feature = "fred")]
    pub(crate) fn rustls_config(&self) -> Result<rustls::ClientConfig, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.root_ca {
            Some(pem) => {
                for cert in certificates(pem, "tls root CA")? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("tls root CA: not a usable trust anchor: {e}"))?;
                }
            }
            None => {
                let found = rustls_native_roots();
                if found.is_empty() {
                    return Err(
                        "TLS: no trusted root certificates found on this system; configure a \
                         root CA"
                            .to_owned(),
                    );
                }
                for cert in found {
                    // A system certificate rustls cannot use is skipped, as rustls itself does.
                    let _ = roots.add(cert);
                }
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots);
        match &self.client {
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    certificates(cert, "tls client certificate")?,
                    private_key(&key.0)?,
                )
                .map_err(|e| format!("tls client certificate: {e}")),
            None => Ok(builder.with_no_client_auth()),
        }
    }
}

/// The system's trusted roots, read as redis-rs reads them (rustls-native-certs).
#[cfg(feature = "fred")]
fn rustls_native_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// Every certificate of a PEM bundle; an error when there is none or one is unreadable.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{what}: unreadable PEM ({e})"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no PEM certificate found"));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1); the error never shows the key.
fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|_| "tls client key: no readable PEM private key found".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_reported_and_keys_are_hidden() {
        let mut opts = TlsOptions::default();
        opts.set_root_ca(b"not a certificate".to_vec());
        opts.set_client_auth(
            b"junk".to_vec(),
            b"-----BEGIN PRIVATE KEY-----\nzzz".to_vec(),
        );
        let problems = opts.problems(true).join("; ");
        assert!(
            problems.contains("tls root CA: no PEM certificate found"),
            "{problems}"
        );
        assert!(problems.contains("tls client certificate"), "{problems}");
        assert!(problems.contains("tls client key"), "{problems}");
        assert!(!problems.contains("zzz"));
        assert!(!format!("{opts:?}").contains("zzz"));
        assert!(
            TlsOptions::default().problems(false).is_empty(),
            "nothing configured is fine"
        );
        let mut only_ca = TlsOptions::default();
        only_ca.set_root_ca(Vec::new());
        assert!(only_ca.problems(false)[0].contains("no URL uses rediss://"));
    }
}
