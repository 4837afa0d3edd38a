//! The mail channel: `POST /api/v1/applications/mail` and the back office's page.

use super::upload::Upload;
use crate::http::{error_status, ApiError, Authenticated, Body, ConsolePage};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
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
async fn mail_entry_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    let context = minijinja::context! {};
    page.render(&state, StatusCode::OK, TEMPLATE, TITLE, context)
}

const TEMPLATE: &str = "mail_entry.html";
const TITLE: &str = "mail-entry-title";

async fn mail_entry_submit(
    State(state): State<AppState>,
    page: ConsolePage,
    upload: Upload,
) -> Response {
    let request = MailApplicationRequest {
        form_id: upload.text("form_id"),
        birth_date: upload.text("birth_date"),
        name: upload.text("name"),
        photo_base64: (!upload.photo.is_empty())
            .then(|| base64::engine::general_purpose::STANDARD.encode(&upload.photo)),
        photo_attached: upload.ticked("photo_attached"),
        form_complete: upload.ticked("form_complete"),
        nothing_else_enclosed: upload.ticked("nothing_else"),
        electronic_certificate: upload.ticked("certificate"),
        braille: upload.ticked("braille"),
    };
    let entered = state
        .service
        .enter_mailed_application(&page.auth.actor(), &request)
        .await;
    let m = |id: &str| state.pages.message(page.lang, id);
    match entered {
        Ok(done) => {
            let problems: Vec<String> = done.photo_problems.iter().map(|p| m(p)).collect();
            let label = m(&format!("status-{}", done.status));
            let result = minijinja::context! {
                receipt => done.receipt, status => done.status, label, problems,
            };
            let context = minijinja::context! { result };
            page.render(&state, StatusCode::OK, TEMPLATE, TITLE, context)
        }
        Err(error) => {
            let context = minijinja::context! { error => error.message.clone() };
            page.render(&state, error_status(&error), TEMPLATE, TITLE, context)
        }
    }
}
