//! Every redis-rs error mapped to a [`strata_core::Error`] with a kind a caller can match, in
//! one place.

use redis::{ErrorKind as RedisKind, RedisError, ServerErrorKind};
use strata_core::{Error, ErrorKind, Retry};

use crate::secret::{Secret, scrub};

/// The backend name errors carry.
pub(crate) const BACKEND: &str = "redis";

/// Maps a redis-rs error from `operation`. The message never contains the password.
pub(crate) fn map(err: &RedisError, operation: &'static str, password: Option<&Secret>) -> Error {
    let text = scrub(&err.to_string(), password);
    let (kind, retry, message) = classify(err, text);
    Error::new(kind, message)
        .with_retry(retry)
        .with_operation(operation)
        .with_backend(BACKEND)
}

fn classify(err: &RedisError, text: String) -> (ErrorKind, Retry, String) {
    match err.code() {
        Some("OOM") => {
            return (
                ErrorKind::Backend,
                Retry::Never,
                format!(
                    "Redis is out of memory (used_memory is over maxmemory and the eviction \
                     policy cannot free space): {text}"
                ),
            );
        }
        Some("WRONGPASS" | "NOAUTH") => {
            return (
                ErrorKind::InvalidConfig,
                Retry::Never,
                format!("Redis refused the credentials; check the user and password: {text}"),
            );
        }
        Some("NOPERM") => {
            return (
                ErrorKind::Backend,
                Retry::Never,
                format!("the Redis ACL user may not run this command: {text}"),
            );
        }
        Some("WRONGTYPE") => {
            return (
                ErrorKind::Codec,
                Retry::Never,
                format!("the Redis key holds another data type: {text}"),
            );
        }
        _ => {}
    }
    if err.is_timeout() {
        return (
            ErrorKind::Timeout,
            Retry::Safe,
            format!("Redis did not answer in time: {text}"),
        );
    }
    match err.kind() {
        RedisKind::AuthenticationFailed => (
            ErrorKind::InvalidConfig,
            Retry::Never,
            format!("Redis refused the credentials; check the user and password: {text}"),
        ),
        RedisKind::InvalidClientConfig => (ErrorKind::InvalidConfig, Retry::Never, text),
        RedisKind::Io | RedisKind::ClusterConnectionNotFound => (
            ErrorKind::Unavailable,
            Retry::Safe,
            format!("cannot reach Redis: {text}"),
        ),
        RedisKind::Server(
            ServerErrorKind::Moved
            | ServerErrorKind::Ask
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            | ServerErrorKind::BusyLoading,
        ) => (
            ErrorKind::Unavailable,
            Retry::Safe,
            format!("Redis is not ready to serve: {text}"),
        ),
        RedisKind::Server(ServerErrorKind::ReadOnly) => (
            ErrorKind::Unavailable,
            Retry::Safe,
            format!("Redis answered from a read-only replica: {text}"),
        ),
        RedisKind::Parse | RedisKind::UnexpectedReturnType => {
            (ErrorKind::Backend, Retry::Never, text)
        }
        _ => (ErrorKind::Backend, Retry::Never, text),
    }
}

/// The error for a reply of an unexpected shape (never a panic).
pub(crate) fn unexpected(operation: &'static str, what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Backend,
        format!("unexpected reply from Redis: {what}"),
    )
    .with_operation(operation)
    .with_backend(BACKEND)
}

/// True when a server error inside a pipeline reply asks the client to go elsewhere.
pub(crate) fn is_redirect(err: &RedisError) -> bool {
    matches!(
        err.kind(),
        RedisKind::Server(
            ServerErrorKind::Moved | ServerErrorKind::Ask | ServerErrorKind::TryAgain
        )
    )
}
