//! The photo booth: `POST /api/v1/booth/applications`, and its full-screen page.
//! The booth opens `/booth?key=KEY` once (the key becomes an HttpOnly cookie), the
//! QR reader types the form ID, the camera fills the photo input, the applicant
//! approves, and the receipt comes back ready to print. Both go through the same
//! use case.

use super::upload::{read_upload, text, ticked};
use crate::http::cookies::cookie;
use crate::http::i18n::language;
use crate::http::{csrf, error_status, ApiError, Body};
use crate::AppState;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use maina_proto::{BoothApplicationRequest, BoothReceipt, ErrorBody};
use serde::Deserialize;
use std::collections::HashMap;

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
    lang: Option<String>,
}

fn page(
    state: &AppState,
    lang: &str,
    fields: &HashMap<String, String>,
    error: Option<String>,
    receipt: Option<minijinja::Value>,
) -> Response {
    state.pages.render(
        "booth.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "booth-title"),
            form_id => text(fields, "form_id"), name => text(fields, "name"),
            birth_date => text(fields, "birth_date"),
            error, receipt,
        },
    )
}

fn unknown_booth(state: &AppState, lang: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        state.pages.message(lang, "booth-unknown"),
    )
        .into_response()
}

async fn booth_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<BoothQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    if let Some(key) = query.key {
        if !state.service.booth_key_known(Some(&key)) {
            return unknown_booth(&state, lang);
        }
        let mut response = Redirect::to("/booth").into_response();
        let cookie = format!("{BOOTH_COOKIE}={key}; Path=/booth; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return response;
    }
    if !state
        .service
        .booth_key_known(cookie(&headers, BOOTH_COOKIE).as_deref())
    {
        return unknown_booth(&state, lang);
    }
    page(&state, lang, &HashMap::new(), None, None)
}

async fn booth_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = language(&headers, None);
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    if !state
        .service
        .booth_key_known(cookie(&headers, BOOTH_COOKIE).as_deref())
    {
        return unknown_booth(&state, lang);
    }
    let (fields, photo) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let request = BoothApplicationRequest {
        form_id: text(&fields, "form_id"),
        birth_date: text(&fields, "birth_date"),
        name: text(&fields, "name"),
        photo_base64: base64::engine::general_purpose::STANDARD.encode(&photo),
        electronic_certificate: ticked(&fields, "certificate"),
        braille: ticked(&fields, "braille"),
        approved: ticked(&fields, "approved"),
        email: None,
        language: Some(lang.to_owned()),
    };
    match state.service.submit_booth_application(&request).await {
        Ok(receipt) => page(
            &state,
            lang,
            &fields,
            None,
            Some(minijinja::context! { printable => receipt.printable, number => receipt.receipt }),
        ),
        Err(error) => {
            let mut response = page(&state, lang, &fields, Some(error.message.clone()), None);
            *response.status_mut() = error_status(&error);
            response
        }
    }
}
