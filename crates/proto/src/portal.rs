//! The resident portal (issue 14): what a resident sees of their own record, and
//! the record of who used their data.

use crate::{CardHistoryResponse, CardNoteResponse, ResidentResponse};

wire! {
    /// The resident's own record, as the portal shows it (the My Number masked).
    response PortalRecordResponse {
        pub resident: ResidentResponse,
        /// Oldest first: where the resident lived, from when.
        pub addresses: Vec<PortalAddressResponse>,
        /// Newest first, each with its certificates, history and notes panel.
        pub cards: Vec<PortalCardResponse>,
        /// Newest first.
        pub applications: Vec<PortalApplicationResponse>,
        /// Whether an e-mail goes out at every access by an officer.
        pub notify_access: bool,
        /// The relying parties the resident's consent is on for.
        pub consents: Vec<PortalConsentResponse>,
    }

    /// A relying party the resident agreed to share their facts with.
    response PortalConsentResponse {
        pub client_id: String,
        pub name: String,
        /// RFC 3339.
        pub granted_at: String,
    }

    /// One of the resident's cards.
    response PortalCardResponse {
        pub card: CardHistoryResponse,
        /// The notes panel's entries (追記欄), oldest first.
        pub notes: Vec<CardNoteResponse>,
    }

    /// One address of the record's history.
    response PortalAddressResponse {
        /// YYYY-MM-DD: from this day.
        pub since: String,
        pub address: String,
        pub municipality: String,
    }

    /// One of the resident's applications for a card.
    response PortalApplicationResponse {
        /// mail | online | booth | counter
        pub channel: String,
        /// The state's code (`received`, `in-review`, ...).
        pub status: String,
        /// The state in the reader's language.
        pub label: String,
        /// RFC 3339.
        pub since: String,
        /// RFC 3339.
        pub applied_at: String,
    }

    /// One page of the record of who used my data, newest first.
    response AccessRecordResponse {
        pub entries: Vec<AccessEntryResponse>,
        /// Entries in all.
        pub total: u64,
        /// 1-based.
        pub page: u64,
        pub pages: u64,
        /// The audit chain verifies from its start up to this position.
        pub chain_verified_upto: u64,
        /// What broke the chain, if it does not verify to its end.
        pub chain_problem: Option<String>,
    }

    /// One use of the resident's data.
    response AccessEntryResponse {
        /// RFC 3339.
        pub at: String,
        /// officer | card | signin
        pub kind: String,
        /// What happened, in the reader's language.
        pub label: String,
        /// The audit action (or the relying party for a sign-in).
        pub action: String,
        /// The officer's role (never their name); empty for a sign-in.
        pub role: String,
        /// The officer's municipality (local government code); empty for the
        /// administrator and a sign-in.
        pub municipality: String,
        pub purpose: String,
        /// What a relying party received at a sign-in.
        pub detail: String,
        /// The audit-chain position, when the trail holds the event.
        pub seq: Option<u64>,
        /// Whether the chain verifies from its start up to this entry (and the
        /// entry's own link).
        pub verified: bool,
    }
}
