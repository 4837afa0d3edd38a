//! The expiry letters (有効期限通知書, issue 13 item 3): for every active card whose
//! end — the card's, or only its certificates' — falls within the look-ahead
//! (`maina card expiring --within 3m`, and daily in `maina serve` with three
//! months: two to three months before), one letter per card and end, with a new
//! renewal form ID, as a PDF in the resident's language. Written once: the store
//! records the letter (and the card's `expiry-letter` event) before the file is
//! kept, and a letter already recorded is skipped.

use super::expiry_pdf::{render_expiry_letter, ExpiryLetterDocument};
use crate::{Result, Service, ServiceError};
use chrono::{DateTime, NaiveDate};
use krilla::text::Font;
use maina_core::card::{renewal_opens, ExpiryEnd, Lookahead};
use maina_core::officer::{Actor, Permission};
use maina_core::person::{Citizenship, Name};
use maina_core::{ApplicationFormId, MunicipalityCode};
use maina_store::NearingEnd;
use rand::Rng;
use std::path::{Path, PathBuf};

/// How the daily job looks ahead: letters go out from three months before.
pub const EXPIRY_LETTER_LOOKAHEAD: Lookahead = Lookahead::Months(3);

/// How to write a batch of expiry letters.
pub struct ExpiryRun<'a> {
    pub font: &'a Font,
    /// The online application page's address (printed, and in the QR code).
    pub apply_url: String,
    pub out_dir: &'a Path,
    pub today: NaiveDate,
    pub within: Lookahead,
    /// Only this municipality's residents (an officer's own is implied).
    pub municipality: Option<MunicipalityCode>,
}

/// One letter written.
#[derive(Debug, Clone)]
pub struct WrittenLetter {
    pub card_id: String,
    pub ends: ExpiryEnd,
    pub ends_on: NaiveDate,
    pub form_id: ApplicationFormId,
    pub file: PathBuf,
}

fn day(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| ServiceError::internal(&e))
}

/// The last day of a certificate ending at `seconds` (its notAfter is 23:59:59 in
/// Japan on that day).
fn certificate_day(seconds: i64) -> Option<NaiveDate> {
    let japan = chrono::FixedOffset::east_opt(9 * 3600)?;
    DateTime::from_timestamp(seconds, 0).map(|t| t.with_timezone(&japan).date_naive())
}

impl Service {
    /// Writes the expiry letters due within `run.within` of `run.today` into
    /// `run.out_dir` (administrator for every municipality; an officer with card
    /// service for their own). Returns the letters written now.
    pub async fn write_expiry_letters(
        &self,
        actor: &Actor,
        run: &ExpiryRun<'_>,
    ) -> Result<Vec<WrittenLetter>> {
        let municipality = run.municipality.or(actor.municipality);
        match &municipality {
            Some(code) => {
                self.require(actor, Permission::ServiceCard, code, "municipality")
                    .await?
            }
            None if actor.may(Permission::ServiceCard, None) => {}
            None => {
                return Err(self
                    .denied(
                        actor,
                        Permission::ServiceCard,
                        None,
                        ServiceError::forbidden(),
                    )
                    .await)
            }
        }
        let horizon = run.within.until(run.today);
        // A certificate's notAfter is the end of its last day in Japan.
        let horizon_seconds = horizon
            .and_hms_opt(23, 59, 59)
            .map_or(i64::MAX, |t| t.and_utc().timestamp() - 9 * 3600);
        let nearing = self
            .store
            .cards_nearing_end(
                &horizon.format("%Y-%m-%d").to_string(),
                horizon_seconds,
                municipality.map(|code| code.as_digits()).as_deref(),
            )
            .await?;
        let mut written = Vec::new();
        for card in nearing {
            let card_end = day(&card.expires_on)?;
            let certificates_end = card.certificates_end.and_then(certificate_day);
            let Some((ends, ends_on)) =
                ExpiryEnd::nearest(card_end, certificates_end, run.today, horizon)
            else {
                continue;
            };
            if let Some(letter) = self
                .write_expiry_letter(actor, run, &card, ends, ends_on, card_end)
                .await?
            {
                written.push(letter);
            }
        }
        Ok(written)
    }

    async fn write_expiry_letter(
        &self,
        actor: &Actor,
        run: &ExpiryRun<'_>,
        card: &NearingEnd,
        ends: ExpiryEnd,
        ends_on: NaiveDate,
        card_end: NaiveDate,
    ) -> Result<Option<WrittenLetter>> {
        let municipality: MunicipalityCode = card
            .municipality
            .parse()
            .map_err(|e| ServiceError::internal(&e))?;
        let form_id = ApplicationFormId::new(
            municipality,
            rand::rngs::OsRng.gen_range(0..ApplicationFormId::RANDOM_SPACE),
        )
        .map_err(|e| ServiceError::internal(&e))?;
        let view = self.store.resident(card.resident_key).await?;
        let language = match card.application_id {
            Some(id) => self.store.application(id).await?.details.language,
            None => match view.record.person.citizenship {
                Citizenship::Japanese => "ja".to_owned(),
                _ => "en".to_owned(),
            },
        };
        let person = &view.record.person;
        let name = match &person.name {
            Name::Foreign {
                alphabet,
                alias: Some(alias),
                ..
            } => format!("{alias} ({alphabet})"),
            name => name.to_string(),
        };
        let office = self.store.office_of(&municipality).await?;
        let record = self.store.card_record(&card.card_id).await?;
        let document = ExpiryLetterDocument {
            office: Self::office_info(&office, &language),
            language,
            ends,
            ends_on,
            card_expires_on: card_end,
            renewal_opens_on: renewal_opens(card_end),
            card_number: record.card_number,
            resident_name: name,
            resident_address: view.record.address.as_str().to_owned(),
            birth_date: person.birth_date,
            japanese_national: matches!(person.citizenship, Citizenship::Japanese),
            renewal_form_id: form_id,
            apply_url: run.apply_url.clone(),
            issued_on: run.today,
        };
        let pdf = render_expiry_letter(run.font, &self.messages, &document)
            .map_err(|e| ServiceError::internal(&e))?;
        let ends_text = ends_on.format("%Y-%m-%d").to_string();
        if !self
            .store
            .record_expiry_letter(&card.card_id, ends.code(), &ends_text, &form_id, actor)
            .await?
        {
            return Ok(None);
        }
        let file = run.out_dir.join(format!(
            "expiry-letter-{}-{}-{ends_text}.pdf",
            card.card_id,
            ends.code()
        ));
        std::fs::write(&file, pdf).map_err(|e| ServiceError::internal(&e))?;
        Ok(Some(WrittenLetter {
            card_id: card.card_id.clone(),
            ends,
            ends_on,
            form_id,
            file,
        }))
    }
}
