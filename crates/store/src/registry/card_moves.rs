//! A card's moves with its holder (転入届の特例) and the registry's other endings of a
//! card: the move-out registered with the card, the move-in (the registry's move
//! through `apply_in_tx`, the one place a resident row changes, with the card's
//! rule in the same transaction), continued use (継続利用), the job that voids the
//! cards whose deadline passed, and the job that abolishes the cards of foreign
//! residents whose period of stay ended. The rules are `maina_core::card::moving`'s.

use super::resident_row;
use crate::backend::{to_i64, Query, Row, Tx};
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::card::moving::{
    continued_use_deadline, overdue, MoveIn, MoveOut, MovingError, VoidReason,
};
use maina_core::card::{CardEventKind, CardState, CardTransition, RevocationReason};
use maina_core::officer::Actor;
use maina_core::person::{Address, Citizenship, FieldError};
use maina_core::resident::{ResidentEvent, TransitionError};
use maina_core::MunicipalityCode;

/// A card's pending move (`card_moves`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardMove {
    pub card_id: String,
    pub resident_key: u64,
    /// Moved out with the card, waiting for the move-in (`true`), or moved in,
    /// waiting for continued use (`false`).
    pub awaiting_move_in: bool,
    pub from: String,
    pub destination: String,
    pub planned_on: Option<NaiveDate>,
    pub moved_on: Option<NaiveDate>,
    /// The last day of the step awaited.
    pub due_on: NaiveDate,
}

/// The reason code of an abolition for a period of stay that ended.
pub const STAY_ENDED: &str = "stay-ended";

const MOVE_COLUMNS: &str =
    "card_id, resident_id, state, from_municipality, destination, planned_on, moved_on, due_on";

/// A stored date ('' or NULL: none).
fn date(raw: Option<String>) -> Result<Option<NaiveDate>> {
    raw.filter(|text| !text.is_empty())
        .map(|text| {
            text.parse::<NaiveDate>()
                .map_err(|_| StoreError::Corrupt(format!("card move date {text:?}")))
        })
        .transpose()
}

fn card_move(row: &Row) -> Result<CardMove> {
    Ok(CardMove {
        card_id: row.text(0)?,
        resident_key: row.key(1)?,
        awaiting_move_in: row.text(2)? == "out",
        from: row.text(3)?,
        destination: row.text(4)?,
        planned_on: date(row.opt_text(5)?)?,
        moved_on: date(row.opt_text(6)?)?,
        due_on: date(Some(row.text(7)?))?.unwrap_or(NaiveDate::MIN),
    })
}

fn refused(error: MovingError, field: &'static str) -> StoreError {
    StoreError::Rejected(TransitionError::Field(FieldError::new(
        field,
        error.to_string(),
    )))
}

impl Store {
    /// A card's pending move, if any.
    pub async fn card_move(&self, card_id: &str) -> Result<Option<CardMove>> {
        let row = self
            .read_optional(
                &format!("SELECT {MOVE_COLUMNS} FROM card_moves WHERE card_id = $1"),
                &[card_id.into()],
            )
            .await?;
        row.as_ref().map(card_move).transpose()
    }

    async fn card_move_in(tx: &mut Tx<'_>, card_id: &str) -> Result<Option<CardMove>> {
        let row = tx
            .fetch_optional(
                &format!("SELECT {MOVE_COLUMNS} FROM card_moves WHERE card_id = $1"),
                &[card_id.into()],
            )
            .await?;
        row.as_ref().map(card_move).transpose()
    }

    /// Registers a move-out with the card (the old municipality's counter): the
    /// card must be active; a pending move-out is replaced (an amended notice); a
    /// move-in still awaiting continued use is refused. One transaction with its
    /// `MovedOut` event and audit.
    pub async fn register_move_out(
        &self,
        card_id: &str,
        out: &MoveOut,
        actor: &Actor,
        now: i64,
    ) -> Result<CardMove> {
        let mut tx = self.pool.begin().await?;
        let card = Self::card_state_in(&mut tx, card_id).await?;
        let resident_key = card.resident_key.ok_or(StoreError::NotFound("card"))?;
        if card.state != CardState::Active {
            return Err(StoreError::Illegal(format!(
                "the card is {}: only an active card moves with its holder",
                card.state.code()
            )));
        }
        if let Some(pending) = Self::card_move_in(&mut tx, card_id).await? {
            if !pending.awaiting_move_in {
                return Err(StoreError::Illegal(format!(
                    "the card's continued use after the last move is still due (by {}): confirm it first",
                    pending.due_on
                )));
            }
            tx.execute(
                "DELETE FROM card_moves WHERE card_id = $1",
                &[card_id.into()],
            )
            .await?;
        }
        let due = out.move_in_deadline();
        tx.execute(
            &format!("INSERT INTO card_moves ({MOVE_COLUMNS}) VALUES ($1, $2, 'out', $3, $4, $5, NULL, $6)"),
            &[
                card_id.into(),
                to_i64(resident_key)?.into(),
                out.from.as_digits().into(),
                out.destination.as_digits().into(),
                out.planned.to_string().into(),
                due.to_string().into(),
            ],
        )
        .await?;
        let details = format!("to {} on {}", out.destination.as_digits(), out.planned);
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::MovedOut,
            actor,
            "with-card",
            Some(&details),
            now,
        )
        .await?;
        self.audit_in(&mut tx, actor, "card.moved-out", Some(resident_key))
            .await?;
        let pending = Self::card_move_in(&mut tx, card_id)
            .await?
            .ok_or(StoreError::NotFound("card move"))?;
        tx.commit().await?;
        Ok(pending)
    }

    /// The move-in at the destination of a move-out registered with the card: the
    /// registry's move (one transaction with the card's rule: kept, continued use
    /// due in 90 days, or voided when late). Returns what happened to the card.
    pub async fn move_in_with_card(
        &self,
        card_id: &str,
        moved_on: NaiveDate,
        address: Address,
        actor: &Actor,
        today: NaiveDate,
    ) -> Result<MoveIn> {
        let mut tx = self.pool.begin().await?;
        let pending = Self::card_move_in(&mut tx, card_id)
            .await?
            .filter(|pending| pending.awaiting_move_in)
            .ok_or(StoreError::NotFound("move-out registered with this card"))?;
        let destination: MunicipalityCode = pending
            .destination
            .parse()
            .map_err(|_| StoreError::Corrupt("card move destination".into()))?;
        let row = resident_row(&mut tx, pending.resident_key).await?;
        let event = ResidentEvent::Moved {
            date: moved_on,
            municipality: destination,
            address,
        };
        self.apply_in_tx(&mut tx, row, &event, actor, today).await?;
        let outcome = match Self::card_move_in(&mut tx, card_id).await? {
            Some(after) if !after.awaiting_move_in => MoveIn::Kept {
                continued_use_by: after.due_on,
            },
            _ => MoveIn::Voided(VoidReason::LateMoveIn),
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// What a registry move (`apply_in_tx`, `Moved` on `moved_on`) does to the
    /// holder's cards in their hands, in its transaction: a move-out registered with
    /// the card is checked against its deadlines (kept: continued use due; late: the
    /// card voided); any other move (a paper moving-out certificate) makes continued
    /// use due. Each with its card event.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn cards_moved_in(
        &self,
        tx: &mut Tx<'_>,
        resident_key: u64,
        from: MunicipalityCode,
        moved: (MunicipalityCode, NaiveDate),
        actor: &Actor,
        now: i64,
        today: NaiveDate,
    ) -> Result<()> {
        let (destination, moved_on) = moved;
        let cards = tx
            .fetch_all(
                "SELECT id, status FROM cards WHERE resident_id = $1 ORDER BY id",
                &[to_i64(resident_key)?.into()],
            )
            .await?;
        for row in &cards {
            let card_id = row.text(0)?;
            if !matches!(
                CardState::from_code(&row.text(1)?),
                Some(CardState::Active | CardState::Suspended)
            ) {
                continue;
            }
            let pending = Self::card_move_in(tx, &card_id).await?;
            let (outcome, reason) = match pending.as_ref().filter(|p| p.awaiting_move_in) {
                Some(out) => {
                    let planned = out.planned_on.unwrap_or(out.due_on);
                    let rule = MoveOut {
                        from,
                        destination,
                        planned,
                    };
                    (
                        rule.move_in(moved_on, today)
                            .map_err(|error| refused(error, "date"))?,
                        "with-card",
                    )
                }
                None => (
                    MoveIn::Kept {
                        continued_use_by: continued_use_deadline(today),
                    },
                    "transfer-certificate",
                ),
            };
            tx.execute(
                "DELETE FROM card_moves WHERE card_id = $1",
                &[card_id.as_str().into()],
            )
            .await?;
            match outcome {
                MoveIn::Kept { continued_use_by } => {
                    tx.execute(
                        &format!("INSERT INTO card_moves ({MOVE_COLUMNS}) VALUES ($1, $2, 'in', $3, $4, $5, $6, $7)"),
                        &[
                            card_id.as_str().into(),
                            to_i64(resident_key)?.into(),
                            from.as_digits().into(),
                            destination.as_digits().into(),
                            pending
                                .and_then(|p| p.planned_on)
                                .map(|d| d.to_string())
                                .unwrap_or_default()
                                .into(),
                            moved_on.to_string().into(),
                            continued_use_by.to_string().into(),
                        ],
                    )
                    .await?;
                    let details = format!(
                        "from {} to {}; continued use due by {continued_use_by}",
                        from.as_digits(),
                        destination.as_digits()
                    );
                    self.card_event_in(
                        tx,
                        &card_id,
                        CardEventKind::MovedIn,
                        actor,
                        reason,
                        Some(&details),
                        now,
                    )
                    .await?;
                }
                MoveIn::Voided(why) => {
                    self.void_card_in(tx, &card_id, why.code(), actor, now)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Abolishes a card (`reason` names why in its history), its certificates not
    /// yet revoked revoked as ended, in the caller's transaction, audited.
    pub(crate) async fn void_card_in(
        &self,
        tx: &mut Tx<'_>,
        card_id: &str,
        reason: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        let before = self
            .transition_card_in(
                tx,
                card_id,
                CardTransition::Abolish,
                actor,
                reason,
                None,
                now,
            )
            .await?;
        let revoked = tx
            .execute(
                "UPDATE certificates SET revoked_at = $1, reason = $2 WHERE card_id = $3 AND revoked_at IS NULL",
                &[
                    now.into(),
                    RevocationReason::CardEnded.code().into(),
                    card_id.into(),
                ],
            )
            .await?;
        if revoked > 0 {
            Self::crls_stale(tx, &["auth", "sign"]).await?;
        }
        tx.execute(
            "DELETE FROM card_moves WHERE card_id = $1",
            &[card_id.into()],
        )
        .await?;
        self.audit_in(
            tx,
            actor,
            &format!("card.voided:{reason}"),
            before.resident_key,
        )
        .await
    }

    /// Confirms continued use (継続利用) at the new municipality's counter: the card
    /// active, a move-in awaiting it, in time. One transaction with its
    /// `ContinuedUse` event and audit.
    pub async fn confirm_continued_use(
        &self,
        card_id: &str,
        actor: &Actor,
        now: i64,
        today: NaiveDate,
    ) -> Result<CardMove> {
        let mut tx = self.pool.begin().await?;
        let card = Self::card_state_in(&mut tx, card_id).await?;
        if card.state != CardState::Active {
            return Err(StoreError::Illegal(format!(
                "the card is {}: continued use needs an active card",
                card.state.code()
            )));
        }
        let pending = Self::card_move_in(&mut tx, card_id)
            .await?
            .filter(|pending| !pending.awaiting_move_in)
            .ok_or_else(|| {
                StoreError::Illegal("no move-in of this card awaits continued use".into())
            })?;
        maina_core::card::moving::confirm_continued_use(pending.due_on, today)
            .map_err(|error| StoreError::Illegal(error.to_string()))?;
        tx.execute(
            "DELETE FROM card_moves WHERE card_id = $1",
            &[card_id.into()],
        )
        .await?;
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::ContinuedUse,
            actor,
            "",
            None,
            now,
        )
        .await?;
        self.audit_in(&mut tx, actor, "card.continued-use", card.resident_key)
            .await?;
        tx.commit().await?;
        Ok(pending)
    }

    /// The job: voids every card whose pending move's deadline passed before
    /// `today` (a move-in 30 days after the planned date, or continued use 90 days
    /// after the move-in), each in its own transaction. Returns how many.
    pub async fn void_overdue_moves(
        &self,
        actor: &Actor,
        now: i64,
        today: NaiveDate,
    ) -> Result<u64> {
        let rows = self
            .read_all(
                "SELECT card_id FROM card_moves WHERE due_on < $1 ORDER BY due_on, card_id",
                &[today.to_string().into()],
            )
            .await?;
        let mut voided = 0;
        for row in &rows {
            let card_id = row.text(0)?;
            let mut tx = self.pool.begin().await?;
            let Some(pending) = Self::card_move_in(&mut tx, &card_id).await? else {
                continue;
            };
            if !overdue(pending.due_on, today) {
                continue;
            }
            let state = Self::card_state_in(&mut tx, &card_id).await?.state;
            if state.is_final() {
                tx.execute(
                    "DELETE FROM card_moves WHERE card_id = $1",
                    &[card_id.as_str().into()],
                )
                .await?;
            } else {
                let why = if pending.awaiting_move_in {
                    VoidReason::LateMoveIn
                } else {
                    VoidReason::ContinuedUseMissed
                };
                self.void_card_in(&mut tx, &card_id, why.code(), actor, now)
                    .await?;
                voided += 1;
            }
            tx.commit().await?;
        }
        Ok(voided)
    }

    /// The job: abolishes the cards of foreign residents whose period of stay ended
    /// before `today` and whose card was not renewed past it (a card's expiry is
    /// capped at the stay, so a renewed card after an extension has a later one).
    /// Candidates are found by the card's expiry in clear; the record decides.
    pub async fn abolish_stay_ended(
        &self,
        actor: &Actor,
        now: i64,
        today: NaiveDate,
    ) -> Result<u64> {
        let rows = self
            .read_all(
                "SELECT id, resident_id FROM cards WHERE expires_on < $1 AND resident_id IS NOT NULL \
                 AND status IN ('made', 'shipped', 'received', 'active', 'suspended') ORDER BY id",
                &[today.to_string().into()],
            )
            .await?;
        let mut abolished = 0;
        for row in &rows {
            let card_id = row.text(0)?;
            let resident = self.resident(row.key(1)?).await?;
            let stay_ended = matches!(
                resident.record.person.citizenship,
                Citizenship::Foreign { stay_until: Some(until), .. } if until < today
            );
            if !stay_ended {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            if Self::card_state_in(&mut tx, &card_id)
                .await?
                .state
                .is_final()
            {
                continue;
            }
            self.void_card_in(&mut tx, &card_id, STAY_ENDED, actor, now)
                .await?;
            tx.commit().await?;
            abolished += 1;
        }
        Ok(abolished)
    }
}
