//! What a use case answers when it refuses: a kind (the adapters map it to an HTTP
//! status or an exit code), a stable code, a message for people, and the field at
//! fault. Never a stack trace, never a My Number or other value the caller sent.

use maina_core::person::FieldError;
use maina_core::resident::TransitionError;
use maina_store::StoreError;

/// The kinds of refusal, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed (not a value to check, a shape that is wrong).
    BadRequest,
    /// No valid session.
    Unauthenticated,
    /// The actor's role or municipality does not allow this.
    Forbidden,
    NotFound,
    /// The state does not allow this now (illegal transition, duplicate).
    Conflict,
    /// Used up or expired (a one-time link).
    Gone,
    /// The account is locked.
    Locked,
    /// Held off: too many failures.
    TooManyRequests,
    /// A value was checked and refused; the field says which.
    Invalid,
    /// Try again later.
    Unavailable,
    Internal,
}

/// A refused or failed use case.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    /// Stable, machine-readable: `invalid_field`, `not_found`, `no_match`, ...
    pub code: &'static str,
    /// For people, in English.
    pub message: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A refusal that names its field.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// A value refused: `invalid_field` on `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, "invalid_field", message).with_field(field)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "unauthenticated",
            "log in first",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "forbidden",
            "your role or municipality does not allow this",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", format!("no such {what}"))
    }

    pub fn unavailable() -> Self {
        Self::new(ErrorKind::Unavailable, "unavailable", "try again later")
    }

    /// An internal failure: logged for operators, the caller learns only that it
    /// failed.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl From<FieldError> for ServiceError {
    fn from(error: FieldError) -> Self {
        Self::invalid(error.field, error.to_string())
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Rejected(TransitionError::Field(field)) => field.into(),
            StoreError::Rejected(other @ TransitionError::NotAllowed { .. }) => {
                Self::new(ErrorKind::Conflict, "not_allowed", other.to_string())
            }
            StoreError::Conflict => Self::new(ErrorKind::Conflict, "conflict", error.to_string()),
            StoreError::Duplicate(_) => {
                Self::new(ErrorKind::Conflict, "already_used", error.to_string())
            }
            StoreError::Illegal(message) => Self::new(ErrorKind::Conflict, "not_allowed", message),
            StoreError::Authority(_) => Self::not_found("resident"),
            other => Self::internal(&other),
        }
    }
}

/// The result of a use case.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
