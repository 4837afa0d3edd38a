//! Applications for the card: the channels (mail, online, photo booth), the
//! review steps, the stuck list, the public status inquiry, and the e-mails that
//! tell applicants of every change in their language.

pub mod booth;
pub mod inquiry;
pub mod mailed;
pub mod online;
pub mod review;

use crate::{i18n, Result, Service, ServiceError};
use chrono::NaiveDate;
use maina_core::application::ApplicationStatus;
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, MunicipalityCode, ReceiptNumber};
use maina_proto::ApplicationResponse;
use maina_store::{ApplicationDetails, ApplicationRecord, Mail, NewApplication, StoreError};
use rand::Rng;

/// A fresh receipt number.
pub fn new_receipt() -> Result<ReceiptNumber> {
    let random = rand::rngs::OsRng.gen_range(0..ReceiptNumber::RANDOM_SPACE);
    ReceiptNumber::new(random).map_err(|error| ServiceError::internal(&error))
}

/// The receipt number an application was recorded under, as residents see it.
pub(crate) fn receipt_shown(record: &ApplicationRecord) -> String {
    record
        .details
        .receipt
        .parse::<ReceiptNumber>()
        .map(|receipt| receipt.to_string())
        .unwrap_or_else(|_| record.details.receipt.clone())
}

/// The three fields every channel's application carries, parsed; errors name the
/// field.
pub(crate) fn form_birth_name(
    form_id: &str,
    birth_date: &str,
    name: &str,
) -> Result<(ApplicationFormId, NaiveDate, String)> {
    let form: ApplicationFormId = form_id
        .parse()
        .map_err(|e: maina_core::IdError| ServiceError::invalid("form_id", e.to_string()))?;
    let birth = parse_birth_date(birth_date)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::invalid("name", "name: 1 to 100 characters"));
    }
    Ok((form, birth, name.to_owned()))
}

/// A photo sent as base64 text (the API's `photo_base64`).
pub(crate) fn decode_photo(text: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| ServiceError::invalid("photo_base64", "photo_base64: not base64"))
}

/// A birth date as an applicant types it (YYYY-MM-DD).
pub(crate) fn parse_birth_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ServiceError::invalid("birth_date", "birth_date: expected YYYY-MM-DD"))
}

/// An application as staff see it.
pub fn application_response(
    record: &ApplicationRecord,
    photo_problems: Vec<String>,
) -> ApplicationResponse {
    ApplicationResponse {
        receipt: record.details.receipt.clone(),
        status: record.status.code().to_owned(),
        channel: record.channel.code().to_owned(),
        municipality: record.municipality.clone(),
        since: crate::dates::japan_date(record.status_since)
            .map(|date| date.to_string())
            .unwrap_or_default(),
        photo_problems,
    }
}

impl Service {
    /// Records an application under its receipt number, or under a fresh one when
    /// that is taken (the store retries in its transaction); spends the online
    /// channel's link in the same transaction. With `confirm`, the applicant is
    /// e-mailed the receipt it was recorded under.
    pub(crate) async fn record_application(
        &self,
        new: &NewApplication,
        spend_link: Option<&[u8; 32]>,
        actor: &Actor,
        confirm: bool,
    ) -> std::result::Result<ApplicationRecord, StoreError> {
        self.store
            .submit_application_with(
                new,
                spend_link,
                actor,
                |details| {
                    confirm
                        .then(|| self.status_mail(details, ApplicationStatus::Received))
                        .flatten()
                },
                || new_receipt().ok(),
            )
            .await
    }

    /// The resident's municipality behind a form ID (not found for an unknown form).
    pub(crate) async fn form_municipality(
        &self,
        form: &ApplicationFormId,
    ) -> Result<MunicipalityCode> {
        let holder = self
            .store
            .form_holder(form)
            .await?
            .ok_or_else(|| ServiceError::not_found("application form ID"))?;
        Ok(self
            .store
            .resident(holder.resident_key)
            .await?
            .record
            .municipality)
    }

    /// The e-mail telling an applicant where the application now stands.
    pub fn status_mail(
        &self,
        details: &ApplicationDetails,
        status: ApplicationStatus,
    ) -> Option<Mail> {
        let to = details.email.clone()?;
        let lang = i18n::language(&details.language);
        let code = status.code();
        let m = |id: &str| self.message(lang, id);
        Some(Mail {
            to,
            subject: format!(
                "{} — {}",
                m("mail-status-subject"),
                m(&format!("status-{code}"))
            ),
            body: format!(
                "{}\n\n{}: {}\n{}: {}\n\n{}\n\n{}\n",
                m("mail-greeting"),
                m("receipt-number"),
                details.receipt,
                m("status-answer"),
                m(&format!("status-{code}")),
                m(&format!("status-next-{code}")),
                m("mail-footer"),
            ),
        })
    }
}
