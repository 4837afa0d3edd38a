//! The card's path to its resident at the municipality: shipments received, the
//! offices and appointments, the counter and its PIN pad.

pub mod appointments;
pub mod counter;
pub mod offices;
pub mod pinpad;
pub mod shipments;

use crate::AppState;
use axum::Router;

/// The pickup pages (merged under the CSRF layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .merge(shipments::page_routes())
        .merge(appointments::page_routes())
        .merge(offices::page_routes())
        .merge(counter::page_routes())
        .merge(pinpad::page_routes())
}
