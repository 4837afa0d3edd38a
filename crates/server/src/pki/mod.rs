//! The card PKI's public endpoints, as the real JPKI publishes its CRLs and answers
//! OCSP to anyone: the CA certificates and current CRLs, and the OCSP responder.
//! Nothing here can make a CA key sign or the store write: CRLs are served as the
//! CRL worker stored them, OCSP answers are signed by the delegated responder and
//! cached.

mod crl;
mod ocsp;

use crate::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pki/{file}", get(crl::pki_file))
        .route("/ocsp", post(ocsp::ocsp_post))
        .route("/ocsp/{request}", get(ocsp::ocsp_get))
}

/// The answer of a server without card authorities.
fn unavailable() -> Response {
    (
        StatusCode::NOT_FOUND,
        "this server has no card authorities (run `maina pki init`)",
    )
        .into_response()
}
