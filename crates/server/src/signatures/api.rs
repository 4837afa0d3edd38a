//! `POST /api/v1/signatures/verify`.

use crate::http::error::ApiError;
use crate::http::Body;
use crate::AppState;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine as _;
use maina_proto::{ErrorBody, SignatureVerifyRequest, SignatureVerifyResponse};
use maina_service::ServiceError;

/// The client id and secret of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let refused = || ApiError::from(ServiceError::unauthenticated().with_field("authorization"));
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(refused)?;
    let encoded = value.strip_prefix("Basic ").ok_or_else(refused)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| refused())?;
    let text = String::from_utf8(decoded).map_err(|_| refused())?;
    let (id, secret) = text.split_once(':').ok_or_else(refused)?;
    Ok((id.to_owned(), secret.to_owned()))
}

/// Checks a CMS detached signature made with a card's signature certificate:
/// whether it is valid over the content (or its SHA-256), whether the certificate
/// was good at the signing time and is good now, the signer's four facts, and —
/// when a change of name or address revoked it — the signer's newest certificate
/// for a verifier allowed to follow. A malformed signature or content is refused
/// with the field and the reason.
#[utoipa::path(post, path = "/api/v1/signatures/verify", request_body = SignatureVerifyRequest,
    tag = "signatures", security(("basic" = [])),
    responses((status = 200, body = SignatureVerifyResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(request): Body<SignatureVerifyRequest>,
) -> Result<Json<SignatureVerifyResponse>, ApiError> {
    let (client_id, secret) = basic_credentials(&headers)?;
    Ok(Json(
        state
            .service
            .verify_signature(&client_id, &secret, &request)
            .await?,
    ))
}
