//! `GET /pki/{auth,sign}.crl` and `/pki/{auth,sign}-ca.crt`.

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maina_service::CaKind;

pub(super) async fn pki_file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(authorities) = state.service.authorities.as_deref() else {
        return super::unavailable();
    };
    let (kind, crl) = match file.as_str() {
        "auth.crl" => (CaKind::Authentication, true),
        "sign.crl" => (CaKind::Signature, true),
        "auth-ca.crt" => (CaKind::Authentication, false),
        "sign-ca.crt" => (CaKind::Signature, false),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    if !crl {
        return (
            [(header::CONTENT_TYPE, "application/pkix-cert")],
            authorities.get(kind).certificate_der().to_vec(),
        )
            .into_response();
    }
    match maina_service::cards::current_crl(&state.service.store, authorities, kind).await {
        Ok(der) => ([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response(),
        Err(error) => {
            tracing::warn!(%error, "CRL could not be made");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
        }
    }
}
