//! A PIN reset's two web steps: the officer opens the PIN pad for one PIN of an
//! active card (identity documents checked; the answer is the pairing code), and
//! the pad sends the new PIN, typed twice (held sealed by the service until the
//! counter's reader writes it to the chip with `maina card reset-pin`). The chip's
//! commands themselves go from the counter's reader, never through this server.
//! The page side is the `/pinpad` page's reset mode (`pickup/pinpad.rs`).

use crate::http::{ApiError, Authenticated, Body, ClientAddress};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use maina_proto::{
    ErrorBody, PinResetOpenRequest, PinpadOpened, PinpadPinsResponse, PinpadResetRequest,
};

/// Opens the PIN pad for the reset of one PIN (auth, sign, residence or support)
/// of an active card after the holder's identity documents were checked: the answer
/// is the one-time code to type on `/pinpad`. 404 for an unknown card or one of
/// another municipality; 409 if the card is not active or has no issuer key; 422
/// naming the field for a wrong PIN name or too few documents.
#[utoipa::path(post, path = "/api/v1/cards/pin-reset", request_body = PinResetOpenRequest, tag = "cards", security(("bearer" = [])),
    responses((status = 201, body = PinpadOpened), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_pin_reset(
    State(state): State<AppState>,
    auth: Authenticated,
    Body(request): Body<PinResetOpenRequest>,
) -> Result<(StatusCode, Json<PinpadOpened>), ApiError> {
    let opened = state
        .service
        .open_pin_reset(&auth.actor(), &request)
        .await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

/// The new PIN of a reset, typed twice on the PIN pad. A PIN that breaks its rule
/// is refused (422, naming the field and the rule in the resident's language) and
/// nothing is held; the answer is only `pin-held`.
#[utoipa::path(post, path = "/api/v1/pinpad/reset", request_body = PinpadResetRequest, tag = "pickup",
    responses((status = 200, body = PinpadPinsResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pinpad_reset(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Body(request): Body<PinpadResetRequest>,
) -> Result<Json<PinpadPinsResponse>, ApiError> {
    Ok(Json(state.service.pinpad_reset(&request, address).await?))
}
