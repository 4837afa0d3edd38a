//! The municipality's side of a card's path to its resident: issue notices (and,
//! beside them, offices, appointments and the counter).

mod counter;
pub mod notice_details;
mod notices;

pub(crate) use counter::{handover_place, pinpad_place};
pub use counter::{CounterCard, HandOverRecord, PinpadSession};
pub use notice_details::IssueNoticeDetails;
pub(crate) use notices::issue_notice_place;
pub use notices::{IssueNoticeRecord, NewIssueNotice, NoticeDue};
