//! The issue notice PDF (placeholder until the renderer lands).

use chrono::NaiveDate;
use krilla::text::Font;
use maina_core::IssueNoticeNumber;

/// Where to collect the card.
#[derive(Debug, Clone)]
pub struct OfficeInfo {
    pub name: String,
    pub address: String,
    pub phone: String,
    pub opening_hours: String,
}

/// What an issue notice says.
#[derive(Debug, Clone)]
pub struct IssueNoticeDocument {
    pub language: String,
    pub notice_number: IssueNoticeNumber,
    pub resident_name: String,
    pub resident_address: String,
    pub birth_date: NaiveDate,
    pub japanese_national: bool,
    pub office: OfficeInfo,
    pub deadline: NaiveDate,
    pub booking_url: String,
    pub issued_on: NaiveDate,
    pub reminder: bool,
}

/// The notice as a PDF.
pub fn render_issue_notice(
    _font: &Font,
    _notice: &IssueNoticeDocument,
) -> Result<Vec<u8>, crate::notice::NoticeError> {
    Ok(Vec::new())
}

/// The notice as an e-mail: subject and body.
pub fn issue_notice_email(
    _messages: &crate::i18n::Messages,
    notice: &IssueNoticeDocument,
) -> (String, String) {
    (
        "Your My Number Card is ready".into(),
        format!("Notice {}", notice.notice_number.as_digits()),
    )
}
