//! Loss and suspension (issue 13): an officer's suspension of a card, the helpline's
//! identification of a caller, the public report of a lost card (answered alike
//! whatever it matched), and the lift at the counter with the card present.

wire! {
    /// Suspend a card (lost or stolen). The card id travels in the body.
    request SuspendCardRequest {
        /// The card id (16 hexadecimal digits).
        pub card_id: String,
        /// The police report's receipt number (遺失届の受理番号), when given.
        pub police_receipt: Option<String>,
        /// The police station that took the report, when given.
        pub police_station: Option<String>,
    }

    /// A card suspended or its suspension lifted.
    response SuspensionResponse {
        pub card_id: String,
        /// suspended | active
        pub state: String,
        /// RFC 3339: when it took effect.
        pub at: String,
        /// Authentication certificates put on hold (suspension) or taken off hold
        /// (lift).
        pub authentication: Vec<String>,
        /// Signature certificates revoked (suspension; a lift leaves them revoked).
        pub signature: Vec<String>,
    }

    /// What the helpline (or the lost-card page) is told by the caller: name, birth
    /// date, address, and the card number or the issue notice's number.
    request IdentifyCallerRequest {
        pub name: String,
        /// YYYY-MM-DD.
        pub birth_date: String,
        pub address: String,
        /// The card number (10 digits, on the card's back) or the issue notice's
        /// number.
        pub number: String,
    }

    /// A match: only what identifies the caller, and the card to suspend.
    response CallerResponse {
        pub card_id: String,
        pub name: String,
        /// YYYY-MM-DD.
        pub birth_date: String,
        pub address: String,
        /// active | suspended | ...
        pub card_state: String,
    }

    /// The public report of a lost card (no log-in).
    request LostCardRequest {
        pub name: String,
        /// YYYY-MM-DD.
        pub birth_date: String,
        pub address: String,
        /// The card number or the issue notice's number.
        pub number: String,
        pub police_receipt: Option<String>,
        pub police_station: Option<String>,
    }

    /// The one answer to every well-formed report, whether it matched a card or not.
    response LostCardResponse {
        /// `received`.
        pub outcome: String,
        pub message: String,
    }

    /// Ask for a lift's one-time challenge for a suspended card at the counter.
    request LiftChallengeRequest {
        pub card_id: String,
    }

    /// The challenge the card must sign with its authentication key.
    response LiftChallengeResponse {
        pub card_id: String,
        /// 32 random bytes, hexadecimal.
        pub challenge: String,
        /// RFC 3339: the challenge's end.
        pub expires_at: String,
    }

    /// The card's answer: its authentication key's PKCS#1 v1.5 SHA-256 signature of
    /// the challenge.
    request LiftRequest {
        pub card_id: String,
        /// As issued, hexadecimal.
        pub challenge: String,
        /// Base64.
        pub signature: String,
    }
}
