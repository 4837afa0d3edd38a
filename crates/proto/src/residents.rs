//! The resident registry's requests and answers.

use crate::ClearMyNumber;

wire! {
    /// A resident record as the API shows it; the My Number only masked.
    response ResidentResponse {
        pub resident_code: String,
        pub my_number_masked: String,
        pub status: String, pub version: u64,
        pub municipality: String,
        pub name: String,
        pub family_name: Option<String>, pub given_name: Option<String>,
        pub family_kana: Option<String>, pub given_kana: Option<String>,
        pub alphabet_name: Option<String>, pub alias: Option<String>,
        pub birth_date: String, pub sex: String,
        pub address: String,
        pub nationality: String,
        pub residence_status: Option<String>, pub stay_until: Option<String>,
        pub since: String,
        pub registered_at: i64, pub updated_at: i64,
    }

    response RegisteredResponse {
        pub resident_code: String,
        pub my_number_masked: String,
        /// True when an earlier record (and its number) was taken up again.
        pub returned: bool,
    }

    /// A look-up by My Number: the number travels in the body, never in a URL.
    request NumberLookup { pub my_number: String }

    /// A search: in the body, so that names and birth dates never land in a URL.
    #[derive(Default)]
    request SearchRequest {
        /// YYYY-MM-DD
        pub birth_date: String,
        /// Part of the name in any script (kanji, kana, alphabet, alias); may be empty.
        #[serde(default)]
        pub name: String,
    }

    request MoveRequest { pub municipality: String, pub address: String, pub date: Option<String> }

    request AddressRequest { pub address: String, pub date: Option<String> }

    /// A new name: the parts given change, the others stay.
    #[derive(Default)]
    request RenameRequest {
        pub family_name: Option<String>, pub given_name: Option<String>,
        pub family_kana: Option<String>, pub given_kana: Option<String>,
        pub alphabet_name: Option<String>, pub alias: Option<String>,
        pub date: Option<String>,
    }

    #[derive(Default)]
    request DateRequest { pub date: Option<String> }

    request NumberChangeRequest { pub reason: String, pub date: Option<String> }

    response NumberChangeResponse {
        pub retired_masked: String,
        /// The new number, in clear: the resident must be told it (audited).
        pub my_number: ClearMyNumber,
    }

    response RevealResponse { pub my_number: ClearMyNumber }

    response HistoryEntryResponse {
        pub version: u64, pub kind: String, pub date: String,
        pub recorded_at: i64, pub actor: String,
    }
}
