//! Appointments to collect a card. The public books, moves and cancels with the
//! issue notice's number and the birth date, behind the status inquiry's guard (the
//! same throttle rules, counted per number and per address; an unknown number and
//! a wrong birth date get the inquiry's one answer, audited); each change is
//! e-mailed with an `.ics` file, and a reminder goes the day before. Officers of
//! the municipality see the day's list (audited: it names residents).

use super::ics::{self, CalendarEvent};
use super::offices::{municipality_code, office_response, schedule};
use crate::applications::inquiry::{inquiry_rules, no_match, too_many_attempts};
use crate::{i18n, ErrorKind, Result, Service, ServiceError};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use maina_core::officer::{Actor, Role};
use maina_core::pickup::schedule::{japan, parse_start, start_seconds, start_time, Schedule};
use maina_core::IssueNoticeNumber;
use maina_proto::{
    AppointmentResponse, DayListEntry, DayListResponse, DayResponse, SlotResponse, SlotsResponse,
};
use maina_store::pickup::{
    AppointmentRecord, Booking, BookingOutcome, IssueNoticeDetails, MailWith, NoticeForBooking,
    OfficeRecord,
};
use maina_store::{Attachment, Mail, ThrottleVerdict};
use std::collections::HashMap;
use std::net::IpAddr;

/// The public's actor in the audit trail for booking.
fn public() -> Actor {
    Actor::administrator("public", "appointment booking")
}

/// An issue notice number as typed (spaces and hyphens allowed).
fn parse_notice_number(text: &str) -> Result<IssueNoticeNumber> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    digits
        .parse()
        .map_err(|e: maina_core::IdError| ServiceError::invalid("number", e.to_string()))
}

/// `YYYY-MM-DDTHH:MM` of a slot start kept as Unix seconds.
fn shown(seconds: i64) -> String {
    start_time(seconds)
        .map(|time| time.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// Today in Japan at `now`.
fn japan_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&japan()).date_naive()
}

/// Unix seconds of midnight (Japan time) starting `date`.
fn midnight(date: NaiveDate) -> i64 {
    start_seconds(date.and_time(NaiveTime::MIN))
}

/// What kind of e-mail a change sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Booked,
    Moved,
    Cancelled,
    Reminder,
}

impl Change {
    fn subject(self) -> &'static str {
        match self {
            Change::Booked => "appointment-mail-booked",
            Change::Moved => "appointment-mail-moved",
            Change::Cancelled => "appointment-mail-cancelled",
            Change::Reminder => "appointment-mail-reminder",
        }
    }
}

impl Service {
    /// The notice behind a number and a birth date, behind the inquiry's guard.
    async fn guarded_notice(
        &self,
        number_text: &str,
        birth_text: &str,
        address: IpAddr,
    ) -> Result<NoticeForBooking> {
        let number = parse_notice_number(number_text)?;
        let birth = crate::applications::parse_birth_date(birth_text)?;
        let audit =
            |outcome| self.audit_public_attempt("appointment booking", "booking", outcome, address);
        let ticket = match self
            .store
            .throttle_hit(&inquiry_rules(&number.as_digits(), address))
            .await?
        {
            ThrottleVerdict::Allowed(ticket) => ticket,
            ThrottleVerdict::Refused {
                retry_after_seconds,
            } => {
                audit("blocked").await;
                return Err(too_many_attempts(retry_after_seconds));
            }
        };
        match self.store.notice_for_booking(&number, birth).await? {
            Some(notice) => {
                if let Err(error) = self.store.throttle_refund(&ticket).await {
                    tracing::warn!(%error, "could not take a booking look-up back from the throttle");
                }
                Ok(notice)
            }
            None => {
                audit("failed").await;
                Err(no_match())
            }
        }
    }

    /// The office a notice names (its municipality's when it names none).
    async fn notice_office(&self, notice: &NoticeForBooking) -> Result<OfficeRecord> {
        match notice.office_id {
            Some(id) => Ok(self.store.office(id).await?),
            None => {
                let code = municipality_code("municipality", &notice.municipality)?;
                Ok(self.store.office_of(&code).await?)
            }
        }
    }

    fn appointment_response(
        office: &OfficeRecord,
        schedule: &Schedule,
        record: &AppointmentRecord,
    ) -> AppointmentResponse {
        AppointmentResponse {
            starts_at: shown(record.starts_at),
            ends_at: shown(record.starts_at + i64::from(schedule.slot_minutes) * 60),
            office: office_response(office),
        }
    }

    /// The booking page's view: the office, the deadline, the current appointment
    /// and every slot of the booking window still ahead with its free seats.
    pub async fn available_slots(
        &self,
        number: &str,
        birth_date: &str,
        address: IpAddr,
    ) -> Result<SlotsResponse> {
        let notice = self.guarded_notice(number, birth_date, address).await?;
        let office = self.notice_office(&notice).await?;
        let schedule = schedule(&office)?;
        let now = Utc::now();
        let (first, last) = schedule.window(japan_today(now));
        let counts: HashMap<i64, (u64, u64)> = self
            .store
            .slot_counts(
                office.id,
                midnight(first),
                midnight(last + Duration::days(1)),
            )
            .await?
            .into_iter()
            .map(|count| (count.starts_at, (count.capacity, count.booked)))
            .collect();
        self.store
            .audit(&public(), "appointment.view", Some(notice.resident_key))
            .await?;
        let mut days = Vec::new();
        if !notice.closed {
            for date in first.iter_days().take_while(|date| *date <= last) {
                let slots: Vec<SlotResponse> = schedule
                    .slots_on(date)
                    .into_iter()
                    .map(|time| start_seconds(date.and_time(time)))
                    .filter(|start| *start > now.timestamp())
                    .map(|start| {
                        let (capacity, booked) = counts
                            .get(&start)
                            .copied()
                            .unwrap_or((u64::from(schedule.counters), 0));
                        let free = u32::try_from(capacity.saturating_sub(booked)).unwrap_or(0);
                        SlotResponse {
                            starts_at: shown(start),
                            free,
                        }
                    })
                    .collect();
                if !slots.is_empty() {
                    days.push(DayResponse {
                        date: date.to_string(),
                        slots,
                    });
                }
            }
        }
        Ok(SlotsResponse {
            appointment: notice
                .appointment
                .as_ref()
                .map(|record| Self::appointment_response(&office, &schedule, record)),
            office: office_response(&office),
            deadline: notice.deadline.clone(),
            days,
        })
    }

    /// Books a slot (`moving`: moves the live appointment there, in one
    /// transaction). Refusals: the slot is full, the notice already has an
    /// appointment (book) or none (move), the notice is closed, the time is not a
    /// slot of the booking window. The resident is e-mailed with an `.ics` file.
    pub async fn book_appointment(
        &self,
        number: &str,
        birth_date: &str,
        starts_at: &str,
        moving: bool,
        address: IpAddr,
    ) -> Result<AppointmentResponse> {
        let notice = self.guarded_notice(number, birth_date, address).await?;
        if notice.closed {
            return Err(closed());
        }
        let office = self.notice_office(&notice).await?;
        let schedule = schedule(&office)?;
        let start = parse_start("starts_at", starts_at)?;
        schedule
            .check_slot(start, Utc::now().with_timezone(&japan()))
            .map_err(|refusal| {
                ServiceError::invalid("starts_at", format!("starts_at: {refusal}"))
            })?;
        let booking = Booking {
            notice: &notice,
            office_id: office.id,
            starts_at: start_seconds(start),
            capacity: schedule.counters,
            moving,
        };
        let change = if moving {
            Change::Moved
        } else {
            Change::Booked
        };
        let outcome = self
            .store
            .book_appointment(&booking, &public(), |record| {
                self.appointment_mail(&notice.details, &office, &schedule, record, change)
            })
            .await?;
        match outcome {
            BookingOutcome::Booked(record) => {
                Ok(Self::appointment_response(&office, &schedule, &record))
            }
            BookingOutcome::Full => Err(ServiceError::new(
                ErrorKind::Conflict,
                "slot_full",
                "that time is fully booked: choose another",
            )
            .with_field("starts_at")),
            BookingOutcome::AlreadyBooked(_) => Err(ServiceError::new(
                ErrorKind::Conflict,
                "already_booked",
                "this notice already has an appointment: move or cancel it",
            )),
            BookingOutcome::NothingToMove => Err(ServiceError::new(
                ErrorKind::NotFound,
                "no_appointment",
                "this notice has no appointment to move",
            )),
        }
    }

    /// Cancels the notice's appointment (its seat is free again); e-mailed with an
    /// `.ics` file that removes the event.
    pub async fn cancel_appointment(
        &self,
        number: &str,
        birth_date: &str,
        address: IpAddr,
    ) -> Result<AppointmentResponse> {
        let notice = self.guarded_notice(number, birth_date, address).await?;
        let office = self.notice_office(&notice).await?;
        let schedule = schedule(&office)?;
        let record = self
            .store
            .cancel_appointment(&notice, &public(), |record| {
                self.appointment_mail(
                    &notice.details,
                    &office,
                    &schedule,
                    record,
                    Change::Cancelled,
                )
            })
            .await
            .map_err(|error| match error {
                maina_store::StoreError::NotFound(_) => ServiceError::new(
                    ErrorKind::NotFound,
                    "no_appointment",
                    "this notice has no appointment to cancel",
                ),
                other => other.into(),
            })?;
        Ok(Self::appointment_response(&office, &schedule, &record))
    }

    /// The e-mail of a change, with its calendar file, when the notice has an
    /// address.
    fn appointment_mail(
        &self,
        details: &IssueNoticeDetails,
        office: &OfficeRecord,
        schedule: &Schedule,
        record: &AppointmentRecord,
        change: Change,
    ) -> MailWith {
        let to = details.email.clone()?;
        let lang = i18n::language(&details.language);
        let m = |id: &str| self.message(lang, id);
        let (name, address) = if lang == "ja" {
            (&office.name_ja, &office.address_ja)
        } else {
            (&office.name_en, &office.address_en)
        };
        let place = [name.as_str(), address.as_str()]
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let minutes = i64::from(schedule.slot_minutes);
        let when = format!(
            "{}–{} (JST)",
            shown(record.starts_at).replace('T', " "),
            start_time(record.starts_at + minutes * 60)
                .map(|end| end.format("%H:%M").to_string())
                .unwrap_or_default(),
        );
        let mut body = format!(
            "{}\n\n{}: {when}\n{}: {place}\n",
            m("appointment-mail-greeting"),
            m("appointment-mail-when"),
            m("appointment-mail-where"),
        );
        if !office.phone.is_empty() {
            body.push_str(&format!("{}: {}\n", m("book-phone"), office.phone));
        }
        if change != Change::Cancelled {
            body.push_str(&format!("\n{}\n", m("book-bring")));
        }
        body.push_str(&format!(
            "\n{}\n{}\n\n{}\n",
            m("appointment-mail-change"),
            m("appointment-mail-calendar"),
            m("mail-footer"),
        ));
        let start = DateTime::from_timestamp(record.starts_at, 0).unwrap_or_default();
        let event = CalendarEvent {
            uid: format!("pickup-{}@maina", record.notice_id),
            // Later changes carry later appointments' ids; a cancellation's and a
            // reminder's sequence follows the appointment's.
            sequence: record.id * 2 + u64::from(change == Change::Cancelled),
            stamp: Utc::now(),
            start,
            end: start + Duration::minutes(minutes),
            summary: m("appointment-summary"),
            location: place.clone(),
            description: m("book-bring"),
            cancelled: change == Change::Cancelled,
        };
        let attachment = Attachment {
            filename: "my-number-card-pickup.ics".into(),
            content_type: ics::CONTENT_TYPE.into(),
            content: ics::calendar(&event).into_bytes(),
        };
        let subject = format!(
            "{} — {}",
            m(change.subject()),
            shown(record.starts_at).replace('T', " ")
        );
        Some((Mail { to, subject, body }, Some(attachment)))
    }

    /// Queues tomorrow's reminders (Japan's tomorrow at `now`): one per live
    /// appointment, once, with the calendar file; notices without an e-mail
    /// address are marked reminded without one. Returns how many were queued.
    pub async fn send_appointment_reminders(&self, now: DateTime<Utc>) -> Result<u32> {
        let tomorrow = japan_today(now) + Duration::days(1);
        let due = self
            .store
            .reminders_due(midnight(tomorrow), midnight(tomorrow + Duration::days(1)))
            .await?;
        let mut offices: HashMap<u64, (OfficeRecord, Schedule)> = HashMap::new();
        let mut sent = 0;
        for reminder in due {
            let office_id = reminder.appointment.office_id;
            let (office, schedule) = match offices.entry(office_id) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let office = self.store.office(office_id).await?;
                    let schedule = schedule(&office)?;
                    slot.insert((office, schedule))
                }
            };
            let mail = self.appointment_mail(
                &reminder.details,
                office,
                schedule,
                &reminder.appointment,
                Change::Reminder,
            );
            let has_mail = mail.is_some();
            if self
                .store
                .mark_reminded(reminder.appointment.id, mail)
                .await?
                && has_mail
            {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// [`Service::send_appointment_reminders`] now: the server's worker calls this
    /// every few minutes.
    pub async fn remind_tomorrows_appointments(&self) -> Result<u32> {
        self.send_appointment_reminders(Utc::now()).await
    }

    /// An office's appointments on `date` (YYYY-MM-DD; today in Japan when absent)
    /// for the municipality's counter officers and supervisors (the administrator
    /// names the municipality). The read is audited before the list leaves.
    pub async fn day_list(
        &self,
        actor: &Actor,
        municipality: Option<&str>,
        date: Option<&str>,
    ) -> Result<DayListResponse> {
        let code = match (
            municipality.filter(|m| !m.trim().is_empty()),
            &actor.municipality,
        ) {
            (Some(text), _) => municipality_code("municipality", text)?,
            (None, Some(own)) => *own,
            (None, None) => {
                return Err(ServiceError::invalid(
                    "municipality",
                    "municipality: name the office's municipality",
                ))
            }
        };
        let role_allowed = matches!(
            actor.role,
            Role::Counter | Role::Supervisor | Role::Administrator
        );
        let own = actor.municipality.is_none_or(|own| own == code);
        if !role_allowed || !own {
            let action = format!(
                "denied appointment.day-list:{} (forbidden)",
                code.as_digits()
            );
            self.store.audit(actor, &action, None).await?;
            return Err(ServiceError::forbidden());
        }
        let date = match date.filter(|d| !d.trim().is_empty()) {
            Some(text) => maina_core::person::parse_date("date", text)?,
            None => japan_today(Utc::now()),
        };
        let office = self.store.office_of(&code).await?;
        let entries = self
            .store
            .day_appointments(
                office.id,
                midnight(date),
                midnight(date + Duration::days(1)),
            )
            .await?;
        let action = format!(
            "appointment.day-list:{}:{date}:{}",
            code.as_digits(),
            entries.len()
        );
        self.store.audit(actor, &action, None).await?;
        Ok(DayListResponse {
            date: date.to_string(),
            office: office_response(&office),
            appointments: entries
                .into_iter()
                .map(|entry| DayListEntry {
                    starts_at: shown(entry.appointment.starts_at),
                    notice_number: entry
                        .details
                        .notice_number
                        .parse::<IssueNoticeNumber>()
                        .map(|number| number.to_string())
                        .unwrap_or(entry.details.notice_number),
                    name: entry.details.name,
                    reminded: entry.appointment.reminded_at.is_some(),
                })
                .collect(),
        })
    }
}

fn closed() -> ServiceError {
    ServiceError::new(
        ErrorKind::Conflict,
        "notice_closed",
        "this notice is closed: its card was handed over or is no longer held",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_numbers_may_be_typed_with_spaces_and_hyphens() {
        let number = IssueNoticeNumber::new("131016".parse().unwrap(), 123_456_789).unwrap();
        let typed = number.to_string();
        assert_eq!(parse_notice_number(&typed).unwrap(), number);
        assert_eq!(
            parse_notice_number(&typed.replace(' ', "-")).unwrap(),
            number
        );
        let error = parse_notice_number("1310161234567890").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("number"));
    }

    #[test]
    fn slot_times_are_shown_in_japan_time() {
        let start = NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert_eq!(shown(start_seconds(start)), "2026-12-02T09:00");
        let late_utc = DateTime::from_timestamp(
            midnight(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()) - 1,
            0,
        )
        .unwrap();
        assert_eq!(
            japan_today(late_utc),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
    }
}
