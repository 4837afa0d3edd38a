//! Moving between municipalities with the card (転入届の特例) and continued use
//! (継続利用), and the jobs that end cards: the moves whose deadline passed, the
//! foreign residents whose period of stay ended. The rules are
//! `maina_core::card::moving`'s; the store applies them in one transaction each.
//!
//! Who may: the move-out, the old municipality's officers (the holder lives there:
//! [`Service::card_for`]); the move-in, the destination's officers only (named by
//! the move-out; anyone else is told "no such card", audited); continued use, the
//! new municipality's counter (the holder lives there now), the card present.

use super::card_id;
use crate::residents::municipality_code;
use crate::{today, Result, Service, ServiceError};
use chrono::NaiveDate;
use maina_core::card::moving::{MoveIn, MoveOut};
use maina_core::officer::{Actor, Permission};
use maina_core::person::{parse_date, Address, FieldError};
use maina_proto::{CardMoveResponse, ContinuedUseRequest, MoveInRequest, MoveOutRequest};
use maina_store::{now_micros, StoreError};

/// What the jobs did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardEndings {
    /// Cards voided: a move-in too late, or continued use not confirmed in time.
    pub voided: u64,
    /// Cards of foreign residents whose period of stay ended.
    pub stay_ended: u64,
}

impl Service {
    fn move_response(
        &self,
        card_id: &str,
        state: &str,
        due_on: Option<NaiveDate>,
        lang: &str,
    ) -> CardMoveResponse {
        let mut message = self.message(lang, &format!("card-move-{state}"));
        if let Some(due) = due_on {
            message = format!("{message} {}", crate::dates::for_language(due, lang));
        }
        CardMoveResponse {
            card_id: card_id.to_owned(),
            state: state.into(),
            message,
            due_on: due_on.map(|d| d.to_string()),
        }
    }

    /// Registers a move-out with the card at the holder's municipality: planned
    /// date and destination; the move-in is due within 30 days of the planned date.
    pub async fn move_out_with_card(
        &self,
        actor: &Actor,
        request: &MoveOutRequest,
        lang: &str,
    ) -> Result<CardMoveResponse> {
        let found = self
            .card_for(actor, Permission::ChangeResident, &request.card_id)
            .await?;
        let destination = municipality_code(&request.destination)
            .map_err(|error| error.with_field("destination"))?;
        let planned = parse_date("planned_date", &request.planned_date)?;
        let out = MoveOut::notify(found.municipality, destination, planned, today()).map_err(
            |error| match error {
                maina_core::card::moving::MovingError::SameMunicipality => {
                    ServiceError::invalid("destination", error.to_string())
                }
                other => ServiceError::invalid("planned_date", other.to_string()),
            },
        )?;
        if self
            .store
            .municipalities()
            .await?
            .iter()
            .all(|m| m.code != destination)
        {
            return Err(
                FieldError::new("destination", "is not a municipality of this registry").into(),
            );
        }
        let pending = self
            .store
            .register_move_out(&found.card.id, &out, actor, now_micros())
            .await?;
        Ok(self.move_response(&found.card.id, "moved-out", Some(pending.due_on), lang))
    }

    /// The move-in at the destination, with the card: the registry's move and the
    /// card's rule in one transaction (kept, continued use due in 90 days; or
    /// voided when later than 14 days after the move or 30 after the planned date).
    pub async fn move_in_with_card(
        &self,
        actor: &Actor,
        request: &MoveInRequest,
        lang: &str,
    ) -> Result<CardMoveResponse> {
        let id = card_id(&request.card_id)?;
        // Only the destination's officers learn that the card is on its way there.
        let pending = match self.store.card_move(&id).await? {
            Some(pending) if pending.awaiting_move_in => pending,
            _ => {
                return Err(self
                    .denied(
                        actor,
                        Permission::ChangeResident,
                        None,
                        ServiceError::not_found("card"),
                    )
                    .await)
            }
        };
        let destination = municipality_code(&pending.destination)?;
        self.require(actor, Permission::ChangeResident, &destination, "card")
            .await?;
        let address = Address::parse(&request.address)?;
        let moved_on = match request.moved_on.as_deref().map(str::trim) {
            Some(date) if !date.is_empty() => parse_date("moved_on", date)?,
            _ => today(),
        };
        let outcome = self
            .store
            .move_in_with_card(&id, moved_on, address, actor, today())
            .await
            .map_err(|error| match error {
                StoreError::Rejected(maina_core::resident::TransitionError::Field(field))
                    if field.field == "date" =>
                {
                    ServiceError::invalid("moved_on", field.reason)
                }
                other => other.into(),
            })?;
        Ok(match outcome {
            MoveIn::Kept { continued_use_by } => {
                self.move_response(&id, "moved-in", Some(continued_use_by), lang)
            }
            MoveIn::Voided(_) => self.move_response(&id, "voided", None, lang),
        })
    }

    /// Continued use (継続利用) at the new municipality's counter, the card present
    /// (its printed number as read off it, or the chip's card id for a card printed
    /// without one), within 90 days of the move-in.
    pub async fn confirm_continued_use(
        &self,
        actor: &Actor,
        request: &ContinuedUseRequest,
        lang: &str,
    ) -> Result<CardMoveResponse> {
        let found = self
            .card_for(actor, Permission::ServiceCard, &request.card_id)
            .await?;
        // The number printed on the card; a card made without one (at a counter,
        // before the bureau) shows its chip's card id instead.
        let typed: String = request
            .card_number
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_uppercase();
        let printed = found.card.card_number.as_deref().unwrap_or(&found.card.id);
        if typed != printed {
            return Err(ServiceError::invalid(
                "card_number",
                "is not the number printed on this card: the card must be present",
            ));
        }
        self.store
            .confirm_continued_use(&found.card.id, actor, now_micros(), today())
            .await?;
        Ok(self.move_response(&found.card.id, "continued", None, lang))
    }

    /// The jobs of `maina serve` and of `maina card end-overdue` for cron: voids the
    /// cards whose move deadline passed and abolishes those of foreign residents
    /// whose period of stay ended (each card in its own transaction, audited as
    /// the administrator `actor`).
    pub async fn end_overdue_cards(&self, actor: &Actor, today: NaiveDate) -> Result<CardEndings> {
        let voided = self
            .store
            .void_overdue_moves(actor, now_micros(), today)
            .await?;
        let stay_ended = self
            .store
            .abolish_stay_ended(actor, now_micros(), today)
            .await?;
        Ok(CardEndings { voided, stay_ended })
    }
}
