//! `GET /pki/{auth,sign}.crl` (and their delta CRLs, `-delta.crl`), `/pki/{auth,sign}-ca.crt` (the issuing CAs) and
//! `/pki/{auth,sign}-root.crt` (the roots). A CRL is served as stored: the request
//! neither signs nor writes (the CRL worker signs the next one after a revocation).

use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maina_service::CaKind;

enum PkiFile {
    Crl,
    DeltaCrl,
    IssuingCa,
    Root,
}

pub(super) async fn pki_file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(authorities) = state.service.authorities.as_deref() else {
        return super::unavailable();
    };
    let Some((code, what)) = file
        .strip_suffix("-delta.crl")
        .map(|code| (code, PkiFile::DeltaCrl))
        .or_else(|| file.strip_suffix(".crl").map(|code| (code, PkiFile::Crl)))
        .or_else(|| {
            file.strip_suffix("-ca.crt")
                .map(|code| (code, PkiFile::IssuingCa))
        })
        .or_else(|| {
            file.strip_suffix("-root.crt")
                .map(|code| (code, PkiFile::Root))
        })
    else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let Some(kind) = CaKind::from_code(code) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let hierarchy = authorities.get(kind);
    let certificate = |der: &[u8]| {
        (
            [(header::CONTENT_TYPE, "application/pkix-cert")],
            der.to_vec(),
        )
            .into_response()
    };
    match what {
        PkiFile::IssuingCa => certificate(hierarchy.issuing().certificate_der()),
        PkiFile::Root => certificate(hierarchy.root_certificate_der()),
        PkiFile::Crl | PkiFile::DeltaCrl => match match what {
            PkiFile::DeltaCrl => {
                maina_service::card_life::suspension_crl::published_delta_crl(
                    &state.service.store,
                    kind,
                )
                .await
            }
            _ => maina_service::cards::published_crl(&state.service.store, kind).await,
        } {
            Ok(Some(der)) => {
                ([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response()
            }
            Ok(None) => (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response(),
            Err(error) => {
                tracing::warn!(%error, "CRL could not be read");
                (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
            }
        },
    }
}
