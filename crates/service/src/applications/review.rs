//! Staff's side of an application after it came in: look it up, move it through
//! the review (supervisors), list the ones stuck in card issuance, and tell their
//! applicants.

use super::application_response;
use crate::{i18n, stuck_cutoff, Result, Service, ServiceError};
use maina_core::application::{ApplicationEvent, ReturnReason};
use maina_core::officer::{Actor, Permission};
use maina_core::{MunicipalityCode, ReceiptNumber};
use maina_proto::{ApplicationEventRequest, ApplicationResponse};
use maina_store::{ApplicationRecord, Mail, Municipality};
use std::collections::HashMap;

/// A review step as requested, parsed; errors name the field.
fn review_event(request: &ApplicationEventRequest) -> Result<ApplicationEvent> {
    let invalid = ServiceError::invalid;
    Ok(match (request.event.as_str(), request.reason.as_deref()) {
        ("start-review", None) => ApplicationEvent::StartReview,
        ("resubmit", None) => ApplicationEvent::Resubmit,
        ("approve", None) => ApplicationEvent::Approve,
        ("cancel", None) => ApplicationEvent::Cancel,
        ("return-for-correction", Some(reason)) => ApplicationEvent::ReturnForCorrection {
            reason: ReturnReason::from_code(reason)
                .ok_or_else(|| invalid("reason", "reason: not a return reason"))?,
        },
        ("return-for-correction", None) => {
            return Err(invalid(
                "reason",
                "reason: required to return an application",
            ))
        }
        ("start-review" | "resubmit" | "approve" | "cancel", Some(_)) => {
            return Err(invalid("reason", "reason: only for return-for-correction"))
        }
        _ => {
            return Err(invalid(
                "event",
                "event: start-review, return-for-correction, resubmit, approve or cancel",
            ))
        }
    })
}

impl Service {
    /// An application the actor may act on, by receipt number: another
    /// municipality's are "not found".
    async fn application_for(
        &self,
        actor: &Actor,
        receipt: &str,
        permission: Permission,
    ) -> Result<ApplicationRecord> {
        let receipt: ReceiptNumber = receipt
            .parse()
            .map_err(|_| ServiceError::not_found("application"))?;
        let record = self.store.application_by_receipt(&receipt).await?;
        let municipality: MunicipalityCode = record
            .municipality
            .parse()
            .map_err(|_| ServiceError::not_found("application"))?;
        if !actor.may(permission, Some(&municipality)) {
            return Err(ServiceError::not_found("application"));
        }
        Ok(record)
    }

    /// An application, by its receipt number.
    pub async fn show_application(
        &self,
        actor: &Actor,
        receipt: &str,
    ) -> Result<ApplicationResponse> {
        let record = self
            .application_for(actor, receipt, Permission::EnterApplication)
            .await?;
        Ok(application_response(&record, Vec::new()))
    }

    /// Moves an application on (supervisors). Illegal steps are refused; the
    /// applicant is told of every change by e-mail when an address was given.
    pub async fn review_application(
        &self,
        actor: &Actor,
        receipt: &str,
        request: &ApplicationEventRequest,
    ) -> Result<ApplicationResponse> {
        let event = review_event(request)?;
        let record = self
            .application_for(actor, receipt, Permission::ReviewApplication)
            .await?;
        let record = self
            .store
            .transition_application(record.id, &event, actor, |r, s| {
                self.status_mail(&r.details, s)
            })
            .await?;
        Ok(application_response(&record, Vec::new()))
    }

    /// Applications still in card issuance after 30 days in the municipalities the
    /// actor reviews (the resident should be contacted).
    pub async fn stuck_applications(&self, actor: &Actor) -> Result<Vec<ApplicationRecord>> {
        if !actor.may(Permission::ReviewApplication, None) {
            return Err(ServiceError::forbidden());
        }
        Ok(self
            .store
            .stuck_applications(stuck_cutoff())
            .await?
            .into_iter()
            .filter(|record| {
                record
                    .municipality
                    .parse::<MunicipalityCode>()
                    .is_ok_and(|m| actor.may(Permission::ReviewApplication, Some(&m)))
            })
            .collect())
    }

    /// Tells applicants whose application is stuck (the server's upkeep runs it).
    pub async fn notify_stuck(&self) -> Result<u32, maina_store::StoreError> {
        self.notify_stuck_since(stuck_cutoff()).await
    }

    /// Tells applicants whose application has been in card issuance since before
    /// `before` (microseconds since the epoch) and who were not told yet.
    pub async fn notify_stuck_since(&self, before: i64) -> Result<u32, maina_store::StoreError> {
        let offices: HashMap<String, Municipality> = self
            .store
            .municipalities()
            .await?
            .into_iter()
            .map(|office| (office.code.as_digits(), office))
            .collect();
        self.store
            .notify_stuck(before, |record| {
                self.stuck_mail(record, offices.get(&record.municipality))
            })
            .await
    }

    /// The e-mail telling an applicant that the card is late and whom to ask: the
    /// office by name in the applicant's language (and its code), and the contact
    /// the configuration gives for it (`office_contacts`), if any.
    pub fn stuck_mail(
        &self,
        record: &ApplicationRecord,
        office: Option<&Municipality>,
    ) -> Option<Mail> {
        let to = record.details.email.clone()?;
        let lang = i18n::language(&record.details.language);
        let m = |id: &str| self.message(lang, id);
        let name = match (office, lang) {
            (Some(office), "ja") => format!("{} ({})", office.name_ja, record.municipality),
            (Some(office), _) => format!("{} ({})", office.name_en, record.municipality),
            (None, _) => record.municipality.clone(),
        };
        let contact = self
            .config
            .office_contacts
            .get(&record.municipality)
            .map(|contact| format!("\n{contact}"))
            .unwrap_or_default();
        Some(Mail {
            to,
            subject: m("mail-stuck-subject"),
            body: format!(
                "{}\n\n{}: {}\n\n{}\n{name}{contact}\n\n{}\n",
                m("mail-greeting"),
                m("receipt-number"),
                record.details.receipt,
                m("mail-stuck-body"),
                m("mail-footer"),
            ),
        })
    }
}
