//! The card and the registry's changes: the notes panel (追記欄), moving between
//! municipalities with the card (転入届の特例) and continued use (継続利用). Card
//! ids travel in bodies. Each handler calls one service use case.

use crate::http::i18n::language;
use crate::http::{Authenticated, Body, Reply};
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use maina_proto::{
    CardMoveResponse, CardNotesRequest, CardNotesResponse, ContinuedUseRequest, ErrorBody,
    MoveInRequest, MoveOutRequest,
};

/// A card's notes panel: its entries in order, whether it is full (the reissue is
/// then free), and whether a new signature certificate is offered.
#[utoipa::path(post, path = "/api/v1/cards/notes", request_body = CardNotesRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = CardNotesResponse), (status = 404, body = ErrorBody)))]
pub async fn notes(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    Body(request): Body<CardNotesRequest>,
) -> Reply<CardNotesResponse> {
    let lang = language(&headers, None);
    Ok(Json(
        state
            .service
            .card_notes(&auth.actor(), &request.card_id, lang)
            .await?,
    ))
}

/// Registers a move-out with the card at the holder's municipality (registrars).
/// 422 naming the field for a planned date outside the window or an unknown
/// destination; 409 when the card is not active.
#[utoipa::path(post, path = "/api/v1/cards/move-out", request_body = MoveOutRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = CardMoveResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_out(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    Body(request): Body<MoveOutRequest>,
) -> Reply<CardMoveResponse> {
    let lang = language(&headers, None);
    Ok(Json(
        state
            .service
            .move_out_with_card(&auth.actor(), &request, lang)
            .await?,
    ))
}

/// The move-in at the destination with the card (the destination's registrars
/// only): the registry's move, and the card kept (continued use due in 90 days)
/// or voided when the move-in is late.
#[utoipa::path(post, path = "/api/v1/cards/move-in", request_body = MoveInRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = CardMoveResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_in(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    Body(request): Body<MoveInRequest>,
) -> Reply<CardMoveResponse> {
    let lang = language(&headers, None);
    Ok(Json(
        state
            .service
            .move_in_with_card(&auth.actor(), &request, lang)
            .await?,
    ))
}

/// Continued use (継続利用) at the new municipality's counter, the card present.
/// 409 past the deadline or without a move-in awaiting it.
#[utoipa::path(post, path = "/api/v1/cards/continued-use", request_body = ContinuedUseRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = CardMoveResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn continued_use(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    Body(request): Body<ContinuedUseRequest>,
) -> Reply<CardMoveResponse> {
    let lang = language(&headers, None);
    Ok(Json(
        state
            .service
            .confirm_continued_use(&auth.actor(), &request, lang)
            .await?,
    ))
}
