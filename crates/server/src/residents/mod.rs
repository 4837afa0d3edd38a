//! The resident registry: the JSON API for officers' clients and the officer
//! console's pages, both over the same use cases in `maina_service::residents`.

pub mod api;
pub mod pages;
