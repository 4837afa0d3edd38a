//! Loss and suspension: the officers' and the helpline's API (suspend a card by its
//! id, identify a caller), the public report of a lost card (`POST
//! /api/v1/lost-card` and the `/lost` page, answered alike whatever matched), the
//! console's suspension page, and the counter's lift (challenge, then the card's
//! signature). Each calls one service use case.

use crate::http::officer::{error_message, message_for};
use crate::http::{error_status, Authenticated, Body, ClientAddress, ConsolePage, Page, Reply};
use crate::AppState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{
    CallerResponse, ErrorBody, IdentifyCallerRequest, LiftChallengeRequest, LiftChallengeResponse,
    LiftRequest, LostCardRequest, LostCardResponse, SuspendCardRequest, SuspensionResponse,
};
use serde::Deserialize;

/// Suspends a card (lost or stolen): helpline, counter or supervisor. The card id
/// travels in the body. An unknown card and another municipality's are alike 404;
/// a card that is not active is 409, naming its state.
#[utoipa::path(post, path = "/api/v1/cards/suspend", request_body = SuspendCardRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = SuspensionResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn suspend_card(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<SuspendCardRequest>,
) -> Reply<SuspensionResponse> {
    Ok(Json(
        state
            .service
            .suspend_card(
                &auth.actor(),
                &request.card_id,
                request.police_receipt.as_deref(),
                request.police_station.as_deref(),
            )
            .await?,
    ))
}

/// The helpline identifies a caller: name, birth date, address and the card or
/// issue notice's number. A match shows only name, birth date, address, the card id
/// and its state; anything else is 404.
#[utoipa::path(post, path = "/api/v1/helpline/identify", request_body = IdentifyCallerRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = CallerResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn identify_caller(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<IdentifyCallerRequest>,
) -> Reply<CallerResponse> {
    Ok(Json(
        state
            .service
            .identify_caller(&auth.actor(), &request)
            .await?,
    ))
}

/// A resident reports a lost card (public, no log-in). Every well-formed report
/// gets the same 200 answer, whether it matched an active card (suspended now) or
/// not; too many tries get 429.
#[utoipa::path(post, path = "/api/v1/lost-card", request_body = LostCardRequest, tag = "cards",
    responses((status = 200, body = LostCardResponse), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn report_lost_card(
    State(state): State<AppState>,
    headers: HeaderMap,
    from: ClientAddress,
    Body(request): Body<LostCardRequest>,
) -> Reply<LostCardResponse> {
    let lang = crate::http::i18n::language(&headers, None);
    Ok(Json(
        state
            .service
            .report_lost_card(&request, from.0, lang)
            .await?,
    ))
}

/// The lift's one-time challenge for a suspended card (the counter, the card
/// present).
#[utoipa::path(post, path = "/api/v1/cards/lift/challenge", request_body = LiftChallengeRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = LiftChallengeResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn lift_challenge(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<LiftChallengeRequest>,
) -> Reply<LiftChallengeResponse> {
    Ok(Json(
        state
            .service
            .lift_challenge(&auth.actor(), &request.card_id)
            .await?,
    ))
}

/// Lifts a suspension: the card's authentication key signed the challenge.
#[utoipa::path(post, path = "/api/v1/cards/lift", request_body = LiftRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = SuspensionResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lift_suspension(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<LiftRequest>,
) -> Reply<SuspensionResponse> {
    Ok(Json(
        state
            .service
            .lift_suspension(
                &auth.actor(),
                &request.card_id,
                &request.challenge,
                &request.signature,
            )
            .await?,
    ))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/lost", get(lost_page).post(lost_submit))
        .route("/console/suspend", get(suspend_page).post(suspend_submit))
}

#[derive(Debug, Deserialize)]
pub struct LostForm {
    name: String,
    birth_date: String,
    address: String,
    number: String,
    #[serde(default)]
    police_receipt: String,
    #[serde(default)]
    police_station: String,
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

async fn lost_page(State(state): State<AppState>, page: Page) -> Response {
    let context = minijinja::context! { form => minijinja::context! {} };
    page.render(&state, StatusCode::OK, "lost.html", "lost-title", context)
}

async fn lost_submit(
    state: State<AppState>,
    from: ClientAddress,
    page: Page,
    Form(form): Form<LostForm>,
) -> Response {
    let request = LostCardRequest {
        name: form.name.clone(),
        birth_date: form.birth_date.clone(),
        address: form.address.clone(),
        number: form.number.clone(),
        police_receipt: optional(&form.police_receipt),
        police_station: optional(&form.police_station),
    };
    let outcome = state
        .service
        .report_lost_card(&request, from.0, page.lang)
        .await;
    // What was typed is shown again only after a refusal (to correct it).
    let (status, context) = match outcome {
        Ok(answer) => (
            StatusCode::OK,
            minijinja::context! { form => minijinja::context! {}, answer => answer.message },
        ),
        Err(error) => {
            let known = [("too_many_attempts", "lost-wait")];
            let message = message_for(&state, page.lang, &error, &known);
            let form = minijinja::context! {
                name => form.name, birth_date => form.birth_date, address => form.address,
                number => form.number,
            };
            (
                error_status(&error),
                minijinja::context! { form, error => message },
            )
        }
    };
    page.render(&state, status, "lost.html", "lost-title", context)
}

#[derive(Debug, Deserialize)]
pub struct SuspendForm {
    card_id: String,
    #[serde(default)]
    police_receipt: String,
    #[serde(default)]
    police_station: String,
}

async fn suspend_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    page.render(
        &state,
        StatusCode::OK,
        "suspend.html",
        "suspend-title",
        minijinja::context! {},
    )
}

async fn suspend_submit(
    State(state): State<AppState>,
    page: ConsolePage,
    Form(form): Form<SuspendForm>,
) -> Response {
    let outcome = state
        .service
        .suspend_card(
            &page.auth.actor(),
            &form.card_id,
            optional(&form.police_receipt).as_deref(),
            optional(&form.police_station).as_deref(),
        )
        .await;
    match outcome {
        Ok(done) => {
            let done = minijinja::Value::from_serialize(&done);
            page.render(
                &state,
                StatusCode::OK,
                "suspend.html",
                "suspend-title",
                minijinja::context! { done },
            )
        }
        Err(error) => {
            let message = error_message(&state, page.lang, &error);
            page.render(
                &state,
                error_status(&error),
                "suspend.html",
                "suspend-title",
                minijinja::context! { error => message, card_id => form.card_id },
            )
        }
    }
}
