//! Appointments to collect a card: the notice found by its number and the holder's
//! birth date (one keyed-hash comparison, as the status inquiry), slots' seats
//! counted so that they never overbook (see migration 0010), booking, moving and
//! cancelling, the officers' day list and the reminders.

use super::{issue_notice_place, IssueNoticeDetails};
use crate::applications::{Attachment, Mail};
use crate::backend::{now_micros, to_i64, Query, Row, Tx};
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::officer::Actor;
use maina_core::IssueNoticeNumber;

/// The counter that numbers appointments (created with the first office).
pub(super) const APPOINTMENT_COUNTER: &str = "appointment";

const APPOINTMENT_COLUMNS: &str =
    "id, office_id, starts_at, notice_id, created_at, cancelled_at, reminded_at";

/// An appointment. Times: `starts_at` in Unix seconds, the others in microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRecord {
    pub id: u64,
    pub office_id: u64,
    pub starts_at: i64,
    pub notice_id: u64,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
    pub reminded_at: Option<i64>,
}

fn appointment_record(row: &Row) -> Result<AppointmentRecord> {
    decode_row!(row => AppointmentRecord {
        id: key, office_id: key, starts_at: int, notice_id: key, created_at: int,
        cancelled_at: opt_int, reminded_at: opt_int,
    })
}

/// An issue notice as the booking page needs it, found by number and birth date.
#[derive(Debug, Clone)]
pub struct NoticeForBooking {
    pub id: u64,
    pub resident_key: u64,
    pub municipality: String,
    pub office_id: Option<u64>,
    pub deadline: String,
    pub closed: bool,
    pub details: IssueNoticeDetails,
    /// Its live appointment, if it has one.
    pub appointment: Option<AppointmentRecord>,
}

/// The seats of one slot that has been booked at least once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotCount {
    pub starts_at: i64,
    pub capacity: u64,
    pub booked: u64,
}

/// What a booking (or a move) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingOutcome {
    Booked(AppointmentRecord),
    /// Every seat of the slot is taken; nothing changed.
    Full,
    /// The notice already has this live appointment (a booking), or it is already
    /// at that time (a move); nothing changed.
    AlreadyBooked(AppointmentRecord),
    /// A move, but the notice has no live appointment; nothing changed.
    NothingToMove,
}

/// One line of an office's day list.
#[derive(Debug, Clone)]
pub struct DayEntry {
    pub appointment: AppointmentRecord,
    pub details: IssueNoticeDetails,
}

/// An appointment whose reminder is due, with its notice's details.
#[derive(Debug, Clone)]
pub struct ReminderDue {
    pub appointment: AppointmentRecord,
    pub resident_key: u64,
    pub details: IssueNoticeDetails,
}

/// An e-mail to queue with a change, in the change's transaction.
pub type MailWith = Option<(Mail, Option<Attachment>)>;

/// A booking request to the store; the slot was checked against the office's
/// schedule by the use case.
#[derive(Debug, Clone, Copy)]
pub struct Booking<'a> {
    pub notice: &'a NoticeForBooking,
    pub office_id: u64,
    pub starts_at: i64,
    /// Seats of the slot, if its row does not exist yet (the office's counters).
    pub capacity: u32,
    /// Move the live appointment here instead of booking a first one.
    pub moving: bool,
}

impl Store {
    /// The open or closed issue notice with this number and holder's birth date,
    /// and its live appointment; `None` both for an unknown number and for a wrong
    /// birth date, after the same work.
    pub async fn notice_for_booking(
        &self,
        number: &IssueNoticeNumber,
        birth: NaiveDate,
    ) -> Result<Option<NoticeForBooking>> {
        let check = self.blind_index.notice_check(number, birth);
        let rows = self
            .read_all(
                "SELECT id, resident_id, municipality, office_id, deadline, closed_at, number_check, details FROM issue_notices WHERE number_key = $1",
                &[self.blind_index.notice_key(number).into()],
            )
            .await?;
        let mut found = None;
        for row in &rows {
            let matches = subtle::ConstantTimeEq::ct_eq(row.bytes(6)?.as_slice(), check.as_slice());
            if bool::from(matches) && found.is_none() {
                found = Some(row);
            }
        }
        let Some(row) = found else { return Ok(None) };
        let id = row.key(0)?;
        let appointment = self
            .read_optional(
                &format!("SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE notice_id = $1 AND cancelled_at IS NULL"),
                &[to_i64(id)?.into()],
            )
            .await?
            .map(|row| appointment_record(&row))
            .transpose()?;
        Ok(Some(NoticeForBooking {
            id,
            resident_key: row.key(1)?,
            municipality: row.text(2)?,
            office_id: row.opt_key(3)?,
            deadline: row.text(4)?,
            closed: row.opt_int(5)?.is_some(),
            details: self.open_record(&issue_notice_place(id), &row.bytes(7)?)?,
            appointment,
        }))
    }

    /// The seats counted for an office's slots starting in `[from, to)` (Unix
    /// seconds); slots never booked have no row.
    pub async fn slot_counts(&self, office_id: u64, from: i64, to: i64) -> Result<Vec<SlotCount>> {
        let rows = self
            .read_all(
                "SELECT starts_at, capacity, booked FROM slots WHERE office_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at",
                &[to_i64(office_id)?.into(), from.into(), to.into()],
            )
            .await?;
        rows.iter()
            .map(|row| decode_row!(row => SlotCount { starts_at: int, capacity: key, booked: key }))
            .collect()
    }

    /// Takes a seat of a slot: one conditional update, so two bookings never both
    /// take the last seat. `false`: the slot is full.
    async fn take_seat(
        tx: &mut Tx<'_>,
        office: i64,
        starts_at: i64,
        capacity: u32,
    ) -> Result<bool> {
        tx.execute(
            "INSERT INTO slots (office_id, starts_at, capacity, booked) VALUES ($1, $2, $3, 0) ON CONFLICT (office_id, starts_at) DO NOTHING",
            &[office.into(), starts_at.into(), i64::from(capacity).into()],
        )
        .await?;
        let taken = tx
            .execute(
                "UPDATE slots SET booked = booked + 1 WHERE office_id = $1 AND starts_at = $2 AND booked < capacity",
                &[office.into(), starts_at.into()],
            )
            .await?;
        Ok(taken == 1)
    }

    /// Gives a seat back.
    async fn free_seat(tx: &mut Tx<'_>, office: i64, starts_at: i64) -> Result<()> {
        tx.execute(
            "UPDATE slots SET booked = booked - 1 WHERE office_id = $1 AND starts_at = $2 AND booked > 0",
            &[office.into(), starts_at.into()],
        )
        .await?;
        Ok(())
    }

    /// Books a slot for a notice, or moves its live appointment there (the old
    /// seat given back and the new one taken in the same transaction), with the
    /// audit event and the e-mail `mail` makes, all in one transaction. Seats are
    /// taken in slot order, so two moves in opposite directions cannot deadlock.
    pub async fn book_appointment(
        &self,
        booking: &Booking<'_>,
        actor: &Actor,
        mail: impl FnOnce(&AppointmentRecord) -> MailWith,
    ) -> Result<BookingOutcome> {
        let notice_id = to_i64(booking.notice.id)?;
        let office = to_i64(booking.office_id)?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let live = tx
            .fetch_optional(
                &format!("SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE notice_id = $1 AND cancelled_at IS NULL"),
                &[notice_id.into()],
            )
            .await?
            .map(|row| appointment_record(&row))
            .transpose()?;
        let old = match (live, booking.moving) {
            (Some(live), false) => return Ok(BookingOutcome::AlreadyBooked(live)),
            (None, true) => return Ok(BookingOutcome::NothingToMove),
            (Some(live), true)
                if live.starts_at == booking.starts_at && live.office_id == booking.office_id =>
            {
                return Ok(BookingOutcome::AlreadyBooked(live))
            }
            (live, _) => live,
        };
        if let Some(old) = &old {
            tx.execute(
                "UPDATE appointments SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL",
                &[now.into(), to_i64(old.id)?.into()],
            )
            .await?;
        }
        let old_seat = old
            .as_ref()
            .map(|old| Ok::<_, StoreError>((to_i64(old.office_id)?, old.starts_at)))
            .transpose()?;
        let new_seat = (office, booking.starts_at);
        // Rows locked in one order: (office, start) ascending.
        let free_first = old_seat.is_some_and(|old| old < new_seat);
        if let (true, Some((old_office, old_start))) = (free_first, old_seat) {
            Self::free_seat(&mut tx, old_office, old_start).await?;
        }
        if !Self::take_seat(&mut tx, office, booking.starts_at, booking.capacity).await? {
            return Ok(BookingOutcome::Full);
        }
        if let (false, Some((old_office, old_start))) = (free_first, old_seat) {
            Self::free_seat(&mut tx, old_office, old_start).await?;
        }
        let id = Self::take_key(&mut tx, APPOINTMENT_COUNTER).await?;
        let inserted = tx
            .execute(
                "INSERT INTO appointments (id, office_id, starts_at, notice_id, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[to_i64(id)?.into(), office.into(), booking.starts_at.into(), notice_id.into(), now.into()],
            )
            .await?;
        if inserted != 1 {
            // Another booking for the same notice committed meanwhile (the partial
            // unique index): this one changes nothing.
            return Err(StoreError::Conflict);
        }
        let record = AppointmentRecord {
            id,
            office_id: booking.office_id,
            starts_at: booking.starts_at,
            notice_id: booking.notice.id,
            created_at: now,
            cancelled_at: None,
            reminded_at: None,
        };
        let action = if booking.moving {
            "appointment.move"
        } else {
            "appointment.book"
        };
        self.audit_in(&mut tx, actor, action, Some(booking.notice.resident_key))
            .await?;
        if let Some((message, attachment)) = mail(&record) {
            self.enqueue_mail_with_in(&mut tx, &message, attachment.as_ref(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(BookingOutcome::Booked(record))
    }

    /// Cancels a notice's live appointment and gives its seat back, with the audit
    /// event and the e-mail, in one transaction. Not found: no live appointment.
    pub async fn cancel_appointment(
        &self,
        notice: &NoticeForBooking,
        actor: &Actor,
        mail: impl FnOnce(&AppointmentRecord) -> MailWith,
    ) -> Result<AppointmentRecord> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let row = tx
            .fetch_optional(
                &format!("UPDATE appointments SET cancelled_at = $1 WHERE notice_id = $2 AND cancelled_at IS NULL RETURNING {APPOINTMENT_COLUMNS}"),
                &[now.into(), to_i64(notice.id)?.into()],
            )
            .await?
            .ok_or(StoreError::NotFound("appointment"))?;
        let record = appointment_record(&row)?;
        Self::free_seat(&mut tx, to_i64(record.office_id)?, record.starts_at).await?;
        self.audit_in(
            &mut tx,
            actor,
            "appointment.cancel",
            Some(notice.resident_key),
        )
        .await?;
        if let Some((message, attachment)) = mail(&record) {
            self.enqueue_mail_with_in(&mut tx, &message, attachment.as_ref(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(record)
    }

    /// An office's live appointments starting in `[from, to)` (Unix seconds), in
    /// time order, with their notices' details (opened: the caller audits the
    /// read first).
    pub async fn day_appointments(
        &self,
        office_id: u64,
        from: i64,
        to: i64,
    ) -> Result<Vec<DayEntry>> {
        let rows = self
            .read_all(
                "SELECT a.id, a.office_id, a.starts_at, a.notice_id, a.created_at, a.cancelled_at, a.reminded_at, n.details \
                 FROM appointments a JOIN issue_notices n ON n.id = a.notice_id \
                 WHERE a.office_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 AND a.cancelled_at IS NULL ORDER BY a.starts_at, a.id",
                &[to_i64(office_id)?.into(), from.into(), to.into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let appointment = appointment_record(row)?;
                let details =
                    self.open_record(&issue_notice_place(appointment.notice_id), &row.bytes(7)?)?;
                Ok(DayEntry {
                    appointment,
                    details,
                })
            })
            .collect()
    }

    /// Live appointments starting in `[from, to)` (Unix seconds) not reminded yet.
    pub async fn reminders_due(&self, from: i64, to: i64) -> Result<Vec<ReminderDue>> {
        let rows = self
            .read_all(
                "SELECT a.id, a.office_id, a.starts_at, a.notice_id, a.created_at, a.cancelled_at, a.reminded_at, n.resident_id, n.details \
                 FROM appointments a JOIN issue_notices n ON n.id = a.notice_id \
                 WHERE a.starts_at >= $1 AND a.starts_at < $2 AND a.cancelled_at IS NULL AND a.reminded_at IS NULL AND n.closed_at IS NULL ORDER BY a.starts_at, a.id",
                &[from.into(), to.into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let appointment = appointment_record(row)?;
                let details =
                    self.open_record(&issue_notice_place(appointment.notice_id), &row.bytes(8)?)?;
                Ok(ReminderDue {
                    appointment,
                    resident_key: row.key(7)?,
                    details,
                })
            })
            .collect()
    }

    /// Marks an appointment reminded and queues its reminder, in one transaction;
    /// `false` if it was reminded or cancelled meanwhile (nothing queued).
    pub async fn mark_reminded(&self, appointment_id: u64, mail: MailWith) -> Result<bool> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE appointments SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND cancelled_at IS NULL",
                &[now.into(), to_i64(appointment_id)?.into()],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        if let Some((message, attachment)) = mail {
            self.enqueue_mail_with_in(&mut tx, &message, attachment.as_ref(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
