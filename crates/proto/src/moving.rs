//! The card and the registry (issue 13, items 5, 6 and 7): the card's notes panel
//! (追記欄), moving between municipalities with the card (転入届の特例) and its
//! continued use (継続利用). Card ids travel in bodies, never in URLs.

wire! {
    /// The card whose notes panel is read (its id, 16 hexadecimal digits).
    request CardNotesRequest {
        pub card_id: String,
    }

    /// A card's notes panel and what the registry's last change left to do.
    response CardNotesResponse {
        pub card_id: String,
        /// Oldest first.
        pub entries: Vec<CardNoteResponse>,
        /// The panel's lines, and how many are written.
        pub lines: u32,
        pub lines_used: u32,
        /// No room for another entry: the card must be reissued, free of charge.
        pub full: bool,
        /// The signature certificate: good | offered (revoked by a change of name
        /// or address; a new one is offered at the counter) | revoked | none
        pub signature_certificate: String,
        /// The face as the holder's card shows it: the panel's printed lines.
        pub printed_lines: Vec<String>,
    }

    /// One entry of the notes panel.
    response CardNoteResponse {
        /// YYYY-MM-DD: the day the change took effect.
        pub date: String,
        /// The date as printed (Japanese era).
        pub printed_date: String,
        /// address | name | departure | other
        pub kind: String,
        /// The kind in the reader's language.
        pub label: String,
        pub text: String,
    }

    /// A move-out registered with the card at the holder's municipality.
    request MoveOutRequest {
        pub card_id: String,
        /// The new municipality's local government code.
        pub destination: String,
        /// YYYY-MM-DD: the planned move (within 14 days of today either way).
        pub planned_date: String,
    }

    /// The move-in at the new municipality, with the card.
    request MoveInRequest {
        pub card_id: String,
        /// The new address (in the new municipality).
        pub address: String,
        /// YYYY-MM-DD: the actual move; today when absent.
        pub moved_on: Option<String>,
    }

    /// Continued use (継続利用) confirmed at the new municipality's counter, the card
    /// present: its printed card number as read off it.
    request ContinuedUseRequest {
        pub card_id: String,
        pub card_number: String,
    }

    /// Where a card's move stands.
    response CardMoveResponse {
        pub card_id: String,
        /// moved-out | moved-in | voided | continued
        pub state: String,
        /// The state in the reader's language, with the deadline.
        pub message: String,
        /// YYYY-MM-DD: the last day of the next step, if one is due.
        pub due_on: Option<String>,
    }
}
