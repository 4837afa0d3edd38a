//! The resident's My Number in the portal, after a further step with the card's
//! signature key (issue 14 item 6). `POST /portal/reveal` (a signed-in resident,
//! the CSRF layer's same-origin post) sends the browser to our provider as the
//! reveal client (`maina-portal-reveal`: its challenge is signed with the
//! signature key, `maina card login URL --facts`), with PKCE, `state` and `nonce`
//! in a short-lived cookie bound to the callback's path;
//! `GET /portal/reveal/callback` checks `state` and has the service redeem the
//! code for the session's resident (the signature certificate's holder must be
//! that resident; the reveal is audited) and shows the portal with the number —
//! folded away until the resident opens it, in this one response only: never in
//! a URL, a cookie or a log, and the page is `no-store` (as every page).

use super::pages::render_portal;
use super::session::ResidentSession;
use super::{problem, see_other};
use crate::http::cookies::cookie;
use crate::http::{error_status, Page};
use crate::oidc::{issuer, secure_cookie};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maina_service::oidc::{CHALLENGE_SECONDS, PORTAL_REVEAL_CLIENT_ID};
use maina_service::ServiceError;
use std::collections::HashMap;

/// The cookie that carries a reveal's state, verifier and nonce to its callback.
const REVEAL_COOKIE: &str = "maina_portal_reveal";
const CALLBACK_PATH: &str = "/portal/reveal/callback";

/// The reveal's routes (merged under the CSRF layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/reveal", post(start))
        .route(CALLBACK_PATH, get(callback))
}

fn callback_uri(issuer: &str) -> String {
    format!("{issuer}{CALLBACK_PATH}")
}

fn cookie_flags(state: &AppState) -> &'static str {
    if secure_cookie(state) {
        "; Secure"
    } else {
        ""
    }
}

/// Starts the signature step at our provider, for the signed-in resident.
async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    _session: ResidentSession,
) -> Response {
    let issuer = issuer(&state, &headers);
    let redirect_uri = callback_uri(&issuer);
    if let Err(error) = state.service.ensure_reveal_party(&redirect_uri).await {
        return crate::http::ApiError::from(error).into_response();
    }
    let (url, flow, verifier, nonce) =
        super::authorization_request(&issuer, PORTAL_REVEAL_CLIENT_ID, redirect_uri);
    let flags = cookie_flags(&state);
    let reveal_cookie = format!(
        "{REVEAL_COOKIE}={flow}.{verifier}.{nonce}; Path={CALLBACK_PATH}; Max-Age={CHALLENGE_SECONDS}; HttpOnly; SameSite=Lax{flags}"
    );
    see_other(&url, &[reveal_cookie])
}

/// A refused reveal, in the resident's language.
fn refusal_message(state: &AppState, lang: &str, error: &ServiceError) -> String {
    let id = match (error.code, error.field.as_deref()) {
        ("access_denied", Some("certificate")) => "portal-reveal-not-yours",
        ("access_denied", _) => "portal-reveal-needs-signature",
        _ => "portal-reveal-failed",
    };
    state.pages.message(lang, id)
}

/// The provider's answer: the code redeemed for the session's resident, and the
/// portal shown once with the number.
async fn callback(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    session: ResidentSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let clear = format!(
        "{REVEAL_COOKIE}=; Path={CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        cookie_flags(&state)
    );
    let saved = cookie(&headers, REVEAL_COOKIE).unwrap_or_default();
    let mut parts = saved.splitn(3, '.');
    let (Some(flow), Some(verifier), Some(_nonce)) = (parts.next(), parts.next(), parts.next())
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "no reveal was started in this browser: use the button on /portal",
        );
    };
    if query.get("state").map(String::as_str) != Some(flow) {
        return problem(StatusCode::BAD_REQUEST, "state: not this browser's reveal");
    }
    if query.contains_key("error") {
        // The resident gave up at the provider (or it refused): back to the portal.
        return see_other("/portal", &[clear]);
    }
    let Some(code) = query.get("code") else {
        return problem(StatusCode::BAD_REQUEST, "code: missing");
    };
    let issuer = issuer(&state, &headers);
    let revealed = state
        .service
        .portal_reveal_my_number(session.resident_key, code, &callback_uri(&issuer), verifier)
        .await;
    let mut response = match revealed {
        Ok(number) => {
            render_portal(
                &state,
                &page,
                &session,
                StatusCode::OK,
                None,
                None,
                Some(number.as_digits()),
            )
            .await
        }
        Err(error) => {
            let message = refusal_message(&state, page.lang, &error);
            render_portal(
                &state,
                &page,
                &session,
                error_status(&error),
                None,
                Some(message),
                None,
            )
            .await
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-store, private, max-age=0"),
    );
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&clear) {
        headers.append(axum::http::header::SET_COOKIE, value);
    }
    response
}
