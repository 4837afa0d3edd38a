//! Card pickup: the offices' record (API and the supervisor's console page) and
//! appointments (the public booking page and API, the officers' day list).

pub mod appointments;
pub mod offices;

use crate::AppState;
use axum::Router;

/// The pickup pages (merged under the CSRF layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(appointments::page_routes())
        .merge(offices::page_routes())
}
