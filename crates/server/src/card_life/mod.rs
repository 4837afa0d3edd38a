//! The card's life after pickup (issue 13): one file per part, API handlers and
//! pages side by side.

pub mod renewal;

use crate::AppState;
use axum::Router;

/// The card-life pages (merged under the CSRF layer).
pub fn routes() -> Router<AppState> {
    Router::new().merge(renewal::page_routes())
}
