//! `rediss://` against a private redis-server listening only on a TLS port, with a CA and
//! certificates generated here (rcgen): set/get through TLS, a wrong CA, AUTH through TLS and
//! mutual TLS, on redis-rs and (feature `fred`) on fred.
#![cfg(feature = "tls")]

use std::path::Path;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use strata_core::{ErrorKind, HealthStatus, Key, Namespace, Store, StoreExt};
use strata_redis::{Client, RedisStore, RedisStoreBuilder};
use strata_testkit::redis_server::RedisServer;

/// A certificate authority: its PEM certificate and what signs leaves.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// `(certificate PEM, key PEM)` of a leaf for 127.0.0.1, for a server or a client.
    fn leaf(&self, name: &str, client: bool) -> (String, String) {
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        (cert.pem(), key.serialize_pem())
    }
}

/// A redis-server whose only port is a TLS port, with a server certificate from `ca`.
fn tls_server(ca: &Ca, dir: &Path, auth_clients: bool, password: Option<&str>) -> RedisServer {
    let (cert, key) = ca.leaf("redis-server", false);
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("writing a PEM file");
        path.display().to_string()
    };
    let mut builder = RedisServer::builder()
        .tls_port()
        .args(["--port", "0"])
        .arg("--tls-cert-file")
        .arg(write("server.pem", &cert))
        .arg("--tls-key-file")
        .arg(write("server.key", &key))
        .arg("--tls-ca-cert-file")
        .arg(write("ca.pem", &ca.pem))
        .arg("--tls-auth-clients")
        .arg(if auth_clients { "yes" } else { "no" });
    if let Some(pw) = password {
        builder = builder.requirepass(pw);
    }
    builder
        .start()
        .unwrap_or_else(|e| panic!("a TLS redis-server must start: {e}"))
}

fn clients() -> Vec<Client> {
    vec![
        Client::RedisRs,
        #[cfg(feature = "fred")]
        Client::Fred,
    ]
}

/// `rediss://127.0.0.1:PORT/` of the server, without any password.
fn plain_tls_url(server: &RedisServer) -> String {
    format!(
        "rediss://127.0.0.1:{}/",
        server.tls_port().expect("the server has a TLS port")
    )
}

fn builder(url: String, client: Client) -> RedisStoreBuilder {
    RedisStore::builder()
        .url(url)
        .client(client)
        .prefix(format!("tls{}", fastrand_suffix()))
        .connect_timeout(Duration::from_secs(2))
        .command_timeout(Duration::from_secs(2))
}

fn fastrand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Connects (bounded in time, so a hang fails the test instead of blocking it).
async fn connect(b: RedisStoreBuilder) -> strata_core::Result<RedisStore> {
    tokio::time::timeout(Duration::from_secs(20), b.connect())
        .await
        .expect("connecting must end within 20 s, never hang")
}

async fn set_then_get(store: &RedisStore, client: Client) {
    let key = Key::new(&Namespace::new("tls").expect("namespace"), "k").expect("key");
    store
        .set_with_ttl(&key, "over tls".into(), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{client:?}: set through TLS: {e}"));
    let got = store
        .get(&key)
        .await
        .unwrap_or_else(|e| panic!("{client:?}: get through TLS: {e}"))
        .map(|e| e.value().clone());
    assert_eq!(got, Some("over tls".into()), "{client:?}");
    assert!(store.delete(&key).await.expect("delete"), "{client:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_get_through_tls_with_the_servers_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("strata test CA");
    let server = tls_server(&ca, dir.path(), false, None);
    for client in clients() {
        let store =
            connect(builder(plain_tls_url(&server), client).tls_root_ca_pem(ca.pem.clone()))
                .await
                .unwrap_or_else(|e| panic!("{client:?}: connecting through TLS: {e}"));
        set_then_get(&store, client).await;
        let health = store.health().await;
        assert_ne!(
            health.status,
            HealthStatus::Unhealthy,
            "{client:?}: {health:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_fails_with_an_error_naming_the_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("strata test CA");
    let other = Ca::new("some other CA");
    let server = tls_server(&ca, dir.path(), false, None);
    let url = plain_tls_url(&server);
    let address = format!("127.0.0.1:{}", server.tls_port().expect("tls port"));
    for client in clients() {
        let err = connect(builder(url.clone(), client).tls_root_ca_pem(other.pem.clone()))
            .await
            .expect_err("a server certificate from another CA must be refused");
        println!("{client:?}, wrong CA: {err}");
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{client:?}: {err}");
        let text = err.to_string();
        assert!(text.contains(&address), "{client:?}: {text}");
        assert!(
            text.to_ascii_lowercase().contains("certificate"),
            "{client:?}: the error should say the certificate was refused: {text}"
        );
        // Plain Redis on the TLS port is refused too, never read as a reply.
        let plain = format!("redis://{address}/");
        let err = connect(builder(plain, client))
            .await
            .expect_err("a plain connection to a TLS port must fail");
        println!("{client:?}, plain on the TLS port: {err}");
        assert!(err.to_string().contains(&address), "{client:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_with_a_password_through_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("strata test CA");
    let password = "s3cret-over-tls";
    let server = tls_server(&ca, dir.path(), false, Some(password));
    let url = plain_tls_url(&server);
    for client in clients() {
        // The password from the builder.
        let store = connect(
            builder(url.clone(), client)
                .tls_root_ca_pem(ca.pem.clone())
                .password(password),
        )
        .await
        .unwrap_or_else(|e| panic!("{client:?}: AUTH through TLS: {e}"));
        set_then_get(&store, client).await;
        assert!(!format!("{store:?}").contains(password));
        // The password in the URL.
        let in_url = server.tls_url().expect("tls url");
        let store = connect(builder(in_url, client).tls_root_ca_pem(ca.pem.clone()))
            .await
            .unwrap_or_else(|e| panic!("{client:?}: AUTH from the URL through TLS: {e}"));
        set_then_get(&store, client).await;
        // A wrong password: refused credentials, the password never shown.
        let err = connect(
            builder(url.clone(), client)
                .tls_root_ca_pem(ca.pem.clone())
                .password("not-the-password"),
        )
        .await
        .expect_err("a wrong password must be refused");
        println!("{client:?}, wrong password: {err}");
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{client:?}: {err}");
        assert!(!err.to_string().contains("not-the-password"), "{err}");
        // No password at all: the first command is refused.
        let outcome = connect(builder(url.clone(), client).tls_root_ca_pem(ca.pem.clone())).await;
        let err = outcome.expect_err("no password must be refused");
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{client:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_with_a_client_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("strata test CA");
    let server = tls_server(&ca, dir.path(), true, None);
    let url = plain_tls_url(&server);
    let (cert, key) = ca.leaf("strata client", true);
    for client in clients() {
        let store = connect(
            builder(url.clone(), client)
                .tls_root_ca_pem(ca.pem.clone())
                .tls_client_cert_pem(cert.clone(), key.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("{client:?}: mutual TLS: {e}"));
        set_then_get(&store, client).await;
        assert!(
            !format!("{:?}", store.config()).contains("PRIVATE KEY"),
            "the key must never be shown"
        );
        // Without a client certificate the server closes the handshake.
        let err = connect(builder(url.clone(), client).tls_root_ca_pem(ca.pem.clone()))
            .await
            .expect_err("a server that requires a client certificate must refuse none");
        println!("{client:?}, no client certificate: {err}");
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{client:?}: {err}");
    }
}

#[tokio::test]
async fn unreadable_certificates_are_a_config_error() {
    for client in clients() {
        let err = RedisStore::builder()
            .url("rediss://127.0.0.1:1/")
            .client(client)
            .tls_root_ca_pem("not PEM")
            .tls_client_cert_pem("also not PEM", "-----BEGIN PRIVATE KEY-----\nsecretbits")
            .connect()
            .await
            .expect_err("bad PEM must be refused before connecting");
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        let text = err.to_string();
        assert!(text.contains("tls root CA"), "{text}");
        assert!(text.contains("tls client key"), "{text}");
        assert!(!text.contains("secretbits"), "{text}");
        // Certificates without any rediss:// URL are a mistake worth reporting.
        let err = RedisStore::builder()
            .url("redis://127.0.0.1:1/")
            .client(client)
            .tls_root_ca_pem(Ca::new("x").pem)
            .connect()
            .await
            .expect_err("TLS settings on a plain URL");
        assert!(err.to_string().contains("rediss://"), "{err}");
    }
}
