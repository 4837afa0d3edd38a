//! Staff's review: an application by receipt number, the review steps
//! (supervisors), and the list of applications stuck in card issuance (API and
//! console page).

use crate::http::{Authenticated, Body, ConsolePage, OnRecord, Reply};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{ApplicationEventRequest, ApplicationResponse, ErrorBody};
use maina_service::applications::application_response;

/// An application, by its receipt number.
#[utoipa::path(get, path = "/api/v1/applications/{receipt}", tag = "applications", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = ErrorBody)))]
pub async fn show_application(state: State<AppState>, at: OnRecord) -> Reply<ApplicationResponse> {
    Ok(Json(
        state.service.show_application(&at.actor(), &at.id).await?,
    ))
}

/// Move an application on (supervisors). Illegal steps are refused with 409; the
/// applicant is told of every change by e-mail when an address was given.
#[utoipa::path(post, path = "/api/v1/applications/{receipt}/events", request_body = ApplicationEventRequest, tag = "applications", security(("bearer" = [])),
    params(("receipt" = String, Path, description = "16-digit receipt number")),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn application_event(
    state: State<AppState>,
    at: OnRecord,
    Body(request): Body<ApplicationEventRequest>,
) -> Reply<ApplicationResponse> {
    Ok(Json(
        state
            .service
            .review_application(&at.actor(), &at.id, &request)
            .await?,
    ))
}

/// Applications still in card issuance after 30 days, in the supervisor's
/// municipality (the resident should be contacted).
#[utoipa::path(get, path = "/api/v1/applications/stuck", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [ApplicationResponse]), (status = 403, body = ErrorBody)))]
pub async fn stuck(state: State<AppState>, auth: Authenticated) -> Reply<Vec<ApplicationResponse>> {
    let list = state.service.stuck_applications(&auth.actor()).await?;
    let shown = list
        .iter()
        .map(|record| application_response(record, Vec::new()));
    Ok(Json(shown.collect()))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/console/applications/stuck", get(stuck_page))
}

/// The supervisor's page of applications stuck in card issuance.
async fn stuck_page(State(state): State<AppState>, page: ConsolePage) -> Response {
    let m = |id: &str| state.pages.message(page.lang, id);
    let rows: Vec<minijinja::Value> =
        match state.service.stuck_applications(&page.auth.actor()).await {
            Ok(list) => list
                .into_iter()
                .map(|r| {
                    let email = m(if r.details.email.is_some() {
                        "yes"
                    } else {
                        "no"
                    });
                    let since = maina_service::dates::japan_date(r.status_since)
                        .map(|date| date.to_string())
                        .unwrap_or_default();
                    let channel = r.channel.code();
                    minijinja::context! { receipt => r.details.receipt, channel, since, email }
                })
                .collect(),
            Err(error) if error.code == "forbidden" => {
                return page.text(&state, StatusCode::FORBIDDEN, "error");
            }
            Err(error) => {
                tracing::warn!(%error, "stuck applications could not be read");
                Vec::new()
            }
        };
    let context = minijinja::context! { rows };
    page.render(&state, StatusCode::OK, "stuck.html", "stuck-title", context)
}
