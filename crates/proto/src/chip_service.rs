//! The chip at the counter (issue 13): a PIN reset's PIN pad, and what the counter's
//! work on a card's chip answers (a PIN reset or unblock, the facts rewritten, the
//! certificates renewed on the same chip).

wire! {
    /// Open the PIN pad for the reset of one PIN of an active card, after the
    /// officer checked the holder's identity documents.
    request PinResetOpenRequest {
        /// The card id (16 hexadecimal digits).
        pub card_id: String,
        /// auth | sign | residence | support
        pub pin: String,
        /// The identity documents shown (codes as at pickup: one photo ID, or two
        /// others).
        pub documents: Vec<String>,
    }

    /// The new PIN for a reset, typed twice on the PIN pad.
    request PinpadResetRequest {
        pub code: String,
        pub pin: String,
        pub pin_again: String,
    }

    /// A PIN reset or unblocked on the chip (the chip's receipt checked).
    response PinResetResponse {
        pub card_id: String,
        /// auth | sign | residence | support
        pub pin: String,
        /// new-pin | unblocked
        pub done: String,
    }

    /// The chip's facts rewritten from the registry.
    response ChipUpdateResponse {
        pub card_id: String,
        /// The files written, as `application/EF` (e.g. `support/0002`).
        pub files: Vec<String>,
        /// The address now on the chip.
        pub address: String,
    }

    /// Certificates renewed on the same chip.
    response CertificatesRenewedResponse {
        pub card_id: String,
        pub authentication_serial: Option<String>,
        pub signature_serial: Option<String>,
        /// The serials revoked (reason `renewed`).
        pub revoked: Vec<String>,
        /// YYYY-MM-DD: the new certificates' last day.
        pub expires_on: String,
    }
}
