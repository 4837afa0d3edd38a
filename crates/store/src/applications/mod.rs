//! Notices, applications for the card, the online channel's one-time links, and
//! the e-mail outbox. Sealed here: a notice's form ID (`notice/RESIDENT/form`), an
//! application's details and photo (`application/ID/details`, `.../photo`), a
//! link's details (`apply-link/TOKEN_HASH`) and each e-mail (`outbox/ID`).

mod lifecycle;
mod links;
mod notices;
mod outbox;

pub use lifecycle::RECEIPT_ATTEMPTS;

use crate::backend::Row;
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::application::{ApplicationStatus, Channel};
use maina_core::{ApplicationFormId, ReceiptNumber};
use serde::{Deserialize, Serialize};

/// What an application says (sealed in the database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetails {
    /// The name as the applicant gave it.
    pub name: String,
    pub birth_date: NaiveDate,
    /// Where to tell the applicant of every change (none for most mail applications).
    pub email: Option<String>,
    /// `en` or `ja`: the language of the messages.
    pub language: String,
    pub electronic_certificate: bool,
    pub braille: bool,
    pub receipt: String,
}

/// A new application.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub form_id: ApplicationFormId,
    pub receipt: ReceiptNumber,
    pub channel: Channel,
    pub details: ApplicationDetails,
    pub photo: Option<Vec<u8>>,
}

/// What step 1 of the online channel collected (sealed with the link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyLink {
    pub form_id: ApplicationFormId,
    pub name: String,
    pub email: String,
    pub language: String,
}

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A file sent with an e-mail (an appointment's `.ics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    /// e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// An e-mail waiting in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: u64,
    pub attempts: u32,
    pub mail: Mail,
    pub attachment: Option<Attachment>,
}

/// An application as staff see it.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    pub id: u64,
    pub resident_key: u64,
    pub municipality: String,
    pub channel: Channel,
    pub status: ApplicationStatus,
    /// Microseconds since the Unix epoch.
    pub status_since: i64,
    pub created_at: i64,
    pub version: u64,
    pub details: ApplicationDetails,
}

/// A resident's notice.
#[derive(Debug, Clone)]
pub struct NoticeRecord {
    pub resident_key: u64,
    pub form_id: ApplicationFormId,
    pub printed_at: Option<i64>,
    pub mail_status: String,
}

/// What the status inquiry answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inquiry {
    pub status: ApplicationStatus,
    pub since: i64,
}

/// Constant-time equality of two byte strings of public length.
fn same(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

pub(crate) fn details_place(id: u64) -> String {
    format!("application/{id}/details")
}

pub(crate) fn photo_place(id: u64) -> String {
    format!("application/{id}/photo")
}

pub(crate) fn notice_place(resident: u64) -> String {
    format!("notice/{resident}/form")
}

/// What a spent, expired or unknown one-time link is called in
/// [`StoreError::NotFound`].
pub const APPLY_LINK: &str = "application link";

pub(crate) fn apply_link_place(token_hash: &[u8; 32]) -> String {
    format!("apply-link/{}", hex::encode(token_hash))
}

pub(crate) fn outbox_place(id: u64) -> String {
    format!("outbox/{id}")
}

pub(crate) const APPLICATION_COLUMNS: &str =
    "id, resident_id, municipality, channel, status, status_since, created_at, version, details";

impl Store {
    pub(crate) fn application_record(&self, row: &Row) -> Result<ApplicationRecord> {
        let id = row.key(0)?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("application {id}: {what}"));
        Ok(ApplicationRecord {
            id,
            resident_key: row.key(1)?,
            municipality: row.text(2)?,
            channel: Channel::from_code(&row.text(3)?).ok_or_else(|| corrupt("channel"))?,
            status: ApplicationStatus::from_code(&row.text(4)?).ok_or_else(|| corrupt("status"))?,
            status_since: row.int(5)?,
            created_at: row.int(6)?,
            version: row.key(7)?,
            details: self.open_record(&details_place(id), &row.bytes(8)?)?,
        })
    }
}
