//! The resident portal's pages (issue 14), behind the resident's session (the
//! provider's card sign-in, `session.rs`): `/portal` (the record, the address
//! history, the cards with their notes panel, the applications, the notification
//! switch and the first page of the record of who used my data), `/portal/access`
//! (the record, paged), `/portal/access.csv`, and the resident's acts: suspend a
//! lost card, e-mails on or off. Each calls one service use case.

use super::session::ResidentSession;
use crate::http::officer::error_message;
use crate::http::{error_status, Page};
use crate::AppState;
use axum::extract::{Form, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maina_service::ServiceError;
use serde::Deserialize;

/// The portal's page routes (merged under the CSRF layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(portal_page))
        .route("/portal/access", get(access_page))
        .route("/portal/access.csv", get(access_csv))
        .route("/portal/suspend", post(suspend))
        .route("/portal/notify", post(notify))
        .route("/portal/consents/revoke", post(revoke_consent))
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<u64>,
}

/// The whole portal page, with an optional notice or error of an act just done.
/// The portal again after an action: its notice (a message id) or the refusal.
async fn after_action(
    state: &AppState,
    page: &Page,
    session: &ResidentSession,
    done: Result<&'static str, maina_service::ServiceError>,
) -> Response {
    match done {
        Ok(id) => {
            let notice = state.pages.message(page.lang, id);
            render_portal(
                state,
                page,
                session,
                StatusCode::OK,
                Some(notice),
                None,
                None,
            )
            .await
        }
        Err(error) => {
            let message = error_message(state, page.lang, &error);
            let status = error_status(&error);
            render_portal(state, page, session, status, None, Some(message), None).await
        }
    }
}

/// The portal page; `my_number`: the number in clear, only in the response to a
/// reveal (`reveal.rs`).
pub(super) async fn render_portal(
    state: &AppState,
    page: &Page,
    session: &ResidentSession,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    my_number: Option<String>,
) -> Response {
    let service = &state.service;
    let record = service.portal_record(session.resident_key, page.lang).await;
    let access = service
        .portal_access_record(session.resident_key, 1, page.lang)
        .await;
    match (record, access) {
        (Ok(record), Ok(access)) => page.render(
            state,
            status,
            "portal.html",
            "portal-title",
            minijinja::context! {
                record => minijinja::Value::from_serialize(&record),
                access => minijinja::Value::from_serialize(&access),
                notice,
                error,
                my_number,
                signed_in => true,
            },
        ),
        (Err(error), _) | (_, Err(error)) => failure(state, page, &error),
    }
}

fn failure(state: &AppState, page: &Page, error: &ServiceError) -> Response {
    let message = error_message(state, page.lang, error);
    page.render(
        state,
        error_status(error),
        "portal.html",
        "portal-title",
        minijinja::context! { error => message, signed_in => true },
    )
}

async fn portal_page(
    State(state): State<AppState>,
    page: Page,
    session: ResidentSession,
) -> Response {
    render_portal(&state, &page, &session, StatusCode::OK, None, None, None).await
}

async fn access_page(
    State(state): State<AppState>,
    page: Page,
    session: ResidentSession,
    Query(query): Query<PageQuery>,
) -> Response {
    match state
        .service
        .portal_access_record(session.resident_key, query.page.unwrap_or(1), page.lang)
        .await
    {
        Ok(access) => page.render(
            &state,
            StatusCode::OK,
            "portal_access.html",
            "portal-access-title",
            minijinja::context! {
                access => minijinja::Value::from_serialize(&access),
                signed_in => true,
            },
        ),
        Err(error) => failure(&state, &page, &error),
    }
}

async fn access_csv(
    State(state): State<AppState>,
    page: Page,
    session: ResidentSession,
) -> Response {
    match state
        .service
        .portal_access_csv(session.resident_key, page.lang)
        .await
    {
        Ok(csv) => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    CONTENT_DISPOSITION,
                    "attachment; filename=\"maina-access-record.csv\"",
                ),
                (CACHE_CONTROL, "no-store"),
            ],
            csv,
        )
            .into_response(),
        Err(error) => failure(&state, &page, &error),
    }
}

#[derive(Debug, Deserialize)]
pub struct SuspendForm {
    card_id: String,
}

async fn suspend(
    State(state): State<AppState>,
    page: Page,
    session: ResidentSession,
    Form(form): Form<SuspendForm>,
) -> Response {
    let done = state
        .service
        .portal_suspend_card(session.resident_key, &form.card_id)
        .await
        .map(|_| "portal-suspended");
    after_action(&state, &page, &session, done).await
}

#[derive(Debug, Deserialize)]
pub struct NotifyForm {
    /// `on` or `off`.
    switch: String,
    #[serde(default)]
    email: String,
}

async fn notify(
    State(state): State<AppState>,
    page: Page,
    session: ResidentSession,
    Form(form): Form<NotifyForm>,
) -> Response {
    let on = form.switch == "on";
    let email = on.then_some(form.email.as_str());
    let done = state
        .service
        .portal_set_notify(session.resident_key, email, page.lang)
        .await
        .map(|()| {
            if on {
                "portal-notify-saved-on"
            } else {
                "portal-notify-saved-off"
            }
        });
    after_action(&state, &page, &session, done).await
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    client_id: String,
}

async fn revoke_consent(
    State(state): State<AppState>,
    page: Page,
    session: ResidentSession,
    Form(form): Form<ConsentForm>,
) -> Response {
    let done = state
        .service
        .portal_revoke_consent(session.resident_key, &form.client_id)
        .await
        .map(|()| "portal-consent-revoked");
    after_action(&state, &page, &session, done).await
}
