//! API keys: read and write roles, compared in constant time, never logged; open mode for
//! loopback clients when explicitly allowed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::{Choice, ConstantTimeEq};

use crate::config::{AdminConfig, Secret};
use crate::error::ApiError;
use crate::state::{AppState, Counters};

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    /// The `GET` endpoints.
    Read,
    /// Every endpoint.
    Write,
}

/// The configured keys.
pub(crate) struct Keys {
    read: Vec<Vec<u8>>,
    write: Vec<Vec<u8>>,
    open: bool,
}

impl Keys {
    pub(crate) fn from_config(config: &AdminConfig) -> strata::Result<Self> {
        let bytes = |keys: &[Secret]| keys.iter().map(|Secret(k)| k.as_bytes().to_vec()).collect();
        let keys = Keys {
            read: bytes(&config.read_keys),
            write: bytes(&config.write_keys),
            open: config.is_open(),
        };
        if keys.read.is_empty() && keys.write.is_empty() && !keys.open {
            return Err(strata::Error::invalid_config(format!(
                "no admin API key is configured: set {} and/or {} (comma-separated, at least 16 characters each), \
                 or AdminConfig::read_key/write_key; or, to serve loopback clients without keys, \
                 {}=true / AdminConfig::allow_open_on_loopback(true)",
                crate::ENV_READ_KEYS,
                crate::ENV_WRITE_KEYS,
                crate::ENV_OPEN_ON_LOOPBACK
            )));
        }
        Ok(keys)
    }

    /// The role of `presented`, comparing it with every key (no early exit on a match).
    fn role_of(&self, presented: &[u8]) -> Option<Role> {
        let any = |keys: &[Vec<u8>]| {
            keys.iter().fold(Choice::from(0), |acc, k| {
                acc | k.as_slice().ct_eq(presented)
            })
        };
        let write = any(&self.write);
        let read = any(&self.read);
        if bool::from(write) {
            Some(Role::Write)
        } else if bool::from(read) {
            Some(Role::Read)
        } else {
            None
        }
    }
}

fn unauthorized(code: &'static str, message: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response()
}

/// The middleware in front of every endpoint but the page: `GET`/`HEAD` need a read or
/// write key, other methods a write key.
pub(crate) async fn require(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let needed = if matches!(*request.method(), Method::GET | Method::HEAD) {
        Role::Read
    } else {
        Role::Write
    };
    let path = request.uri().path().to_owned();
    let counters = &state.counters;
    if state.keys.open {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if peer.is_some_and(|ip| ip.is_loopback()) {
            Counters::bump(&counters.accepted);
            return next.run(request).await;
        }
        Counters::bump(&counters.not_loopback);
        tracing::warn!(
            path,
            "admin request refused: open mode serves loopback clients only"
        );
        return unauthorized(
            "not_loopback",
            "this admin surface runs without keys and answers loopback clients only",
        );
    }
    let Some(presented) = request.headers().get(crate::API_KEY_HEADER) else {
        Counters::bump(&counters.missing_key);
        tracing::warn!(path, "admin request refused: no X-API-KEY header");
        return unauthorized("missing_key", "send an API key in the X-API-KEY header");
    };
    match state.keys.role_of(presented.as_bytes()) {
        None => {
            Counters::bump(&counters.wrong_key);
            // The key itself is never logged.
            tracing::warn!(path, "admin request refused: unknown API key");
            unauthorized("wrong_key", "the API key is not valid")
        }
        Some(role) if role < needed => {
            Counters::bump(&counters.wrong_role);
            tracing::warn!(
                path,
                "admin request refused: a read-only key on a write endpoint"
            );
            ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_role",
                "this key is read-only; this endpoint needs an admin (write) key",
            )
            .into_response()
        }
        Some(_) => {
            Counters::bump(&counters.accepted);
            next.run(request).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        let keys = Keys::from_config(
            &AdminConfig::new()
                .read_key("r".repeat(16))
                .write_key("w".repeat(16))
                .read_key("b".repeat(16))
                .write_key("b".repeat(16)),
        )
        .unwrap();
        assert_eq!(keys.role_of("r".repeat(16).as_bytes()), Some(Role::Read));
        assert_eq!(keys.role_of("w".repeat(16).as_bytes()), Some(Role::Write));
        // A key listed in both is an admin key.
        assert_eq!(keys.role_of("b".repeat(16).as_bytes()), Some(Role::Write));
        assert_eq!(keys.role_of("r".repeat(15).as_bytes()), None);
        assert_eq!(keys.role_of(b""), None);
    }

    #[test]
    fn no_key_is_refused_unless_open() {
        let err = Keys::from_config(&AdminConfig::new()).err().unwrap();
        assert_eq!(err.kind(), strata::ErrorKind::InvalidConfig);
        assert!(err.to_string().contains("STRATA_ADMIN_READ_KEYS"));
        assert!(Keys::from_config(&AdminConfig::new().allow_open_on_loopback(true)).is_ok());
    }
}
