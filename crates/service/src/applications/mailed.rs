//! The mail channel: the back office enters a mailed form with its photo scan and
//! the three envelope checks. A failed check, or a photo that does not conform,
//! returns the application to the resident with the reason.

use super::{application_response, decode_photo, form_birth_name, new_receipt};
use crate::{today, Result, Service, ServiceError};
use maina_core::application::{ApplicationEvent, Channel, ReturnReason};
use maina_core::officer::{Actor, Permission};
use maina_proto::{ApplicationResponse, MailApplicationRequest};
use maina_store::{ApplicationDetails, NewApplication};

/// Why a mailed application goes back, if it does: the first envelope check
/// that fails.
fn return_reason(
    request: &MailApplicationRequest,
    has_photo: bool,
    photo_problems: &[String],
) -> Option<ReturnReason> {
    if !request.photo_attached || !has_photo {
        Some(ReturnReason::PhotoMissing)
    } else if !photo_problems.is_empty() {
        Some(ReturnReason::PhotoNotConforming)
    } else if !request.form_complete {
        Some(ReturnReason::FormIncomplete)
    } else if !request.nothing_else_enclosed {
        Some(ReturnReason::SomethingElseEnclosed)
    } else {
        None
    }
}

impl Service {
    /// Enters a mailed application (the API and the back office's page).
    pub async fn enter_mailed_application(
        &self,
        actor: &Actor,
        request: &MailApplicationRequest,
    ) -> Result<ApplicationResponse> {
        let (form, birth, name) =
            form_birth_name(&request.form_id, &request.birth_date, &request.name)?;
        let photo = request
            .photo_base64
            .as_deref()
            .map(decode_photo)
            .transpose()?;
        let municipality = self.form_municipality(&form).await?;
        if !actor.may(Permission::EnterApplication, Some(&municipality)) {
            return Err(ServiceError::not_found("application form ID"));
        }
        let (photo, problems): (_, Vec<String>) = match photo {
            Some(bytes) => {
                let (bytes, check) = crate::photo::examine_off_thread(bytes, today()).await?;
                let codes = check.problems.iter().map(|p| p.code().to_owned());
                (Some(bytes), codes.collect())
            }
            None => (None, Vec::new()),
        };
        let reason = return_reason(request, photo.is_some(), &problems);
        let receipt = new_receipt()?;
        let record = self
            .record_application(
                &NewApplication {
                    form_id: form,
                    receipt,
                    channel: Channel::Mail,
                    details: ApplicationDetails {
                        name,
                        birth_date: birth,
                        email: None,
                        language: "ja".into(),
                        electronic_certificate: request.electronic_certificate,
                        braille: request.braille,
                        receipt: receipt.as_digits(),
                    },
                    photo,
                },
                None,
                actor,
                false,
            )
            .await?;
        let record = match reason {
            Some(reason) => {
                self.store
                    .transition_application(
                        record.id,
                        &ApplicationEvent::ReturnForCorrection { reason },
                        actor,
                        |r, s| self.status_mail(&r.details, s),
                    )
                    .await?
            }
            None => record,
        };
        Ok(application_response(&record, problems))
    }
}
