//! The card at the counter: identity documents and pickup checks.

pub mod identity;
