//! The sealed part of an issue notice row: what the booking page and the e-mails need
//! (the resident's name, e-mail and language) and the notice number itself, kept to
//! print the notice again.

use serde::{Deserialize, Serialize};

/// The sealed details of an issue notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueNoticeDetails {
    pub notice_number: String,
    pub email: Option<String>,
    pub language: String,
    pub name: String,
}
