//! Card pickup at the municipality: offices' schedules and appointments.

pub mod schedule;
