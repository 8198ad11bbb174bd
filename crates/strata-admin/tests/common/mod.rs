//! Helpers shared by the admin tests: a memory-backed system, the router, one request.

#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use strata::CacheSystem;
use strata::config::Config;
use strata::warming::{WarmLoader, WarmingConfig};
use strata_admin::{AdminConfig, router};
use tower::ServiceExt;

pub const READ: &str = "read-key-0123456789abcdef";
pub const WRITE: &str = "write-key-0123456789abcdef";

/// A memory-backed system with warming configured for `curves` (keys CAISO:0..5).
pub async fn system() -> CacheSystem {
    let config = Config::source()
        .env_vars([("CACHE_BACKEND", "memory")])
        .load()
        .unwrap();
    let loader = WarmLoader::from_sync(|id: &str| match id {
        "bad" => Err("source down".to_owned()),
        _ => Ok(Some(format!("curve {id}"))),
    });
    CacheSystem::builder(config)
        .warming(
            "curves",
            WarmingConfig::new((0..5).map(|i| format!("CAISO:{i}")), loader),
        )
        .start()
        .await
        .unwrap()
}

pub fn keyed() -> AdminConfig {
    AdminConfig::new().read_key(READ).write_key(WRITE)
}

pub fn app(system: &CacheSystem) -> Router {
    router(system.clone(), keyed()).unwrap()
}

/// What an answer was.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn request(method: Method, path: &str, key: Option<&str>, body: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(k) = key {
        b = b.header("X-API-KEY", k);
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    b.body(body.map_or_else(Body::empty, |s| Body::from(s.to_owned())))
        .unwrap()
}

pub async fn call(
    app: &Router,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> Answer {
    send(app, request(method, path, key, body)).await
}

pub async fn get(app: &Router, path: &str) -> Answer {
    call(app, Method::GET, path, Some(READ), None).await
}

pub async fn post(app: &Router, path: &str, body: &str) -> Answer {
    call(app, Method::POST, path, Some(WRITE), Some(body)).await
}

/// Every endpoint but the page: (method, path, a valid body for writes).
pub const ENDPOINTS: [(&str, &str, Option<&str>); 11] = [
    ("GET", "/cache-health", None),
    ("GET", "/cache-config", None),
    (
        "PUT",
        "/cache-config",
        Some(r#"{"governance": "mode = \"clamp\"\n"}"#),
    ),
    ("GET", "/cache-metrics", None),
    ("GET", "/metrics", None),
    ("GET", "/cache-promotion", None),
    ("GET", "/cache-system-status", None),
    ("POST", "/cache-warmup", Some("{}")),
    ("POST", "/cache-test-load", Some(r#"{"operations": 10}"#)),
    ("GET", "/cache-explain/users/42", None),
    (
        "POST",
        "/cache-invalidate",
        Some(r#"{"namespace": "users", "key": "42"}"#),
    ),
];
