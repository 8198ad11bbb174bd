//! One error type for every store, layer and the load engine.
//!
//! An [`Error`] has a [`ErrorKind`] a caller can match, a [`Retry`] hint, and a [`Context`]
//! (operation, key, backend). A cache miss is never an error: reads return `Ok(None)`.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// The result type used throughout Strata.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from user code (a loader, a custom store).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong, in a form a caller can match on.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrorKind {
    /// A key, namespace or tag broke a validation rule (empty, too long, bad characters).
    InvalidKey,
    /// An argument other than a key was invalid (a zero TTL, a malformed pattern, an overflow).
    InvalidArgument,
    /// Configuration was invalid (bad URL, ratio out of range, unknown policy).
    InvalidConfig,
    /// Bytes could not be encoded or decoded (not a valid envelope, not an integer, bad JSON).
    Codec,
    /// The store cannot do this operation; its [`Capabilities`](crate::Capabilities) say so too.
    Unsupported,
    /// The backend is unreachable, or a circuit breaker is open.
    Unavailable,
    /// The operation did not finish in time.
    Timeout,
    /// A value is larger than the store can ever hold, or a bounded queue is full.
    CapacityExceeded,
    /// A policy refused the operation (for example a governance rule in reject mode).
    Rejected,
    /// The backend answered with an error.
    Backend,
    /// A loader passed to `get_or_load` failed or panicked.
    Loader,
}

impl ErrorKind {
    /// A short, stable, lower-case name for the kind (`invalid_key`, `timeout`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::Codec => "codec",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::CapacityExceeded => "capacity_exceeded",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Backend => "backend",
            ErrorKind::Loader => "loader",
        }
    }

    /// The retry hint an error of this kind gets unless its creator says otherwise.
    pub const fn default_retry(self) -> Retry {
        match self {
            ErrorKind::Unavailable | ErrorKind::Timeout => Retry::Safe,
            _ => Retry::Never,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether repeating the failed operation can succeed without changing anything.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Retry {
    /// Repeating it will fail the same way (bad input, unsupported, a non-idempotent write).
    Never,
    /// Safe to retry, ideally after a backoff.
    Safe,
}

/// Where an error happened.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The operation, such as `get` or `set`.
    pub operation: Option<&'static str>,
    /// The key involved, written `namespace:id`.
    pub key: Option<String>,
    /// The backend or layer that produced the error, such as `memory`.
    pub backend: Option<Cow<'static, str>>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    retry: Retry,
    message: Cow<'static, str>,
    context: Context,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

/// The error type of every Strata operation.
///
/// ```
/// use strata_core::{Error, ErrorKind, Retry};
/// let err = Error::new(ErrorKind::Timeout, "no answer within 50ms")
///     .with_operation("get")
///     .with_backend("redis");
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert_eq!(err.retry(), Retry::Safe);
/// assert_eq!(err.to_string(), "timeout: no answer within 50ms (operation: get, backend: redis)");
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

impl Error {
    /// A new error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                retry: kind.default_retry(),
                message: message.into(),
                context: Context::default(),
                source: None,
            }),
        }
    }

    /// Shorthand for [`ErrorKind::InvalidKey`].
    pub fn invalid_key(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidKey, message)
    }

    /// Shorthand for [`ErrorKind::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorKind::InvalidConfig`].
    pub fn invalid_config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    /// Shorthand for [`ErrorKind::Codec`].
    pub fn codec(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Codec, message)
    }

    /// Shorthand for [`ErrorKind::Unsupported`], naming the operation.
    pub fn unsupported(operation: &'static str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("this store does not support `{operation}`"),
        )
        .with_operation(operation)
    }

    /// Wraps a loader's error as [`ErrorKind::Loader`]; a Strata [`Error`] is kept as it is.
    pub fn from_loader(err: BoxError) -> Self {
        match err.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => {
                let message = format!("loader failed: {other}");
                Self::new(ErrorKind::Loader, message).with_source_arc(Arc::from(other))
            }
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether a retry is safe.
    pub fn retry(&self) -> Retry {
        self.inner.retry
    }

    /// True when [`Error::retry`] is [`Retry::Safe`].
    pub fn is_retryable(&self) -> bool {
        self.inner.retry == Retry::Safe
    }

    /// The message, without the context.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Where the error happened.
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// Overrides the retry hint.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.inner.retry = retry;
        self
    }

    /// Records the operation, unless one is already recorded (the innermost wins).
    pub fn with_operation(mut self, operation: &'static str) -> Self {
        self.inner.context.operation.get_or_insert(operation);
        self
    }

    /// Records the key, unless one is already recorded.
    pub fn with_key(mut self, key: &crate::Key) -> Self {
        if self.inner.context.key.is_none() {
            self.inner.context.key = Some(key.to_string());
        }
        self
    }

    /// Records the backend, unless one is already recorded.
    pub fn with_backend(mut self, backend: impl Into<Cow<'static, str>>) -> Self {
        if self.inner.context.backend.is_none() {
            self.inner.context.backend = Some(backend.into());
        }
        self
    }

    /// Attaches the underlying cause.
    pub fn with_source(self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.with_source_arc(Arc::new(source))
    }

    fn with_source_arc(mut self, source: Arc<dyn StdError + Send + Sync + 'static>) -> Self {
        self.inner.source = Some(source);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.inner.kind, self.inner.message)?;
        let ctx = &self.inner.context;
        let mut parts: Vec<String> = Vec::new();
        if let Some(op) = ctx.operation {
            parts.push(format!("operation: {op}"));
        }
        if let Some(key) = &ctx.key {
            parts.push(format!("key: {key}"));
        }
        if let Some(backend) = &ctx.backend {
            parts.push(format!("backend: {backend}"));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("retry", &self.inner.retry)
            .field("message", &self.inner.message);
        if self.inner.context != Context::default() {
            d.field("context", &self.inner.context);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_context_once() {
        let key = crate::Key::new(&crate::Namespace::new("users").unwrap(), "42").unwrap();
        let err = Error::codec("not an envelope")
            .with_operation("get")
            .with_operation("outer")
            .with_key(&key)
            .with_backend("memory");
        assert_eq!(
            err.to_string(),
            "codec: not an envelope (operation: get, key: users:42, backend: memory)"
        );
        assert_eq!(err.retry(), Retry::Never);
    }

    #[test]
    fn loader_errors_keep_strata_errors() {
        let inner = Error::new(ErrorKind::Timeout, "slow");
        let e = Error::from_loader(Box::new(inner));
        assert_eq!(e.kind(), ErrorKind::Timeout);
        let io = std::io::Error::other("db down");
        let e = Error::from_loader(Box::new(io));
        assert_eq!(e.kind(), ErrorKind::Loader);
        assert!(e.source().is_some());
        assert_eq!(e.to_string(), "loader: loader failed: db down");
    }

    #[test]
    fn kinds_have_default_retry() {
        assert!(Error::new(ErrorKind::Unavailable, "x").is_retryable());
        assert!(!Error::new(ErrorKind::InvalidKey, "x").is_retryable());
        assert!(
            Error::new(ErrorKind::Backend, "x")
                .with_retry(Retry::Safe)
                .is_retryable()
        );
    }
}
