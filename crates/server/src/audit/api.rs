//! `GET /api/v1/audit`.

use crate::http::{ApiError, Authenticated};
use crate::residents::api::query_error;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use maina_proto::{AuditEventResponse, AuditQuery, ErrorBody};

/// The audit trail: about one resident, or everything done by the caller's
/// municipality's officers (auditors and supervisors).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = [AuditEventResponse]), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditEventResponse>>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let events = state
        .service
        .audit_trail(&auth.actor(), query.resident.as_deref())
        .await?;
    Ok(Json(events))
}
