//! An issue notice's row inserted on its own, for the booking and counter suites:
//! the notices' use case (`Store::record_issue_notice`) needs an application at
//! the municipality and moves it on; these tests need only the row.

use super::{issue_notice_place, IssueNoticeDetails};
use crate::backend::{now_micros, to_i64};
use crate::counters::ISSUE_NOTICE_COUNTER;
use crate::{Result, Store};
use chrono::NaiveDate;
use maina_core::{IssueNoticeNumber, MunicipalityCode};

/// An issue notice's row, as the tests give it.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct IssueNoticeRow {
    pub number: IssueNoticeNumber,
    /// The holder's birth date: with the number, it finds the notice.
    pub birth_date: NaiveDate,
    pub card_id: String,
    pub application_id: u64,
    pub resident_key: u64,
    pub municipality: MunicipalityCode,
    pub office_id: Option<u64>,
    pub deadline: NaiveDate,
    pub details: IssueNoticeDetails,
}

impl Store {
    /// Inserts an issue notice's row (number key and check, details sealed as
    /// the notices' use case seals them); for tests only.
    #[doc(hidden)]
    pub async fn insert_issue_notice_for_tests(&self, row: &IssueNoticeRow) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let id = Self::take_key(&mut tx, ISSUE_NOTICE_COUNTER).await?;
        tx.execute(
            "INSERT INTO issue_notices (id, number_key, number_check, card_id, application_id, resident_id, municipality, office_id, created_at, deadline, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                to_i64(id)?.into(),
                self.blind_index.notice_key(&row.number).into(),
                self.blind_index.notice_check(&row.number, row.birth_date).into(),
                row.card_id.as_str().into(),
                to_i64(row.application_id)?.into(),
                to_i64(row.resident_key)?.into(),
                row.municipality.as_digits().into(),
                row.office_id.map(to_i64).transpose()?.into(),
                now_micros().into(),
                row.deadline.to_string().into(),
                self.seal_record(&issue_notice_place(id), &row.details)?.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
