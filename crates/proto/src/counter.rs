//! Pickup at the counter: the card as the counter sees it, the PIN pad's pairing and
//! PINs, the hand-over with the identity checks, and delivery home.

wire! {
    /// A card waiting at the counter.
    response CounterCardResponse {
        pub card_id: String,
        /// made | shipped | received | active | destroyed | revoked
        pub card_status: String,
        /// The application's status (ready-for-pickup when it can be handed over).
        pub application_status: String,
        /// The holder's name, to compare with the person at the counter.
        pub name: String,
        /// YYYY-MM-DD.
        pub birth_date: String,
        /// The application's photo (JPEG, base64), to compare with the person.
        pub photo_base64: Option<String>,
        pub card_number: Option<String>,
        /// YYYY-MM-DD.
        pub expires_on: Option<String>,
        /// Whether the four PINs have been set on the PIN pad.
        pub pins_set: bool,
        /// Whether the holder is under 15 today (a legal representative comes; no
        /// signature certificate).
        pub under_15: bool,
        /// Whether the application asked for the electronic certificates.
        pub electronic_certificate: bool,
    }

    /// Find a card at the counter by what the officer typed or scanned: the issue
    /// notice's number (as printed) or the card id.
    request CounterFindRequest {
        pub number: String,
    }

    /// The PIN pad's one-time pairing code, shown on the officer's screen and typed
    /// on the PIN pad page.
    response PinpadOpened {
        pub code: String,
        /// RFC 3339.
        pub expires_at: String,
    }

    /// What the PIN pad page learns from a valid code: the language to ask in.
    request PinpadCodeRequest {
        pub code: String,
    }

    response PinpadCodeResponse {
        /// en | ja: the resident's language.
        pub language: String,
        /// For the reset of one PIN (auth | sign | residence | support): the pad
        /// asks for that PIN only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reset_pin: Option<String>,
    }

    /// The four PINs, each typed twice, from the PIN pad.
    request PinpadPinsRequest {
        pub code: String,
        pub auth_pin: String,
        pub auth_pin_again: String,
        pub sign_pin: String,
        pub sign_pin_again: String,
        pub residence_pin: String,
        pub residence_pin_again: String,
        pub support_pin: String,
        pub support_pin_again: String,
    }

    /// The only answer about PINs anyone gets: they were set (or held, for a card
    /// delivered home).
    response PinpadPinsResponse {
        /// pins-set | pins-held
        pub state: String,
    }

    /// What the officer checked at the counter.
    #[derive(Default)]
    request HandOverRequest {
        /// The holder's identity documents (codes: passport, drivers-licence,
        /// residence-card, health-insurance-card, pension-book, ...).
        #[serde(default)]
        pub documents: Vec<String>,
        /// For a proxy pickup: age-75-plus, under-16, illness, hospital-stay,
        /// disability, care-facility, pregnancy or long-stay-abroad.
        #[serde(default)]
        pub proxy_reason: Option<String>,
        #[serde(default)]
        pub proxy_documents: Vec<String>,
        #[serde(default)]
        pub proxy_reason_proof: bool,
        /// The legal representative's documents (under-15s, adult wards).
        #[serde(default)]
        pub representative_documents: Vec<String>,
        #[serde(default)]
        pub representative_authority_proof: bool,
        #[serde(default)]
        pub adult_ward: bool,
        /// basic-resident-registration-card, notification-card.
        #[serde(default)]
        pub surrendered: Vec<String>,
        #[serde(default)]
        pub decline_certificates: bool,
        /// Home delivery only: the express-issue fee taken, in yen (2000, or 1800
        /// without certificates).
        #[serde(default)]
        pub express_fee_yen: Option<i64>,
    }

    response HandOverResponse {
        pub card_id: String,
        pub card_status: String,
        pub application_status: String,
        /// Upper-case hexadecimal; absent when declined.
        pub authentication_serial: Option<String>,
        /// Absent for under-15s, adult wards, declined or not wanted.
        pub signature_serial: Option<String>,
    }
}
