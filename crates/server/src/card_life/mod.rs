//! The card's life after pickup (issue 13), by feature: the card's history page and
//! API (`history.rs`); loss and suspension (`suspension.rs`); the counter's work on the chip that the console and a PIN
//! pad take part in (`chip.rs`: the PIN pad opened for a PIN reset, the new PIN
//! from the pad); reissue and renewal (`renewal.rs`); each other part of the
//! card's life has its own file here; the notes panel, moving with the card and
//! continued use (`moving.rs`, API only).

pub mod chip;
pub mod history;
pub mod moving;
pub mod renewal;
pub mod suspension;

use crate::AppState;
use axum::Router;

/// The card-life pages (merged under the CSRF layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .merge(history::page_routes())
        .merge(suspension::page_routes())
        .merge(renewal::page_routes())
}
