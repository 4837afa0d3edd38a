//! The municipality receives a shipment (counted against its manifest), sends each
//! received card's issue notice (a PDF to print, and an e-mail where the resident
//! gave one), and deals with cards never collected: a reminder at 3 months, then
//! destruction after the later of 3 months past the reminder and 12 months past the
//! notice (REFERENCE section 7; the periods are *muni*, these are ours).

use super::notice_pdf::{issue_notice_email, render_issue_notice, IssueNoticeDocument, OfficeInfo};
use crate::{Result, Service, ServiceError};
use chrono::{Months, NaiveDate};
use krilla::text::Font;
use maina_core::officer::{Actor, Permission};
use maina_core::person::{Citizenship, Name};
use maina_core::{CardNumber, IssueNoticeNumber, MunicipalityCode};
use maina_store::pickup::{
    IssueNoticeDetails, IssueNoticeRecord, NewIssueNotice, NoticeDue, OfficeRecord,
};
use maina_store::{Mail, ShipmentRecord, StoreError};
use rand::Rng;
use std::path::{Path, PathBuf};

/// Months from the notice to the date printed as the deadline.
pub const PICKUP_DEADLINE_MONTHS: u32 = 3;
/// A reminder this long after the notice (microseconds: 90 days).
pub const REMINDER_AFTER: i64 = 90 * DAY;
/// Destroyed no sooner than this after the reminder (90 days) ...
pub const DESTROY_AFTER_REMINDER: i64 = 90 * DAY;
/// ... and than this after the first notice (365 days).
pub const DESTROY_AFTER_NOTICE: i64 = 365 * DAY;
const DAY: i64 = 86_400_000_000;

/// How to print a municipality's notices.
pub struct NoticeRun<'a> {
    pub municipality: MunicipalityCode,
    pub font: &'a Font,
    /// The public booking page's address (printed, and in the QR code).
    pub booking_url: String,
    /// Where the PDFs go (`None`: record and e-mail only).
    pub out_dir: Option<&'a Path>,
    pub today: NaiveDate,
}

/// One notice printed (or reprinted as a reminder).
#[derive(Debug, Clone)]
pub struct PrintedNotice {
    pub number: IssueNoticeNumber,
    pub card_id: String,
    pub file: Option<PathBuf>,
    pub reminder: bool,
}

/// What the never-collected job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryReport {
    pub reminded: usize,
    pub destroyed: usize,
}

/// A shipment as the API shows it.
pub fn shipment_response(record: &ShipmentRecord) -> maina_proto::ShipmentResponse {
    let at = |micros: i64| {
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    };
    maina_proto::ShipmentResponse {
        id: record.id,
        municipality: record.municipality.clone(),
        created_at: at(record.created_at),
        card_count: record.card_count,
        received_at: record.received_at.map(at),
        card_numbers: record
            .manifest
            .iter()
            .map(|entry| entry.card_number.clone())
            .collect(),
    }
}

impl Service {
    /// The pickup use cases' one check: `permission` on `municipality`, or the
    /// refusal audited and answered as "no such `what`".
    pub(crate) async fn require(
        &self,
        actor: &Actor,
        permission: Permission,
        municipality: &MunicipalityCode,
        what: &str,
    ) -> Result<()> {
        if actor.may(permission, Some(municipality)) {
            return Ok(());
        }
        Err(self
            .denied(actor, permission, None, ServiceError::not_found(what))
            .await)
    }

    /// Receives shipment `id`: the card numbers counted must be exactly its
    /// manifest's, or nothing is received and the refusal names the missing and
    /// extra cards.
    pub async fn receive_shipment(
        &self,
        actor: &Actor,
        id: u64,
        counted: &[CardNumber],
    ) -> Result<ShipmentRecord> {
        let shipment = self.store.shipment(id).await?;
        let municipality: MunicipalityCode = shipment
            .municipality
            .parse()
            .map_err(|e| ServiceError::internal(&e))?;
        self.require(actor, Permission::ReceiveCards, &municipality, "shipment")
            .await?;
        match self.store.receive_shipment(id, counted, actor).await? {
            Ok(shipment) => Ok(shipment),
            Err(mismatch) => {
                let mut parts = Vec::new();
                if !mismatch.missing.is_empty() {
                    parts.push(format!("missing: {}", mismatch.missing.join(", ")));
                }
                if !mismatch.extra.is_empty() {
                    parts.push(format!(
                        "not on the manifest: {}",
                        mismatch.extra.join(", ")
                    ));
                }
                Err(ServiceError::invalid(
                    "counted",
                    format!(
                        "the cards counted differ from shipment {id}'s manifest ({}); nothing was received",
                        parts.join("; ")
                    ),
                ))
            }
        }
    }

    /// The shipments to a municipality (newest first).
    pub async fn shipments(
        &self,
        actor: &Actor,
        municipality: &MunicipalityCode,
    ) -> Result<Vec<ShipmentRecord>> {
        self.require(
            actor,
            Permission::ReceiveCards,
            municipality,
            "municipality",
        )
        .await?;
        Ok(self.store.shipments(municipality).await?)
    }

    /// Makes the issue notice of every received card of the municipality that has
    /// none (the application becomes `ready-for-pickup`, the resident with an
    /// e-mail address gets it by e-mail), then writes every notice not yet printed
    /// (reminders included) as a PDF into `run.out_dir`.
    pub async fn issue_notices(
        &self,
        actor: &Actor,
        run: &NoticeRun<'_>,
    ) -> Result<Vec<PrintedNotice>> {
        self.require(
            actor,
            Permission::ReceiveCards,
            &run.municipality,
            "municipality",
        )
        .await?;
        let office = self.store.office_of(&run.municipality).await?;
        let deadline = run
            .today
            .checked_add_months(Months::new(PICKUP_DEADLINE_MONTHS))
            .unwrap_or(run.today);
        loop {
            let waiting = self
                .store
                .cards_awaiting_notice(&run.municipality, 100)
                .await?;
            if waiting.is_empty() {
                break;
            }
            for (card_id, application) in waiting {
                let mut attempts = 0;
                loop {
                    let number = IssueNoticeNumber::new(
                        run.municipality,
                        rand::rngs::OsRng.gen_range(0..IssueNoticeNumber::RANDOM_SPACE),
                    )
                    .map_err(|e| ServiceError::internal(&e))?;
                    let details = IssueNoticeDetails {
                        notice_number: number.as_digits(),
                        email: application.details.email.clone(),
                        language: application.details.language.clone(),
                        name: application.details.name.clone(),
                    };
                    let notice = NewIssueNotice {
                        number,
                        card_id: card_id.clone(),
                        application: application.clone(),
                        office_id: Some(office.id),
                        deadline,
                        details,
                    };
                    // The record is read for the e-mail only; the printing reads
                    // it when it draws the notice.
                    let mail = match &notice.details.email {
                        Some(to) => {
                            let document = self
                                .notice_document(
                                    &notice.application.resident_key,
                                    &notice.details,
                                    &office,
                                    deadline,
                                    run,
                                    false,
                                )
                                .await?;
                            let (subject, body) = issue_notice_email(&self.messages, &document);
                            Some(Mail {
                                to: to.clone(),
                                subject,
                                body,
                            })
                        }
                        None => None,
                    };
                    match self
                        .store
                        .record_issue_notice(&notice, mail.as_ref(), actor)
                        .await
                    {
                        Ok(_) => break,
                        // The random part collided with another notice's: draw again.
                        Err(StoreError::Duplicate(_)) if attempts < 5 => attempts += 1,
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
        let mut printed = Vec::new();
        for notice in self
            .store
            .unprinted_issue_notices(&run.municipality)
            .await?
        {
            let reminder = notice.reminded_at.is_some();
            let deadline = NaiveDate::parse_from_str(&notice.deadline, "%Y-%m-%d")
                .map_err(|e| ServiceError::internal(&e))?;
            let document = self
                .notice_document(
                    &notice.resident_key,
                    &notice.details,
                    &office,
                    deadline,
                    run,
                    reminder,
                )
                .await?;
            let file = match run.out_dir {
                Some(dir) => {
                    let pdf = render_issue_notice(run.font, &self.messages, &document)
                        .map_err(|e| ServiceError::internal(&e))?;
                    let path = dir.join(format!(
                        "issue-notice-{}{}.pdf",
                        notice.id,
                        if reminder { "-reminder" } else { "" }
                    ));
                    std::fs::write(&path, pdf).map_err(|e| ServiceError::internal(&e))?;
                    self.store.mark_issue_notice_printed(notice.id).await?;
                    Some(path)
                }
                None => None,
            };
            printed.push(PrintedNotice {
                number: document.notice_number,
                card_id: notice.card_id,
                file,
                reminder,
            });
        }
        Ok(printed)
    }

    async fn notice_document(
        &self,
        resident_key: &u64,
        details: &IssueNoticeDetails,
        office: &OfficeRecord,
        deadline: NaiveDate,
        run: &NoticeRun<'_>,
        reminder: bool,
    ) -> Result<IssueNoticeDocument> {
        let view = self.store.resident(*resident_key).await?;
        let person = &view.record.person;
        let name = match &person.name {
            Name::Foreign {
                alphabet,
                alias: Some(alias),
                ..
            } => format!("{alias} ({alphabet})"),
            name => name.to_string(),
        };
        Ok(IssueNoticeDocument {
            language: details.language.clone(),
            notice_number: details
                .notice_number
                .parse()
                .map_err(|e| ServiceError::internal(&e))?,
            resident_name: name,
            resident_address: view.record.address.as_str().to_owned(),
            birth_date: person.birth_date,
            japanese_national: matches!(person.citizenship, Citizenship::Japanese),
            office: Self::office_info(office, &details.language),
            deadline,
            booking_url: run.booking_url.clone(),
            issued_on: run.today,
            reminder,
        })
    }

    /// Where a municipality's residents collect their cards, in `lang`: the office
    /// record a supervisor keeps (the defaults until then).
    pub(crate) fn office_info(office: &OfficeRecord, lang: &str) -> OfficeInfo {
        let ja = crate::i18n::language(lang) == "ja";
        OfficeInfo {
            name: if ja { &office.name_ja } else { &office.name_en }.clone(),
            address: if ja {
                &office.address_ja
            } else {
                &office.address_en
            }
            .clone(),
            phone: office.phone.clone(),
            opening_hours: office.hours.clone(),
        }
    }

    /// The counter's look-up of a card by its notice number (another
    /// municipality's notice is "not found", like an unknown one).
    pub async fn card_for_notice(
        &self,
        actor: &Actor,
        number: &IssueNoticeNumber,
    ) -> Result<IssueNoticeRecord> {
        let municipality = number
            .municipality()
            .map_err(|e| ServiceError::invalid("notice", e.to_string()))?;
        self.require(
            actor,
            Permission::HandOverCard,
            &municipality,
            "issue notice",
        )
        .await?;
        // The number starts with its municipality's code, checked above.
        match self.store.issue_notice_by_number(number).await? {
            Some(notice) => {
                self.store
                    .audit(
                        actor,
                        &format!("pickup.find {}", notice.id),
                        Some(notice.resident_key),
                    )
                    .await?;
                Ok(notice)
            }
            None => Err(ServiceError::not_found("issue notice")),
        }
    }

    /// The never-collected job: reminders due, then cards due for destruction
    /// (keys wiped, records kept, the application closed with that reason).
    pub async fn expire_uncollected(&self, actor: &Actor, now: i64) -> Result<ExpiryReport> {
        let mut report = ExpiryReport::default();
        let due = self
            .store
            .issue_notices_due(
                now,
                REMINDER_AFTER,
                DESTROY_AFTER_REMINDER,
                DESTROY_AFTER_NOTICE,
            )
            .await?;
        for (notice, what) in due {
            match what {
                NoticeDue::Reminder => {
                    let mail = notice.details.email.as_ref().map(|to| Mail {
                        to: to.clone(),
                        subject: self
                            .messages
                            .message(&notice.details.language, "pickup-reminder-subject"),
                        body: {
                            let lang = &notice.details.language;
                            let say = |id: &str| self.messages.message(lang, id);
                            format!(
                                "{}\n\n{}: {}\n{}: {}\n",
                                say("pickup-reminder-body"),
                                say("pickup-notice-number"),
                                notice.details.notice_number,
                                say("pickup-notice-deadline"),
                                notice.deadline
                            )
                        },
                    });
                    if self
                        .store
                        .record_notice_reminder(&notice, mail.as_ref(), actor)
                        .await?
                    {
                        report.reminded += 1;
                    }
                }
                NoticeDue::Destruction => {
                    let (_, chip) = self.store.card(&notice.card_id).await?;
                    let wiped = maina_card::Card::from_bytes(&chip)
                        .and_then(|mut card| {
                            card.wipe_keys();
                            card.to_bytes()
                        })
                        .map_err(|e| ServiceError::internal(&e))?;
                    match self
                        .store
                        .destroy_uncollected_card(&notice, &wiped, actor)
                        .await
                    {
                        Ok(()) => report.destroyed += 1,
                        // Handed over meanwhile: nothing to destroy.
                        Err(StoreError::Conflict) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
        Ok(report)
    }
}
