//! What an issue notice's sealed `details` column holds, shared by the code that
//! writes notices and the booking code that reads them (the resident's e-mail,
//! language and name for the appointment e-mails and the officers' day list).

use serde::{Deserialize, Serialize};

/// The sealed details of an issue notice (`issue_notices.details`, sealed at
/// [`issue_notice_place`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueNoticeDetails {
    /// The notice number's 16 digits.
    pub notice_number: String,
    /// Where to send the notice and the appointment e-mails, if anywhere.
    pub email: Option<String>,
    /// `en` or `ja`: the language of the notice and the e-mails.
    pub language: String,
    /// The holder's name, as the officers' day list shows it.
    pub name: String,
}

/// Where an issue notice's details are sealed.
pub(crate) fn issue_notice_place(id: u64) -> String {
    format!("issue-notice/{id}/details")
}
