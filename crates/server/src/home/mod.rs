//! The landing page, the health and readiness probes, the static style sheets and
//! the OpenAPI document.

use crate::http::Page;
use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/static/tokens.css", get(static_tokens))
        .route("/static/console.css", get(static_console))
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers too.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let store = &state.service.store;
    let database = store.backend().name();
    match store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ready", "database": database})),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "database": database})),
            )
        }
    }
}

/// `GET /api/v1/openapi.json`.
async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.openapi.as_ref().clone())
}

async fn static_tokens() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/dads/tokens.css"),
    )
}

async fn static_console() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/console.css"),
    )
}

/// The public front page, from the templates, in the browser's language (or the
/// one chosen with the switch): the public services and the officers' log-in. It
/// shows no figure about residents: a count is nobody's business on the web.
async fn index(State(state): State<AppState>, page: Page) -> Response {
    let context = minijinja::context! {};
    page.render(&state, StatusCode::OK, "home.html", "home-title", context)
}
