//! The audit trail as the API shows it.

wire! {
    /// One event of the hash-chained trail.
    response AuditEventResponse {
        pub seq: u64, pub at: i64,
        pub officer: String, pub role: String, pub municipality: String,
        pub action: String,
        pub resident_code: Option<String>,
        pub purpose: String,
    }

    #[derive(Default, utoipa::IntoParams)]
    request AuditQuery {
        /// Resident record code.
        pub resident: Option<String>,
    }
}
