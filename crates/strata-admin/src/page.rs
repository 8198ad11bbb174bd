//! `GET /`: the status page, one self-contained HTML file (inlined CSS and JavaScript, no
//! CDN, no build step). It holds no data: it fetches the JSON endpoints with the key the
//! operator types, kept in the page's memory only.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

/// The page.
const PAGE: &str = include_str!("page.html");

/// What the page may do: inline scripts and styles, requests to its own origin, nothing
/// else (no other origin, no framing, no forms posted elsewhere).
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// `GET /`.
pub(crate) async fn page() -> Response {
    let mut response = Html(PAGE).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
