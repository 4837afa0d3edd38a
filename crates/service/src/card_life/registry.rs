//! The card as the registry's changes leave it: the notes panel (追記欄) with its
//! printed lines, whether it is full (the reissue is then free), the signature
//! certificate a change of name or address revoked and a new one offered, and the
//! card's face drawn with its notes. The entries themselves are written by the
//! registry's change (`maina_store`'s `apply_in_tx`), in its transaction.

use super::CardOfResident;
use crate::cards::face::{render_face_pdf, CardFace};
use crate::dates::japanese_era;
use crate::{Result, Service, ServiceError};
use chrono::NaiveDate;
use krilla::text::Font;
use maina_core::card::{NoteEntry, NotesPanel, RevocationReason};
use maina_core::officer::{Actor, Permission};
use maina_core::person::{Citizenship, Name};
use maina_core::resident::ResidentStatus;
use maina_proto::{CardNoteResponse, CardNotesResponse};
use maina_store::CertificateRecord;

/// An entry as the counter's printer writes it: `令和9年1月5日 住所 東京都…`.
pub fn printed_entry(entry: &NoteEntry) -> String {
    let printed = format!(
        "{} {} {}",
        japanese_era(entry.date),
        entry.kind.label(),
        entry.text
    );
    printed.trim_end().replace("  ", " ")
}

/// The panel's printed lines: each entry cut into lines of the panel's width, in
/// order (the capacity rule counts the same lines).
pub fn printed_lines(panel: &NotesPanel) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in panel.entries() {
        let chars: Vec<char> = printed_entry(entry).chars().collect();
        for chunk in chars.chunks(NotesPanel::LINE_WIDTH) {
            lines.push(chunk.iter().collect());
        }
    }
    lines
}

/// The signature certificate after the registry's changes: `good`, `offered` (a
/// change of name or address revoked it and the holder still lives here
/// (`resident_active`): a new one is offered at the counter), `revoked` (for another
/// reason, or the holder left) or `none` (never issued: under 15, ...).
pub fn signature_certificate(
    certificates: &[CertificateRecord],
    resident_active: bool,
) -> &'static str {
    let signatures: Vec<&CertificateRecord> =
        certificates.iter().filter(|c| c.ca == "sign").collect();
    if signatures.iter().any(|c| c.revoked_at.is_none()) {
        return "good";
    }
    let latest = signatures
        .iter()
        .max_by_key(|c| (c.not_before, c.revoked_at.unwrap_or_default()));
    match latest {
        None => "none",
        Some(c)
            if resident_active
                && c.reason.as_deref() == Some(RevocationReason::FactsChanged.code()) =>
        {
            "offered"
        }
        Some(_) => "revoked",
    }
}

impl Service {
    /// A card's notes panel, for an officer of the municipality where its holder
    /// lives (the read audited).
    pub async fn card_notes(
        &self,
        actor: &Actor,
        card_id: &str,
        lang: &str,
    ) -> Result<CardNotesResponse> {
        let found = self.card_for(actor, Permission::ReadCard, card_id).await?;
        self.store
            .audit(actor, "card.notes-read", Some(found.resident.resident_key))
            .await?;
        let panel = self.store.card_notes(&found.card.id).await?;
        let certificates = self.store.card_certificates(&found.card.id).await?;
        let entries = panel
            .entries()
            .iter()
            .map(|entry| CardNoteResponse {
                date: entry.date.to_string(),
                printed_date: japanese_era(entry.date),
                kind: entry.kind.code().into(),
                label: self.message(lang, &format!("card-note-{}", entry.kind.code())),
                text: entry.text.clone(),
            })
            .collect();
        let lines = u32::try_from(NotesPanel::LINES).unwrap_or(u32::MAX);
        Ok(CardNotesResponse {
            card_id: found.card.id.clone(),
            entries,
            lines,
            lines_used: u32::try_from(panel.lines_used()).unwrap_or(u32::MAX),
            full: panel.is_full(),
            signature_certificate: signature_certificate(
                &certificates,
                found.resident.record.status == ResidentStatus::Active,
            )
            .into(),
            printed_lines: printed_lines(&panel),
        })
    }

    /// Whether a card's notes panel is full, so that its reissue is free (for the
    /// reissue's fee rule; no audit: nothing personal leaves).
    pub async fn notes_panel_full(&self, card_id: &str) -> Result<bool> {
        Ok(self.store.card_notes(card_id).await?.is_full())
    }

    /// The card's face as the holder's card looks now: what was printed (the name
    /// and address before the first entry) and the notes panel, as a card-size PDF.
    /// The read (it carries the My Number on the back) is audited.
    pub async fn card_face_with_notes(
        &self,
        actor: &Actor,
        card_id: &str,
        font: &Font,
    ) -> Result<Vec<u8>> {
        let found = self.card_for(actor, Permission::ReadCard, card_id).await?;
        self.store
            .audit(actor, "card.face-read", Some(found.resident.resident_key))
            .await?;
        let face = self.face_of(&found).await?;
        render_face_pdf(font, &face).map_err(|error| ServiceError::internal(&error))
    }

    async fn face_of(&self, found: &CardOfResident) -> Result<CardFace> {
        let panel = self.store.card_notes(&found.card.id).await?;
        let person = &found.resident.record.person;
        let (name, alias) = match &person.name {
            Name::Foreign {
                alphabet, alias, ..
            } => (alphabet.clone(), alias.clone()),
            Name::Japanese { .. } => (person.name.to_string(), None),
        };
        let photo = match found.card.application_id {
            Some(id) => self.store.application_photo(id).await?,
            None => None,
        };
        let card_number = found
            .card
            .card_number
            .as_deref()
            .and_then(|number| number.parse().ok())
            .ok_or_else(|| ServiceError::not_found("card face"))?;
        let expires = found
            .card
            .expires_on
            .as_deref()
            .and_then(|date| date.parse::<NaiveDate>().ok())
            .ok_or_else(|| ServiceError::not_found("card face"))?;
        let municipality_name = self
            .store
            .municipalities()
            .await?
            .into_iter()
            .find(|m| m.code == found.municipality)
            .map(|m| m.name_ja)
            .unwrap_or_else(|| found.municipality.as_digits());
        Ok(CardFace {
            name: panel.printed_name().map(str::to_owned).unwrap_or(name),
            alias,
            address: panel
                .printed_address()
                .unwrap_or(found.resident.record.address.as_str())
                .to_owned(),
            birth_date: person.birth_date,
            japanese_national: matches!(person.citizenship, Citizenship::Japanese),
            sex: person.sex,
            photo_jpeg: photo,
            expires,
            notes: printed_lines(&panel),
            my_number: found.resident.my_number,
            card_number,
            braille: None,
            municipality_name,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use maina_core::card::NoteKind;

    fn record(ca: &str, not_before: i64, reason: Option<&str>) -> CertificateRecord {
        CertificateRecord {
            serial: format!("{ca}{not_before}"),
            ca: ca.into(),
            card_id: "00000000000000A1".into(),
            not_before,
            not_after: not_before + 1000,
            revoked_at: reason.map(|_| not_before + 10),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_change_of_facts_offers_a_new_signature_certificate() {
        assert_eq!(
            signature_certificate(&[record("auth", 1, None)], true),
            "none"
        );
        assert_eq!(
            signature_certificate(&[record("sign", 1, None)], true),
            "good"
        );
        assert_eq!(
            signature_certificate(&[record("sign", 1, Some("facts-changed"))], true),
            "offered"
        );
        assert_eq!(
            signature_certificate(&[record("sign", 1, Some("facts-changed"))], false),
            "revoked"
        );
        assert_eq!(
            signature_certificate(&[record("sign", 1, Some("departed"))], true),
            "revoked"
        );
        assert_eq!(
            signature_certificate(
                &[
                    record("sign", 1, Some("facts-changed")),
                    record("sign", 2, None)
                ],
                true
            ),
            "good"
        );
    }

    #[test]
    fn entries_print_with_the_era_date_and_wrap_at_the_panels_width() {
        let date = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        let mut panel = NotesPanel::default();
        let entry = NoteEntry::new(date, NoteKind::Address, &"丸".repeat(40)).unwrap();
        panel.write(entry.clone(), "山田 花子", "東京都").unwrap();
        let departure = NoteEntry::new(date, NoteKind::Departure, "").unwrap();
        panel.write(departure.clone(), "", "").unwrap();
        let lines = printed_lines(&panel);
        assert!(lines.len() <= entry.lines() + departure.lines());
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("令和9年1月5日 住所 丸"));
        assert_eq!(lines.last().unwrap(), "令和9年1月5日 国外転出");
        assert!(lines
            .iter()
            .all(|line| line.chars().count() <= NotesPanel::LINE_WIDTH));
    }
}
