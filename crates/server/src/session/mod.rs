//! Officers' sessions: log-in and log-out, for API clients (a bearer token) and
//! the console (a cookie).

pub mod api;
pub mod pages;
