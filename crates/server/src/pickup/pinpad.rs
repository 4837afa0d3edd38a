//! The PIN pad: a full-screen public page (`/pinpad`) paired with the counter by
//! the one-time code the officer's screen shows, and its JSON equivalents for a
//! municipality's own PIN pad hardware. The page asks each PIN twice and checks its
//! rule as it is typed (`/static/pinpad.js`, the rules named in the resident's
//! language), then sends them to the server, which checks them again and writes
//! them straight to the chip. The answer — on the page and in the API — is only
//! "PINs set": no PIN is ever shown or sent back, to the officer or anyone.

use crate::http::{error_status, ApiError, Body, ClientAddress, Page, Reply};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use maina_proto::{
    ErrorBody, PinpadCodeRequest, PinpadCodeResponse, PinpadPinsRequest, PinpadPinsResponse,
};
use std::collections::HashMap;

/// The PIN pad pairs with a code: answers the resident's language (404 for a wrong,
/// used or expired code).
#[utoipa::path(post, path = "/api/v1/pinpad/code", request_body = PinpadCodeRequest, tag = "pickup",
    responses((status = 200, body = PinpadCodeResponse), (status = 404, body = ErrorBody)))]
pub async fn pinpad_code(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<PinpadCodeRequest>,
) -> Reply<PinpadCodeResponse> {
    Ok(Json(state.service.pinpad_code(&request, address).await?))
}

/// The four PINs, each typed twice. A PIN that breaks its rule is refused (422,
/// naming the field and the rule in the resident's language) and nothing is
/// written.
#[utoipa::path(post, path = "/api/v1/pinpad/pins", request_body = PinpadPinsRequest, tag = "pickup",
    responses((status = 200, body = PinpadPinsResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pinpad_pins(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<PinpadPinsRequest>,
) -> Result<Json<PinpadPinsResponse>, ApiError> {
    Ok(Json(state.service.pinpad_set(&request, address).await?))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/pinpad", get(pinpad_page).post(pinpad_post))
        .route("/static/pinpad.js", get(pinpad_script))
}

const TEMPLATE: &str = "pinpad.html";
const TITLE: &str = "pinpad-title";

async fn pinpad_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/pinpad.js"),
    )
}

async fn pinpad_page(State(state): State<AppState>, page: Page) -> Response {
    page.render(
        &state,
        StatusCode::OK,
        TEMPLATE,
        TITLE,
        minijinja::context! {},
    )
}

/// One post for both steps: a code alone pairs (the PIN form comes back in the
/// resident's language); a code with PINs sets them.
async fn pinpad_post(
    State(state): State<AppState>,
    page: Page,
    ClientAddress(address): ClientAddress,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let code = get("code");
    let paired = state
        .service
        .pinpad_code(&PinpadCodeRequest { code: code.clone() }, address)
        .await;
    let reset = paired.as_ref().ok().and_then(|a| a.reset_pin.clone());
    let lang = match &paired {
        Ok(answer) if answer.language == "ja" => "ja",
        Ok(_) => "en",
        Err(error) => {
            let context =
                minijinja::context! { error => state.pages.message(page.lang, "pinpad-bad-code") };
            return page.render(&state, error_status(error), TEMPLATE, TITLE, context);
        }
    };
    let page = page.with_language(lang);
    if let Some(reset) = reset {
        return reset_post(&state, page, address, code, reset, &fields).await;
    }
    if !fields.contains_key("auth_pin") {
        let context = minijinja::context! { code };
        return page.render(&state, StatusCode::OK, TEMPLATE, TITLE, context);
    }
    let request = PinpadPinsRequest {
        code: code.clone(),
        auth_pin: get("auth_pin"),
        auth_pin_again: get("auth_pin_again"),
        sign_pin: get("sign_pin"),
        sign_pin_again: get("sign_pin_again"),
        residence_pin: get("residence_pin"),
        residence_pin_again: get("residence_pin_again"),
        support_pin: get("support_pin"),
        support_pin_again: get("support_pin_again"),
    };
    match state.service.pinpad_set(&request, address).await {
        Ok(done) => {
            let context = minijinja::context! { done => done.state };
            page.render(&state, StatusCode::OK, TEMPLATE, TITLE, context)
        }
        Err(error) => {
            // The PINs typed are not sent back: the resident types them again.
            let context = minijinja::context! {
                code, error => error.message.clone(), field => error.field.clone(),
            };
            page.render(&state, error_status(&error), TEMPLATE, TITLE, context)
        }
    }
}

/// The reset mode: one PIN (the session names which) typed twice, held sealed by
/// the service until the counter's reader writes it to the chip.
async fn reset_post(
    state: &AppState,
    page: Page,
    address: std::net::IpAddr,
    code: String,
    reset: String,
    fields: &HashMap<String, String>,
) -> Response {
    let (label, rule) = match reset.as_str() {
        "sign" => ("pinpad-pin-sign", "sign"),
        "residence" => ("pinpad-pin-residence", "four"),
        "support" => ("pinpad-pin-support", "four"),
        _ => ("pinpad-pin-auth", "four"),
    };
    let Some(pin) = fields.get("pin") else {
        let form = minijinja::context! { code, reset, label, rule };
        return page.render(state, StatusCode::OK, TEMPLATE, TITLE, form);
    };
    let request = maina_proto::PinpadResetRequest {
        code: code.clone(),
        pin: pin.clone(),
        pin_again: fields.get("pin_again").cloned().unwrap_or_default(),
    };
    match state.service.pinpad_reset(&request, address).await {
        Ok(done) => {
            let context = minijinja::context! { done => done.state };
            page.render(state, StatusCode::OK, TEMPLATE, TITLE, context)
        }
        Err(error) => {
            // The PIN typed is not sent back: the resident types it again.
            let context = minijinja::context! {
                code, reset, label, rule, error => error.message.clone(), field => error.field.clone(),
            };
            page.render(state, error_status(&error), TEMPLATE, TITLE, context)
        }
    }
}
