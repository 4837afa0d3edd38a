//! The card's life: its state changes (decided by `maina_core::card`'s
//! [`CardState::after`], the one rule) and its history, one row per event in
//! `card_events`. Every use case that changes a card records its event here, in
//! its own transaction, so the history cannot miss a change that committed.

use crate::backend::{now_micros, Query, Row, Tx};
use crate::{Result, Store, StoreError};
use maina_core::card::{CardEventKind, CardState, CardTransition};
use maina_core::officer::Actor;

/// Where a history entry's details are sealed.
pub(crate) fn card_event_place(card_id: &str, seq: i64) -> String {
    format!("card/{card_id}/event/{seq}")
}

/// One entry of a card's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardEventRecord {
    pub card_id: String,
    /// 1 for the card's first event.
    pub seq: i64,
    /// Microseconds since the Unix epoch.
    pub at: i64,
    /// [`CardEventKind::code`].
    pub kind: String,
    pub officer: String,
    pub role: String,
    /// The actor's municipality ('' for the administrator and the public paths).
    pub municipality: String,
    /// A code (revocation reason, PIN name, ...) or ''.
    pub reason: String,
    /// What the entry shows beyond its kind (opened), if anything.
    pub details: Option<String>,
}

/// A card's state and holder, as a life event reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardStateRow {
    pub state: CardState,
    pub resident_key: Option<u64>,
}

impl Store {
    /// Appends an event to `card_id`'s history, in the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn card_event_in(
        &self,
        tx: &mut Tx<'_>,
        card_id: &str,
        kind: CardEventKind,
        actor: &Actor,
        reason: &str,
        details: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let row = tx
            .fetch_one(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM card_events WHERE card_id = $1",
                &[card_id.into()],
            )
            .await?;
        let seq = row.int(0)?;
        let details = details
            .map(|text| self.seal_record(&card_event_place(card_id, seq), text))
            .transpose()?;
        tx.execute(
            "INSERT INTO card_events (card_id, seq, at, kind, officer, role, municipality, reason, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                card_id.into(),
                seq.into(),
                now.into(),
                kind.code().into(),
                actor.officer.as_str().into(),
                actor.role.as_str().into(),
                actor
                    .municipality
                    .map(|code| code.as_digits())
                    .unwrap_or_default()
                    .into(),
                reason.into(),
                details.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A card's state and holder, read in the caller's transaction.
    pub(crate) async fn card_state_in(tx: &mut Tx<'_>, card_id: &str) -> Result<CardStateRow> {
        let row = tx
            .fetch_optional(
                "SELECT status, resident_id FROM cards WHERE id = $1",
                &[card_id.into()],
            )
            .await?
            .ok_or(StoreError::NotFound("card"))?;
        let status = row.text(0)?;
        let state = CardState::from_code(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("card state {status:?}")))?;
        Ok(CardStateRow {
            state,
            resident_key: row.opt_key(1)?,
        })
    }

    /// Changes a card's state by `transition` (refused, changing nothing, when the
    /// card's state does not allow it: [`StoreError::Illegal`] naming both), records
    /// the event in its history, in the caller's transaction. Returns the state it
    /// was in and the holder. A concurrent change of the same card is a
    /// [`StoreError::Conflict`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn transition_card_in(
        &self,
        tx: &mut Tx<'_>,
        card_id: &str,
        transition: CardTransition,
        actor: &Actor,
        reason: &str,
        details: Option<&str>,
        now: i64,
    ) -> Result<CardStateRow> {
        let before = Self::card_state_in(tx, card_id).await?;
        let next = before
            .state
            .after(transition)
            .map_err(|error| StoreError::Illegal(error.to_string()))?;
        let changed = tx
            .execute(
                "UPDATE cards SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
                &[
                    next.code().into(),
                    now.into(),
                    card_id.into(),
                    before.state.code().into(),
                ],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        self.card_event_in(
            tx,
            card_id,
            CardEventKind::State(transition),
            actor,
            reason,
            details,
            now,
        )
        .await?;
        Ok(before)
    }

    /// Records an event that changes no state (a PIN reset, the chip rewritten, a
    /// notes-panel entry, ...) with its audit event, in one transaction.
    pub async fn record_card_event(
        &self,
        card_id: &str,
        kind: CardEventKind,
        actor: &Actor,
        reason: &str,
        details: Option<&str>,
    ) -> Result<()> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let card = Self::card_state_in(&mut tx, card_id).await?;
        self.card_event_in(&mut tx, card_id, kind, actor, reason, details, now)
            .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("card.{}", kind.code()),
            card.resident_key,
        )
        .await?;
        tx.commit().await
    }

    /// A card's history, oldest first.
    pub async fn card_history(&self, card_id: &str) -> Result<Vec<CardEventRecord>> {
        let rows = self
            .read_all(
                "SELECT card_id, seq, at, kind, officer, role, municipality, reason, details \
                 FROM card_events WHERE card_id = $1 ORDER BY seq",
                &[card_id.into()],
            )
            .await?;
        rows.iter().map(|row| self.card_event_record(row)).collect()
    }

    fn card_event_record(&self, row: &Row) -> Result<CardEventRecord> {
        let card_id = row.text(0)?;
        let seq = row.int(1)?;
        let details = match row.opt_bytes(8)? {
            Some(sealed) => {
                Some(self.open_record::<String>(&card_event_place(&card_id, seq), &sealed)?)
            }
            None => None,
        };
        Ok(CardEventRecord {
            card_id,
            seq,
            at: row.int(2)?,
            kind: row.text(3)?,
            officer: row.text(4)?,
            role: row.text(5)?,
            municipality: row.text(6)?,
            reason: row.text(7)?,
            details,
        })
    }
}
