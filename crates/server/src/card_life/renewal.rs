//! Reissue and renewal at the counter: the JSON API (bearer tokens) and the
//! console's form (`/console/cards/reissue`). Both call the same use case; the
//! card id travels in the body, never in a URL.

use crate::http::{error_status, ApiError, Authenticated, Body, ConsolePage, Reply};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maina_proto::{
    ErrorBody, ReissueRequest, ReissueResponse, RenewalWindowRequest, RenewalWindowResponse,
};

/// Applies for a new card replacing an old one (lost, damaged, notes panel full,
/// or the renewal from three months before the end), with the fee the counter
/// took. 422 naming the field (`reason`, `fee_paid_yen` with code `fee_missing`,
/// the police report); 409 when the card is in the wrong state, a renewal is too
/// early (the message names the day it opens) or a replacement is under way.
#[utoipa::path(post, path = "/api/v1/cards/reissue", request_body = ReissueRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 201, body = ReissueResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reissue(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<ReissueRequest>,
) -> Result<(StatusCode, Json<ReissueResponse>), ApiError> {
    let done = state
        .service
        .reissue_card(&auth.actor(), &request, maina_service::today())
        .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// When a card's renewal can be applied for (from three months before its end).
#[utoipa::path(post, path = "/api/v1/cards/renewal-window", request_body = RenewalWindowRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = RenewalWindowResponse), (status = 404, body = ErrorBody)))]
pub async fn renewal_window(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<RenewalWindowRequest>,
) -> Reply<RenewalWindowResponse> {
    Ok(Json(
        state
            .service
            .renewal_window(&auth.actor(), &request.card_id, maina_service::today())
            .await?,
    ))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/console/cards/reissue", get(form_page).post(form_post))
}

const TEMPLATE: &str = "reissue.html";
const TITLE: &str = "reissue-form-title";
const REASONS: [&str; 4] = ["lost", "damaged", "notes-full", "expiry"];

fn render(
    state: &AppState,
    page: &ConsolePage,
    status: StatusCode,
    extra: minijinja::Value,
) -> Response {
    let reasons: Vec<(&str, String)> = REASONS
        .iter()
        .map(|r| (*r, state.pages.message(page.lang, &format!("reissue-form-reason-{r}"))))
        .collect();
    let context = minijinja::context! { reasons, ..extra };
    page.render(state, status, TEMPLATE, TITLE, context)
}

async fn form_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    render(&state, &page, StatusCode::OK, minijinja::context! {})
}

type Fields = Vec<(String, String)>;

fn one(fields: &Fields, name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
}

async fn form_post(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(fields): Form<Fields>,
) -> Response {
    let fee = one(&fields, "fee_paid_yen");
    let fee_paid_yen = match fee.as_deref().map(str::parse::<u32>).transpose() {
        Ok(fee) => fee,
        Err(_) => {
            let extra = minijinja::context! {
                error => "fee_paid_yen: must be a whole number of yen",
                field => "fee_paid_yen",
            };
            return render(&state, &page, StatusCode::UNPROCESSABLE_ENTITY, extra);
        }
    };
    let request = ReissueRequest {
        card_id: one(&fields, "card_id").unwrap_or_default(),
        reason: one(&fields, "reason").unwrap_or_default(),
        with_certificates: fields.iter().any(|(k, v)| k == "with_certificates" && v == "yes"),
        fee_paid_yen,
        police_receipt_number: one(&fields, "police_receipt_number"),
        police_station: one(&fields, "police_station"),
    };
    match state
        .service
        .reissue_card(&page.auth.actor(), &request, maina_service::today())
        .await
    {
        Ok(done) => {
            let extra = minijinja::context! { done => minijinja::Value::from_serialize(&done) };
            render(&state, &page, StatusCode::CREATED, extra)
        }
        Err(error) => {
            let message = match &error.field {
                Some(field) => format!("{field}: {}", error.message),
                None => error.message.clone(),
            };
            let extra = minijinja::context! { error => message, field => error.field.clone() };
            render(&state, &page, error_status(&error), extra)
        }
    }
}
