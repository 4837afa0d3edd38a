//! Applications for the card: the mail channel's API and back-office page, the
//! online channel's pages, the photo booth's API and page, the review API and the
//! stuck list, and the public status inquiry (API and page).

pub mod booth;
pub mod mailed;
pub mod online;
pub mod review;
pub mod status;
pub mod upload;

use crate::AppState;
use axum::Router;

/// The largest upload: a 7 MB photo, base64-encoded, with the form's fields.
pub const UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// The applications' pages.
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .merge(mailed::page_routes())
        .merge(online::page_routes())
        .merge(booth::page_routes())
        .merge(review::page_routes())
        .merge(status::page_routes())
}
