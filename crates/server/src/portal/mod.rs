//! The resident portal (Mynaportal, issue 14). This file and `session.rs` are its
//! sign-in plumbing: the portal is a first-party client of our own OpenID Connect
//! provider (`maina-portal`, registered on first use). `/portal/login` sends the
//! browser to the provider with PKCE, `state` and `nonce` kept in a short-lived
//! cookie; `/portal/callback` checks `state` and redeems the code in-process
//! through the same service function as `/oidc/token`, then opens a resident
//! session ([`session::ResidentSession`]); `/portal/logout` ends it. The portal's
//! pages live in the other files of this folder; `reveal.rs` is the signature
//! step that shows the resident their My Number.

pub mod pages;
pub mod reveal;
pub mod session;

use crate::http::cookies::cookie;
use crate::oidc::{issuer, secure_cookie};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maina_service::oidc::sessions::{new_secret, pkce_challenge};
use maina_service::oidc::{CHALLENGE_SECONDS, PORTAL_CLIENT_ID};
use std::collections::HashMap;

/// The cookie that carries a log-in's state, verifier and nonce to the callback.
const LOGIN_COOKIE: &str = "maina_portal_login";

/// The portal's sign-in routes (merged under the CSRF layer: the log-out posts).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/login", get(login))
        .route("/portal/callback", get(callback))
        .route("/portal/logout", post(logout))
        .merge(pages::routes())
        .merge(reveal::routes())
}

fn callback_uri(issuer: &str) -> String {
    format!("{issuer}/portal/callback")
}

fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, value);
    }
    for set in cookies {
        if let Ok(value) = HeaderValue::from_str(set) {
            headers.append(SET_COOKIE, value);
        }
    }
    response
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, message.to_owned()).into_response()
}

/// Starts a sign-in at our provider.
async fn login(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let issuer = issuer(&state, &headers);
    let redirect_uri = callback_uri(&issuer);
    if let Err(error) = state.service.ensure_portal_party(&redirect_uri).await {
        return crate::http::ApiError::from(error).into_response();
    }
    let (url, flow, verifier, nonce) =
        authorization_request(&issuer, PORTAL_CLIENT_ID, redirect_uri);
    let secure = if secure_cookie(&state) {
        "; Secure"
    } else {
        ""
    };
    let login_cookie = format!(
        "{LOGIN_COOKIE}={flow}.{verifier}.{nonce}; Path=/portal/callback; Max-Age={CHALLENGE_SECONDS}; HttpOnly; SameSite=Lax{secure}"
    );
    see_other(&url, &[login_cookie])
}

/// Query-component encoding of the few characters our values may hold.
/// A first-party authorization request at our provider with fresh `state`, PKCE
/// verifier and `nonce`: answers (URL, state, verifier, nonce).
pub(super) fn authorization_request(
    issuer: &str,
    client_id: &str,
    redirect_uri: String,
) -> (String, String, String, String) {
    let (flow, verifier, nonce) = (new_secret(), new_secret(), new_secret());
    let mut url = format!("{issuer}/oidc/authorize?response_type=code&scope=openid");
    for (name, value) in [
        ("client_id", client_id.to_owned()),
        ("redirect_uri", redirect_uri),
        ("state", flow.clone()),
        ("nonce", nonce.clone()),
        ("code_challenge", pkce_challenge(&verifier)),
        ("code_challenge_method", "S256".to_owned()),
    ] {
        url.push('&');
        url.push_str(name);
        url.push('=');
        url.push_str(&percent_encode(&value));
    }
    (url, flow, verifier, nonce)
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The provider's answer: the code redeemed in-process, a resident session opened.
async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let secure = secure_cookie(&state);
    let clear_login = format!(
        "{LOGIN_COOKIE}=; Path=/portal/callback; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    let saved = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let mut parts = saved.splitn(3, '.');
    let (Some(flow), Some(verifier), Some(_nonce)) = (parts.next(), parts.next(), parts.next())
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "no sign-in was started in this browser: go to /portal/login",
        );
    };
    if query.get("state").map(String::as_str) != Some(flow) {
        return problem(StatusCode::BAD_REQUEST, "state: not this browser's sign-in");
    }
    if let Some(error) = query.get("error") {
        let _ = error;
        return see_other("/", &[clear_login]);
    }
    let Some(code) = query.get("code") else {
        return problem(StatusCode::BAD_REQUEST, "code: missing");
    };
    let issuer = issuer(&state, &headers);
    let exchanged = state
        .service
        .oidc_portal_exchange(code, &callback_uri(&issuer), verifier, &issuer)
        .await;
    let resident_key = match exchanged {
        Ok((_, resident_key)) => resident_key,
        Err(error) => return crate::oidc::OAuthError(error).into_response(),
    };
    match state.service.open_resident_session(resident_key).await {
        Ok(secret) => see_other(
            "/portal",
            &[session::session_cookie(&secret, secure), clear_login],
        ),
        Err(error) => crate::http::ApiError::from(error).into_response(),
    }
}

/// Ends the resident's session.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, session::COOKIE).filter(|s| !s.is_empty()) {
        if let Err(error) = state.service.end_resident_session(&secret).await {
            return crate::http::ApiError::from(error).into_response();
        }
    }
    see_other("/", &[session::cleared_cookie(secure_cookie(&state))])
}
