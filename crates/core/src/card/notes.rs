//! The card's notes panel (追記欄): where the municipality writes what changed after
//! the card was printed — a new address, a new name, a departure abroad (国外転出)
//! — oldest first (REFERENCE sections 2, 6 and 7).
//!
//! Capacity (our design): the panel on the face is [`NotesPanel::LINES`] lines of
//! [`NotesPanel::LINE_WIDTH`] characters, as many as the face's panel holds at the
//! counter printer's type size. An entry is printed as `DATE LABEL TEXT` and takes as
//! many lines as that needs (the date counted at its longest era spelling, so an
//! entry's size does not depend on the renderer). When an entry does not fit, the
//! panel is full: nothing more is written, and the card must be reissued, free
//! ([`NotesPanel::is_full`] is what the reissue's fee rule asks).

use crate::person::{Citizenship, FieldError, Name};
use crate::resident::{ResidentEvent, ResidentRecord};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// A new address (転居, 転入, a return from abroad).
    Address,
    /// A new name (or alias).
    Name,
    /// Left Japan (国外転出); a Japanese national keeps the card.
    Departure,
    /// Anything else the municipality writes.
    Other,
}

impl NoteKind {
    pub const ALL: [NoteKind; 4] = [Self::Address, Self::Name, Self::Departure, Self::Other];

    pub fn code(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Name => "name",
            Self::Departure => "departure",
            Self::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The label printed after the date (the panel is printed in Japanese only).
    pub fn label(self) -> &'static str {
        match self {
            Self::Address => "住所",
            Self::Name => "氏名",
            Self::Departure => "国外転出",
            Self::Other => "",
        }
    }
}

/// One entry of the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEntry {
    /// The day the change took effect.
    pub date: NaiveDate,
    pub kind: NoteKind,
    /// The new address or name ('' for a departure: the label says it all).
    pub text: String,
}

/// The longest a date is printed (`令和10年12月31日`).
const DATE_WIDTH: usize = 11;
/// The longest text an entry takes (more is a clear refusal, never a cut).
pub const NOTE_TEXT_MAX: usize = 200;

impl NoteEntry {
    /// An entry, its text checked (one line of printable text, at most
    /// [`NOTE_TEXT_MAX`] characters).
    pub fn new(date: NaiveDate, kind: NoteKind, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        if text.chars().count() > NOTE_TEXT_MAX {
            return Err(FieldError::new(
                "text",
                format!("is longer than {NOTE_TEXT_MAX} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(FieldError::new(
                "text",
                "must be one line of printable text",
            ));
        }
        Ok(Self {
            date,
            kind,
            text: text.to_owned(),
        })
    }

    /// How many of the panel's lines the printed entry takes.
    pub fn lines(&self) -> usize {
        let label = self.kind.label().chars().count();
        let width = DATE_WIDTH + 1 + label + 1 + self.text.chars().count();
        width.div_ceil(NotesPanel::LINE_WIDTH).max(1)
    }
}

/// A name as the notes panel writes it: the kanji (no reading), or the alphabet
/// name with the alias.
fn written_name(name: &Name) -> String {
    match name {
        Name::Japanese { family, given, .. } => format!("{family} {given}"),
        Name::Foreign {
            alphabet,
            alias: Some(alias),
            ..
        } => format!("{alphabet} ({alias})"),
        Name::Foreign { alphabet, .. } => alphabet.clone(),
    }
}

/// The entry a change in the registry writes on the holder's card, if any: the new
/// address (a move, a change of address, a return from abroad), the new name, or a
/// Japanese national's departure (a foreign national's card is abolished instead).
pub fn note_for(event: &ResidentEvent, before: &ResidentRecord) -> Option<NoteEntry> {
    let (kind, text) = match event {
        ResidentEvent::Moved { address, .. } | ResidentEvent::AddressChanged { address, .. } => {
            (NoteKind::Address, address.as_str().to_owned())
        }
        ResidentEvent::Returned { registration } => {
            (NoteKind::Address, registration.address.as_str().to_owned())
        }
        ResidentEvent::Renamed { name, .. } => (NoteKind::Name, written_name(name)),
        ResidentEvent::Departed { .. }
            if matches!(before.person.citizenship, Citizenship::Japanese) =>
        {
            (NoteKind::Departure, String::new())
        }
        ResidentEvent::Departed { .. }
        | ResidentEvent::Died { .. }
        | ResidentEvent::NumberChanged { .. } => return None,
    };
    Some(NoteEntry {
        date: event.date(),
        kind,
        text,
    })
}

/// The panel is full: the card must be reissued (free).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the card's notes panel is full: the card must be reissued (free of charge)")]
pub struct NotesFull;

/// A card's notes panel, with what was printed on the face before its first entry
/// (so that the face can be drawn as the holder's card looks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotesPanel {
    entries: Vec<NoteEntry>,
    /// The name and address printed on the face (kept when the first entry is
    /// written; until then the registry's are the printed ones).
    printed_name: Option<String>,
    printed_address: Option<String>,
    /// An entry did not fit (the change it carries is not on the card).
    #[serde(default)]
    overflowed: bool,
}

impl NotesPanel {
    /// Lines on the face's panel (the face's panel holds at least six lines of
    /// 4.8-point type, `crates/service/src/cards/face.rs`).
    pub const LINES: usize = 6;
    /// Characters per line (150 points of 4.8-point full-width characters).
    pub const LINE_WIDTH: usize = 30;

    pub fn entries(&self) -> &[NoteEntry] {
        &self.entries
    }

    /// Lines written so far.
    pub fn lines_used(&self) -> usize {
        self.entries.iter().map(NoteEntry::lines).sum()
    }

    /// Whether `entry` still fits.
    pub fn fits(&self, entry: &NoteEntry) -> bool {
        self.lines_used() + entry.lines() <= Self::LINES
    }

    /// Whether the panel has no room for even the smallest entry: the card must be
    /// reissued (free) before the next change can be written.
    pub fn is_full(&self) -> bool {
        self.overflowed || self.lines_used() >= Self::LINES
    }

    /// Writes `entry` after the others, or refuses (changing nothing) when it does
    /// not fit; a refused entry also marks the panel full, since the change it
    /// carries is not on the card. `printed_name`/`printed_address` are the
    /// facts on the face, kept on the first entry.
    pub fn write(
        &mut self,
        entry: NoteEntry,
        printed_name: &str,
        printed_address: &str,
    ) -> Result<(), NotesFull> {
        if !self.fits(&entry) {
            self.overflowed = true;
            return Err(NotesFull);
        }
        if self.entries.is_empty() {
            self.printed_name = Some(printed_name.to_owned());
            self.printed_address = Some(printed_address.to_owned());
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The name printed on the face, if an entry has been written since.
    pub fn printed_name(&self) -> Option<&str> {
        self.printed_name.as_deref()
    }

    pub fn printed_address(&self) -> Option<&str> {
        self.printed_address.as_deref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, d).unwrap()
    }

    #[test]
    fn entries_stay_in_order_and_a_full_panel_asks_for_a_reissue() {
        let mut panel = NotesPanel::default();
        assert!(!panel.is_full());
        let first = NoteEntry::new(day(5), NoteKind::Address, "東京都千代田区丸の内2-2").unwrap();
        panel
            .write(first.clone(), "山田 花子", "東京都千代田区千代田1-1")
            .unwrap();
        assert_eq!(panel.printed_address(), Some("東京都千代田区千代田1-1"));
        let second = NoteEntry::new(day(9), NoteKind::Departure, "").unwrap();
        panel.write(second.clone(), "ignored", "ignored").unwrap();
        assert_eq!(panel.entries(), &[first, second]);
        assert_eq!(panel.printed_address(), Some("東京都千代田区千代田1-1"));
        let long = "長".repeat(120);
        let mut refused = panel.clone();
        let big = NoteEntry::new(day(10), NoteKind::Address, &long).unwrap();
        assert_eq!(big.lines(), 5);
        assert_eq!(refused.write(big, "", ""), Err(NotesFull));
        assert!(refused.is_full());
        assert_eq!(
            NotesFull.to_string(),
            "the card's notes panel is full: the card must be reissued (free of charge)"
        );
    }

    #[test]
    fn bad_text_names_the_field() {
        let error = NoteEntry::new(day(1), NoteKind::Other, "a\nb").unwrap_err();
        assert_eq!(error.field, "text");
        assert!(NoteEntry::new(day(1), NoteKind::Other, &"x".repeat(201)).is_err());
        for kind in NoteKind::ALL {
            assert_eq!(NoteKind::from_code(kind.code()), Some(kind));
        }
    }

    fn record(nationality: &str) -> ResidentRecord {
        let mut form = crate::resident::RegistrationForm {
            municipality: Some("131016".into()),
            reason: Some("move-in-from-abroad".into()),
            birth_date: Some("1990-04-01".into()),
            sex: Some("female".into()),
            address: Some("東京都千代田区千代田1-1".into()),
            ..Default::default()
        };
        if nationality == "JP" {
            form.family_name = Some("山田".into());
            form.given_name = Some("花子".into());
            form.family_kana = Some("ヤマダ".into());
            form.given_kana = Some("ハナコ".into());
        } else {
            form.alphabet_name = Some("NGUYEN VAN AN".into());
            form.nationality = Some(nationality.into());
            form.passport = Some("C1234567".into());
            form.residence_status = Some("technical-intern-training".into());
            form.period_of_stay = Some("1y".into());
        }
        ResidentRecord::registered(&form.parse(day(1)).unwrap())
    }

    #[test]
    fn a_departure_is_noted_and_revokes_by_nationality() {
        use crate::card::{revocation_for, RevocationReason, RevocationScope};
        let departed = ResidentEvent::Departed { date: day(20) };
        let japanese = record("JP");
        let entry = note_for(&departed, &japanese).unwrap();
        assert_eq!((entry.kind, entry.date), (NoteKind::Departure, day(20)));
        assert_eq!(
            revocation_for(&departed, &japanese),
            Some((RevocationScope::Certificates, RevocationReason::Departed))
        );
        let foreign = record("VN");
        assert_eq!(note_for(&departed, &foreign), None);
        assert_eq!(
            revocation_for(&departed, &foreign),
            Some((RevocationScope::Card, RevocationReason::Departed))
        );
        let died = ResidentEvent::Died { date: day(21) };
        assert_eq!(note_for(&died, &japanese), None);
        let moved = ResidentEvent::AddressChanged {
            date: day(22),
            address: crate::person::Address::parse("東京都千代田区丸の内2-2").unwrap(),
        };
        assert_eq!(
            note_for(&moved, &japanese).unwrap().text,
            "東京都千代田区丸の内2-2"
        );
    }

    proptest! {
        #[test]
        fn the_panel_never_overflows_and_keeps_its_order(
            lengths in prop::collection::vec(0usize..80, 0..12)
        ) {
            let mut panel = NotesPanel::default();
            let mut written = Vec::new();
            for (i, length) in lengths.into_iter().enumerate() {
                let entry = NoteEntry::new(
                    day(1) + chrono::Days::new(i as u64), NoteKind::Address, &"字".repeat(length),
                ).unwrap();
                let was_full = panel.is_full();
                match panel.write(entry.clone(), "n", "a") {
                    Ok(()) => { prop_assert!(!was_full); written.push(entry); }
                    Err(NotesFull) => { prop_assert!(panel.is_full()); break; }
                }
                prop_assert!(panel.lines_used() <= NotesPanel::LINES);
            }
            let kept: Vec<_> = panel.entries().iter().filter(|e| e.kind == NoteKind::Address).cloned().collect();
            prop_assert_eq!(kept, written);
        }
    }
}
