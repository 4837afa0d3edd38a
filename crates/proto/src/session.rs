//! Log-in and the officer behind a session.

wire! {
    request LoginRequest { pub username: String, pub password: String }

    response OfficerInfo { pub username: String, pub role: String, pub municipality: String }

    response LoginResponse {
        /// Send as `Authorization: Bearer <token>`.
        pub token: String,
        pub officer: OfficerInfo,
    }
}
