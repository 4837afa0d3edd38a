//! The provider's machine endpoints: discovery, JWKS, token, userinfo, and the
//! desktop client's two calls (the challenge's party, the card's answer).

use super::{issuer, OAuthError};
use crate::http::Body;
use crate::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine as _;
use maina_proto::{
    CardAnswerRequest, CardAnswerResponse, CardChallengeRequest, CardChallengeResponse, OidcError,
    OidcTokenResponse, TokenForm,
};
use maina_service::oidc::{self as provider, TokenRequest};
use std::collections::HashMap;

fn oauth(code: &'static str, field: &str, message: &str) -> OAuthError {
    OAuthError(
        maina_service::ServiceError::new(maina_service::ErrorKind::BadRequest, code, message)
            .with_field(field),
    )
}

/// The discovery document (OpenID Connect Discovery 1.0).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oidc",
    responses((status = 200, description = "the provider's metadata", body = Object)))]
pub async fn discovery(State(state): State<AppState>, headers: HeaderMap) -> Response {
    Json(provider::discovery(&issuer(&state, &headers))).into_response()
}

/// The provider's public signing keys (a JWK set): the keys that sign, and the
/// retired ones until the tokens they signed have expired.
#[utoipa::path(get, path = "/oidc/jwks", tag = "oidc",
    responses((status = 200, description = "a JWK set", body = Object), (status = 500, body = OidcError)))]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, OAuthError> {
    let jwks = state.service.oidc_jwks().await?;
    let mut response = Json(jwks).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("max-age=60"));
    Ok(response)
}

/// Percent-decoding of a Basic credential's part (RFC 6749 2.3.1).
fn form_decode(text: &str) -> String {
    url_decode(text)
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(value) = hex {
                    out.push(value);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client id and secret of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return Ok(None);
    };
    let refused = || {
        OAuthError(
            maina_service::ServiceError::new(
                maina_service::ErrorKind::Unauthenticated,
                "invalid_client",
                "Authorization: Basic needs base64 of client_id:client_secret",
            )
            .with_field("client_id"),
        )
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| refused())?;
    let text = String::from_utf8(decoded).map_err(|_| refused())?;
    let (id, secret) = text.split_once(':').ok_or_else(refused)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// The token endpoint: the authorization code (with its PKCE verifier) for an ID
/// token and an access token. The client authenticates with client_secret_basic
/// or private_key_jwt.
#[utoipa::path(post, path = "/oidc/token", tag = "oidc",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = OidcTokenResponse), (status = 400, body = OidcError),
        (status = 401, body = OidcError)))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(fields) = form.map_err(|_| {
        oauth(
            "invalid_request",
            "content-type",
            "the token request is a form (application/x-www-form-urlencoded)",
        )
    })?;
    let get = |name: &str| fields.get(name).cloned();
    let request = TokenRequest {
        grant_type: get("grant_type"),
        code: get("code"),
        redirect_uri: get("redirect_uri"),
        code_verifier: get("code_verifier"),
        client_id: get("client_id"),
        basic: basic_credentials(&headers)?,
        client_assertion_type: get("client_assertion_type"),
        client_assertion: get("client_assertion"),
    };
    let answer = state
        .service
        .oidc_token(&request, &issuer(&state, &headers))
        .await?;
    let mut response = Json(OidcTokenResponse {
        access_token: answer.access_token,
        token_type: answer.token_type,
        expires_in: answer.expires_in,
        id_token: answer.id_token,
        scope: answer.scope,
    })
    .into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The userinfo endpoint (bearer access token): `sub`, and for a facts party's
/// sign-in the four facts.
#[utoipa::path(get, path = "/oidc/userinfo", tag = "oidc",
    security(("bearer" = [])),
    responses((status = 200, description = "the claims", body = Object), (status = 401, body = OidcError)))]
pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            OAuthError(
                maina_service::ServiceError::new(
                    maina_service::ErrorKind::Unauthenticated,
                    "invalid_token",
                    "access_token: send Authorization: Bearer",
                )
                .with_field("access_token"),
            )
        })?;
    let claims = state
        .service
        .oidc_userinfo(token.trim(), &issuer(&state, &headers))
        .await?;
    let mut response = Json(claims).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The desktop client's first call: which party a challenge signs in to, and
/// which card key must sign it.
#[utoipa::path(post, path = "/oidc/card/challenge", request_body = CardChallengeRequest, tag = "oidc",
    responses((status = 200, body = CardChallengeResponse), (status = 400, body = OidcError)))]
pub async fn card_challenge(
    State(state): State<AppState>,
    Body(request): Body<CardChallengeRequest>,
) -> Result<Json<CardChallengeResponse>, OAuthError> {
    let (client_name, card_key) = state
        .service
        .oidc_challenge_info(&request.challenge)
        .await?;
    Ok(Json(CardChallengeResponse {
        client_name,
        card_key,
        challenge: provider::canonical_challenge(&request.challenge).unwrap_or_default(),
    }))
}

/// The card's answer to a challenge: its certificate and its signature of the
/// canonical challenge. Refused (403 `access_denied`, with the reason) for a
/// suspended, expired or abolished card, a revoked certificate, a wrong
/// signature, or a challenge answered before.
#[utoipa::path(post, path = "/oidc/card/answer", request_body = CardAnswerRequest, tag = "oidc",
    responses((status = 200, body = CardAnswerResponse), (status = 400, body = OidcError),
        (status = 403, body = OidcError)))]
pub async fn card_answer(
    State(state): State<AppState>,
    Body(request): Body<CardAnswerRequest>,
) -> Result<Json<CardAnswerResponse>, OAuthError> {
    let decode = |field: &str, text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| {
                oauth(
                    "invalid_request",
                    field,
                    &format!("{field}: expected base64"),
                )
            })
    };
    let certificate = decode("certificate", &request.certificate)?;
    let signature = decode("signature", &request.signature)?;
    let answer = state
        .service
        .oidc_answer(&request.challenge, &certificate, &signature)
        .await?;
    Ok(Json(CardAnswerResponse {
        status: "answered".into(),
        client_name: answer.client_name,
    }))
}
