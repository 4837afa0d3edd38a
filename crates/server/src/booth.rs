//! The photo booth's full-screen page: the booth opens `/booth?key=KEY` once (the key
//! becomes an HttpOnly cookie), the QR reader types the form ID, the camera fills
//! the photo input, the applicant approves, and the receipt comes back ready to
//! print. It submits through the same path as the booth API.

use crate::applications::{booth_key_known, booth_submit, BoothApplicationRequest};
use crate::pages::{language, same_origin};
use crate::AppState;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use serde::Deserialize;
use std::collections::HashMap;

const BOOTH_COOKIE: &str = "maina_booth";

fn cookie_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            pair.trim()
                .strip_prefix(&format!("{BOOTH_COOKIE}="))
                .map(str::to_owned)
        })
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
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    state.pages.render(
        "booth.html",
        lang,
        minijinja::context! {
            title => state.pages.message(lang, "booth-title"),
            form_id => get("form_id"), name => get("name"), birth_date => get("birth_date"),
            error, receipt,
        },
    )
}

async fn booth_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<BoothQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    if let Some(key) = query.key {
        if !booth_key_known(&state, Some(&key)) {
            return (
                StatusCode::UNAUTHORIZED,
                state.pages.message(lang, "booth-unknown"),
            )
                .into_response();
        }
        let mut response = Redirect::to("/booth").into_response();
        let cookie = format!("{BOOTH_COOKIE}={key}; Path=/booth; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return response;
    }
    if !booth_key_known(&state, cookie_key(&headers).as_deref()) {
        return (
            StatusCode::UNAUTHORIZED,
            state.pages.message(lang, "booth-unknown"),
        )
            .into_response();
    }
    page(&state, lang, &HashMap::new(), None, None)
}

async fn booth_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = language(&headers, None);
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form post refused").into_response();
    }
    if !booth_key_known(&state, cookie_key(&headers).as_deref()) {
        return (
            StatusCode::UNAUTHORIZED,
            state.pages.message(lang, "booth-unknown"),
        )
            .into_response();
    }
    let (fields, photo) = match crate::applications::read_upload(multipart).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let request = BoothApplicationRequest {
        form_id: get("form_id"),
        birth_date: get("birth_date"),
        name: get("name"),
        photo_base64: base64::engine::general_purpose::STANDARD.encode(&photo),
        electronic_certificate: get("certificate") == "yes",
        braille: get("braille") == "yes",
        approved: get("approved") == "yes",
        email: None,
        language: Some(lang.to_owned()),
    };
    match booth_submit(&state, request).await {
        Ok(receipt) => page(
            &state,
            lang,
            &fields,
            None,
            Some(minijinja::context! { printable => receipt.printable, number => receipt.receipt }),
        ),
        Err(error) => {
            let mut response = page(
                &state,
                lang,
                &fields,
                Some(error.body.message.clone()),
                None,
            );
            *response.status_mut() = error.status;
            response
        }
    }
}

/// The booth page's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/booth",
        get(booth_page)
            .post(booth_post)
            .layer(axum::extract::DefaultBodyLimit::max(
                crate::applications::UPLOAD_LIMIT,
            )),
    )
}
