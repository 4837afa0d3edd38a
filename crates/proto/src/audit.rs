//! The audit trail as the API shows it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEventResponse {
    pub seq: u64,
    pub at: i64,
    pub officer: String,
    pub role: String,
    pub municipality: String,
    pub action: String,
    pub resident_code: Option<String>,
    pub purpose: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Resident record code.
    pub resident: Option<String>,
}
