//! Reissue and renewal of a card (issue 13): the counter's application for a new
//! card that replaces an old one, with the fee it took, and the renewal window.

wire! {
    /// A new card replacing `card_id` (the card id travels in the body, never in a
    /// URL).
    request ReissueRequest {
        /// The card replaced: 16 hexadecimal digits.
        pub card_id: String,
        /// lost | damaged | notes-full | expiry
        pub reason: String,
        /// Whether the new card gets certificates (¥200 more on a paid reissue).
        #[serde(default = "yes")]
        pub with_certificates: bool,
        /// The fee the counter took, in yen: exactly the fee due (¥1,000 or ¥800
        /// on a paid reissue), absent or 0 when none is due.
        #[serde(default)]
        pub fee_paid_yen: Option<u32>,
        /// A card lost outside home: the police report's receipt number and the
        /// police station (both or neither).
        #[serde(default)]
        pub police_receipt_number: Option<String>,
        #[serde(default)]
        pub police_station: Option<String>,
    }

    /// The new card's application.
    response ReissueResponse {
        pub application_id: u64,
        /// The 16-digit receipt number (with the birth date, it finds the status).
        pub receipt_number: String,
        /// received: it follows the issuance path (review, manufacture, shipment,
        /// issue notice, the counter).
        pub status: String,
        pub old_card_id: String,
        pub reason: String,
        pub card_fee_yen: u32,
        pub certificates_fee_yen: u32,
        /// The old card's state now (a lost card reported at the counter is
        /// suspended); it is abolished when the new card is handed over.
        pub old_card_state: String,
    }

    /// When a card's renewal can be applied for.
    response RenewalWindowResponse {
        pub card_id: String,
        /// YYYY-MM-DD: the card's last day.
        pub expires_on: String,
        /// YYYY-MM-DD: the first day of the renewal window (3 months before).
        pub opens_on: String,
        /// Whether a renewal can be applied for today.
        pub open: bool,
    }

    /// The card whose renewal window is asked (in the body).
    request RenewalWindowRequest {
        pub card_id: String,
    }
}

fn yes() -> bool {
    true
}
