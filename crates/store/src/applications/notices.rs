//! Notices (個人番号通知書): one per resident, with its application form ID sealed
//! and found through a keyed hash; printing and registered-mail tracking.

use super::{notice_place, NoticeRecord};
use crate::backend::{now_micros, to_i64, Row};
use crate::{Result, Store, StoreError};
use maina_core::application::NoticeMail;
use maina_core::officer::Actor;
use maina_core::ApplicationFormId;

impl Store {
    /// Records a resident's notice with its form ID (one per resident: a new notice
    /// replaces the old, whose form ID then finds nothing).
    pub async fn put_notice(
        &self,
        resident_key: u64,
        form_id: &ApplicationFormId,
        actor: &Actor,
    ) -> Result<()> {
        let sealed = self.seal_record(&notice_place(resident_key), &form_id.as_digits())?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "DELETE FROM notices WHERE resident_id = $1",
            &[to_i64(resident_key)?.into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO notices (resident_id, form_key, form_id, created_at, mail_status, mail_status_at) VALUES ($1, $2, $3, $4, 'not-printed', $4)",
            &[to_i64(resident_key)?.into(), self.blind_index.form_key(form_id).into(), sealed.into(), now.into()],
        )
        .await?;
        self.audit_in(&mut tx, actor, "notice.create", Some(resident_key))
            .await?;
        tx.commit().await
    }

    /// The notice whose form ID this is.
    pub async fn notice_by_form(
        &self,
        form_id: &ApplicationFormId,
    ) -> Result<Option<NoticeRecord>> {
        let row = self.read_optional(
                "SELECT resident_id, form_id, printed_at, mail_status FROM notices WHERE form_key = $1",
                &[self.blind_index.form_key(form_id).into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let notice = self.notice_record(&row)?;
        Ok((notice.form_id == *form_id).then_some(notice))
    }

    pub(super) fn notice_record(&self, row: &Row) -> Result<NoticeRecord> {
        let resident_key = row.key(0)?;
        let digits: String = self.open_record(&notice_place(resident_key), &row.bytes(1)?)?;
        let form_id = digits
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("notice of {resident_key}")))?;
        Ok(NoticeRecord {
            resident_key,
            form_id,
            printed_at: row.opt_int(2)?,
            mail_status: row.text(3)?,
        })
    }

    /// Residents (active, of `municipality` or of all) whose notice is not printed
    /// yet, by row key, at most `limit` from `after`.
    pub async fn residents_awaiting_notice(
        &self,
        municipality: Option<&str>,
        after: u64,
        limit: u32,
    ) -> Result<Vec<u64>> {
        let rows = self
            .read_all(
                "SELECT r.id FROM residents r LEFT JOIN notices n ON n.resident_id = r.id \
                 WHERE r.status = 'active' AND ($1 = '' OR r.municipality = $1) AND r.id > $2 \
                 AND (n.resident_id IS NULL OR n.printed_at IS NULL) ORDER BY r.id LIMIT $3",
                &[
                    municipality.unwrap_or("").into(),
                    to_i64(after)?.into(),
                    i64::from(limit).into(),
                ],
            )
            .await?;
        rows.iter().map(|row| row.key(0)).collect()
    }

    /// The resident's notice, if one was made.
    pub async fn notice(&self, resident_key: u64) -> Result<Option<NoticeRecord>> {
        let row = self.read_optional(
                "SELECT resident_id, form_id, printed_at, mail_status FROM notices WHERE resident_id = $1",
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        row.as_ref().map(|row| self.notice_record(row)).transpose()
    }

    /// Records that a notice was printed (its letter read the My Number: audited).
    pub async fn notice_printed(&self, resident_key: u64, actor: &Actor) -> Result<()> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE notices SET printed_at = $1, mail_status = 'printed', mail_status_at = $1 WHERE resident_id = $2",
                &[now.into(), to_i64(resident_key)?.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::NotFound("notice"));
        }
        self.audit_in(&mut tx, actor, "notice.print", Some(resident_key))
            .await?;
        tx.commit().await
    }

    /// Moves a notice's registered-mail status on (refusing what the post cannot do).
    pub async fn track_notice(
        &self,
        resident_key: u64,
        next: NoticeMail,
        actor: &Actor,
    ) -> Result<()> {
        let notice = self
            .notice(resident_key)
            .await?
            .ok_or(StoreError::NotFound("notice"))?;
        let current = NoticeMail::from_code(&notice.mail_status)
            .ok_or_else(|| StoreError::Corrupt("notice mail status".into()))?;
        if !current.can_become(next) {
            return Err(StoreError::Illegal(format!(
                "a notice that is {} cannot become {}",
                current.code(),
                next.code()
            )));
        }
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE notices SET mail_status = $1, mail_status_at = $2 WHERE resident_id = $3 AND mail_status = $4",
                &[next.code().into(), now.into(), to_i64(resident_key)?.into(), current.code().into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        self.audit_in(
            &mut tx,
            actor,
            &format!("notice.mail:{}", next.code()),
            Some(resident_key),
        )
        .await?;
        tx.commit().await
    }
}
