//! Connecting: passwords and ACL users, unreachable servers, bad URLs and settings. Every
//! failure is a typed error that names the problem, never a panic, and never shows a password.

mod common;

use std::time::Duration;

use common::key;
use strata_core::{ErrorKind, SetOptions, Store};
use strata_redis::{RedisStore, RetryPolicy};
use strata_testkit::redis_server::{RedisServer, require_private_server};

const PASSWORD: &str = "s3cret-Pa55";

#[tokio::test]
async fn a_password_protected_server_needs_the_password() {
    let server = RedisServer::builder()
        .requirepass(PASSWORD)
        .start()
        .unwrap_or_else(|e| panic!("this test needs a private redis-server: {e}"));
    let plain = format!("redis://127.0.0.1:{}", server.port());

    let err = RedisStore::connect(&plain).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
    assert!(err.to_string().contains("credentials"), "{err}");

    let wrong = RedisStore::builder()
        .url(&plain)
        .password("not-it")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::InvalidConfig, "{wrong}");
    assert!(!wrong.to_string().contains("not-it"), "{wrong}");

    // The password in the URL, and given to the builder: both work, neither is shown.
    let in_url = RedisStore::connect(&server.url()).await.unwrap();
    let k = key("auth", "k");
    in_url.set(&k, "v".into(), SetOptions::new()).await.unwrap();
    let builder = RedisStore::builder().url(&plain).password(PASSWORD);
    assert!(!format!("{builder:?}").contains(PASSWORD), "{builder:?}");
    let store = builder.connect().await.unwrap();
    assert!(store.get(&k).await.unwrap().is_some());
    assert!(!format!("{store:?}").contains(PASSWORD));
    assert!(!format!("{in_url:?}").contains(PASSWORD), "{in_url:?}");
}

#[tokio::test]
async fn an_acl_user_can_connect_with_its_own_password() {
    let server = require_private_server();
    server
        .command(&["ACL", "SETUSER", "app", "on", ">app-pw", "~*", "+@all"])
        .unwrap();
    let url = format!("redis://127.0.0.1:{}", server.port());
    let store = RedisStore::builder()
        .url(&url)
        .username("app")
        .password("app-pw")
        .connect()
        .await
        .unwrap();
    store
        .set(&key("acl", "k"), "v".into(), SetOptions::new())
        .await
        .unwrap();
    let url_user = format!("redis://app:app-pw@127.0.0.1:{}", server.port());
    assert!(RedisStore::connect(&url_user).await.is_ok());
    let wrong = RedisStore::builder()
        .url(&url)
        .username("app")
        .password("nope")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::InvalidConfig, "{wrong}");

    // A user without write permission gets a clear error, not a panic.
    server
        .command(&[
            "ACL",
            "SETUSER",
            "reader",
            "on",
            ">r-pw",
            "~*",
            "+@read",
            "+@connection",
            "+script",
            "+evalsha",
        ])
        .unwrap();
    let reader = RedisStore::builder()
        .url(&url)
        .username("reader")
        .password("r-pw")
        .connect()
        .await
        .unwrap();
    let err = reader
        .set(&key("acl", "k2"), "v".into(), SetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
    assert!(err.to_string().contains("ACL"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_typed_error_naming_the_address() {
    // A port nothing listens on: start a server, note its port, stop it.
    let mut server = require_private_server();
    let port = server.port();
    server.stop();
    let url = format!("redis://127.0.0.1:{port}");
    let err = RedisStore::builder()
        .url(&url)
        .connect_timeout(Duration::from_millis(300))
        .retry(RetryPolicy::NONE)
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn bad_settings_are_reported_all_at_once() {
    let err = RedisStore::builder()
        .url("http://127.0.0.1:6379")
        .prefix("bad prefix{x}")
        .command_timeout(Duration::ZERO)
        .max_value_bytes(0)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    insta::assert_snapshot!("bad_settings", err.to_string());

    let err = RedisStore::connect("redis://user:hunter2@127.0.0.1:notaport")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(!err.to_string().contains("hunter2"), "{err}");
    insta::assert_snapshot!("malformed_url", err.to_string());

    let err = RedisStore::builder().connect().await.unwrap_err();
    insta::assert_snapshot!("no_server", err.to_string());

    let err = RedisStore::builder()
        .cluster(Vec::<String>::new())
        .connect()
        .await
        .unwrap_err();
    insta::assert_snapshot!("empty_cluster", err.to_string());
}
