//! # strata-admin
//!
//! The operations HTTP surface of a Strata cache system: an [axum] [`Router`] that a
//! service mounts under any path of its own app (or serves alone), over a running
//! [`CacheSystem`]. It answers JSON for health, configuration (and a governance policy
//! change through the validated hot-reload path), metrics (and the same in Prometheus text),
//! promotion, system status, warm-up, a bounded synthetic test load, `explain` of one key
//! (never its value) and invalidation; and serves a self-contained status page at `/`.
//!
//! Every endpoint but the page needs an `X-API-KEY` header. Read keys reach the `GET`
//! endpoints, write keys every endpoint; a missing or wrong key is `401`, a read key on a
//! `POST`/`PUT` endpoint `403`, each with a JSON error and counted. Keys are compared in
//! constant time and never logged. With no key configured, [`router`] refuses to build
//! unless [`AdminConfig::allow_open_on_loopback`] says to serve loopback clients without
//! keys. See `docs/admin.md` for every endpoint with an example response.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use strata::{CacheSystem, config::Config};
//! use strata_admin::{AdminConfig, router};
//!
//! let system = CacheSystem::start(Config::source().env_vars([("CACHE_BACKEND", "memory")]).load()?).await?;
//! let admin = AdminConfig::new()
//!     .read_key("read-key-0123456789abcdef")
//!     .write_key("write-key-0123456789abcdef");
//! // Mounted under /admin of the service's own router.
//! let app: axum::Router = axum::Router::new().nest("/admin", router(system.clone(), admin)?);
//! # drop(app);
//!
//! // No key at all: refused, unless explicitly open on loopback.
//! assert!(router(system.clone(), AdminConfig::new()).is_err());
//! assert!(router(system.clone(), AdminConfig::new().allow_open_on_loopback(true)).is_ok());
//! # Ok::<(), strata::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod auth;
mod body;
mod config;
mod error;
mod page;
mod prometheus;
mod routes;
mod state;
mod test_load;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use strata::CacheSystem;
use tower_http::limit::RequestBodyLimitLayer;

pub use config::{
    AdminConfig, DEFAULT_ADDR, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_TEST_CONCURRENCY,
    DEFAULT_MAX_TEST_OPERATIONS, ENV_ADDR, ENV_MAX_BODY_BYTES, ENV_MAX_TEST_OPERATIONS,
    ENV_OPEN_ON_LOOPBACK, ENV_READ_KEYS, ENV_WRITE_KEYS, addr_from_env,
};
pub use test_load::TEST_NAMESPACE;

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "X-API-KEY";

/// The admin router over `system`, configured by `config`. Mount it with
/// [`Router::nest`] under any path, or serve it alone (with
/// `into_make_service_with_connect_info::<SocketAddr>()` when it runs open on loopback, so
/// it can tell loopback clients from others).
///
/// # Errors
///
/// [`ErrorKind::InvalidConfig`](strata::ErrorKind::InvalidConfig) listing every problem of
/// `config`, or when no key is configured and the router is not explicitly allowed to run
/// open on loopback.
pub fn router(system: CacheSystem, config: AdminConfig) -> strata::Result<Router> {
    config.validate()?;
    let keys = auth::Keys::from_config(&config)?;
    let max_body = config.max_body_bytes;
    let state = Arc::new(state::AppState::new(system, config, keys));
    let api = Router::new()
        .route("/cache-health", get(routes::health))
        .route(
            "/cache-config",
            get(routes::get_config).put(routes::put_config),
        )
        .route("/cache-metrics", get(routes::metrics))
        .route("/metrics", get(prometheus::metrics))
        .route("/cache-promotion", get(routes::promotion))
        .route("/cache-system-status", get(routes::system_status))
        .route("/cache-warmup", post(routes::warmup))
        .route("/cache-test-load", post(test_load::run))
        .route("/cache-explain/{namespace}/{key}", get(routes::explain))
        .route("/cache-invalidate", post(routes::invalidate))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::require));
    Ok(Router::new()
        .route("/", get(page::page))
        .merge(api)
        .fallback(error::not_found)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::map_response(error::json_for_plain_errors))
        .with_state(state))
}
