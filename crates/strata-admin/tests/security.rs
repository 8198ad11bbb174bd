//! Every security case: missing and wrong keys (401), read keys on write endpoints (403),
//! counted; keys never logged or echoed; refusing to start without keys; open mode serving
//! loopback clients only; the page served without a key.

mod common;

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use axum::extract::ConnectInfo;
use axum::http::{Method, StatusCode};
use common::*;
use strata::ErrorKind;
use strata_admin::{AdminConfig, router};

fn method(m: &str) -> Method {
    Method::from_str(m).unwrap()
}

#[tokio::test]
async fn a_missing_key_is_401_with_a_json_error_on_every_endpoint() {
    let system = system().await;
    let app = app(&system);
    for (m, path, body) in ENDPOINTS {
        let a = call(&app, method(m), path, None, body).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{m} {path}");
        assert!(a.content_type.starts_with("application/json"), "{m} {path}");
        assert_eq!(a.json()["error"], "missing_key", "{m} {path}");
    }
    let status = get(&app, "/cache-system-status").await.json();
    assert_eq!(status["admin"]["missing_key"], ENDPOINTS.len() as u64);
    insta::assert_json_snapshot!(
        "missing_key",
        call(&app, Method::GET, "/cache-health", None, None)
            .await
            .json()
    );
}

#[tokio::test]
async fn a_wrong_key_is_401_and_is_never_echoed() {
    let system = system().await;
    let app = app(&system);
    let wrong = "not-a-configured-key-42";
    for (m, path, body) in ENDPOINTS {
        let a = call(&app, method(m), path, Some(wrong), body).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{m} {path}");
        assert_eq!(a.json()["error"], "wrong_key", "{m} {path}");
        assert!(!a.text.contains(wrong));
    }
    // A prefix or an extension of a real key is wrong too.
    for k in [&READ[..READ.len() - 1], &format!("{WRITE}x")] {
        let a = call(&app, Method::GET, "/cache-health", Some(k), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let status = get(&app, "/cache-system-status").await.json();
    assert_eq!(status["admin"]["wrong_key"], ENDPOINTS.len() as u64 + 2);
    insta::assert_json_snapshot!(
        "wrong_key",
        call(&app, Method::GET, "/cache-health", Some(wrong), None)
            .await
            .json()
    );
}

#[tokio::test]
async fn a_read_key_reaches_reads_only_and_a_write_key_everything() {
    let system = system().await;
    let app = app(&system);
    let mut forbidden = 0;
    for (m, path, body) in ENDPOINTS {
        let a = call(&app, method(m), path, Some(READ), body).await;
        if m == "GET" {
            assert_eq!(a.status, StatusCode::OK, "{m} {path}: {}", a.text);
        } else {
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{m} {path}");
            assert_eq!(a.json()["error"], "wrong_role");
            forbidden += 1;
        }
        let a = call(&app, method(m), path, Some(WRITE), body).await;
        assert_eq!(a.status, StatusCode::OK, "{m} {path}: {}", a.text);
    }
    assert_eq!(forbidden, 4);
    // Nothing the read key asked for ran: the PUT left the policy at version 2 (the write
    // key's PUT), not 3.
    assert_eq!(system.governance().unwrap().version(), 2);
    let text = get(&app, "/metrics").await.text;
    assert!(
        text.contains("strata_admin_requests_total{outcome=\"wrong_role\"} 4"),
        "{text}"
    );
    insta::assert_json_snapshot!(
        "wrong_role",
        call(&app, Method::POST, "/cache-warmup", Some(READ), Some("{}"))
            .await
            .json()
    );
}

#[tokio::test]
async fn the_router_refuses_to_start_without_keys_unless_open_on_loopback() {
    let system = system().await;
    let err = router(system.clone(), AdminConfig::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let text = err.to_string();
    assert!(text.contains("STRATA_ADMIN_READ_KEYS"), "{text}");
    assert!(text.contains("allow_open_on_loopback"), "{text}");
    // Weak keys are refused too, named by position only.
    let err = router(system.clone(), AdminConfig::new().write_key("hunter2")).unwrap_err();
    assert!(err.to_string().contains("key 1 is 7 characters"));
    assert!(!err.to_string().contains("hunter2"));
    // From the environment's names.
    let config = AdminConfig::from_vars([
        ("STRATA_ADMIN_READ_KEYS", format!(" {READ} ,")),
        ("STRATA_ADMIN_WRITE_KEYS", WRITE.to_owned()),
    ])
    .unwrap();
    let app = router(system.clone(), config).unwrap();
    assert_eq!(get(&app, "/cache-health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn open_mode_serves_loopback_clients_only() {
    let system = system().await;
    let app = router(
        system.clone(),
        AdminConfig::new().allow_open_on_loopback(true),
    )
    .unwrap();
    let from = |peer: &str| {
        let mut r = request(
            Method::POST,
            "/cache-test-load",
            None,
            Some(r#"{"operations": 4}"#),
        );
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    };
    assert_eq!(
        send(&app, from("127.0.0.1:5000")).await.status,
        StatusCode::OK
    );
    assert_eq!(send(&app, from("[::1]:5000")).await.status, StatusCode::OK);
    // An address in a struct, never contacted.
    let a = send(&app, from("192.0.2.7:5000")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["error"], "not_loopback");
    // Served without connect info, the router cannot tell: refused.
    let a = call(&app, Method::GET, "/cache-health", None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let status = {
        let mut r = request(Method::GET, "/cache-system-status", None, None);
        r.extensions_mut()
            .insert(ConnectInfo("127.0.0.1:1".parse::<SocketAddr>().unwrap()));
        send(&app, r).await.json()
    };
    assert_eq!(status["admin"]["not_loopback"], 2);
    // Keys configured: open mode is ignored and keys are required even on loopback.
    let keyed = router(system.clone(), keyed().allow_open_on_loopback(true)).unwrap();
    assert_eq!(
        send(&keyed, from("127.0.0.1:5000")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_page_needs_no_key_and_holds_no_data() {
    let system = system().await;
    let cache = system.cache::<String>("secrets_ns").unwrap();
    cache.set("k", "a value".into()).await.unwrap();
    let app = app(&system);
    let a = call(&app, Method::GET, "/", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.content_type.starts_with("text/html"));
    assert!(a.text.contains("Strata cache status"));
    assert!(!a.text.contains("secrets_ns"));
    assert!(!a.text.contains(READ));
    // Self-contained: no external script, style sheet or font.
    assert!(!a.text.contains("<script src"));
    assert!(!a.text.contains("<link"));
    assert!(!a.text.contains("https://"));
    let response = {
        use tower::ServiceExt;
        app.clone()
            .oneshot(request(Method::GET, "/", None, None))
            .await
            .unwrap()
    };
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

/// Collects every tracing event's text, to check that no key is ever logged.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut text = String::new();
        event.record(&mut Fields(&mut text));
        self.0.lock().unwrap().push(text);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn keys_are_never_logged() {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let system = system().await;
    let app = app(&system);
    let wrong = "wrong-key-that-must-not-be-logged";
    call(&app, Method::GET, "/cache-health", Some(wrong), None).await;
    call(&app, Method::GET, "/cache-health", None, None).await;
    call(&app, Method::POST, "/cache-warmup", Some(READ), Some("{}")).await;
    post(&app, "/cache-invalidate", r#"{"namespace": "users"}"#).await;
    post(&app, "/cache-test-load", r#"{"operations": 4}"#).await;

    let events = capture.0.lock().unwrap().clone();
    assert!(
        events.iter().any(|e| e.contains("refused")),
        "the refusals are logged: {events:?}"
    );
    for e in &events {
        for k in [wrong, READ, WRITE] {
            assert!(!e.contains(k), "a key was logged: {e}");
        }
    }
}
