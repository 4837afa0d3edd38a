//! The one error shape of the API.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error answer: a stable code, a message, and the field at fault. Never a
/// stack trace, never a My Number or any other value the client sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `invalid_field`, `malformed_json`, `not_found`, ...
    pub code: String,
    /// For people, in English.
    pub message: String,
    /// The field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
