//! The public status inquiry: `POST /api/v1/application-status` and the `/status`
//! page, over the same use case (and the same brute-force guard).

use crate::http::i18n::{language, with_lang_cookie, LangQuery};
use crate::http::{csrf, error_status, ApiError, Body};
use crate::AppState;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{ErrorBody, StatusRequest, StatusResponse};
use maina_service::applications::inquiry::next_step;
use serde::Deserialize;
use std::net::SocketAddr;

/// Where an application for the card stands (public; no log-in). An unknown number
/// and a wrong birth date get the same answer; repeated failures must wait longer
/// and longer.
#[utoipa::path(post, path = "/api/v1/application-status", request_body = StatusRequest, tag = "applications",
    responses((status = 200, body = StatusResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn application_status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(request): Body<StatusRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    let answer = state
        .service
        .inquire(&request.number, &request.birth_date, peer.ip())
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

async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let page = state.pages.render(
        "status.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "status-title"), number => "", birth_date => "" },
    );
    with_lang_cookie(page, query.lang.as_deref())
}

async fn status_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<StatusForm>,
) -> Response {
    let lang = language(&headers, None);
    if let Some(refused) = csrf::refusal(&headers) {
        return refused;
    }
    let title = state.pages.message(lang, "status-title");
    let outcome = state
        .service
        .inquire(&form.number, &form.birth_date, peer.ip())
        .await;
    let (status, context) = match outcome {
        Ok(answer) => {
            let code = answer.status.code();
            (
                StatusCode::OK,
                minijinja::context! {
                    title, number => form.number, birth_date => form.birth_date,
                    answer => minijinja::context! {
                        code,
                        label => state.pages.message(lang, &format!("status-{code}")),
                        next => state.pages.message(lang, &format!("status-next-{code}")),
                        since => maina_service::dates::for_language(answer.since, lang),
                    },
                },
            )
        }
        Err(error) => {
            let message = match error.code {
                "too_many_attempts" => state.pages.message(lang, "status-wait"),
                "no_match" => state.pages.message(lang, "status-no-match"),
                _ => error.message.clone(),
            };
            (
                error_status(&error),
                minijinja::context! { title, number => form.number, birth_date => form.birth_date, error => message },
            )
        }
    };
    state
        .pages
        .render_status(status, "status.html", lang, context)
}
