//! The card's notes panel (追記欄), sealed per card in `cards.notes`: written by a
//! change in the registry in the change's own transaction (`registry/changes.rs`),
//! each entry with its `NotesWritten` card event.

use crate::backend::{to_i64, Query, Tx};
use crate::{Result, Store, StoreError};
use maina_core::card::{CardEventKind, CardState, NoteEntry, NotesPanel};
use maina_core::officer::Actor;
use maina_core::person::Name;
use maina_core::resident::ResidentRecord;

/// Where a card's notes panel is sealed.
pub(crate) fn notes_place(card_id: &str) -> String {
    format!("card/{card_id}/notes")
}

/// The name as the card bureau prints it (the alphabet name for foreign nationals).
pub(crate) fn printed_name(name: &Name) -> String {
    match name {
        Name::Foreign { alphabet, .. } => alphabet.clone(),
        Name::Japanese { .. } => name.to_string(),
    }
}

/// The reason code of a `NotesWritten` event whose entry did not fit.
pub const PANEL_FULL: &str = "panel-full";

impl Store {
    /// A card's notes panel (empty when nothing was written).
    pub async fn card_notes(&self, card_id: &str) -> Result<NotesPanel> {
        let row = self
            .read_found(
                "card",
                "SELECT notes FROM cards WHERE id = $1",
                &[card_id.into()],
            )
            .await?;
        match row.opt_bytes(0)? {
            Some(sealed) => self.open_record(&notes_place(card_id), &sealed),
            None => Ok(NotesPanel::default()),
        }
    }

    /// Writes `entry` on the notes panel of each of the resident's cards in the
    /// holder's hands (active or suspended), in a registry change's transaction,
    /// each with its `NotesWritten` event (reason: the entry's kind; details: the
    /// entry). A full panel takes nothing: its event says `panel-full` and the
    /// card must be reissued. `before` is the record before the change (its name
    /// and address are the ones printed, kept with the first entry).
    pub(crate) async fn write_notes_in(
        &self,
        tx: &mut Tx<'_>,
        resident_key: u64,
        entry: &NoteEntry,
        before: &ResidentRecord,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        let cards = tx
            .fetch_all(
                "SELECT id, status, notes FROM cards WHERE resident_id = $1 ORDER BY id",
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        for row in &cards {
            let card_id = row.text(0)?;
            let state = CardState::from_code(&row.text(1)?);
            if !matches!(state, Some(CardState::Active | CardState::Suspended)) {
                continue;
            }
            let mut panel = match row.opt_bytes(2)? {
                Some(sealed) => self.open_record(&notes_place(&card_id), &sealed)?,
                None => NotesPanel::default(),
            };
            let printed = format!("{} {} {}", entry.date, entry.kind.label(), entry.text);
            let reason = match panel.write(
                entry.clone(),
                &printed_name(&before.person.name),
                before.address.as_str(),
            ) {
                Ok(()) => entry.kind.code(),
                Err(_full) => PANEL_FULL,
            };
            let sealed = self.seal_record(&notes_place(&card_id), &panel)?;
            let changed = tx
                .execute(
                    "UPDATE cards SET notes = $1, updated_at = $2 WHERE id = $3",
                    &[sealed.into(), now.into(), card_id.as_str().into()],
                )
                .await?;
            if changed != 1 {
                return Err(StoreError::Conflict);
            }
            self.card_event_in(
                tx,
                &card_id,
                CardEventKind::NotesWritten,
                actor,
                reason,
                Some(printed.trim_end()),
                now,
            )
            .await?;
        }
        Ok(())
    }
}
