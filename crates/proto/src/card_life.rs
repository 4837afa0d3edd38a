//! The card's life after pickup, as the API shows it: a card's state, its
//! certificates and its history (every state change, PIN reset, chip update,
//! notes-panel entry, with who, when and why).

wire! {
    /// A card with its certificates and history.
    response CardHistoryResponse {
        pub card_id: String,
        /// made | shipped | received | active | suspended | destroyed | revoked
        pub state: String,
        pub card_number: Option<String>,
        /// YYYY-MM-DD: the card's last day.
        pub expires_on: Option<String>,
        pub certificates: Vec<CardCertificateResponse>,
        /// Oldest first.
        pub events: Vec<CardEventResponse>,
    }

    /// One of a card's certificates.
    response CardCertificateResponse {
        /// Upper-case hexadecimal.
        pub serial: String,
        /// auth | sign
        pub ca: String,
        /// RFC 3339.
        pub not_after: String,
        /// good | on-hold | revoked | expired
        pub status: String,
        /// The revocation reason's code, when revoked or on hold.
        pub reason: Option<String>,
    }

    /// One entry of a card's history.
    response CardEventResponse {
        pub seq: i64,
        /// RFC 3339.
        pub at: String,
        /// The event's code (`suspended`, `pin-reset`, `notes-written`, ...).
        pub kind: String,
        /// The event's name in the reader's language.
        pub label: String,
        pub officer: String,
        pub role: String,
        pub municipality: String,
        /// Why (a code), or empty.
        pub reason: String,
        pub details: Option<String>,
    }
}
