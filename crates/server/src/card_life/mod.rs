//! The card's life after pickup: API handlers and pages side by side, one file per
//! use-case group.

pub mod suspension;

use crate::AppState;
use axum::Router;

/// The card-life pages (merged under the CSRF layer).
pub fn routes() -> Router<AppState> {
    Router::new().merge(suspension::page_routes())
}
