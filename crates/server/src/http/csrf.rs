//! Cross-site request forgery: every form post to a page must come from our own
//! pages. One layer guards every page router (the JSON API takes bearer tokens
//! only, which a browser never sends on its own, so it needs no such check). The
//! session cookie is SameSite=Strict too; this check does not rely on it.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN, REFERER};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The origin (`scheme://host[:port]`, lower case) of an absolute URL, if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if scheme.is_empty() || authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}").to_ascii_lowercase())
}

/// The origin our own pages are served from: that of `public_url` when it is set;
/// else the request's Host, over https unless cookies are sent without the Secure
/// flag (plain-HTTP testing).
pub fn expected_origin(
    public_url: Option<&str>,
    secure_cookies: bool,
    headers: &HeaderMap,
) -> Option<String> {
    if let Some(url) = public_url {
        return origin_of(url);
    }
    let host = headers.get(HOST)?.to_str().ok()?;
    let scheme = if secure_cookies { "https" } else { "http" };
    origin_of(&format!("{scheme}://{host}"))
}

/// Whether a post comes from `expected`: its Origin header, or its Referer's
/// origin when the browser sent no Origin, must match it exactly, scheme
/// included. A post naming neither is refused: every browser we serve sends one.
pub fn same_origin(headers: &HeaderMap, expected: Option<&str>) -> bool {
    let Some(expected) = expected else {
        return false;
    };
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let source = match header(ORIGIN) {
        // "null" is what a sandboxed frame or a privacy-stripped post sends.
        Some(origin) if origin != "null" => origin_of(origin),
        Some(_) => None,
        None => header(REFERER).and_then(origin_of),
    };
    source.as_deref() == Some(expected)
}

/// The answer to a refused cross-origin post.
pub fn cross_origin_refused() -> Response {
    (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response()
}

/// The layer over every page router: a request that may change something
/// (anything but GET, HEAD and OPTIONS) must come from our own origin.
pub async fn require_same_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let expected = expected_origin(
        state.config.public_url.as_deref(),
        state.config.secure_cookies,
        headers,
    );
    if same_origin(headers, expected.as_deref()) {
        next.run(request).await
    } else {
        cross_origin_refused()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_origin_must_match_with_its_scheme() {
        let ours = Some("https://maina.example");
        let check = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), ours);
        assert!(check(&[("origin", "https://maina.example")]));
        assert!(check(&[("referer", "https://maina.example/console?x=1")]));
        // Before: a post without Origin passed, and the scheme was ignored.
        assert!(!check(&[]));
        assert!(!check(&[("origin", "http://maina.example")]));
        assert!(!check(&[("origin", "https://maina.example.evil")]));
        assert!(!check(&[("origin", "null")]));
        assert!(!check(&[
            ("origin", "https://evil.example"),
            ("referer", "https://maina.example/")
        ]));
        assert!(!same_origin(
            &headers(&[("origin", "https://maina.example")]),
            None
        ));
    }

    #[test]
    fn the_expected_origin_comes_from_public_url_first() {
        let request = headers(&[("host", "evil.example")]);
        assert_eq!(
            expected_origin(Some("https://maina.example/base/"), true, &request).as_deref(),
            Some("https://maina.example")
        );
        assert_eq!(
            expected_origin(None, true, &request).as_deref(),
            Some("https://evil.example")
        );
        assert_eq!(
            expected_origin(None, false, &request).as_deref(),
            Some("http://evil.example")
        );
    }
}
