//! The office record: `GET /api/v1/offices/{municipality}` (public facts),
//! `PUT /api/v1/offices/{municipality}` (the municipality's supervisor) and the
//! console page `/console/office`, over the same use cases.

use crate::http::officer::error_message;
use crate::http::{error_status, Authenticated, Body, ConsolePage, Reply};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{ErrorBody, OfficeRequest, OfficeResponse};
use serde::Deserialize;

/// Where a municipality's residents collect their cards: name, address, phone,
/// opening hours, counters, slot length and booking window (public).
#[utoipa::path(get, path = "/api/v1/offices/{municipality}", params(("municipality" = String, Path, description = "local government code")),
    tag = "pickup", responses((status = 200, body = OfficeResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn show_office(
    state: State<AppState>,
    Path(code): Path<String>,
) -> Reply<OfficeResponse> {
    Ok(Json(state.service.office_of(&code).await?))
}

/// Change the office record (the municipality's supervisor). Every field is
/// checked; a refusal names it and changes nothing.
#[utoipa::path(put, path = "/api/v1/offices/{municipality}", params(("municipality" = String, Path, description = "local government code")),
    request_body = OfficeRequest, tag = "pickup", security(("bearer" = [])),
    responses((status = 200, body = OfficeResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_office(
    state: State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
    Body(request): Body<OfficeRequest>,
) -> Reply<OfficeResponse> {
    Ok(Json(
        state
            .service
            .update_office(&auth.actor(), &code, &request)
            .await?,
    ))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/console/office", get(office_page).post(office_submit))
}

/// The console form's fields (numbers as typed: a wrong one is named, not a 422
/// page from the extractor).
#[derive(Debug, Deserialize)]
pub struct OfficeForm {
    name_ja: String,
    name_en: String,
    #[serde(default)]
    address_ja: String,
    #[serde(default)]
    address_en: String,
    #[serde(default)]
    phone: String,
    hours: String,
    counters: String,
    slot_minutes: String,
    book_from_days: String,
    book_to_days: String,
}

fn number(field: &str, text: &str) -> Result<u32, maina_service::ServiceError> {
    text.trim().parse().map_err(|_| {
        maina_service::ServiceError::invalid(field, format!("{field}: a whole number"))
    })
}

impl OfficeForm {
    fn request(&self) -> Result<OfficeRequest, maina_service::ServiceError> {
        Ok(OfficeRequest {
            name_ja: self.name_ja.clone(),
            name_en: self.name_en.clone(),
            address_ja: self.address_ja.clone(),
            address_en: self.address_en.clone(),
            phone: self.phone.clone(),
            hours: self.hours.clone(),
            counters: number("counters", &self.counters)?,
            slot_minutes: number("slot_minutes", &self.slot_minutes)?,
            book_from_days: number("book_from_days", &self.book_from_days)?,
            book_to_days: number("book_to_days", &self.book_to_days)?,
        })
    }
}

/// The officer's municipality's office, with the form (only supervisors may save).
async fn office_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    let code = page.auth.officer.municipality.as_digits();
    match state.service.office_of(&code).await {
        Ok(office) => page.render(
            &state,
            StatusCode::OK,
            "office.html",
            "office-title",
            minijinja::context! { office },
        ),
        Err(error) => page.text(&state, error_status(&error), "error"),
    }
}

async fn office_submit(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(form): Form<OfficeForm>,
) -> Response {
    let code = page.auth.officer.municipality.as_digits();
    let outcome = match form.request() {
        Ok(request) => {
            state
                .service
                .update_office(&page.auth.actor(), &code, &request)
                .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(office) => page.render(
            &state,
            StatusCode::OK,
            "office.html",
            "office-title",
            minijinja::context! { office, saved => true },
        ),
        Err(error) => {
            let message = error_message(&state, page.lang, &error);
            // The form as typed, so the supervisor corrects only the named field.
            let office = minijinja::context! {
                name_ja => form.name_ja, name_en => form.name_en,
                address_ja => form.address_ja, address_en => form.address_en,
                phone => form.phone, hours => form.hours, counters => form.counters,
                slot_minutes => form.slot_minutes, book_from_days => form.book_from_days,
                book_to_days => form.book_to_days,
            };
            let context = minijinja::context! { office, error => message, field => error.field };
            page.render(
                &state,
                error_status(&error),
                "office.html",
                "office-title",
                context,
            )
        }
    }
}
