//! The registry's JSON API under `/api/v1/residents`: each handler hands its input
//! to one `maina_service` use case.

use crate::http::{ApiError, Authenticated, Body, OnRecord, Reply};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use maina_proto::{
    AddressRequest, DateRequest, ErrorBody, HistoryEntryResponse, MoveRequest, NumberChangeRequest,
    NumberChangeResponse, NumberLookup, RegisteredResponse, RegistrationForm, RenameRequest,
    ResidentResponse, RevealResponse, SearchRequest,
};
use maina_service::residents::ResidentChange;

/// Register a resident (birth or move-in from abroad) in the officer's municipality.
#[utoipa::path(post, path = "/api/v1/residents", request_body = RegistrationForm, tag = "residents", security(("bearer" = [])),
    responses((status = 201, body = RegisteredResponse), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn register(
    state: State<AppState>,
    auth: Authenticated,
    Body(form): Body<RegistrationForm>,
) -> Result<(StatusCode, Json<RegisteredResponse>), ApiError> {
    let registered = state.service.register(&auth.actor(), &form).await?;
    Ok((StatusCode::CREATED, Json(registered)))
}

/// Search the officer's municipality by birth date and (part of) the name.
/// A post, not a query string: names and birth dates stay out of URLs and logs.
#[utoipa::path(post, path = "/api/v1/residents/search", request_body = SearchRequest, tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = [ResidentResponse]), (status = 422, body = ErrorBody)))]
pub async fn search(
    state: State<AppState>,
    auth: Authenticated,
    Body(query): Body<SearchRequest>,
) -> Reply<Vec<ResidentResponse>> {
    let actor = auth.actor();
    let municipality = &auth.officer.municipality;
    Ok(Json(
        state
            .service
            .search(&actor, municipality, &query.birth_date, &query.name)
            .await?,
    ))
}

/// Show a resident record.
#[utoipa::path(get, path = "/api/v1/residents/{code}", params(("code" = String, Path, description = "resident record code")),
    tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = ResidentResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(state: State<AppState>, at: OnRecord) -> Reply<ResidentResponse> {
    Ok(Json(
        state.service.show_resident(&at.actor(), &at.id).await?,
    ))
}

/// Find a resident by My Number (in the body, so that it never appears in a URL or
/// an access log).
#[utoipa::path(post, path = "/api/v1/residents/lookup", request_body = NumberLookup, tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = ResidentResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lookup(
    state: State<AppState>,
    auth: Authenticated,
    Body(request): Body<NumberLookup>,
) -> Reply<ResidentResponse> {
    Ok(Json(
        state
            .service
            .resident_by_number(&auth.actor(), &request.my_number)
            .await?,
    ))
}

/// Show the My Number in clear (audited with the request's purpose).
#[utoipa::path(post, path = "/api/v1/residents/{code}/my-number", params(("code" = String, Path)), tag = "residents",
    security(("bearer" = [])), responses((status = 200, body = RevealResponse), (status = 404, body = ErrorBody)))]
pub async fn reveal(state: State<AppState>, at: OnRecord) -> Reply<RevealResponse> {
    Ok(Json(
        state.service.reveal_number(&at.actor(), &at.id).await?,
    ))
}

/// The record's history: the registration and every change.
#[utoipa::path(get, path = "/api/v1/residents/{code}/history", params(("code" = String, Path)), tag = "residents",
    security(("bearer" = [])), responses((status = 200, body = [HistoryEntryResponse]), (status = 404, body = ErrorBody)))]
pub async fn history(state: State<AppState>, at: OnRecord) -> Reply<Vec<HistoryEntryResponse>> {
    Ok(Json(state.service.history(&at.actor(), &at.id).await?))
}

/// The change endpoints: each body becomes a [`ResidentChange`] for the one change
/// use case (the console's forms and the command line make the same).
macro_rules! change_endpoint {
    ($(#[doc = $doc:tt])* $name:ident, $path:tt, $body:ident, $change:expr, $($responses:tt)*) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, params(("code" = String, Path)), request_body = $body,
            tag = "residents", security(("bearer" = [])), responses($($responses)*))]
        pub async fn $name(state: State<AppState>, at: OnRecord, Body(request): Body<$body>) -> Reply<ResidentResponse> {
            let change: fn($body) -> ResidentChange = $change;
            Ok(Json(state.service.change_resident(&at.actor(), &at.id, &change(request)).await?))
        }
    };
}

change_endpoint!(
    /// Move to another municipality (転出・転入).
    move_resident, "/api/v1/residents/{code}/move", MoveRequest, ResidentChange::from,
    (status = 200, body = ResidentResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
);
change_endpoint!(
    /// Change the address within the municipality (転居).
    change_address, "/api/v1/residents/{code}/address", AddressRequest, ResidentChange::from,
    (status = 200, body = ResidentResponse), (status = 422, body = ErrorBody)
);
change_endpoint!(
    /// Change the name; parts not given stay as they are.
    rename, "/api/v1/residents/{code}/rename", RenameRequest, ResidentChange::from,
    (status = 200, body = ResidentResponse), (status = 422, body = ErrorBody)
);
change_endpoint!(
    /// Record a departure abroad (国外転出).
    depart, "/api/v1/residents/{code}/departure", DateRequest,
    |request| ResidentChange::Departure { date: request.date },
    (status = 200, body = ResidentResponse), (status = 409, body = ErrorBody)
);
change_endpoint!(
    /// Record a death.
    death, "/api/v1/residents/{code}/death", DateRequest,
    |request| ResidentChange::Death { date: request.date },
    (status = 200, body = ResidentResponse), (status = 409, body = ErrorBody)
);

/// Change the My Number after a leak (supervisors).
#[utoipa::path(post, path = "/api/v1/residents/{code}/number-change", params(("code" = String, Path)), request_body = NumberChangeRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = NumberChangeResponse), (status = 403, body = ErrorBody)))]
pub async fn number_change(
    state: State<AppState>,
    at: OnRecord,
    Body(request): Body<NumberChangeRequest>,
) -> Reply<NumberChangeResponse> {
    let date = request.date.as_deref();
    Ok(Json(
        state
            .service
            .change_number(&at.actor(), &at.id, &request.reason, date)
            .await?,
    ))
}
