//! Staff's review: an application by receipt number, the review steps
//! (supervisors), and the list of applications stuck in card issuance (API and
//! console page).

use crate::http::i18n::{language, with_lang_cookie, LangQuery};
use crate::http::officer::{console_officer, officer_context};
use crate::http::{ApiError, Authenticated, Body};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{ApplicationEventRequest, ApplicationResponse, ErrorBody};
use maina_service::applications::application_response;

/// An application, by its receipt number.
#[utoipa::path(get, path = "/api/v1/applications/{receipt}", tag = "applications", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = ErrorBody)))]
pub async fn show_application(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(receipt): Path<String>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    Ok(Json(
        state
            .service
            .show_application(&auth.actor(), &receipt)
            .await?,
    ))
}

/// Move an application on (supervisors). Illegal steps are refused with 409; the
/// applicant is told of every change by e-mail when an address was given.
#[utoipa::path(post, path = "/api/v1/applications/{receipt}/events", request_body = ApplicationEventRequest, tag = "applications", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn application_event(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(receipt): Path<String>,
    Body(request): Body<ApplicationEventRequest>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    Ok(Json(
        state
            .service
            .review_application(&auth.actor(), &receipt, &request)
            .await?,
    ))
}

/// Applications still in card issuance after 30 days, in the supervisor's
/// municipality (the resident should be contacted).
#[utoipa::path(get, path = "/api/v1/applications/stuck", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [ApplicationResponse]), (status = 403, body = ErrorBody)))]
pub async fn stuck(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Vec<ApplicationResponse>>, ApiError> {
    let list = state.service.stuck_applications(&auth.actor()).await?;
    Ok(Json(
        list.iter()
            .map(|record| application_response(record, Vec::new()))
            .collect(),
    ))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/console/applications/stuck", get(stuck_page))
}

/// The supervisor's page of applications stuck in card issuance.
async fn stuck_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = language(&headers, query.lang.as_deref());
    let auth = match console_officer(&state, &headers).await {
        Ok(auth) => auth,
        Err(redirect) => return redirect,
    };
    let rows: Vec<minijinja::Value> = match state.service.stuck_applications(&auth.actor()).await
    {
        Ok(list) => list
            .into_iter()
            .map(|r| {
                let email = if r.details.email.is_some() { "yes" } else { "no" };
                minijinja::context! {
                    receipt => r.details.receipt,
                    channel => r.channel.code(),
                    since => maina_service::dates::japan_date(r.status_since).map(|date| date.to_string()).unwrap_or_default(),
                    email => state.pages.message(lang, email),
                }
            })
            .collect(),
        Err(error) if error.code == "forbidden" => {
            return (StatusCode::FORBIDDEN, state.pages.message(lang, "error")).into_response();
        }
        Err(error) => {
            tracing::warn!(%error, "stuck applications could not be read");
            Vec::new()
        }
    };
    let page = state.pages.render(
        "stuck.html",
        lang,
        minijinja::context! { title => state.pages.message(lang, "stuck-title"), officer => officer_context(&auth), rows },
    );
    with_lang_cookie(page, query.lang.as_deref())
}
