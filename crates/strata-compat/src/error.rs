//! The errors strata-compat adds to [`strata::Error`]: each one has an [`ErrorKind`] a caller
//! can match and a message that says what to do.

use strata::{Error, ErrorKind};

/// The global cache was used before [`init`](crate::global::init): `InvalidConfig`, never
/// retryable, naming the call.
pub(crate) fn not_initialized(operation: &'static str) -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        format!(
            "the global compat cache is not initialized: call strata_compat::global::init(store, \
             options) or init_from_env() once at start-up before `{operation}`"
        ),
    )
    .with_operation(operation)
}

/// A second [`init`](crate::global::init): `InvalidConfig`.
pub(crate) fn already_initialized() -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        "the global compat cache is already initialized; init may be called once per process \
         (use strata_compat::global::get_unified_cache_manager() to reach it)",
    )
    .with_operation("init")
}

/// A key part (an ISO, a market, ...) that would make two different keys collide.
pub(crate) fn bad_key_part(helper: &'static str, part: &'static str, value: &str) -> Error {
    Error::new(
        ErrorKind::InvalidKey,
        format!(
            "{part} {value:?} passed to {helper} must be non-empty and must not contain `:`, \
             which separates the parts of the key"
        ),
    )
    .with_operation(helper)
}

/// The blocking wrapper's thread is gone (it was dropped, or its runtime stopped).
pub(crate) fn worker_gone(operation: &'static str) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "the blocking cache's runtime thread has stopped; build a new BlockingCache",
    )
    .with_operation(operation)
    .with_retry(strata::Retry::Never)
}
