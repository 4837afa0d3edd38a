//! Issue notices (交付通知書): one per card received by its municipality, made in the
//! same transaction that moves the application to `ready-for-pickup`; found by the
//! notice number (a keyed hash, confirmed on the sealed number); the reminder and
//! the destruction of a card never collected.

use super::IssueNoticeDetails;
use crate::applications::{ApplicationRecord, Mail};
use crate::backend::{now_micros, to_i64, Row};
use crate::cards::chip_place;
use crate::counters::ISSUE_NOTICE_COUNTER;
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::application::{ApplicationEvent, ApplicationStatus};
use maina_core::card::{CardEventKind, CardState, CardTransition};
use maina_core::officer::Actor;
use maina_core::{IssueNoticeNumber, MunicipalityCode};

/// A notice to record for a received card.
#[derive(Debug, Clone)]
pub struct NewIssueNotice {
    pub number: IssueNoticeNumber,
    pub card_id: String,
    pub application: ApplicationRecord,
    pub office_id: Option<u64>,
    pub deadline: NaiveDate,
    pub details: IssueNoticeDetails,
}

/// An issue notice as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueNoticeRecord {
    pub id: u64,
    pub card_id: String,
    pub application_id: u64,
    pub resident_key: u64,
    pub municipality: String,
    pub office_id: Option<u64>,
    pub created_at: i64,
    pub deadline: String,
    pub printed_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub closed_reason: Option<String>,
    pub details: IssueNoticeDetails,
}

/// What the never-collected job must do about an open notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeDue {
    Reminder,
    Destruction,
}

pub(crate) fn issue_notice_place(id: u64) -> String {
    format!("issue-notice/{id}")
}

const NOTICE_COLUMNS: &str = "id, card_id, application_id, resident_id, municipality, office_id, created_at, deadline, printed_at, reminded_at, closed_at, closed_reason, details";

impl Store {
    fn issue_notice_record(&self, row: &Row) -> Result<IssueNoticeRecord> {
        let id = row.key(0)?;
        Ok(IssueNoticeRecord {
            id,
            card_id: row.text(1)?,
            application_id: row.key(2)?,
            resident_key: row.key(3)?,
            municipality: row.text(4)?,
            office_id: row.opt_key(5)?,
            created_at: row.int(6)?,
            deadline: row.text(7)?,
            printed_at: row.opt_int(8)?,
            reminded_at: row.opt_int(9)?,
            closed_at: row.opt_int(10)?,
            closed_reason: row.opt_text(11)?,
            details: self.open_record(&issue_notice_place(id), &row.bytes(12)?)?,
        })
    }

    /// Received cards whose application waits for its issue notice, oldest first.
    pub async fn cards_awaiting_notice(
        &self,
        municipality: &MunicipalityCode,
        limit: usize,
    ) -> Result<Vec<(String, ApplicationRecord)>> {
        let columns = crate::applications::APPLICATION_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self
            .read_all(
                &format!("SELECT {columns}, c.id FROM cards c JOIN applications a ON a.id = c.application_id WHERE a.municipality = $1 AND a.status = $2 AND c.status = $3 ORDER BY a.status_since, a.id LIMIT $4"),
                &[
                    municipality.as_digits().into(),
                    ApplicationStatus::AtMunicipality.code().into(),
                    CardState::Received.code().into(),
                    to_i64(limit as u64)?.into(),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((row.text(9)?, self.application_record(row)?)))
            .collect()
    }

    /// Records `notice` and moves its application to `ready-for-pickup` (at the
    /// version read), with the e-mail when given, in one transaction.
    /// [`StoreError::Duplicate`]-like failures of the number's unique key come back
    /// as errors: the caller draws another number.
    pub async fn record_issue_notice(
        &self,
        notice: &NewIssueNotice,
        mail: Option<&Mail>,
        actor: &Actor,
    ) -> Result<IssueNoticeRecord> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let id = Self::take_key(&mut tx, ISSUE_NOTICE_COUNTER).await?;
        let details = self.seal_record(&issue_notice_place(id), &notice.details)?;
        let birth = notice.application.details.birth_date;
        tx.execute(
            "INSERT INTO issue_notices (id, number_key, number_check, card_id, application_id, resident_id, municipality, office_id, created_at, deadline, emailed_at, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                to_i64(id)?.into(),
                self.blind_index.notice_key(&notice.number).into(),
                self.blind_index.notice_check(&notice.number, birth).into(),
                notice.card_id.as_str().into(),
                to_i64(notice.application.id)?.into(),
                to_i64(notice.application.resident_key)?.into(),
                notice.application.municipality.as_str().into(),
                notice.office_id.map(to_i64).transpose()?.into(),
                now.into(),
                notice.deadline.to_string().into(),
                mail.map(|_| now).into(),
                details.into(),
            ],
        )
        .await?;
        self.advance_application_in(
            &mut tx,
            notice.application.id,
            notice.application.version,
            ApplicationStatus::AtMunicipality,
            &ApplicationEvent::NotifyPickup,
            actor,
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("pickup.notice {} card {}", id, notice.card_id),
            Some(notice.application.resident_key),
        )
        .await?;
        if let Some(mail) = mail {
            self.enqueue_mail_in(&mut tx, mail, now).await?;
        }
        tx.commit().await?;
        self.issue_notice(id).await
    }

    /// One notice by its id.
    pub async fn issue_notice(&self, id: u64) -> Result<IssueNoticeRecord> {
        let row = self
            .read_found(
                "issue notice",
                &format!("SELECT {NOTICE_COLUMNS} FROM issue_notices WHERE id = $1"),
                &[to_i64(id)?.into()],
            )
            .await?;
        self.issue_notice_record(&row)
    }

    /// The notice with this number (the counter's look-up; the booking page also
    /// checks the birth date), or `None`.
    pub async fn issue_notice_by_number(
        &self,
        number: &IssueNoticeNumber,
    ) -> Result<Option<IssueNoticeRecord>> {
        let rows = self
            .read_all(
                &format!("SELECT {NOTICE_COLUMNS} FROM issue_notices WHERE number_key = $1"),
                &[self.blind_index.notice_key(number).into()],
            )
            .await?;
        for row in &rows {
            let record = self.issue_notice_record(row)?;
            if record.details.notice_number == number.as_digits() {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    /// Notices of a municipality not yet printed, oldest first.
    pub async fn unprinted_issue_notices(
        &self,
        municipality: &MunicipalityCode,
    ) -> Result<Vec<IssueNoticeRecord>> {
        let rows = self
            .read_all(
                &format!("SELECT {NOTICE_COLUMNS} FROM issue_notices WHERE municipality = $1 AND printed_at IS NULL ORDER BY id"),
                &[municipality.as_digits().into()],
            )
            .await?;
        rows.iter()
            .map(|row| self.issue_notice_record(row))
            .collect()
    }

    /// Marks a notice printed.
    pub async fn mark_issue_notice_printed(&self, id: u64) -> Result<()> {
        self.write_one(
            "UPDATE issue_notices SET printed_at = $1 WHERE id = $2",
            &[now_micros().into(), to_i64(id)?.into()],
        )
        .await?;
        Ok(())
    }

    /// Closes a notice (the card handed over or posted), in its own transaction.
    pub async fn close_issue_notice(&self, card_id: &str, reason: &str) -> Result<()> {
        self.write_one(
            "UPDATE issue_notices SET closed_at = $1, closed_reason = $2 WHERE card_id = $3 AND closed_at IS NULL",
            &[now_micros().into(), reason.into(), card_id.into()],
        )
        .await?;
        Ok(())
    }

    /// Open notices the never-collected job must act on at `now` (microseconds):
    /// a reminder `reminder_after` after the notice; destruction after the later of
    /// `destroy_after_reminder` past the reminder and `destroy_after_notice` past the
    /// notice.
    pub async fn issue_notices_due(
        &self,
        now: i64,
        reminder_after: i64,
        destroy_after_reminder: i64,
        destroy_after_notice: i64,
    ) -> Result<Vec<(IssueNoticeRecord, NoticeDue)>> {
        let rows = self
            .read_all(
                &format!("SELECT {NOTICE_COLUMNS} FROM issue_notices WHERE closed_at IS NULL AND created_at < $1 ORDER BY id"),
                &[(now - reminder_after.min(destroy_after_notice)).into()],
            )
            .await?;
        let mut due = Vec::new();
        for row in &rows {
            let notice = self.issue_notice_record(row)?;
            match notice.reminded_at {
                None if now - notice.created_at >= reminder_after => {
                    due.push((notice, NoticeDue::Reminder))
                }
                Some(reminded)
                    if now - reminded >= destroy_after_reminder
                        && now - notice.created_at >= destroy_after_notice =>
                {
                    due.push((notice, NoticeDue::Destruction))
                }
                _ => {}
            }
        }
        Ok(due)
    }

    /// Records the reminder of a notice (and its e-mail), once.
    pub async fn record_notice_reminder(
        &self,
        notice: &IssueNoticeRecord,
        mail: Option<&Mail>,
        actor: &Actor,
    ) -> Result<bool> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE issue_notices SET reminded_at = $1, printed_at = NULL WHERE id = $2 AND reminded_at IS NULL AND closed_at IS NULL",
                &[now.into(), to_i64(notice.id)?.into()],
            )
            .await?;
        if changed == 1 {
            self.audit_in(
                &mut tx,
                actor,
                &format!("pickup.reminder {}", notice.id),
                Some(notice.resident_key),
            )
            .await?;
            if let Some(mail) = mail {
                self.enqueue_mail_in(&mut tx, mail, now).await?;
            }
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Destroys the card of a notice never collected: the chip replaced by
    /// `wiped_chip` (its keys gone), the card `destroyed`, the application
    /// `destroyed`, the notice closed, in one transaction. The card's record stays.
    pub async fn destroy_uncollected_card(
        &self,
        notice: &IssueNoticeRecord,
        wiped_chip: &[u8],
        actor: &Actor,
    ) -> Result<()> {
        let application = self.application(notice.application_id).await?;
        let now = now_micros();
        let sealed = self.seal_record(&chip_place(&notice.card_id), wiped_chip)?;
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE cards SET status = $1, chip = $2, chip_version = chip_version + 1, updated_at = $3 WHERE id = $4 AND status = $5",
                &[
                    CardState::Destroyed.code().into(),
                    sealed.into(),
                    now.into(),
                    notice.card_id.as_str().into(),
                    CardState::Received.code().into(),
                ],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        self.card_event_in(
            &mut tx,
            &notice.card_id,
            CardEventKind::State(CardTransition::Destroy),
            actor,
            "not-collected",
            None,
            now,
        )
        .await?;
        tx.execute(
            "UPDATE issue_notices SET closed_at = $1, closed_reason = 'not-collected' WHERE id = $2",
            &[now.into(), to_i64(notice.id)?.into()],
        )
        .await?;
        self.advance_application_in(
            &mut tx,
            application.id,
            application.version,
            ApplicationStatus::ReadyForPickup,
            &ApplicationEvent::Destroy,
            actor,
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("card.destroy {} not collected", notice.card_id),
            Some(notice.resident_key),
        )
        .await?;
        tx.commit().await
    }
}
