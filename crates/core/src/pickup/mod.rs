//! The card at the counter: identity documents and pickup checks.

pub mod documents;
pub mod identity;
