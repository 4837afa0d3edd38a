//! The resident portal's session: a cookie (`maina_resident`, HttpOnly,
//! SameSite=Lax, Secure when the public URL is https) made after a sign-in through
//! the provider, 30 minutes idle; only its SHA-256 is stored. Handlers take
//! [`ResidentSession`]; without a live session the request is sent to sign in.

use crate::http::cookies::cookie;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

/// The session cookie's name.
pub const COOKIE: &str = "maina_resident";

/// A signed-in resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentSession {
    /// The resident's row key (never a My Number).
    pub resident_key: u64,
    /// The session's id: the hex SHA-256 of its cookie.
    pub session_id: String,
}

impl FromRequestParts<AppState> for ResidentSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/portal/login").into_response();
        let Some(secret) = cookie(&parts.headers, COOKIE).filter(|s| !s.is_empty()) else {
            return Err(to_login());
        };
        match state.service.resident_session(&secret).await {
            Ok(Some(session)) => Ok(Self {
                resident_key: session.resident_key,
                session_id: session.session_id,
            }),
            Ok(None) => Err(to_login()),
            Err(error) => Err(crate::http::ApiError::from(error).into_response()),
        }
    }
}

/// The `Set-Cookie` value of a new session (a browser-session cookie: the idle
/// limit is kept by the server).
pub(crate) fn session_cookie(secret: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
}
