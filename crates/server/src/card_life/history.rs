//! A card's state, certificates and history: the API for officers' clients and the
//! console's card page (linked from the resident's record page).

use crate::http::officer::error_message;
use crate::http::{error_status, Authenticated, ConsolePage, Reply};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use maina_proto::{CardHistoryResponse, ErrorBody};

/// A card's state, its certificates and its history (who, when, why), oldest
/// first. The read is audited.
#[utoipa::path(get, path = "/api/v1/cards/{card_id}/history", tag = "cards", security(("bearer" = [])),
    params(("card_id" = String, Path, description = "the card's id (16 hexadecimal digits)")),
    responses((status = 200, body = CardHistoryResponse), (status = 404, body = ErrorBody)))]
pub async fn card_history(
    state: State<AppState>,
    auth: Authenticated,
    Path(card_id): Path<String>,
) -> Reply<CardHistoryResponse> {
    Ok(Json(
        state
            .service
            .card_history(&auth.actor(), &card_id, "en")
            .await?,
    ))
}

/// A resident's cards, newest first, each with its certificates and history. The
/// read is audited.
#[utoipa::path(get, path = "/api/v1/residents/{code}/cards", tag = "cards", security(("bearer" = [])),
    params(("code" = String, Path, description = "the resident record code")),
    responses((status = 200, body = [CardHistoryResponse]), (status = 404, body = ErrorBody)))]
pub async fn resident_cards(
    state: State<AppState>,
    auth: Authenticated,
    Path(code): Path<String>,
) -> Reply<Vec<CardHistoryResponse>> {
    Ok(Json(
        state
            .service
            .resident_cards(&auth.actor(), &code, "en")
            .await?,
    ))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/console/cards/{card_id}", get(card_page))
}

async fn card_page(
    State(state): State<AppState>,
    page: ConsolePage,
    Path(card_id): Path<String>,
) -> Response {
    let found = state
        .service
        .card_history(&page.auth.actor(), &card_id, page.lang)
        .await;
    let (status, context) = match found {
        Ok(card) => (
            StatusCode::OK,
            minijinja::context! {
                title => card.card_id.clone(),
                card => minijinja::Value::from_serialize(&card),
            },
        ),
        Err(error) => (
            error_status(&error),
            minijinja::context! { error => error_message(&state, page.lang, &error) },
        ),
    };
    page.render(&state, status, "card.html", "", context)
}
