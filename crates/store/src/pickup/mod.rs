//! The municipality's side of a card's path to its resident: issue notices (and,
//! beside them, offices, appointments and the counter).

pub mod notice_details;
mod notices;

pub use notice_details::IssueNoticeDetails;
pub(crate) use notices::issue_notice_place;
pub use notices::{IssueNoticeRecord, NewIssueNotice, NoticeDue};
