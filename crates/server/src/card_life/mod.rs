//! The card's life after pickup (issue 13), by feature: the card's history page and
//! API (`history.rs`); loss and suspension (`suspension.rs`); each other part of the
//! card's life has its own file here.

pub mod history;
pub mod suspension;

use crate::AppState;
use axum::Router;

/// The card-life pages (merged under the CSRF layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .merge(history::page_routes())
        .merge(suspension::page_routes())
}
