//! The municipality's side of a card's path to its resident: issue notices,
//! offices and appointments (and, beside them, the counter).

mod appointments;
pub(crate) mod counter;
pub mod notice_details;
mod notice_rows;
mod notices;
mod offices;

pub use appointments::{
    AppointmentRecord, Booking, BookingOutcome, DayEntry, MailWith, NoticeForBooking, ReminderDue,
    SlotCount,
};
pub(crate) use counter::{handover_place, pinpad_place};
pub use counter::{CounterCard, HandOverRecord, PinpadSession};
pub use notice_details::IssueNoticeDetails;
pub use notice_rows::IssueNoticeRow;
pub(crate) use notices::issue_notice_place;
pub use notices::{IssueNoticeRecord, NewIssueNotice, NoticeDue};
pub use offices::{OfficeRecord, OfficeUpdate};
