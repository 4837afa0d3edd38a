//! The API's error answers: a use case's refusal with its HTTP status, in the
//! shape of [`maina_proto::ErrorBody`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use maina_proto::ErrorBody;
use maina_service::{ErrorKind, ServiceError};

/// An error with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

/// The status each kind of refusal is answered with.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Gone => StatusCode::GONE,
        ErrorKind::Locked => StatusCode::LOCKED,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: None,
            },
        }
    }

    pub fn field(status: StatusCode, code: &str, field: &str, message: impl Into<String>) -> Self {
        let mut error = Self::new(status, code, message);
        error.body.field = Some(field.to_string());
        error
    }

    pub fn not_found(what: &str) -> Self {
        ServiceError::not_found(what).into()
    }

    pub fn unauthenticated() -> Self {
        ServiceError::unauthenticated().into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self {
            status: status_of(error.kind),
            body: ErrorBody {
                code: error.code.to_owned(),
                message: error.message,
                field: error.field,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The status a page answers a refusal with.
pub fn error_status(error: &ServiceError) -> StatusCode {
    status_of(error.kind)
}
