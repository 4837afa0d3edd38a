//! The security headers every response carries: no page may be framed (clickjacking
//! of the console's forms), no script or style but our own files, no URL of ours
//! sent to another site in a Referer, no content sniffing; and, when residents
//! reach us over https, HSTS so that a browser never tries plain HTTP again.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Our pages use no inline script or style and load nothing from elsewhere; the
/// photos they show are `data:` URLs. Forms post only to ourselves.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// Two years, the preload list's floor.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The headers for a server reached at `public_url`.
pub fn security_headers(public_url: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends
        // `Origin: null` on our own form posts, which the CSRF layer must refuse.
        (REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    let https = public_url.is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"));
    if https {
        headers.push((STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS)));
    }
    headers
}

/// Adds the security headers to every response (a handler's own value wins).
pub async fn add_security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in state.security_headers.iter() {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_only_over_https() {
        let names = |url| {
            security_headers(url)
                .into_iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        };
        assert!(names(Some("https://maina.example")).contains(&STRICT_TRANSPORT_SECURITY));
        assert!(!names(Some("http://127.0.0.1:8080")).contains(&STRICT_TRANSPORT_SECURITY));
        assert!(!names(None).contains(&STRICT_TRANSPORT_SECURITY));
        assert_eq!(names(None).len(), 4);
    }
}
