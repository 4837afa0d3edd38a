//! Creating an issue notice's row: the notice number found through its blind index
//! (`number_key`) and confirmed with the birth date (`number_check`), the details
//! sealed. The notices' use case (printing, e-mail, reminders) builds on this.

use super::{issue_notice_place, IssueNoticeDetails};
use crate::backend::{now_micros, to_i64, Query};
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::{IssueNoticeNumber, MunicipalityCode};

/// An issue notice's row id (`issue_notices.id`).
pub type IssueNoticeId = u64;

/// The counter that numbers issue notices' rows.
const ISSUE_NOTICE_COUNTER: &str = "issue_notice";

/// A new issue notice.
#[derive(Debug, Clone)]
pub struct NewIssueNotice {
    pub number: IssueNoticeNumber,
    /// The holder's birth date: with the number, it finds the notice.
    pub birth_date: NaiveDate,
    pub card_id: String,
    pub application_id: u64,
    pub resident_key: u64,
    pub municipality: MunicipalityCode,
    /// The office where the card is collected (see `Store::office_of`).
    pub office_id: Option<u64>,
    /// The date printed on the notice.
    pub deadline: NaiveDate,
    pub details: IssueNoticeDetails,
}

impl Store {
    /// Inserts an issue notice's row; refuses a number or a card that already has
    /// one. No audit event here: the notices' use case writes it.
    pub async fn create_issue_notice(&self, new: &NewIssueNotice) -> Result<IssueNoticeId> {
        let mut tx = self.pool.begin().await?;
        Self::create_counter(&mut tx, ISSUE_NOTICE_COUNTER, 1).await?;
        let id = Self::take_key(&mut tx, ISSUE_NOTICE_COUNTER).await?;
        let taken = tx
            .fetch_optional(
                "SELECT id FROM issue_notices WHERE number_key = $1 OR card_id = $2",
                &[
                    self.blind_index.notice_key(&new.number).into(),
                    new.card_id.as_str().into(),
                ],
            )
            .await?;
        if taken.is_some() {
            return Err(StoreError::Duplicate(
                "an issue notice with this number or card",
            ));
        }
        tx.execute(
            "INSERT INTO issue_notices (id, number_key, number_check, card_id, application_id, resident_id, municipality, office_id, created_at, deadline, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                to_i64(id)?.into(),
                self.blind_index.notice_key(&new.number).into(),
                self.blind_index.notice_check(&new.number, new.birth_date).into(),
                new.card_id.as_str().into(),
                to_i64(new.application_id)?.into(),
                to_i64(new.resident_key)?.into(),
                new.municipality.as_digits().into(),
                new.office_id.map(to_i64).transpose()?.into(),
                now_micros().into(),
                new.deadline.to_string().into(),
                self.seal_record(&issue_notice_place(id), &new.details)?.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
