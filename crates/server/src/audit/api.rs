//! `GET /api/v1/audit`.

use crate::http::{ApiQuery, Authenticated, Reply};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use maina_proto::{AuditEventResponse, AuditQuery, ErrorBody};

/// The audit trail: about one resident, or everything done by the caller's
/// municipality's officers (auditors and supervisors).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = [AuditEventResponse]), (status = 403, body = ErrorBody)))]
pub async fn audit(
    state: State<AppState>,
    auth: Authenticated,
    query: ApiQuery<AuditQuery>,
) -> Reply<Vec<AuditEventResponse>> {
    let resident = query.0.resident.as_deref();
    Ok(Json(
        state.service.audit_trail(&auth.actor(), resident).await?,
    ))
}
