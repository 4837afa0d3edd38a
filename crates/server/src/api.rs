//! The JSON API under `/api/v1`, with its OpenAPI document generated from the code.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDate;
use maina_core::officer::{AuditEvent, Permission};
use maina_core::person::{parse_date, Address, Citizenship, FieldError, Name, NameChange};
use maina_core::resident::{NumberChangeReason, RegistrationForm, ResidentEvent};
use maina_core::{MunicipalityCode, MyNumber, ResidentCode};
use maina_store::ResidentView;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A JSON body whose rejections speak the API's error shape and never echo values.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            let text = error.body_text();
            let detail = text
                .split_once("target type: ")
                .map_or(text.as_str(), |(_, d)| d);
            // serde names unknown and missing fields without values; for type errors
            // keep only the path (the value could be personal data).
            if let Some(start) = detail
                .find("unknown field `")
                .or_else(|| detail.find("missing field `"))
            {
                let rest = detail.get(start..).unwrap_or("");
                let field = rest.split('`').nth(1).unwrap_or("");
                let message = rest
                    .split(", expected")
                    .next()
                    .unwrap_or(rest)
                    .split(" at line")
                    .next()
                    .unwrap_or(rest);
                ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_json",
                    field,
                    message.to_string(),
                )
            } else {
                let field = detail
                    .split(": ")
                    .next()
                    .filter(|f| !f.contains(' '))
                    .unwrap_or("body");
                ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_json",
                    field,
                    format!("{field}: has the wrong type or value"),
                )
            }
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "the body is not well-formed JSON",
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is too large",
            )
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.body_text()),
    }
}

fn resident_code(raw: &str) -> Result<ResidentCode, ApiError> {
    raw.parse::<ResidentCode>().map_err(|e| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            "invalid_identifier",
            "code",
            e.to_string(),
        )
    })
}

fn date_or_today(date: &Option<String>) -> Result<NaiveDate, ApiError> {
    match date {
        Some(date) => Ok(parse_date("date", date)?),
        None => Ok(chrono::Local::now().date_naive()),
    }
}

/// Loads a resident the caller may act on: another municipality's residents are
/// "not found", so their codes reveal nothing.
pub(crate) async fn authorized_resident(
    state: &AppState,
    auth: &Authenticated,
    code: &str,
    permission: Permission,
) -> Result<ResidentView, ApiError> {
    if !auth.officer.role.allows(permission) {
        return Err(ApiError::forbidden());
    }
    let code = resident_code(code)?;
    let view = state.store.resident_by_code(&code).await?;
    if !auth
        .actor()
        .may(permission, Some(&view.record.municipality))
    {
        return Err(ApiError::not_found("resident"));
    }
    Ok(view)
}

/// The resident holding a My Number, if the caller may read them; the read is
/// audited. One path for the API and the console.
pub(crate) async fn readable_by_number(
    state: &AppState,
    auth: &Authenticated,
    raw: &str,
) -> Result<ResidentView, ApiError> {
    if !auth.officer.role.allows(Permission::ReadResident) {
        return Err(ApiError::forbidden());
    }
    let number: MyNumber = raw.parse().map_err(|e: maina_core::IdError| {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "my_number",
            e.to_string(),
        )
    })?;
    let view = state.store.resident_by_number(&number).await?;
    if !auth
        .actor()
        .may(Permission::ReadResident, Some(&view.record.municipality))
    {
        return Err(ApiError::not_found("resident with this My Number"));
    }
    state
        .store
        .audit(&auth.actor(), "read-by-my-number", Some(view.resident_key))
        .await?;
    Ok(view)
}

// ---- wire types --------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A status inquiry: the 23-digit form ID or the 16-digit receipt number, and the
/// applicant's birth date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub number: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    /// received | under-review | returned-for-correction | card-issuance-in-process | cancelled
    pub status: String,
    /// The date of the last change (YYYY-MM-DD).
    pub since: String,
    /// What happens next, in English (the page says it in Japanese too).
    pub next: String,
}

/// What happens after each status (*our design*).
pub fn next_step(status: maina_core::application::ApplicationStatus) -> &'static str {
    use maina_core::application::ApplicationStatus as S;
    match status {
        S::Received => "The card bureau will review the application, usually within a few days.",
        S::UnderReview => "The application is being checked. You will be told if anything must be corrected.",
        S::ReturnedForCorrection => "Correct what the notice says and send the application again.",
        S::CardIssuanceInProcess => "Your card is being made. The city office will send you a postcard telling where and when to collect it.",
        S::Cancelled => "The application was withdrawn or refused. Apply again if you still want a card.",
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerInfo {
    pub username: String,
    pub role: String,
    pub municipality: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub officer: OfficerInfo,
}

/// A resident record as the API shows it; the My Number only masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentResponse {
    pub resident_code: String,
    pub my_number_masked: String,
    pub status: String,
    pub version: u64,
    pub municipality: String,
    pub name: String,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_kana: Option<String>,
    pub given_kana: Option<String>,
    pub alphabet_name: Option<String>,
    pub alias: Option<String>,
    pub birth_date: String,
    pub sex: String,
    pub address: String,
    pub nationality: String,
    pub residence_status: Option<String>,
    pub stay_until: Option<String>,
    pub since: String,
    pub registered_at: i64,
    pub updated_at: i64,
}

impl From<&ResidentView> for ResidentResponse {
    fn from(view: &ResidentView) -> Self {
        let record = &view.record;
        let person = &record.person;
        let (family_name, given_name, family_kana, given_kana, alphabet_name, alias) =
            match &person.name {
                Name::Japanese {
                    family,
                    given,
                    family_kana,
                    given_kana,
                } => (
                    Some(family.clone()),
                    Some(given.clone()),
                    Some(family_kana.clone()),
                    Some(given_kana.clone()),
                    None,
                    None,
                ),
                Name::Foreign {
                    alphabet, alias, ..
                } => (
                    None,
                    None,
                    None,
                    None,
                    Some(alphabet.clone()),
                    alias.clone(),
                ),
            };
        let (nationality, residence_status, stay_until) = match &person.citizenship {
            Citizenship::Japanese => ("JP".to_string(), None, None),
            Citizenship::Foreign {
                nationality,
                residence_status,
                stay_until,
                ..
            } => (
                nationality.as_str().to_string(),
                Some(residence_status.name()),
                stay_until.map(|d| d.to_string()),
            ),
        };
        Self {
            resident_code: view.resident_code.as_digits(),
            my_number_masked: view.my_number.masked(),
            status: view.status.as_str().to_string(),
            version: view.version,
            municipality: record.municipality.as_digits(),
            name: person.name.to_string(),
            family_name,
            given_name,
            family_kana,
            given_kana,
            alphabet_name,
            alias,
            birth_date: person.birth_date.to_string(),
            sex: format!("{:?}", person.sex).to_lowercase(),
            address: record.address.to_string(),
            nationality,
            residence_status,
            stay_until,
            since: record.since.to_string(),
            registered_at: view.registered_at,
            updated_at: view.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredResponse {
    pub resident_code: String,
    pub my_number_masked: String,
    /// True when an earlier record (and its number) was taken up again.
    pub returned: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberLookup {
    pub my_number: String,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// YYYY-MM-DD
    pub birth_date: String,
    /// Part of the name in any script (kanji, kana, alphabet, alias); may be empty.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    pub municipality: String,
    pub address: String,
    pub date: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    pub address: String,
    pub date: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_kana: Option<String>,
    pub given_kana: Option<String>,
    pub alphabet_name: Option<String>,
    pub alias: Option<String>,
    pub date: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DateRequest {
    pub date: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberChangeRequest {
    pub reason: String,
    pub date: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumberChangeResponse {
    pub retired_masked: String,
    /// The new number, in clear: the resident must be told it (audited).
    pub my_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealResponse {
    pub my_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntryResponse {
    pub version: u64,
    pub kind: String,
    pub date: String,
    pub recorded_at: i64,
    pub actor: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    pub seq: u64,
    pub at: i64,
    pub officer: String,
    pub role: String,
    pub municipality: String,
    pub action: String,
    pub resident_code: Option<String>,
    pub purpose: String,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Resident record code.
    pub resident: Option<String>,
}

// ---- handlers ----------------------------------------------------------------

/// Log in with user name and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest, tag = "session",
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(request): Body<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let (officer, token) =
        crate::log_in(&state, peer.ip(), &request.username, &request.password).await?;
    Ok(Json(LoginResponse {
        token,
        officer: OfficerInfo {
            username: officer.username.clone(),
            role: officer.role.as_str().to_string(),
            municipality: officer.municipality.as_digits(),
        },
    }))
}

/// Where an application for the card stands (public; no log-in). An unknown number
/// and a wrong birth date get the same answer; repeated failures must wait longer
/// and longer.
#[utoipa::path(post, path = "/api/v1/application-status", request_body = StatusRequest, tag = "applications",
    responses((status = 200, body = StatusResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn application_status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(request): Body<StatusRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    let answer =
        crate::inquiry::inquire(&state, &request.number, &request.birth_date, peer.ip()).await?;
    Ok(Json(StatusResponse {
        status: answer.status.code().to_owned(),
        since: answer.since.to_string(),
        next: next_step(answer.status).to_owned(),
    }))
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state.sessions.forget(&auth.token);
    state.store.logout(&auth.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Register a resident (birth or move-in from abroad) in the officer's municipality.
#[utoipa::path(post, path = "/api/v1/residents", request_body = RegistrationForm, tag = "residents", security(("bearer" = [])),
    responses((status = 201, body = RegisteredResponse), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(form): Body<RegistrationForm>,
) -> Result<(StatusCode, Json<RegisteredResponse>), ApiError> {
    let registration = form.parse(chrono::Local::now().date_naive())?;
    if !auth.actor().may(
        Permission::RegisterResident,
        Some(&registration.municipality),
    ) {
        return Err(ApiError::forbidden());
    }
    let registered = state.store.register(registration, &auth.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisteredResponse {
            resident_code: registered.resident_code.as_digits(),
            my_number_masked: registered.my_number.masked(),
            returned: registered.returned,
        }),
    ))
}

/// Search the officer's municipality by birth date and (part of) the name.
#[utoipa::path(get, path = "/api/v1/residents", params(SearchQuery), tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = [ResidentResponse]), (status = 422, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ResidentResponse>>, ApiError> {
    let Query(query) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    if !auth.officer.role.allows(Permission::ReadResident) {
        return Err(ApiError::forbidden());
    }
    let birth_date = parse_date("birth_date", &query.birth_date)?;
    if query.name.chars().count() > 100 {
        return Err(FieldError::new("name", "is longer than 100 characters").into());
    }
    let found = state
        .store
        .search(&auth.officer.municipality, birth_date, &query.name, 50)
        .await?;
    for view in &found {
        state
            .store
            .audit(&auth.actor(), "search-hit", Some(view.resident_key))
            .await?;
    }
    Ok(Json(found.iter().map(ResidentResponse::from).collect()))
}

/// Show a resident record.
#[utoipa::path(get, path = "/api/v1/residents/{code}", params(("code" = String, Path, description = "resident record code")),
    tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = ResidentResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let view = authorized_resident(&state, &auth, &code, Permission::ReadResident).await?;
    state
        .store
        .audit(&auth.actor(), "read", Some(view.resident_key))
        .await?;
    Ok(Json(ResidentResponse::from(&view)))
}

/// Find a resident by My Number (in the body, so that it never appears in a URL or
/// an access log).
#[utoipa::path(post, path = "/api/v1/residents/lookup", request_body = NumberLookup, tag = "residents", security(("bearer" = [])),
    responses((status = 200, body = ResidentResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn lookup(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<NumberLookup>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let view = readable_by_number(&state, &auth, &request.my_number).await?;
    Ok(Json(ResidentResponse::from(&view)))
}

/// Show the My Number in clear (audited with the request's purpose).
#[utoipa::path(post, path = "/api/v1/residents/{code}/my-number", params(("code" = String, Path)), tag = "residents",
    security(("bearer" = [])), responses((status = 200, body = RevealResponse), (status = 404, body = ErrorBody)))]
async fn reveal(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Result<Json<RevealResponse>, ApiError> {
    let view = authorized_resident(&state, &auth, &code, Permission::RevealNumber).await?;
    state
        .store
        .audit(&auth.actor(), "reveal-my-number", Some(view.resident_key))
        .await?;
    Ok(Json(RevealResponse {
        my_number: view.my_number.as_digits(),
    }))
}

/// The record's history: the registration and every change.
#[utoipa::path(get, path = "/api/v1/residents/{code}/history", params(("code" = String, Path)), tag = "residents",
    security(("bearer" = [])), responses((status = 200, body = [HistoryEntryResponse]), (status = 404, body = ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Result<Json<Vec<HistoryEntryResponse>>, ApiError> {
    let view = authorized_resident(&state, &auth, &code, Permission::ReadResident).await?;
    state
        .store
        .audit(&auth.actor(), "read-history", Some(view.resident_key))
        .await?;
    let entries = state.store.history(view.resident_key).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| HistoryEntryResponse {
                version: e.version,
                kind: e.kind,
                date: e.date.to_string(),
                recorded_at: e.recorded_at,
                actor: e.actor,
            })
            .collect(),
    ))
}

async fn change(
    state: &AppState,
    auth: &Authenticated,
    code: &str,
    event: impl FnOnce(&ResidentView) -> Result<ResidentEvent, ApiError>,
) -> Result<Json<ResidentResponse>, ApiError> {
    let view = authorized_resident(state, auth, code, Permission::ChangeResident).await?;
    let event = event(&view)?;
    let view = state
        .store
        .apply(view.resident_key, event, &auth.actor())
        .await?;
    Ok(Json(ResidentResponse::from(&view)))
}

/// Move to another municipality (転出・転入).
#[utoipa::path(post, path = "/api/v1/residents/{code}/move", params(("code" = String, Path)), request_body = MoveRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn move_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<MoveRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    change(&state, &auth, &code, |_| {
        let municipality: MunicipalityCode = request
            .municipality
            .parse()
            .map_err(|e: maina_core::IdError| FieldError::new("municipality", e.to_string()))?;
        Ok(ResidentEvent::Moved {
            date: date_or_today(&request.date)?,
            municipality,
            address: Address::parse(&request.address)?,
        })
    })
    .await
}

/// Change the address within the municipality (転居).
#[utoipa::path(post, path = "/api/v1/residents/{code}/address", params(("code" = String, Path)), request_body = AddressRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 422, body = ErrorBody)))]
async fn change_address(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<AddressRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    change(&state, &auth, &code, |_| {
        Ok(ResidentEvent::AddressChanged {
            date: date_or_today(&request.date)?,
            address: Address::parse(&request.address)?,
        })
    })
    .await
}

/// Change the name; parts not given stay as they are.
#[utoipa::path(post, path = "/api/v1/residents/{code}/rename", params(("code" = String, Path)), request_body = RenameRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 422, body = ErrorBody)))]
async fn rename(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<RenameRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    change(&state, &auth, &code, |view| {
        let name = view.record.person.name.changed(&NameChange {
            family_name: request.family_name.clone(),
            given_name: request.given_name.clone(),
            family_kana: request.family_kana.clone(),
            given_kana: request.given_kana.clone(),
            alphabet_name: request.alphabet_name.clone(),
            alias: request.alias.clone(),
            name_kana: None,
        })?;
        Ok(ResidentEvent::Renamed {
            date: date_or_today(&request.date)?,
            name,
        })
    })
    .await
}

/// Record a departure abroad (国外転出).
#[utoipa::path(post, path = "/api/v1/residents/{code}/departure", params(("code" = String, Path)), request_body = DateRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 409, body = ErrorBody)))]
async fn depart(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<DateRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    change(&state, &auth, &code, |_| {
        Ok(ResidentEvent::Departed {
            date: date_or_today(&request.date)?,
        })
    })
    .await
}

/// Record a death.
#[utoipa::path(post, path = "/api/v1/residents/{code}/death", params(("code" = String, Path)), request_body = DateRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = ResidentResponse), (status = 409, body = ErrorBody)))]
async fn death(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<DateRequest>,
) -> Result<Json<ResidentResponse>, ApiError> {
    change(&state, &auth, &code, |_| {
        Ok(ResidentEvent::Died {
            date: date_or_today(&request.date)?,
        })
    })
    .await
}

/// Change the My Number after a leak (supervisors).
#[utoipa::path(post, path = "/api/v1/residents/{code}/number-change", params(("code" = String, Path)), request_body = NumberChangeRequest,
    tag = "residents", security(("bearer" = [])), responses((status = 200, body = NumberChangeResponse), (status = 403, body = ErrorBody)))]
async fn number_change(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<NumberChangeRequest>,
) -> Result<Json<NumberChangeResponse>, ApiError> {
    let view = authorized_resident(&state, &auth, &code, Permission::ChangeNumber).await?;
    let reason = NumberChangeReason::parse(&request.reason)?;
    let (old, new) = state
        .store
        .change_number(
            view.resident_key,
            date_or_today(&request.date)?,
            reason,
            &auth.actor(),
        )
        .await?;
    state
        .store
        .audit(&auth.actor(), "reveal-my-number", Some(view.resident_key))
        .await?;
    Ok(Json(NumberChangeResponse {
        retired_masked: old.masked(),
        my_number: new.as_digits(),
    }))
}

/// The audit trail: about one resident, or everything done by the caller's
/// municipality's officers (auditors and supervisors).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = [AuditEventResponse]), (status = 403, body = ErrorBody)))]
async fn audit(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditEventResponse>>, ApiError> {
    let Query(query) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    if !auth.officer.role.allows(Permission::ReadAudit) {
        return Err(ApiError::forbidden());
    }
    let resident = match &query.resident {
        Some(code) => Some(
            state
                .store
                .authority()
                .resident_key(&resident_code(code)?)
                .map_err(|_| ApiError::not_found("resident"))?,
        ),
        None => None,
    };
    let own = auth.officer.municipality.as_digits();
    let events: Vec<AuditEvent> = state
        .store
        .audit_events(resident)
        .await?
        .into_iter()
        .filter(|e| e.municipality == own)
        .collect();
    let authority = state.store.authority();
    Ok(Json(
        events
            .into_iter()
            .map(|e| AuditEventResponse {
                seq: e.seq,
                at: e.at,
                officer: e.officer,
                role: e.role,
                municipality: e.municipality,
                action: e.action,
                resident_code: e
                    .resident
                    .and_then(|k| authority.resident_code(k).ok())
                    .map(|c| c.as_digits()),
                purpose: e.purpose,
            })
            .collect(),
    ))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "maina API", description = "Japan's My Number system: the resident registry for municipal officers."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The API routes and their OpenAPI document.
pub fn routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(register, search))
        .routes(routes!(lookup))
        .routes(routes!(show))
        .routes(routes!(reveal))
        .routes(routes!(history))
        .routes(routes!(move_resident))
        .routes(routes!(change_address))
        .routes(routes!(rename))
        .routes(routes!(depart))
        .routes(routes!(death))
        .routes(routes!(number_change))
        .routes(routes!(audit))
        .routes(routes!(application_status))
        .routes(routes!(crate::applications::show_application))
        .routes(routes!(crate::applications::application_event))
        .routes(routes!(crate::applications::stuck))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(crate::applications::mail_application))
                .routes(routes!(crate::applications::booth_application))
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::applications::UPLOAD_LIMIT,
                )),
        )
        .split_for_parts()
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.openapi.clone())
}
