//! The card's path to its resident at the municipality: shipments received, the
//! offices and appointments, the counter and its PIN pad.

pub mod shipments;

use crate::AppState;
use axum::Router;

/// The pickup pages (merged under the CSRF layer).
pub fn page_routes() -> Router<AppState> {
    Router::new().merge(shipments::page_routes())
}
