//! The photo booth channel: a booth (known by its key) sends the form ID it read
//! from the QR code, the photo it took and what the applicant approved on its
//! screen; it gets back the receipt to print.

use super::{decode_photo, form_birth_name, new_receipt, receipt_shown};
use crate::{i18n, today, Result, Service, ServiceError};
use maina_core::application::Channel;
use maina_core::officer::Actor;
use maina_proto::{BoothApplicationRequest, BoothReceipt};
use maina_store::{ApplicationDetails, NewApplication};
use subtle::ConstantTimeEq;

impl Service {
    /// Whether `given` is a configured booth key (compared in constant time).
    pub fn booth_key_known(&self, given: Option<&str>) -> bool {
        let Some(given) = given else {
            return false;
        };
        self.config
            .booth_keys
            .iter()
            .any(|key| bool::from(key.as_bytes().ct_eq(given.as_bytes())))
    }

    /// A photo booth's application: checked, recorded, answered with the receipt
    /// to print. A photo that does not conform is refused with what to fix, so the
    /// booth can take another.
    pub async fn submit_booth_application(
        &self,
        request: &BoothApplicationRequest,
    ) -> Result<BoothReceipt> {
        let lang = match request.language.as_deref() {
            Some("en") => "en",
            _ => "ja",
        };
        if !request.approved {
            return Err(ServiceError::invalid(
                "approved",
                "approved: the applicant must approve the details",
            ));
        }
        let (form, birth, name) =
            form_birth_name(&request.form_id, &request.birth_date, &request.name)?;
        if let Some(email) = &request.email {
            email
                .parse::<lettre::Address>()
                .map_err(|_| ServiceError::invalid("email", "email: not an e-mail address"))?;
        }
        let photo = decode_photo(&request.photo_base64)?;
        let (photo, check) = crate::photo::examine_off_thread(photo, today()).await?;
        if !check.passed() {
            let fix: Vec<String> = check
                .problems
                .iter()
                .map(|p| self.message(lang, p.code()))
                .collect();
            let codes: Vec<&str> = check.problems.iter().map(|p| p.code()).collect();
            return Err(ServiceError::invalid(
                "photo_base64",
                format!("{}: {}", codes.join(", "), fix.join(" ")),
            ));
        }
        self.form_municipality(&form).await?;
        let receipt = new_receipt()?;
        let details = ApplicationDetails {
            name,
            birth_date: birth,
            email: request.email.clone(),
            language: lang.to_owned(),
            electronic_certificate: request.electronic_certificate,
            braille: request.braille,
            receipt: receipt.as_digits(),
        };
        let booth = Actor::administrator("photo-booth", "booth application");
        let record = self
            .record_application(
                &NewApplication {
                    form_id: form,
                    receipt,
                    channel: Channel::PhotoBooth,
                    details,
                    photo: Some(photo),
                },
                None,
                &booth,
                true,
            )
            .await?;
        let receipt = receipt_shown(&record);
        let m = |id: &str| self.message(i18n::language(lang), id);
        let printable = format!(
            "{}\n{}: {}\n{}: {}\n{}\n",
            m("apply-done"),
            m("receipt-number"),
            receipt,
            m("status-answer"),
            m(&format!("status-{}", record.status.code())),
            m("apply-done-next"),
        );
        Ok(BoothReceipt {
            receipt,
            status: record.status.code().to_owned(),
            printable,
        })
    }
}
