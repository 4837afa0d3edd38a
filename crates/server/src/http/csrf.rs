//! Cross-site request forgery: a cookie-authenticated form post must come from our
//! own pages (the session cookie is SameSite=Strict too).

use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Whether a form post comes from our own origin (or names none).
pub fn same_origin(headers: &HeaderMap) -> bool {
    match (
        headers.get(ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// The answer to a refused cross-origin post.
pub fn cross_origin_refused() -> Response {
    (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response()
}

/// The refusal to send when a form post is cross-origin.
pub fn refusal(headers: &HeaderMap) -> Option<Response> {
    (!same_origin(headers)).then(cross_origin_refused)
}
