//! The audit trail as auditors and supervisors read it.

pub mod api;
