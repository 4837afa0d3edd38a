//! The photo booth: `POST /api/v1/booth/applications`, and its full-screen page.
//! The booth opens `/booth?key=KEY` once (the key becomes an HttpOnly cookie), the
//! QR reader types the form ID, the camera fills the photo input, the applicant
//! approves, and the receipt comes back ready to print. Both go through the same
//! use case.

use super::upload::Upload;
use crate::http::cookies::cookie;
use crate::http::{error_status, ApiError, Body, Page};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use maina_proto::{BoothApplicationRequest, BoothReceipt, ErrorBody};
use serde::Deserialize;

const BOOTH_COOKIE: &str = "maina_booth";

/// A photo booth submits an application. The photo is checked like any other; a
/// photo that does not conform is refused with what to fix, so the booth can take
/// another.
#[utoipa::path(post, path = "/api/v1/booth/applications", request_body = BoothApplicationRequest, tag = "applications",
    params(("X-Booth-Key" = String, Header, description = "the booth's key")),
    responses((status = 201, body = BoothReceipt), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn booth_application(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(request): Body<BoothApplicationRequest>,
) -> Result<(StatusCode, Json<BoothReceipt>), ApiError> {
    let key = headers.get("x-booth-key").and_then(|v| v.to_str().ok());
    if !state.service.booth_key_known(key) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "unknown photo booth",
        ));
    }
    let receipt = state.service.submit_booth_application(&request).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route(
        "/booth",
        get(booth_page)
            .post(booth_post)
            .layer(axum::extract::DefaultBodyLimit::max(super::UPLOAD_LIMIT)),
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct BoothQuery {
    key: Option<String>,
}

/// The booth's screen, with what was typed, what to fix, or the receipt.
fn screen(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    typed: Option<&Upload>,
    outcome: minijinja::Value,
) -> Response {
    let text = |name: &str| typed.map(|upload| upload.text(name)).unwrap_or_default();
    let context = minijinja::context! {
        form_id => text("form_id"), name => text("name"),
        birth_date => text("birth_date"), ..outcome
    };
    page.render(state, status, "booth.html", "booth-title", context)
}

/// Whether the request carries a known booth's key cookie.
fn known_booth(state: &AppState, headers: &HeaderMap) -> bool {
    let key = cookie(headers, BOOTH_COOKIE);
    state.service.booth_key_known(key.as_deref())
}

async fn booth_page(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Query(query): Query<BoothQuery>,
) -> Response {
    let Some(key) = query.key else {
        if !known_booth(&state, &headers) {
            return page.text(&state, StatusCode::UNAUTHORIZED, "booth-unknown");
        }
        let empty = minijinja::context! {};
        return screen(&state, &page, StatusCode::OK, None, empty);
    };
    if !state.service.booth_key_known(Some(&key)) {
        return page.text(&state, StatusCode::UNAUTHORIZED, "booth-unknown");
    }
    let mut response = Redirect::to("/booth").into_response();
    let cookie = format!("{BOOTH_COOKIE}={key}; Path=/booth; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

async fn booth_post(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    upload: Upload,
) -> Response {
    if !known_booth(&state, &headers) {
        return page.text(&state, StatusCode::UNAUTHORIZED, "booth-unknown");
    }
    let request = BoothApplicationRequest {
        form_id: upload.text("form_id"),
        birth_date: upload.text("birth_date"),
        name: upload.text("name"),
        photo_base64: base64::engine::general_purpose::STANDARD.encode(&upload.photo),
        electronic_certificate: upload.ticked("certificate"),
        braille: upload.ticked("braille"),
        approved: upload.ticked("approved"),
        email: None,
        language: Some(page.lang.to_owned()),
    };
    match state.service.submit_booth_application(&request).await {
        Ok(receipt) => {
            let receipt =
                minijinja::context! { printable => receipt.printable, number => receipt.receipt };
            let outcome = minijinja::context! { receipt };
            screen(&state, &page, StatusCode::OK, Some(&upload), outcome)
        }
        Err(error) => {
            let outcome = minijinja::context! { error => error.message.clone() };
            screen(&state, &page, error_status(&error), Some(&upload), outcome)
        }
    }
}
