//! The public status inquiry: `POST /api/v1/application-status` and the `/status`
//! page, over the same use case (and the same brute-force guard).

use crate::http::officer::message_for;
use crate::http::{error_status, Body, ClientAddress, Page, Reply};
use crate::AppState;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{ErrorBody, StatusRequest, StatusResponse};
use maina_service::applications::inquiry::next_step;
use serde::Deserialize;

/// Where an application for the card stands (public; no log-in). An unknown number
/// and a wrong birth date get the same answer; repeated failures must wait longer
/// and longer.
#[utoipa::path(post, path = "/api/v1/application-status", request_body = StatusRequest, tag = "applications",
    responses((status = 200, body = StatusResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn application_status(
    state: State<AppState>,
    from: ClientAddress,
    Body(request): Body<StatusRequest>,
) -> Reply<StatusResponse> {
    let answer = state
        .service
        .inquire(&request.number, &request.birth_date, from.0)
        .await?;
    Ok(Json(StatusResponse {
        status: answer.status.code().to_owned(),
        since: answer.since.to_string(),
        next: next_step(answer.status).to_owned(),
    }))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/status", get(status_page).post(status_submit))
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    number: String,
    birth_date: String,
}

async fn status_page(State(state): State<AppState>, page: Page) -> Response {
    let context = minijinja::context! { number => "", birth_date => "" };
    page.render(
        &state,
        StatusCode::OK,
        "status.html",
        "status-title",
        context,
    )
}

async fn status_submit(
    state: State<AppState>,
    from: ClientAddress,
    page: Page,
    Form(form): Form<StatusForm>,
) -> Response {
    let m = |id: &str| state.pages.message(page.lang, id);
    let outcome = state
        .service
        .inquire(&form.number, &form.birth_date, from.0)
        .await;
    let (number, birth_date) = (&form.number, &form.birth_date);
    let (status, context) = match outcome {
        Ok(answer) => {
            let code = answer.status.code();
            let answer = minijinja::context! {
                code,
                label => m(&format!("status-{code}")),
                next => m(&format!("status-next-{code}")),
                since => maina_service::dates::for_language(answer.since, page.lang),
            };
            (
                StatusCode::OK,
                minijinja::context! { number, birth_date, answer },
            )
        }
        Err(error) => {
            let known = [
                ("too_many_attempts", "status-wait"),
                ("no_match", "status-no-match"),
            ];
            let message = message_for(&state, page.lang, &error, &known);
            let context = minijinja::context! { number, birth_date, error => message };
            (error_status(&error), context)
        }
    };
    page.render(&state, status, "status.html", "status-title", context)
}
