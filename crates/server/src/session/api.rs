//! `POST /api/v1/login` and `/api/v1/logout`.

use crate::http::{ApiError, Authenticated, Body, ClientAddress, Reply};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use maina_proto::{ErrorBody, LoginRequest, LoginResponse, OfficerInfo};

/// Log in with user name and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest, tag = "session",
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    state: State<AppState>,
    from: ClientAddress,
    Body(request): Body<LoginRequest>,
) -> Reply<LoginResponse> {
    let (officer, token) = state
        .service
        .log_in(from.0, &request.username, &request.password)
        .await?;
    Ok(Json(LoginResponse {
        token,
        officer: OfficerInfo {
            username: officer.username.clone(),
            role: officer.role.as_str().to_string(),
            municipality: officer.municipality.as_digits(),
        },
    }))
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state.service.log_out(&auth.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
