//! [`JsonBody`]: a JSON request body read within the size limit, whose errors name the field
//! at fault.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body of type `T`; an empty body reads as `{}`.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        // The body limit layer bounds the body; this reads what it lets through.
        let bytes = read(req.into_body()).await?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        parse(bytes).map(JsonBody)
    }
}

async fn read(body: Body) -> Result<axum::body::Bytes, ApiError> {
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "the request body is over the size limit",
                    ));
                }
                source = s.source();
            }
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the request body could not be read: {e}"),
            ))
        }
    }
}

/// Parses `bytes`, naming the field at fault on error.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => match de.end() {
            Ok(()) => Ok(v),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
            )),
        },
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the body is not valid JSON: {message}"),
                ));
            }
            let field = if path != "." {
                Some(path)
            } else {
                // "missing field `x`" and "unknown field `x`" name it only in the message.
                message
                    .split('`')
                    .nth(1)
                    .filter(|_| message.contains(" field `"))
                    .map(str::to_owned)
            };
            let err = ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
            Err(match field {
                Some(f) => err.with("field", f),
                None => err,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Req {
        operations: u64,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn field(text: &str) -> Option<String> {
        parse::<Req>(text.as_bytes())
            .unwrap_err()
            .extra
            .get("field")
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            field(r#"{"operations": "x"}"#).as_deref(),
            Some("operations")
        );
        assert_eq!(field(r#"{}"#).as_deref(), Some("operations"));
        assert_eq!(
            field(r#"{"operations": 1, "bogus": 2}"#).as_deref(),
            Some("bogus")
        );
        assert_eq!(
            field(r#"{"operations": 1, "inner": {"n": 300}}"#).as_deref(),
            Some("inner.n")
        );
        let e = parse::<Req>(b"{\"operations\": ").unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = parse::<Req>(b"{\"operations\": 1} x").unwrap_err();
        assert_eq!(e.code, "invalid_json");
    }
}
