//! The API's error shape: a stable code, a message, and the field at fault. Never a
//! stack trace, never a My Number.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use maina_core::person::FieldError;
use maina_core::resident::TransitionError;
use maina_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable: `invalid_field`, `malformed_json`, `not_found`, ...
    pub code: &'static str,
    /// For people, in English.
    pub message: String,
    /// The field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                field: None,
            },
        }
    }

    pub fn field(
        status: StatusCode,
        code: &'static str,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        let mut error = Self::new(status, code, message);
        error.body.field = Some(field.to_string());
        error
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "log in first")
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role or municipality does not allow this",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            error.field,
            error.to_string(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Rejected(TransitionError::Field(field)) => field.into(),
            StoreError::Rejected(other @ TransitionError::NotAllowed { .. }) => {
                Self::new(StatusCode::CONFLICT, "not_allowed", other.to_string())
            }
            StoreError::Conflict => Self::new(StatusCode::CONFLICT, "conflict", error.to_string()),
            StoreError::Duplicate(_) => {
                Self::new(StatusCode::CONFLICT, "already_used", error.to_string())
            }
            StoreError::Illegal(message) => Self::new(StatusCode::CONFLICT, "not_allowed", message),
            StoreError::Authority(_) => Self::not_found("resident"),
            other => {
                // Logged for operators; the client learns only that it failed.
                tracing::error!(error = %other, "store error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
