//! Pickup: the counter (API and console page) and the PIN pad (page and API).

pub mod counter;
pub mod pinpad;

use crate::AppState;
use axum::Router;

/// The pickup pages (merged under the CSRF layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .merge(counter::page_routes())
        .merge(pinpad::page_routes())
}
