//! Card pickup at the municipality: offices' schedules and appointments; the
//! identity documents and the checks of a pickup at the counter.

pub mod documents;
pub mod identity;
pub mod schedule;
