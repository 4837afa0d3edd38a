//! Notices, applications for the card, and the e-mail outbox.

use crate::db::{Row, Tx};
use crate::{
    now_micros, to_i64, to_u64, Result, Store, StoreError, APPLICATION_COUNTER, OUTBOX_COUNTER,
};
use chrono::NaiveDate;
use maina_core::application::{
    ApplicationEvent, ApplicationStatus, Channel, IllegalTransition, NoticeMail,
};
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, ReceiptNumber};
use serde::{Deserialize, Serialize};

/// What an application says (sealed in the database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetails {
    /// The name as the applicant gave it.
    pub name: String,
    pub birth_date: NaiveDate,
    /// Where to tell the applicant of every change (none for most mail applications).
    pub email: Option<String>,
    /// `en` or `ja`: the language of the messages.
    pub language: String,
    pub electronic_certificate: bool,
    pub braille: bool,
    pub receipt: String,
}

/// A new application.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub form_id: ApplicationFormId,
    pub receipt: ReceiptNumber,
    pub channel: Channel,
    pub details: ApplicationDetails,
    pub photo: Option<Vec<u8>>,
}

/// What step 1 of the online channel collected (sealed with the link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyLink {
    pub form_id: ApplicationFormId,
    pub name: String,
    pub email: String,
    pub language: String,
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// An e-mail waiting in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: u64,
    pub attempts: u32,
    pub mail: Mail,
}

/// An application as staff see it.
#[derive(Debug, Clone)]
pub struct ApplicationRecord {
    pub id: u64,
    pub resident_key: u64,
    pub municipality: String,
    pub channel: Channel,
    pub status: ApplicationStatus,
    /// Microseconds since the Unix epoch.
    pub status_since: i64,
    pub created_at: i64,
    pub version: u64,
    pub details: ApplicationDetails,
}

/// A resident's notice.
#[derive(Debug, Clone)]
pub struct NoticeRecord {
    pub resident_key: u64,
    pub form_id: ApplicationFormId,
    pub printed_at: Option<i64>,
    pub mail_status: String,
}

/// What the status inquiry answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inquiry {
    pub status: ApplicationStatus,
    pub since: i64,
}

/// Constant-time equality of two byte strings of public length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn details_place(id: u64) -> String {
    format!("application/{id}/details")
}

fn photo_place(id: u64) -> String {
    format!("application/{id}/photo")
}

fn notice_place(resident: u64) -> String {
    format!("notice/{resident}/form")
}

fn outbox_place(id: u64) -> String {
    format!("outbox/{id}")
}

const APPLICATION_COLUMNS: &str =
    "id, resident_id, municipality, channel, status, status_since, created_at, version, details";

impl Store {
    fn form_key(&self, form: &ApplicationFormId) -> i64 {
        self.short_hash(&format!("form|{}", form.as_digits()))
    }

    fn receipt_key(&self, receipt: &ReceiptNumber) -> i64 {
        self.short_hash(&format!("receipt|{}", receipt.as_digits()))
    }

    fn form_check(&self, form: &ApplicationFormId, birth: NaiveDate) -> Vec<u8> {
        self.identity_hash(&format!("form-birth|{}|{birth}", form.as_digits()))
    }

    fn receipt_check(&self, receipt: &ReceiptNumber, birth: NaiveDate) -> Vec<u8> {
        self.identity_hash(&format!("receipt-birth|{}|{birth}", receipt.as_digits()))
    }

    fn application_record(&self, row: &Row) -> Result<ApplicationRecord> {
        let id = to_u64(row.int(0)?)?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("application {id}: {what}"));
        let plain = self.sealer.open(&details_place(id), &row.bytes(8)?)?;
        Ok(ApplicationRecord {
            id,
            resident_key: to_u64(row.int(1)?)?,
            municipality: row.text(2)?,
            channel: Channel::from_code(&row.text(3)?).ok_or_else(|| corrupt("channel"))?,
            status: ApplicationStatus::from_code(&row.text(4)?).ok_or_else(|| corrupt("status"))?,
            status_since: row.int(5)?,
            created_at: row.int(6)?,
            version: to_u64(row.int(7)?)?,
            details: postcard::from_bytes(&plain).map_err(|e| corrupt(&e.to_string()))?,
        })
    }

    // ---- notices --------------------------------------------------------------

    /// Records a resident's notice with its form ID (one per resident: a new notice
    /// replaces the old, whose form ID then finds nothing).
    pub async fn put_notice(
        &self,
        resident_key: u64,
        form_id: &ApplicationFormId,
        actor: &Actor,
    ) -> Result<()> {
        let sealed = self
            .sealer
            .seal(&notice_place(resident_key), form_id.as_digits().as_bytes())?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "DELETE FROM notices WHERE resident_id = $1",
            &[to_i64(resident_key)?.into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO notices (resident_id, form_key, form_id, created_at, mail_status, mail_status_at) VALUES ($1, $2, $3, $4, 'not-printed', $4)",
            &[to_i64(resident_key)?.into(), self.form_key(form_id).into(), sealed.into(), now.into()],
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
        let row = self
            .reader()
            .await
            .fetch_optional(
                "SELECT resident_id, form_id, printed_at, mail_status FROM notices WHERE form_key = $1",
                &[self.form_key(form_id).into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let notice = self.notice_record(&row)?;
        Ok((notice.form_id == *form_id).then_some(notice))
    }

    fn notice_record(&self, row: &Row) -> Result<NoticeRecord> {
        let resident_key = to_u64(row.int(0)?)?;
        let digits = self
            .sealer
            .open(&notice_place(resident_key), &row.bytes(1)?)?;
        let form_id = String::from_utf8(digits)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("notice of {resident_key}")))?;
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
            .reader()
            .await
            .fetch_all(
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
        rows.iter().map(|row| to_u64(row.int(0)?)).collect()
    }

    /// The resident's notice, if one was made.
    pub async fn notice(&self, resident_key: u64) -> Result<Option<NoticeRecord>> {
        let row = self
            .reader()
            .await
            .fetch_optional(
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

    // ---- applications ---------------------------------------------------------

    /// Records an application; refuses a form ID that no notice carries and a form
    /// already used by an application that is not cancelled. Returns the record.
    pub async fn submit_application(
        &self,
        new: &NewApplication,
        actor: &Actor,
        notify: Option<Mail>,
    ) -> Result<ApplicationRecord> {
        let notice = self
            .notice_by_form(&new.form_id)
            .await?
            .ok_or(StoreError::NotFound("application form ID"))?;
        let form_key = self.form_key(&new.form_id);
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let live = tx
            .fetch_optional(
                "SELECT id FROM applications WHERE form_key = $1 AND status <> 'cancelled'",
                &[form_key.into()],
            )
            .await?;
        if live.is_some() {
            return Err(StoreError::Duplicate("an application with this form ID"));
        }
        let id = Self::take_keys(&mut tx, APPLICATION_COUNTER, 1)
            .await?
            .start;
        let record = tx
            .fetch_one(
                "SELECT municipality FROM residents WHERE id = $1",
                &[to_i64(notice.resident_key)?.into()],
            )
            .await?;
        let municipality = record.text(0)?;
        let details =
            postcard::to_stdvec(&new.details).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let photo = new
            .photo
            .as_ref()
            .map(|photo| self.sealer.seal(&photo_place(id), photo))
            .transpose()?;
        tx.execute(
            "INSERT INTO applications (id, form_key, receipt_key, form_check, receipt_check, resident_id, municipality, channel, status, status_since, created_at, version, details, photo) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9, $9, 1, $10, $11)",
            &[
                to_i64(id)?.into(),
                form_key.into(),
                self.receipt_key(&new.receipt).into(),
                self.form_check(&new.form_id, new.details.birth_date).into(),
                self.receipt_check(&new.receipt, new.details.birth_date).into(),
                to_i64(notice.resident_key)?.into(),
                municipality.as_str().into(),
                new.channel.code().into(),
                now.into(),
                self.sealer.seal(&details_place(id), &details)?.into(),
                photo.map_or(crate::db::Value::NullBytes, Into::into),
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO application_events (application_id, version, kind, recorded_at, actor) VALUES ($1, 1, 'received', $2, $3)",
            &[to_i64(id)?.into(), now.into(), actor.officer.as_str().into()],
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("application.received:{}", new.channel.code()),
            Some(notice.resident_key),
        )
        .await?;
        if let Some(mail) = &notify {
            self.enqueue_mail_in(&mut tx, mail, now).await?;
        }
        tx.commit().await?;
        self.application(id).await
    }

    /// One application.
    pub async fn application(&self, id: u64) -> Result<ApplicationRecord> {
        let row = self
            .reader()
            .await
            .fetch_optional(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1"),
                &[to_i64(id)?.into()],
            )
            .await?
            .ok_or(StoreError::NotFound("application"))?;
        self.application_record(&row)
    }

    /// The application with this receipt number (staff look-up).
    pub async fn application_by_receipt(
        &self,
        receipt: &ReceiptNumber,
    ) -> Result<ApplicationRecord> {
        let rows = self
            .reader()
            .await
            .fetch_all(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE receipt_key = $1"),
                &[self.receipt_key(receipt).into()],
            )
            .await?;
        for row in &rows {
            let record = self.application_record(row)?;
            if record.details.receipt == receipt.as_digits() {
                return Ok(record);
            }
        }
        Err(StoreError::NotFound("application"))
    }

    /// Moves an application on (version-checked), with its event, audit event and,
    /// when `notify` gives one, an e-mail to the applicant — all in one transaction.
    pub async fn transition_application(
        &self,
        id: u64,
        event: &ApplicationEvent,
        actor: &Actor,
        notify: impl FnOnce(&ApplicationRecord, ApplicationStatus) -> Option<Mail>,
    ) -> Result<ApplicationRecord> {
        let record = self.application(id).await?;
        let next = record
            .status
            .apply(event)
            .map_err(|IllegalTransition { from, event }| {
                StoreError::Illegal(format!("an application that is {from} cannot {event}"))
            })?;
        let now = now_micros();
        let version = record.version + 1;
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE applications SET status = $1, status_since = $2, version = $3 WHERE id = $4 AND version = $5",
                &[next.code().into(), now.into(), to_i64(version)?.into(), to_i64(id)?.into(), to_i64(record.version)?.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        let reason = match event {
            ApplicationEvent::ReturnForCorrection { reason } => reason.code(),
            _ => "",
        };
        tx.execute(
            "INSERT INTO application_events (application_id, version, kind, reason, recorded_at, actor) VALUES ($1, $2, $3, $4, $5, $6)",
            &[to_i64(id)?.into(), to_i64(version)?.into(), event.code().into(), reason.into(), now.into(), actor.officer.as_str().into()],
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("application.{}", event.code()),
            Some(record.resident_key),
        )
        .await?;
        if let Some(mail) = notify(&record, next) {
            self.enqueue_mail_in(&mut tx, &mail, now).await?;
        }
        tx.commit().await?;
        self.application(id).await
    }

    /// The status for a form ID (or receipt number) and a birth date; `None` both for
    /// an unknown number and for a wrong birth date, after the same work.
    pub async fn inquire(
        &self,
        number: Result<&ApplicationFormId, &ReceiptNumber>,
        birth: NaiveDate,
    ) -> Result<Option<Inquiry>> {
        let (sql, key, check) = match number {
            Ok(form) => (
                "SELECT status, status_since, form_check FROM applications WHERE form_key = $1 ORDER BY id DESC",
                self.form_key(form),
                self.form_check(form, birth),
            ),
            Err(receipt) => (
                "SELECT status, status_since, receipt_check FROM applications WHERE receipt_key = $1",
                self.receipt_key(receipt),
                self.receipt_check(receipt, birth),
            ),
        };
        let rows = self.reader().await.fetch_all(sql, &[key.into()]).await?;
        let mut found = None;
        for row in &rows {
            if same(&row.bytes(2)?, &check) && found.is_none() {
                found = Some(Inquiry {
                    status: ApplicationStatus::from_code(&row.text(0)?)
                        .ok_or_else(|| StoreError::Corrupt("application status".into()))?,
                    since: row.int(1)?,
                });
            }
        }
        Ok(found)
    }

    /// Applications still in card issuance since before `before` (microseconds).
    pub async fn stuck_applications(&self, before: i64) -> Result<Vec<ApplicationRecord>> {
        let rows = self
            .reader()
            .await
            .fetch_all(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE status = 'card-issuance-in-process' AND status_since < $1 ORDER BY status_since"),
                &[before.into()],
            )
            .await?;
        rows.iter()
            .map(|row| self.application_record(row))
            .collect()
    }

    /// Stuck applications whose applicant was not told yet; marks them told and
    /// queues `mail(record)` for each, in one transaction per application.
    pub async fn notify_stuck(
        &self,
        before: i64,
        mail: impl Fn(&ApplicationRecord) -> Option<Mail>,
    ) -> Result<u32> {
        let mut told = 0;
        for record in self.stuck_applications(before).await? {
            let mut tx = self.pool.begin().await?;
            let changed = tx
                .execute(
                    "UPDATE applications SET stuck_notified_at = $1 WHERE id = $2 AND stuck_notified_at IS NULL",
                    &[now_micros().into(), to_i64(record.id)?.into()],
                )
                .await?;
            if changed == 1 {
                if let Some(message) = mail(&record) {
                    self.enqueue_mail_in(&mut tx, &message, now_micros())
                        .await?;
                    told += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(told)
    }

    /// Whether a form ID already has an application that is not cancelled.
    pub async fn form_in_use(&self, form_id: &ApplicationFormId) -> Result<bool> {
        let row = self
            .reader()
            .await
            .fetch_optional(
                "SELECT id FROM applications WHERE form_key = $1 AND status <> 'cancelled'",
                &[self.form_key(form_id).into()],
            )
            .await?;
        Ok(row.is_some())
    }

    // ---- one-time links of the online channel ---------------------------------

    /// Stores a one-time link (by the SHA-256 of its token) for a form, valid until
    /// `expires_at`, and queues the e-mail that carries it, in one transaction.
    pub async fn create_apply_link(
        &self,
        token_hash: &[u8; 32],
        link: &ApplyLink,
        expires_at: i64,
        mail: &Mail,
    ) -> Result<()> {
        let now = now_micros();
        let plain = postcard::to_stdvec(link).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let place = format!("apply-link/{}", hex_of(token_hash));
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO apply_links (token_hash, form_key, created_at, expires_at, details) VALUES ($1, $2, $3, $4, $5)",
            &[token_hash.to_vec().into(), self.form_key(&link.form_id).into(), now.into(), expires_at.into(), self.sealer.seal(&place, &plain)?.into()],
        )
        .await?;
        self.enqueue_mail_in(&mut tx, mail, now).await?;
        tx.commit().await
    }

    /// The link behind a token, if it exists, is unused and has not expired.
    pub async fn apply_link(&self, token_hash: &[u8; 32]) -> Result<Option<ApplyLink>> {
        let row = self
            .reader()
            .await
            .fetch_optional(
                "SELECT details FROM apply_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
                &[token_hash.to_vec().into(), now_micros().into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let place = format!("apply-link/{}", hex_of(token_hash));
        let plain = self.sealer.open(&place, &row.bytes(0)?)?;
        Ok(Some(
            postcard::from_bytes(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ))
    }

    /// Uses a link up (single use): false when it was used, expired or unknown.
    pub async fn use_apply_link(&self, token_hash: &[u8; 32]) -> Result<bool> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE apply_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
                &[now.into(), token_hash.to_vec().into()],
            )
            .await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    // ---- benchmarks -------------------------------------------------------------

    /// Benchmarks: the keys and checks of `count` synthetic applications (no I/O;
    /// callers spread it over threads). Returns the rows and their (form ID, birth).
    pub fn bench_application_rows(
        &self,
        first_id: u64,
        forms: &[(ApplicationFormId, ReceiptNumber)],
        birth: NaiveDate,
    ) -> Result<Vec<Vec<crate::db::Value>>> {
        let now = now_micros();
        forms
            .iter()
            .zip(first_id..)
            .map(|((form, receipt), id)| {
                Ok(vec![
                    to_i64(id)?.into(),
                    self.form_key(form).into(),
                    self.receipt_key(receipt).into(),
                    self.form_check(form, birth).into(),
                    self.receipt_check(receipt, birth).into(),
                    0i64.into(),
                    "131016".into(),
                    "pc".into(),
                    "received".into(),
                    now.into(),
                    b"bench".to_vec().into(),
                ])
            })
            .collect()
    }

    /// Benchmarks: inserts rows made by [`Store::bench_application_rows`].
    pub async fn bench_insert_applications(&self, rows: &[Vec<crate::db::Value>]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.insert_many(
            "INSERT INTO applications (id, form_key, receipt_key, form_check, receipt_check, resident_id, municipality, channel, status, status_since, created_at, version, details) VALUES",
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1, $11)",
            rows,
        )
        .await?;
        tx.commit().await
    }

    /// Benchmarks: the look-up key of a form ID (what the ceiling is given).
    pub fn bench_form_key(&self, form: &ApplicationFormId) -> i64 {
        self.form_key(form)
    }

    /// Benchmarks: the raw point look-up the inquiry makes, and nothing else.
    pub async fn bench_lookup(&self, form_key: i64) -> Result<Option<(String, i64)>> {
        let row = self
            .reader()
            .await
            .fetch_optional(
                "SELECT status, status_since FROM applications WHERE form_key = $1",
                &[form_key.into()],
            )
            .await?;
        row.map(|row| Ok((row.text(0)?, row.int(1)?))).transpose()
    }

    // ---- the outbox -------------------------------------------------------------

    async fn enqueue_mail_in(&self, tx: &mut Tx<'_>, mail: &Mail, now: i64) -> Result<()> {
        let id = Self::take_keys(tx, OUTBOX_COUNTER, 1).await?.start;
        let plain = postcard::to_stdvec(mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "INSERT INTO outbox (id, created_at, next_attempt_at, attempts, message) VALUES ($1, $2, $2, 0, $3)",
            &[to_i64(id)?.into(), now.into(), self.sealer.seal(&outbox_place(id), &plain)?.into()],
        )
        .await?;
        Ok(())
    }

    /// Queues an e-mail on its own.
    pub async fn enqueue_mail(&self, mail: &Mail) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.enqueue_mail_in(&mut tx, mail, now_micros()).await?;
        tx.commit().await
    }

    /// E-mails due now, oldest first.
    pub async fn due_mail(&self, limit: u32) -> Result<Vec<OutboxMail>> {
        let rows = self
            .reader()
            .await
            .fetch_all(
                "SELECT id, attempts, message FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
                &[now_micros().into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let id = to_u64(row.int(0)?)?;
                let plain = self.sealer.open(&outbox_place(id), &row.bytes(2)?)?;
                Ok(OutboxMail {
                    id,
                    attempts: u32::try_from(row.int(1)?).unwrap_or(u32::MAX),
                    mail: postcard::from_bytes(&plain)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Marks an e-mail sent.
    pub async fn mail_sent(&self, id: u64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE outbox SET sent_at = $1 WHERE id = $2",
            &[now_micros().into(), to_i64(id)?.into()],
        )
        .await?;
        tx.commit().await
    }

    /// Records a failed attempt; the next one is due at `retry_at` (microseconds).
    pub async fn mail_failed(&self, id: u64, error: &str, retry_at: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
            &[error.into(), retry_at.into(), to_i64(id)?.into()],
        )
        .await?;
        tx.commit().await
    }

    /// How many e-mails wait (not sent yet).
    pub async fn pending_mail(&self) -> Result<u64> {
        let row = self
            .reader()
            .await
            .fetch_one("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", &[])
            .await?;
        to_u64(row.int(0)?)
    }
}
