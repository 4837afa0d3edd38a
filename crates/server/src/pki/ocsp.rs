//! The OCSP responder: `POST /ocsp` and, per RFC 6960 appendix A.1, `GET /ocsp/{base64}`.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use maina_service::cards::ocsp_answer;

fn ocsp_response(der: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/ocsp-response")], der).into_response()
}

pub(super) async fn ocsp_post(State(state): State<AppState>, body: Bytes) -> Response {
    let Some(authorities) = state.service.authorities.as_deref() else {
        return super::unavailable();
    };
    ocsp_response(
        ocsp_answer(
            &state.service.store,
            authorities,
            &state.service.ocsp_cache,
            &body,
        )
        .await,
    )
}

pub(super) async fn ocsp_get(
    State(state): State<AppState>,
    Path(request): Path<String>,
) -> Response {
    let Some(authorities) = state.service.authorities.as_deref() else {
        return super::unavailable();
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(request.as_bytes())
        .unwrap_or_default();
    ocsp_response(
        ocsp_answer(
            &state.service.store,
            authorities,
            &state.service.ocsp_cache,
            &decoded,
        )
        .await,
    )
}
