//! Applications for the card: submission, staff look-ups, version-checked status
//! changes with their events, the status inquiry, and stuck applications.

use super::{
    details_place, photo_place, same, ApplicationDetails, ApplicationRecord, Inquiry, Mail,
    NewApplication, APPLICATION_COLUMNS, APPLY_LINK,
};
use crate::backend::{now_micros, to_i64, Query, Tx, Value};
use crate::counters::APPLICATION_COUNTER;
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::application::{ApplicationEvent, ApplicationStatus, IllegalTransition};
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, ReceiptNumber};

/// How many receipt numbers one submission tries before it gives up: with random
/// numbers below 10^15, a second collision in a row means something else is wrong.
pub const RECEIPT_ATTEMPTS: usize = 4;

impl Store {
    /// Records an application with the receipt number it carries (no other number
    /// is tried: see [`Store::submit_application_with`]); refuses a form ID that no
    /// notice carries and a form already used by an application that is not
    /// cancelled. Returns the record.
    pub async fn submit_application(
        &self,
        new: &NewApplication,
        actor: &Actor,
        notify: Option<Mail>,
    ) -> Result<ApplicationRecord> {
        self.submit_application_with(new, None, actor, |_| notify.clone(), || None)
            .await
    }

    /// Records an application. `new.receipt` is the first receipt number tried;
    /// when another application already holds it (random numbers collide at
    /// national scale), `next_receipt` gives another, up to [`RECEIPT_ATTEMPTS`] in
    /// all, inside the one transaction. `spend_link` (the online channel's one-time
    /// link, by its token hash) is used up in the same transaction, so a failed
    /// insert leaves it usable and a replay finds it spent. `notify` makes the
    /// applicant's e-mail from the details as recorded (with the final receipt).
    pub async fn submit_application_with(
        &self,
        new: &NewApplication,
        spend_link: Option<&[u8; 32]>,
        actor: &Actor,
        notify: impl Fn(&ApplicationDetails) -> Option<Mail>,
        mut next_receipt: impl FnMut() -> Option<ReceiptNumber>,
    ) -> Result<ApplicationRecord> {
        let holder = self
            .form_holder(&new.form_id)
            .await?
            .ok_or(StoreError::NotFound("application form ID"))?;
        let form_key = self.blind_index.form_key(&new.form_id);
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        if let Some(token_hash) = spend_link {
            let spent = tx
                .execute(
                    "UPDATE apply_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
                    &[now.into(), token_hash.to_vec().into()],
                )
                .await?;
            if spent != 1 {
                return Err(StoreError::NotFound(APPLY_LINK));
            }
        }
        let live = tx
            .fetch_optional(
                "SELECT id FROM applications WHERE form_key = $1 AND status <> 'cancelled'",
                &[form_key.into()],
            )
            .await?;
        if live.is_some() {
            return Err(StoreError::Duplicate("an application with this form ID"));
        }
        let (id, details) = self
            .insert_application_in(
                &mut tx,
                holder.resident_key,
                new,
                actor,
                &mut next_receipt,
                now,
            )
            .await?;
        if let Some(renews) = &holder.renews {
            self.link_renewal_in(&mut tx, id, renews, holder.resident_key, actor, now)
                .await?;
        }
        if let Some(mail) = notify(&details) {
            self.enqueue_mail_in(&mut tx, &mail, now).await?;
        }
        tx.commit().await?;
        self.application(id).await
    }

    /// Inserts an application of `resident_key` (received, version 1) with its
    /// event and audit event, in the caller's transaction: the row key, the receipt
    /// number retried as [`Store::submit_application_with`] says, the details and
    /// photo sealed. Returns the id and the details as recorded (final receipt).
    pub(crate) async fn insert_application_in(
        &self,
        tx: &mut Tx<'_>,
        resident_key: u64,
        new: &NewApplication,
        actor: &Actor,
        next_receipt: &mut impl FnMut() -> Option<ReceiptNumber>,
        now: i64,
    ) -> Result<(u64, ApplicationDetails)> {
        let form_key = self.blind_index.form_key(&new.form_id);
        let id = Self::take_key(tx, APPLICATION_COUNTER).await?;
        let record = tx
            .fetch_one(
                "SELECT municipality FROM residents WHERE id = $1",
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        let municipality = record.text(0)?;
        let mut candidate = new.receipt;
        let mut details = new.details.clone();
        let mut attempts = 0;
        loop {
            attempts += 1;
            details.receipt = candidate.as_digits();
            // Sealed per attempt (a retry is rare), so the photo is never copied.
            let photo = new
                .photo
                .as_ref()
                .map(|photo| self.seal_record(&photo_place(id), photo.as_slice()))
                .transpose()?;
            let inserted = tx
                .execute(
                    "INSERT INTO applications (id, form_key, receipt_key, form_check, receipt_check, resident_id, municipality, channel, status, status_since, created_at, version, details, photo) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9, $9, 1, $10, $11) \
                     ON CONFLICT (receipt_key) DO NOTHING",
                    &[
                        to_i64(id)?.into(),
                        form_key.into(),
                        self.blind_index.receipt_key(&candidate).into(),
                        self.blind_index.form_check(&new.form_id, details.birth_date).into(),
                        self.blind_index.receipt_check(&candidate, details.birth_date).into(),
                        to_i64(resident_key)?.into(),
                        municipality.as_str().into(),
                        new.channel.code().into(),
                        now.into(),
                        self.seal_record(&details_place(id), &details)?.into(),
                        photo.map_or(Value::NullBytes, Into::into),
                    ],
                )
                .await?;
            if inserted == 1 {
                break;
            }
            let taken = || StoreError::Duplicate("an application with this receipt number");
            if attempts >= RECEIPT_ATTEMPTS {
                return Err(taken());
            }
            tracing::info!(attempts, "a receipt number was taken; drawing another");
            candidate = next_receipt().ok_or_else(taken)?;
        }
        tx.execute(
            "INSERT INTO application_events (application_id, version, kind, recorded_at, actor) VALUES ($1, 1, 'received', $2, $3)",
            &[to_i64(id)?.into(), now.into(), actor.officer.as_str().into()],
        )
        .await?;
        self.audit_in(
            tx,
            actor,
            &format!("application.received:{}", new.channel.code()),
            Some(resident_key),
        )
        .await?;
        Ok((id, details))
    }

    /// One application.
    pub async fn application(&self, id: u64) -> Result<ApplicationRecord> {
        let row = self
            .read_found(
                "application",
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1"),
                &[to_i64(id)?.into()],
            )
            .await?;
        self.application_record(&row)
    }

    /// The application with this receipt number (staff look-up).
    pub async fn application_by_receipt(
        &self,
        receipt: &ReceiptNumber,
    ) -> Result<ApplicationRecord> {
        let rows = self
            .read_all(
                &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE receipt_key = $1"),
                &[self.blind_index.receipt_key(receipt).into()],
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

    /// Moves application `id` from `from` by `event` inside the caller's transaction
    /// (a bulk job's batch), if it is still at `version`; writes its event row. The
    /// caller writes the audit events (in one batch). [`StoreError::Conflict`] if the
    /// application moved since it was read.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn advance_application_in(
        &self,
        tx: &mut Tx<'_>,
        id: u64,
        version: u64,
        from: ApplicationStatus,
        event: &ApplicationEvent,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        let next = from
            .apply(event)
            .map_err(|IllegalTransition { from, event }| {
                StoreError::Illegal(format!("an application that is {from} cannot {event}"))
            })?;
        let changed = tx
            .execute(
                "UPDATE applications SET status = $1, status_since = $2, version = $3 WHERE id = $4 AND version = $5 AND status = $6",
                &[next.code().into(), now.into(), to_i64(version + 1)?.into(), to_i64(id)?.into(), to_i64(version)?.into(), from.code().into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        tx.execute(
            "INSERT INTO application_events (application_id, version, kind, reason, recorded_at, actor) VALUES ($1, $2, $3, $4, $5, $6)",
            &[to_i64(id)?.into(), to_i64(version + 1)?.into(), event.code().into(), "".into(), now.into(), actor.officer.as_str().into()],
        )
        .await?;
        Ok(())
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
                self.blind_index.form_key(form),
                self.blind_index.form_check(form, birth),
            ),
            Err(receipt) => (
                "SELECT status, status_since, receipt_check FROM applications WHERE receipt_key = $1",
                self.blind_index.receipt_key(receipt),
                self.blind_index.receipt_check(receipt, birth),
            ),
        };
        let rows = self.read_all(sql, &[key.into()]).await?;
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
        let rows = self.read_all(
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
            .read_optional(
                "SELECT id FROM applications WHERE form_key = $1 AND status <> 'cancelled'",
                &[self.blind_index.form_key(form_id).into()],
            )
            .await?;
        Ok(row.is_some())
    }
}
