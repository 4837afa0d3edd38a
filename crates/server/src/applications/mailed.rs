//! The mail channel: `POST /api/v1/applications/mail` and the back office's page.

use super::upload::{read_upload, text, ticked};
use crate::http::error_status;
use crate::http::i18n::{language, with_lang_cookie, LangQuery};
use crate::http::officer::{console_officer, officer_context};
use crate::http::{csrf, ApiError, Authenticated, Body};
use crate::AppState;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use maina_proto::{ApplicationResponse, ErrorBody, MailApplicationRequest};

/// Enter a mailed application. A failed envelope check, or a photo that does not
/// conform, returns the application to the resident with the reason.
#[utoipa::path(post, path = "/api/v1/applications/mail", request_body = MailApplicationRequest, tag = "applications", security(("bearer" = [])),
    responses((status = 201, body = ApplicationResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mail_application(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<MailApplicationRequest>,
) -> Result<(StatusCode, Json<ApplicationResponse>), ApiError> {
    let entered = state
        .service
        .enter_mailed_application(&auth.actor(), &request)
        .await?;
    Ok((StatusCode::CREATED, Json(entered)))
}

pub fn page_routes() -> Router<crate::AppState> {
    Router::new().route(
        "/console/applications/mail",
        get(mail_entry_page)
            .post(mail_entry_submit)
            .layer(axum::extract::DefaultBodyLimit::max(super::UPLOAD_LIMIT)),
    )
}

/// The back office's page for mailed applications.
async fn mail_entry_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let page = state.pages.render(
        "mail_entry.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "mail-entry-title"), officer => officer_context(&auth) },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

async fn mail_entry_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let lang = language(&headers, None);
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let (fields, photo) = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(answer) => return answer,
    };
    let request = MailApplicationRequest {
        form_id: text(&fields, "form_id"),
        birth_date: text(&fields, "birth_date"),
        name: text(&fields, "name"),
        photo_base64: (!photo.is_empty())
            .then(|| base64::engine::general_purpose::STANDARD.encode(&photo)),
        photo_attached: ticked(&fields, "photo_attached"),
        form_complete: ticked(&fields, "form_complete"),
        nothing_else_enclosed: ticked(&fields, "nothing_else"),
        electronic_certificate: ticked(&fields, "certificate"),
        braille: ticked(&fields, "braille"),
    };
    let title = state.pages.message(lang, "mail-entry-title");
    match state
        .service
        .enter_mailed_application(&auth.actor(), &request)
        .await
    {
        Ok(done) => {
            let problems: Vec<String> = done
                .photo_problems
                .iter()
                .map(|p| state.pages.message(lang, p))
                .collect();
            let result = minijinja::context! {
                receipt => done.receipt, status => done.status.clone(),
                label => state.pages.message(lang, &format!("status-{}", done.status)), problems,
            };
            state.pages.render(
                "mail_entry.html",
                lang,
                minijinja::context! { title, officer => officer_context(&auth), result },
            )
        }
        Err(error) => state.pages.render_status(
            error_status(&error),
            "mail_entry.html",
            lang,
            minijinja::context! { title, officer => officer_context(&auth), error => error.message.clone() },
        ),
    }
}
