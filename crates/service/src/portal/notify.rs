//! E-mails at every access to the record by an officer.
//!
//! A worker follows the audit trail (it does not ride in the access's own
//! transaction): reads are audited through the store's group-commit writer, which
//! batches hundreds of events from many requests into one commit, and must stay
//! free of mail and preferences; the worker sees only committed events, takes the
//! accesses after its cursor to residents who asked, and queues their mails in the
//! outbox *in the same transaction* that moves its cursor (a compare-and-swap), so
//! every access is told of exactly once, even with several servers, within one
//! worker period.

use super::{access_label, resident_actor};
use crate::{i18n, ErrorKind, Result, Service, ServiceError};
use chrono::{DateTime, FixedOffset, Offset, Utc};
use maina_store::{AccessNotice, Mail, NotifyAddress};

/// The most accesses one worker step tells of.
pub const NOTIFY_BATCH: u32 = 500;

/// The mail telling a resident of one access, in their language.
pub fn access_mail(service: &Service, notice: &AccessNotice) -> Mail {
    let lang = i18n::language(&notice.address.language);
    let m = |id: &str| service.message(lang, id);
    let entry = &notice.entry;
    let jst = FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| Utc.fix());
    let at = DateTime::from_timestamp_micros(entry.at)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .with_timezone(&jst)
        .format("%Y-%m-%d %H:%M:%S (JST)");
    let municipality = if entry.municipality.is_empty() {
        m("portal-municipality-none")
    } else {
        entry.municipality.clone()
    };
    Mail {
        to: notice.address.to.clone(),
        subject: m("portal-mail-access-subject"),
        body: format!(
            "{}\n\n{}: {at}\n{}: {}\n{}: {}\n{}: {municipality}\n{}: {}\n{}: {}\n\n{}\n",
            m("portal-mail-access-intro"),
            m("portal-csv-at"),
            m("portal-csv-what"),
            access_label(service, entry, lang),
            m("portal-csv-role"),
            m(&format!("portal-role-{}", entry.role)),
            m("portal-csv-municipality"),
            m("portal-csv-purpose"),
            entry.purpose,
            m("portal-csv-seq"),
            entry.seq.unwrap_or_default(),
            m("portal-mail-access-footer"),
        ),
    }
}

impl Service {
    /// Switches the e-mails at every officer access on (to `email`, in `lang`) or
    /// off (`None`: the address is forgotten); audited as the resident's own act.
    pub async fn portal_set_notify(
        &self,
        resident_key: u64,
        email: Option<&str>,
        lang: &str,
    ) -> Result<()> {
        let address = match email.map(str::trim) {
            None => None,
            Some(email) => {
                if email.chars().count() > 254 || email.parse::<lettre::Address>().is_err() {
                    return Err(ServiceError::new(
                        ErrorKind::Invalid,
                        "invalid_email",
                        "email: not an e-mail address",
                    )
                    .with_field("email"));
                }
                Some(NotifyAddress {
                    to: email.to_owned(),
                    language: i18n::language(lang).to_owned(),
                })
            }
        };
        self.store
            .set_notify_preference(resident_key, address.as_ref(), &resident_actor())
            .await?;
        Ok(())
    }

    /// One step of the notification worker: the next accesses after its cursor
    /// become mails in the outbox (with the cursor's move, one transaction).
    /// Returns how many were queued. Also carries the chain check forward, so the
    /// portal's pages find it walked.
    pub async fn notify_accesses(&self) -> Result<usize> {
        let batch = self.store.pending_access_notices(NOTIFY_BATCH).await?;
        if batch.upto > batch.from || !batch.notices.is_empty() {
            let mails: Vec<Mail> = batch
                .notices
                .iter()
                .map(|notice| access_mail(self, notice))
                .collect();
            if !self
                .store
                .queue_access_notices(batch.from, batch.upto, &mails)
                .await?
            {
                return Ok(0);
            }
            self.store.verify_audit_upto(batch.upto).await?;
            return Ok(mails.len());
        }
        Ok(0)
    }
}

/// The notification worker: a step every `period`, until the task is stopped; a
/// failure is logged and retried at the next tick.
pub async fn worker(service: Service, period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match service.notify_accesses().await {
            Ok(0) => {}
            Ok(queued) => tracing::debug!(queued, "access e-mails queued"),
            Err(error) => tracing::warn!(%error, "access e-mails could not be queued"),
        }
    }
}
