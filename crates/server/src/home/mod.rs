//! The landing page, the health and readiness probes, the static style sheets and
//! the OpenAPI document.

use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
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

async fn index(State(state): State<AppState>) -> impl IntoResponse {
    let store = &state.service.store;
    let residents = store.resident_count().await.unwrap_or(0);
    let municipalities = store.municipalities().await.unwrap_or_default();
    let rows: String = municipalities
        .iter()
        .map(|m| {
            format!(
                "<li>{} {} ({})</li>",
                m.code.as_digits(),
                escape(&m.name_ja),
                escape(&m.name_en)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>maina</title></head>\
         <body><h1>maina — My Number registry</h1><p lang=\"ja\">マイナンバー住民登録システム</p>\
         <p>{residents} residents on {}.</p><ul>{rows}</ul></body></html>",
        store.backend().name()
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
