//! The registry's JSON API under `/api/v1/residents`.

use crate::http::{ApiError, Authenticated, Body};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use maina_core::person::NameChange;
use maina_proto::{
    AddressRequest, DateRequest, ErrorBody, HistoryEntryResponse, MoveRequest, NumberChangeRequest,
    NumberChangeResponse, NumberLookup, RegisteredResponse, RegistrationForm, RenameRequest,
    ResidentResponse, RevealResponse, SearchQuery,
};
use maina_service::residents::ResidentChange;

/// A query string that does not parse.
pub(crate) fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        rejection.body_text(),
    )
}

/// Register a resident (birth or move-in from abroad) in the officer's municipality.
#[utoipa::path(post, path = "/api/v1/residents", request_body = RegistrationForm, tag = "residents", security(("bearer" = [])),
    responses((status = 201, body = RegisteredResponse), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(form): Body<RegistrationForm>,
) -> Result<(StatusCode, Json<RegisteredResponse>), ApiError> {
    let registered = state.service.register(&auth.actor(), &form).await?;
    Ok((StatusCode::CREATED, Json(registered)))
}

/// Search the officer's municipality by birth date and (part of) the name.
#[utoipa::path(get, path = "/api/v1/residents", params(SearchQuery), tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = [ResidentResponse]), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<ResidentResponse>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let found = state
        .service
        .search(
            &auth.actor(),
            &auth.officer.municipality,
            &query.birth_date,
            &query.name,
        )
        .await?;
    Ok(Json(found))
}

/// Show a resident record.
#[utoipa::path(get, path = "/api/v1/residents/{code}", params(("code" = String, Path, description = "resident record code")),
    tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = ResidentResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Result<Json<ResidentResponse>, ApiError> {
    Ok(Json(
        state.service.show_resident(&auth.actor(), &code).await?,
    ))
}

/// Find a resident by My Number (in the body, so that it never appears in a URL or
/// an access log).
#[utoipa::path(post, path = "/api/v1/residents/lookup", request_body = NumberLookup, tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = ResidentResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<NumberLookup>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let found = state
        .service
        .resident_by_number(&auth.actor(), &request.my_number)
        .await?;
    Ok(Json(found))
}

/// Show the My Number in clear (audited with the request's purpose).
#[utoipa::path(post, path = "/api/v1/residents/{code}/my-number", params(("code" = String, Path)), tag = "residents",
    security(("bearer" = [])), responses((status = 200, body = RevealResponse), (status = 404, body = ErrorBody)))]
pub async fn reveal(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Result<Json<RevealResponse>, ApiError> {
    Ok(Json(
        state.service.reveal_number(&auth.actor(), &code).await?,
    ))
}

/// The record's history: the registration and every change.
#[utoipa::path(get, path = "/api/v1/residents/{code}/history", params(("code" = String, Path)), tag = "residents",
    security(("bearer" = [])), responses((status = 200, body = [HistoryEntryResponse]), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Result<Json<Vec<HistoryEntryResponse>>, ApiError> {
    Ok(Json(state.service.history(&auth.actor(), &code).await?))
}

async fn change(
    state: &AppState,
    auth: &Authenticated,
    code: &str,
    change: ResidentChange,
) -> Result<Json<ResidentResponse>, ApiError> {
    let changed = state
        .service
        .change_resident(&auth.actor(), code, &change)
        .await?;
    Ok(Json(changed))
}

/// Move to another municipality (転出・転入).
#[utoipa::path(post, path = "/api/v1/residents/{code}/move", params(("code" = String, Path)), request_body = MoveRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<MoveRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let MoveRequest {
        municipality,
        address,
        date,
    } = request;
    let moved = ResidentChange::Move {
        municipality,
        address,
        date,
    };
    change(&state, &auth, &code, moved).await
}

/// Change the address within the municipality (転居).
#[utoipa::path(post, path = "/api/v1/residents/{code}/address", params(("code" = String, Path)), request_body = AddressRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 422, body = ErrorBody)))]
pub async fn change_address(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<AddressRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let AddressRequest { address, date } = request;
    change(
        &state,
        &auth,
        &code,
        ResidentChange::Address { address, date },
    )
    .await
}

/// Change the name; parts not given stay as they are.
#[utoipa::path(post, path = "/api/v1/residents/{code}/rename", params(("code" = String, Path)), request_body = RenameRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 422, body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<RenameRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let renamed = ResidentChange::Rename {
        change: NameChange {
            family_name: request.family_name,
            given_name: request.given_name,
            family_kana: request.family_kana,
            given_kana: request.given_kana,
            alphabet_name: request.alphabet_name,
            alias: request.alias,
            name_kana: None,
        },
        date: request.date,
    };
    change(&state, &auth, &code, renamed).await
}

/// Record a departure abroad (国外転出).
#[utoipa::path(post, path = "/api/v1/residents/{code}/departure", params(("code" = String, Path)), request_body = DateRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 409, body = ErrorBody)))]
pub async fn depart(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<DateRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let departed = ResidentChange::Departure { date: request.date };
    change(&state, &auth, &code, departed).await
}

/// Record a death.
#[utoipa::path(post, path = "/api/v1/residents/{code}/death", params(("code" = String, Path)), request_body = DateRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 409, body = ErrorBody)))]
pub async fn death(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<DateRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let died = ResidentChange::Death { date: request.date };
    change(&state, &auth, &code, died).await
}

/// Change the My Number after a leak (supervisors).
#[utoipa::path(post, path = "/api/v1/residents/{code}/number-change", params(("code" = String, Path)), request_body = NumberChangeRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = NumberChangeResponse), (status = 403, body = ErrorBody)))]
pub async fn number_change(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<NumberChangeRequest>,
) -> Result<Json<NumberChangeResponse>, ApiError> {
    let changed = state
        .service
        .change_number(
            &auth.actor(),
            &code,
            &request.reason,
            request.date.as_deref(),
        )
        .await?;
    Ok(Json(changed))
}
