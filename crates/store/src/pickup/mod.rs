//! Card pickup at the municipality: offices, issue notices' rows, appointments.

mod appointments;
mod notice_details;
mod notice_rows;
mod offices;

pub use appointments::{
    AppointmentRecord, Booking, BookingOutcome, DayEntry, MailWith, NoticeForBooking, ReminderDue,
    SlotCount,
};
pub(crate) use notice_details::issue_notice_place;
pub use notice_details::IssueNoticeDetails;
pub use notice_rows::{IssueNoticeId, NewIssueNotice};
pub use offices::{OfficeRecord, OfficeUpdate};
