//! Card pickup: the offices' records and the appointments residents book with
//! their issue notice's number and birth date.

wire! {
    /// A municipality's office where cards are collected (public facts).
    response OfficeResponse {
        pub municipality: String,
        pub name_ja: String, pub name_en: String,
        pub address_ja: String, pub address_en: String,
        pub phone: String,
        /// e.g. `mon-fri 08:30-17:15; sat 09:00-12:00` (Japan time).
        pub hours: String,
        /// Residents served at once in one slot.
        pub counters: u32,
        pub slot_minutes: u32,
        /// Slots can be booked from this many days ahead...
        pub book_from_days: u32,
        /// ...to this many.
        pub book_to_days: u32,
        /// When and by whom it was last changed (RFC 3339; `default` if never).
        pub updated_at: String,
        pub updated_by: String,
    }

    /// A supervisor's change of the office record.
    request OfficeRequest {
        pub name_ja: String, pub name_en: String,
        #[serde(default)]
        pub address_ja: String,
        #[serde(default)]
        pub address_en: String,
        #[serde(default)]
        pub phone: String,
        pub hours: String,
        pub counters: u32,
        pub slot_minutes: u32,
        pub book_from_days: u32,
        pub book_to_days: u32,
    }

    /// The resident's keys to the booking: the 16-digit issue notice number and the
    /// birth date (YYYY-MM-DD).
    request NoticeKeyRequest {
        pub number: String,
        pub birth_date: String,
    }

    /// A booking or a move: the slot's start, `YYYY-MM-DDTHH:MM` in Japan time.
    request BookRequest {
        pub number: String,
        pub birth_date: String,
        pub starts_at: String,
    }

    /// One slot of a day.
    response SlotResponse {
        /// `YYYY-MM-DDTHH:MM`, Japan time.
        pub starts_at: String,
        /// Seats still free.
        pub free: u32,
    }

    /// One open day of the booking window.
    response DayResponse {
        /// YYYY-MM-DD.
        pub date: String,
        pub slots: Vec<SlotResponse>,
    }

    /// An appointment (times in Japan time, `YYYY-MM-DDTHH:MM`).
    response AppointmentResponse {
        pub starts_at: String,
        pub ends_at: String,
        pub office: OfficeResponse,
    }

    /// What the booking page shows: the office, the notice's deadline, its current
    /// appointment and the free slots of the booking window.
    response SlotsResponse {
        pub office: OfficeResponse,
        /// Collect the card by this date (YYYY-MM-DD).
        pub deadline: String,
        pub appointment: Option<AppointmentResponse>,
        pub days: Vec<DayResponse>,
    }

    /// One appointment of an office's day list.
    response DayListEntry {
        pub starts_at: String,
        pub notice_number: String,
        pub name: String,
        pub reminded: bool,
    }

    /// An office's appointments on one day.
    response DayListResponse {
        pub date: String,
        pub office: OfficeResponse,
        pub appointments: Vec<DayListEntry>,
    }

    /// The day of a day list (YYYY-MM-DD; today in Japan when absent) and, for the
    /// administrator, the municipality (officers see their own).
    #[derive(Default, utoipa::IntoParams)]
    request DayQuery {
        #[serde(default)]
        pub date: Option<String>,
        #[serde(default)]
        pub municipality: Option<String>,
    }
}
