//! The resident's pages of a sign-in: the authorization page (the challenge as
//! text and QR code; `/static/oidc.js` polls the request's status and continues
//! by itself once the card answered), the continuation (the code sent back to the
//! party, or the consent page), and the consent's answer. The browser that
//! started a sign-in holds a cookie bound to it (HttpOnly, SameSite=Lax, Path
//! `/oidc/authorize`): no other browser can poll or continue it.

use super::{issuer, request_cookie, secure_cookie, OAuthError};
use crate::http::cookies::cookie;
use crate::http::csrf::{cross_origin_refused, expected_origin, same_origin};
use crate::http::{error_status, ClientAddress, Page};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use maina_proto::{OidcError, SigninStatusResponse};
use maina_service::oidc::sessions::{new_secret, secret_hash};
use maina_service::oidc::{
    qr_svg, AuthorizeParams, AuthorizeRefusal, ContinueOutcome, CHALLENGE_SECONDS, REFUSAL_REASONS,
};
use maina_service::ServiceError;
use std::collections::HashMap;

const SIGNIN: &str = "oidc_signin.html";
const CONSENT: &str = "oidc_consent.html";
const TITLE: &str = "oidc-title";

pub async fn script() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/oidc.js"),
    )
}

/// A redirect to the relying party (302, as OAuth expects).
fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A refusal shown on our own page (never redirected).
fn refusal_page(state: &AppState, page: &Page, error: &ServiceError) -> Response {
    let status = match error.code {
        "internal" => StatusCode::INTERNAL_SERVER_ERROR,
        "temporarily_unavailable" | "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ if error_status(error).is_server_error() => error_status(error),
        _ => StatusCode::BAD_REQUEST,
    };
    let status = if error.kind == maina_service::ErrorKind::TooManyRequests {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        status
    };
    let context = minijinja::context! {
        error => error.message.clone(),
        oauth_error => error.code,
        throttled => status == StatusCode::TOO_MANY_REQUESTS,
    };
    page.render(state, status, SIGNIN, TITLE, context)
}

fn refused(state: &AppState, page: &Page, refusal: AuthorizeRefusal) -> Response {
    match refusal {
        AuthorizeRefusal::Redirect(url) => found(&url),
        AuthorizeRefusal::Page(error) => refusal_page(state, page, &error),
    }
}

/// The authorization endpoint (OIDC Core 3.1.2.1): checks the request and shows
/// the page with the one-time challenge the card signs. An unknown client or an
/// unregistered redirect URI is answered here (400) and never redirected; later
/// refusals go back to the party (302) with the error and `state`.
#[utoipa::path(get, path = "/oidc/authorize", tag = "oidc",
    params(
        ("response_type" = Option<String>, Query, description = "code"),
        ("client_id" = Option<String>, Query),
        ("redirect_uri" = Option<String>, Query, description = "exactly as registered"),
        ("scope" = Option<String>, Query, description = "openid, and profile/address for a facts party"),
        ("state" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("code_challenge" = Option<String>, Query, description = "PKCE: base64url SHA-256 of the verifier"),
        ("code_challenge_method" = Option<String>, Query, description = "S256"),
        ("prompt" = Option<String>, Query),
    ),
    responses((status = 200, description = "the sign-in page", content_type = "text/html"),
        (status = 302, description = "back to the party with an error"),
        (status = 400, description = "an unknown client or redirect URI (not redirected)", content_type = "text/html"),
        (status = 429, description = "too many sign-ins started from this client address: temporarily_unavailable (not redirected)", content_type = "text/html")))]
pub async fn authorize(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    // Each request writes a row for anyone who asks: counted per client address
    // first, and refused on our own page (never redirected: the client is not
    // even looked up).
    if let Err(error) = state.service.oidc_authorize_allowed(address).await {
        return refusal_page(&state, &page, &error);
    }
    let get = |name: &str| query.get(name).cloned();
    let params = AuthorizeParams {
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        prompt: get("prompt"),
    };
    let secret = new_secret();
    let issuer = issuer(&state, &headers);
    let view = match state
        .service
        .oidc_authorize(&params, secret_hash(&secret), &issuer)
        .await
    {
        Ok(view) => view,
        Err(refusal) => return refused(&state, &page, refusal),
    };
    let context = minijinja::context! {
        request_id => view.id.clone(),
        challenge => view.challenge,
        challenge_url => view.challenge_url.clone(),
        qr => qr_svg(&view.challenge_url),
        client_name => view.client_name,
        card_key => view.card_key,
        expires_at => view.expires_at,
        seconds => CHALLENGE_SECONDS,
        refusal_reasons => REFUSAL_REASONS,
    };
    let mut response = page.render(&state, StatusCode::OK, SIGNIN, TITLE, context);
    let secure = if secure_cookie(&state) {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{}={secret}; Path=/oidc/authorize/{}; Max-Age={CHALLENGE_SECONDS}; HttpOnly; SameSite=Lax{secure}",
        request_cookie(&view.id),
        view.id
    );
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

fn browser(headers: &HeaderMap, id: &str) -> [u8; 32] {
    secret_hash(&cookie(headers, &request_cookie(id)).unwrap_or_default())
}

/// Where a sign-in stands (the page polls this): pending, answered, consented,
/// used or expired; while pending, why the card's latest answer was refused.
/// Only the browser that started it may ask.
#[utoipa::path(get, path = "/oidc/authorize/{id}/status", tag = "oidc",
    params(("id" = String, Path, description = "the sign-in's id (from its page)")),
    responses((status = 200, body = SigninStatusResponse), (status = 400, body = OidcError)))]
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SigninStatusResponse>, OAuthError> {
    let progress = state
        .service
        .oidc_request_progress(&id, &browser(&headers, &id))
        .await?;
    Ok(Json(SigninStatusResponse {
        status: progress.status.to_owned(),
        refusal: progress.refusal,
    }))
}

/// After the card answered: back to the party with the code, or the consent page
/// (a facts party always; another party the first time, or after the resident
/// switched it off).
#[utoipa::path(get, path = "/oidc/authorize/{id}/continue", tag = "oidc",
    params(("id" = String, Path, description = "the sign-in's id")),
    responses((status = 302, description = "back to the party with the code"),
        (status = 200, description = "the consent page", content_type = "text/html"),
        (status = 400, description = "not this browser's, not answered, or used", content_type = "text/html")))]
pub async fn continue_signin(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let issuer = issuer(&state, &headers);
    match state
        .service
        .oidc_continue(&id, &browser(&headers, &id), &issuer)
        .await
    {
        Ok(ContinueOutcome::Redirect(url)) => found(&url),
        Ok(ContinueOutcome::Consent {
            client_name,
            facts,
            redirect_uri,
        }) => {
            let context = minijinja::context! {
                request_id => id,
                client_name,
                facts => facts.map(|f| minijinja::context! {
                    name => f.name, address => f.address, birthdate => f.birthdate, gender => f.gender,
                }),
            };
            let mut response = page.render(&state, StatusCode::OK, CONSENT, TITLE, context);
            // The consent's post redirects to the party: Chrome holds a form's
            // redirect to form-action too, so the party's origin is allowed here.
            let origin = crate::http::csrf::origin_of(&redirect_uri).unwrap_or_default();
            let csp = format!(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 font-src 'self'; connect-src 'self'; form-action 'self' {origin}; \
                 frame-ancestors 'none'; base-uri 'none'"
            );
            if let Ok(value) = HeaderValue::from_str(&csp) {
                response
                    .headers_mut()
                    .insert(axum::http::header::CONTENT_SECURITY_POLICY, value);
            }
            response
        }
        Err(refusal) => refused(&state, &page, refusal),
    }
}

/// The resident's answer on the consent page (`decision`: approve or deny).
#[utoipa::path(post, path = "/oidc/authorize/{id}/consent", tag = "oidc",
    params(("id" = String, Path, description = "the sign-in's id")),
    request_body(content = HashMap<String, String>, content_type = "application/x-www-form-urlencoded",
        description = "decision=approve|deny"),
    responses((status = 302, description = "back to the party (a code, or access_denied)"),
        (status = 400, description = "not waiting for consent", content_type = "text/html"),
        (status = 403, description = "a cross-origin post")))]
pub async fn consent(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let expected = expected_origin(
        state.config.public_url.as_deref(),
        state.config.secure_cookies,
        &headers,
    );
    if !same_origin(&headers, expected.as_deref()) {
        return cross_origin_refused();
    }
    let approve = form
        .as_ref()
        .ok()
        .and_then(|Form(fields)| fields.get("decision"))
        .is_some_and(|d| d == "approve");
    let issuer = issuer(&state, &headers);
    match state
        .service
        .oidc_consent(&id, &browser(&headers, &id), approve, &issuer)
        .await
    {
        Ok(url) => found(&url),
        Err(refusal) => refused(&state, &page, refusal),
    }
}

/// What the challenge's QR code opens in a browser: how to answer it.
#[utoipa::path(get, path = "/oidc/card", tag = "oidc",
    responses((status = 200, description = "how to answer a challenge with the card", content_type = "text/html")))]
pub async fn card_page(State(state): State<AppState>, page: Page) -> Response {
    let context = minijinja::context! { card_help => true };
    page.render(&state, StatusCode::OK, SIGNIN, TITLE, context)
}
