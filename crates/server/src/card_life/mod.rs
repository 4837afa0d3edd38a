//! The card's life after pickup (issue 13), by use case. The API handlers are
//! listed in `openapi.rs`.
//!
//! `moving.rs`: the notes panel, moving with the card and continued use.

pub mod moving;
