//! Signing in with the card (issue 14): the OpenID Connect provider's endpoints.
//!
//! - `api.rs`: the machine endpoints — discovery, JWKS, token, userinfo, and the
//!   desktop client's challenge look-up and answer (`maina card login`).
//! - `pages.rs`: the resident's pages — the authorization page (the challenge as
//!   text and QR code, continuing by itself: `/static/oidc.js` polls), the
//!   continuation and the consent page.
//! - `console.rs`: the supervisor's relying-party page.
//!
//! Every endpoint is in the OpenAPI document (`openapi.rs`). Errors are OAuth's
//! `{error, error_description}`; an unknown client or redirect URI is shown on our
//! page and never redirected.

pub mod api;
pub mod console;
pub mod pages;

use crate::AppState;
use axum::http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::OidcError;
use maina_service::ServiceError;

/// The routes outside the OpenAPI document: the page script and the console page
/// (merged under the CSRF layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/static/oidc.js", get(pages::script))
        .merge(console::routes())
}

/// The provider's issuer: `public_url` when set, else this request's origin.
pub fn issuer(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.config.public_url.as_deref() {
        return url.trim_end_matches('/').to_owned();
    }
    crate::http::csrf::expected_origin(None, state.config.secure_cookies, headers)
        .unwrap_or_else(|| "http://localhost".to_owned())
}

/// Whether cookies get the Secure flag: when the public URL is https, or
/// cookies are secure anyway.
pub(crate) fn secure_cookie(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .map_or(state.config.secure_cookies, |url| {
            url.starts_with("https://")
        })
}

/// A refusal in OAuth's shape.
#[derive(Debug)]
pub struct OAuthError(pub ServiceError);

impl From<ServiceError> for OAuthError {
    fn from(error: ServiceError) -> Self {
        Self(error)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = match error.code {
            "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
            "access_denied" => StatusCode::FORBIDDEN,
            "internal" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" | "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let code = match error.code {
            "internal" => "server_error",
            "invalid_field" | "bad_request" | "not_found" => "invalid_request",
            other => other,
        };
        let mut response = (
            status,
            Json(OidcError {
                error: code.to_owned(),
                error_description: error.message,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match code {
            "invalid_client" => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"maina\""),
                );
            }
            "invalid_token" => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        response
    }
}

/// The cookie of a sign-in's browser binding.
pub(crate) fn request_cookie(id: &str) -> String {
    format!("maina_oidc_{id}")
}
