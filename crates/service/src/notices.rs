//! The Individual Number Notices (個人番号通知書) as use cases: the next letters to
//! print (each resident's form ID made on first use), recording a letter printed,
//! and its registered-mail tracking. Rendering the PDF is `notice.rs`; the bulk job
//! around these (progress, both cores, files) is the command line's.

use crate::notice::NoticeLetter;
use crate::residents::{municipality_code, resident_code};
use crate::{Result, Service, ServiceError};
use chrono::NaiveDate;
use maina_core::application::NoticeMail;
use maina_core::officer::{Actor, Permission};
use maina_core::{ApplicationFormId, ResidentCode};
use maina_store::NoticeRecord;
use rand::Rng;
use std::collections::HashMap;

/// A letter to print, and whose it is.
#[derive(Debug, Clone)]
pub struct PendingNotice {
    pub resident_key: u64,
    pub resident_code: ResidentCode,
    pub letter: NoticeLetter,
}

/// What every letter of a print run shares; made once per run by
/// [`Service::print_run`].
#[derive(Debug, Clone)]
pub struct PrintRun<'a> {
    /// Only this municipality's residents (a checked 6-digit code), or every one.
    municipality: Option<&'a str>,
    /// The date printed on the letters.
    issued: NaiveDate,
    /// The online application address printed and put in the QR code.
    apply_base_url: &'a str,
    /// Municipality names (Japanese, English) by code, read once.
    names: HashMap<String, (String, String)>,
}

impl Service {
    /// A print run: the municipality code checked and the names read once.
    pub async fn print_run<'a>(
        &self,
        municipality: Option<&'a str>,
        issued: NaiveDate,
        apply_base_url: &'a str,
    ) -> Result<PrintRun<'a>> {
        if let Some(code) = municipality {
            municipality_code(code)?;
        }
        let names = (self.store.municipalities().await?)
            .into_iter()
            .map(|m| (m.code.as_digits(), (m.name_ja, m.name_en)))
            .collect();
        Ok(PrintRun {
            municipality,
            issued,
            apply_base_url,
            names,
        })
    }

    /// The next `count` letters not printed yet, after resident key `after`. A
    /// letter shows the My Number in clear: the actor must be allowed to reveal
    /// numbers in the resident's municipality.
    pub async fn pending_notices(
        &self,
        actor: &Actor,
        run: &PrintRun<'_>,
        after: u64,
        count: u32,
    ) -> Result<Vec<PendingNotice>> {
        let keys = (self.store)
            .residents_awaiting_notice(run.municipality, after, count)
            .await?;
        let mut pending = Vec::with_capacity(keys.len());
        for key in keys {
            let view = self.store.resident(key).await?;
            if !actor.may(Permission::RevealNumber, Some(&view.record.municipality)) {
                return Err(ServiceError::forbidden());
            }
            let form_id = match self.store.notice(key).await? {
                Some(notice) => notice.form_id,
                None => {
                    let random = rand::rngs::OsRng.gen_range(0..ApplicationFormId::RANDOM_SPACE);
                    let form_id = ApplicationFormId::new(view.record.municipality, random)
                        .map_err(|error| ServiceError::internal(&error))?;
                    self.store.put_notice(key, &form_id, actor).await?;
                    form_id
                }
            };
            let (municipality_ja, municipality_en) = (run.names)
                .get(&view.record.municipality.as_digits())
                .cloned()
                .unwrap_or_default();
            let letter = NoticeLetter {
                municipality_ja,
                municipality_en,
                name: view.record.person.name.to_string(),
                address: view.record.address.as_str().to_owned(),
                birth_date: view.record.person.birth_date,
                my_number: view.my_number,
                form_id,
                issued: run.issued,
                apply_base_url: run.apply_base_url.to_owned(),
            };
            pending.push(PendingNotice {
                resident_key: key,
                resident_code: view.resident_code,
                letter,
            });
        }
        Ok(pending)
    }

    /// Records a letter as printed (audited).
    pub async fn notice_printed(&self, actor: &Actor, resident_key: u64) -> Result<()> {
        Ok(self.store.notice_printed(resident_key, actor).await?)
    }

    /// Records where a notice is as registered mail.
    pub async fn track_notice(
        &self,
        actor: &Actor,
        code: &str,
        status: &str,
    ) -> Result<NoticeMail> {
        let next = NoticeMail::from_code(status).ok_or_else(|| {
            ServiceError::invalid(
                "status",
                "status: expected posted, delivered, absent, redelivery-requested or returned-to-office",
            )
        })?;
        let key = self
            .notice_resident(actor, code, Permission::ChangeResident)
            .await?;
        self.store.track_notice(key, next, actor).await?;
        Ok(next)
    }

    /// A resident's notice: form ID and mail status, if one was made.
    pub async fn notice_of(&self, actor: &Actor, code: &str) -> Result<Option<NoticeRecord>> {
        let key = self
            .notice_resident(actor, code, Permission::ReadResident)
            .await?;
        Ok(self.store.notice(key).await?)
    }

    /// The row key of a resident whose notice the actor may handle.
    async fn notice_resident(
        &self,
        actor: &Actor,
        code: &str,
        permission: Permission,
    ) -> Result<u64> {
        if !actor.role.allows(permission) {
            return Err(ServiceError::forbidden());
        }
        let code = resident_code(code)?;
        let key = (self.store.authority())
            .resident_key(&code)
            .map_err(|_| ServiceError::not_found("resident"))?;
        if actor.municipality.is_some() {
            let view = self.store.resident(key).await?;
            if !actor.may(permission, Some(&view.record.municipality)) {
                return Err(ServiceError::not_found("resident"));
            }
        }
        Ok(key)
    }
}
