//! The card bureau's side: approved applications become cards (each with its sealed
//! chip and face), shipped in numbered shipments to their municipality; and the
//! municipality's receipt of a shipment, checked card by card against its manifest.
//!
//! A batch of cards is one transaction: its shipment, the cards, the applications
//! moved to `shipped` (each at the version read) and their events and audit events.
//! A job killed mid-run loses only the batch in flight, whose applications are still
//! approved and are taken again by the next run; a card is never made twice because
//! `cards.application_id` is unique and the application's version must not have
//! moved.

use crate::applications::ApplicationRecord;
use crate::backend::{now_micros, to_i64, Query, Row, Tx};
use crate::cards::{chip_place, NewCertificate};
use crate::counters::{CARD_NUMBER_COUNTER, SHIPMENT_COUNTER};
use crate::{Result, Store, StoreError};
use chrono::NaiveDate;
use maina_core::application::{ApplicationEvent, ApplicationStatus};
use maina_core::card::{CardEventKind, CardState, CardTransition};
use maina_core::officer::Actor;
use maina_core::{CardNumber, MunicipalityCode};
use serde::{Deserialize, Serialize};

/// A card made for an application, ready to be recorded and shipped.
#[derive(Debug, Clone)]
pub struct ManufacturedCard {
    pub application_id: u64,
    /// The application's version when it was read: the card is recorded only if the
    /// application has not moved since.
    pub application_version: u64,
    pub resident_key: u64,
    pub card_id: String,
    /// From [`Store::reserve_card_numbers`] (printed on the face before the card is
    /// recorded; a number reserved by a killed run is simply never used).
    pub card_number: CardNumber,
    pub expires_on: NaiveDate,
    /// The chip's content (sealed in the store).
    pub chip: Vec<u8>,
    /// The rendered card face (sealed in the store).
    pub face: Vec<u8>,
    /// Certificates issued with the card (only for cards delivered home; cards
    /// collected at the counter get theirs there).
    pub certificates: Vec<NewCertificate>,
}

/// One line of a shipment's manifest (nothing personal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub card_id: String,
    pub card_number: String,
}

/// A shipment as the bureau wrote it and the municipality received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRecord {
    pub id: u64,
    pub municipality: String,
    pub created_at: i64,
    pub card_count: u64,
    pub received_at: Option<i64>,
    pub received_by: Option<String>,
    pub manifest: Vec<ManifestEntry>,
}

/// Why a shipment was not received: the cards counted differ from the manifest.
/// Nothing is received until both lists are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManifestMismatch {
    /// Card numbers on the manifest that were not counted.
    pub missing: Vec<String>,
    /// Card numbers counted that the manifest does not list.
    pub extra: Vec<String>,
}

pub(crate) fn face_place(card_id: &str) -> String {
    format!("card/{card_id}/face")
}

const SHIPMENT_COLUMNS: &str =
    "id, municipality, created_at, card_count, received_at, received_by, manifest";

fn shipment_record(row: &Row) -> Result<ShipmentRecord> {
    let manifest: Vec<ManifestEntry> = postcard::from_bytes(&row.bytes(6)?)
        .map_err(|e| StoreError::Corrupt(format!("shipment manifest: {e}")))?;
    Ok(ShipmentRecord {
        id: row.key(0)?,
        municipality: row.text(1)?,
        created_at: row.int(2)?,
        card_count: row.key(3)?,
        received_at: row.opt_int(4)?,
        received_by: row.opt_text(5)?,
        manifest,
    })
}

impl Store {
    /// Approved applications without a card, oldest approval first (then by id), of
    /// one municipality or all, at most `limit` after the first `skip` (those the job
    /// rejected: they stay approved, at the front of this order).
    pub async fn applications_to_manufacture(
        &self,
        municipality: Option<&MunicipalityCode>,
        skip: usize,
        limit: usize,
    ) -> Result<Vec<ApplicationRecord>> {
        let status = ApplicationStatus::CardIssuanceInProcess.code();
        let limit = to_i64(limit as u64)?;
        let skip = to_i64(skip as u64)?;
        let columns = crate::applications::APPLICATION_COLUMNS;
        let rows = match municipality {
            Some(code) => {
                self.read_all(
                    &format!("SELECT {columns} FROM applications WHERE status = $1 AND municipality = $2 ORDER BY status_since, id LIMIT $3 OFFSET $4"),
                    &[status.into(), code.as_digits().into(), limit.into(), skip.into()],
                )
                .await?
            }
            None => {
                self.read_all(
                    &format!("SELECT {columns} FROM applications WHERE status = $1 ORDER BY status_since, id LIMIT $2 OFFSET $3"),
                    &[status.into(), limit.into(), skip.into()],
                )
                .await?
            }
        };
        rows.iter()
            .map(|row| self.application_record(row))
            .collect()
    }

    /// How many approved applications wait for a card (of one municipality or all).
    pub async fn count_applications_to_manufacture(
        &self,
        municipality: Option<&MunicipalityCode>,
    ) -> Result<u64> {
        let status = ApplicationStatus::CardIssuanceInProcess.code();
        let row = match municipality {
            Some(code) => {
                self.read_one(
                    "SELECT COUNT(*) FROM applications WHERE status = $1 AND municipality = $2",
                    &[status.into(), code.as_digits().into()],
                )
                .await?
            }
            None => {
                self.read_one(
                    "SELECT COUNT(*) FROM applications WHERE status = $1",
                    &[status.into()],
                )
                .await?
            }
        };
        row.key(0)
    }

    /// The photo an application came with (sealed; opened only to print it on the
    /// card's face).
    pub async fn application_photo(&self, id: u64) -> Result<Option<Vec<u8>>> {
        let row = self
            .read_found(
                "application",
                "SELECT photo FROM applications WHERE id = $1",
                &[to_i64(id)?.into()],
            )
            .await?;
        match row.opt_bytes(0)? {
            Some(sealed) => Ok(Some(
                self.open_record(&crate::applications::photo_place(id), &sealed)?,
            )),
            None => Ok(None),
        }
    }

    /// Records `cards` (all of `municipality`) as one numbered shipment, in one
    /// transaction: card numbers from the bureau's sequence, the cards `shipped`,
    /// their applications `shipped`. If any application moved since it was read the
    /// whole batch is refused ([`StoreError::Conflict`]) and nothing is written.
    pub async fn ship_cards(
        &self,
        municipality: &MunicipalityCode,
        cards: &[ManufacturedCard],
        actor: &Actor,
    ) -> Result<ShipmentRecord> {
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let shipment = Self::take_key(&mut tx, SHIPMENT_COUNTER).await?;
        let mut manifest = Vec::with_capacity(cards.len());
        for card in cards {
            self.insert_made_card(&mut tx, card, shipment, now).await?;
            self.card_event_in(
                &mut tx,
                &card.card_id,
                CardEventKind::State(CardTransition::Ship),
                actor,
                "",
                Some(&format!("shipment {shipment}")),
                now,
            )
            .await?;
            self.advance_application_in(
                &mut tx,
                card.application_id,
                card.application_version,
                ApplicationStatus::CardIssuanceInProcess,
                &ApplicationEvent::Ship,
                actor,
                now,
            )
            .await?;
            manifest.push(ManifestEntry {
                card_id: card.card_id.clone(),
                card_number: card.card_number.as_digits(),
            });
        }
        let encoded = postcard::to_stdvec(&manifest)
            .map_err(|e| StoreError::Corrupt(format!("shipment manifest: {e}")))?;
        tx.execute(
            "INSERT INTO shipments (id, municipality, created_at, card_count, manifest) VALUES ($1, $2, $3, $4, $5)",
            &[
                to_i64(shipment)?.into(),
                municipality.as_digits().into(),
                now.into(),
                to_i64(cards.len() as u64)?.into(),
                encoded.into(),
            ],
        )
        .await?;
        let audits: Vec<(&Actor, String, Option<u64>)> = cards
            .iter()
            .map(|card| {
                (
                    actor,
                    format!("card.manufacture {} shipment {shipment}", card.card_id),
                    Some(card.resident_key),
                )
            })
            .collect();
        let events: Vec<(&Actor, &str, Option<u64>)> = audits
            .iter()
            .map(|(actor, action, resident)| (*actor, action.as_str(), *resident))
            .collect();
        Self::audit_batch_in(&mut tx, &self.audit_key, &events).await?;
        tx.commit().await?;
        self.shipment(shipment).await
    }

    async fn insert_made_card(
        &self,
        tx: &mut Tx<'_>,
        card: &ManufacturedCard,
        shipment: u64,
        now: i64,
    ) -> Result<()> {
        let chip = self.seal_record(&chip_place(&card.card_id), card.chip.as_slice())?;
        let face = self.seal_record(&face_place(&card.card_id), card.face.as_slice())?;
        tx.execute(
            "INSERT INTO cards (id, resident_id, status, created_at, updated_at, chip, application_id, card_number, expires_on, shipment_id, face) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10)",
            &[
                card.card_id.as_str().into(),
                to_i64(card.resident_key)?.into(),
                CardState::Shipped.code().into(),
                now.into(),
                chip.into(),
                to_i64(card.application_id)?.into(),
                card.card_number.as_digits().into(),
                card.expires_on.to_string().into(),
                to_i64(shipment)?.into(),
                face.into(),
            ],
        )
        .await?;
        self.insert_certificates_in(tx, &card.card_id, &card.certificates)
            .await
    }

    /// Reserves `count` card numbers from the bureau's sequence.
    pub async fn reserve_card_numbers(&self, count: usize) -> Result<Vec<CardNumber>> {
        let mut tx = self.pool.begin().await?;
        let serials = Self::take_keys(&mut tx, CARD_NUMBER_COUNTER, count as u64).await?;
        tx.commit().await?;
        serials
            .map(|serial| {
                CardNumber::from_serial(serial)
                    .map_err(|e| StoreError::Illegal(format!("card number: {e}")))
            })
            .collect()
    }

    /// One shipment with its manifest (a number beyond the keys' range is simply
    /// not found).
    pub async fn shipment(&self, id: u64) -> Result<ShipmentRecord> {
        let key = to_i64(id).map_err(|_| StoreError::NotFound("shipment"))?;
        let row = self
            .read_found(
                "shipment",
                &format!("SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE id = $1"),
                &[key.into()],
            )
            .await?;
        shipment_record(&row)
    }

    /// The shipments to a municipality, newest first.
    pub async fn shipments(&self, municipality: &MunicipalityCode) -> Result<Vec<ShipmentRecord>> {
        let rows = self
            .read_all(
                &format!("SELECT {SHIPMENT_COLUMNS} FROM shipments WHERE municipality = $1 ORDER BY id DESC"),
                &[municipality.as_digits().into()],
            )
            .await?;
        rows.iter().map(shipment_record).collect()
    }

    /// Receives shipment `id` after the municipality counted its cards: if the card
    /// numbers counted equal the manifest's, every card becomes `received` and every
    /// application `at-municipality` in one transaction; otherwise nothing changes
    /// and the difference is answered. A shipment is received once.
    pub async fn receive_shipment(
        &self,
        id: u64,
        counted: &[CardNumber],
        actor: &Actor,
    ) -> Result<std::result::Result<ShipmentRecord, ManifestMismatch>> {
        let shipment = self.shipment(id).await?;
        if shipment.received_at.is_some() {
            return Err(StoreError::Illegal(format!(
                "shipment {id} was already received"
            )));
        }
        let listed: std::collections::BTreeSet<String> = shipment
            .manifest
            .iter()
            .map(|entry| entry.card_number.clone())
            .collect();
        let seen: std::collections::BTreeSet<String> =
            counted.iter().map(CardNumber::as_digits).collect();
        let mismatch = ManifestMismatch {
            missing: listed.difference(&seen).cloned().collect(),
            extra: seen.difference(&listed).cloned().collect(),
        };
        if mismatch != ManifestMismatch::default() {
            return Ok(Err(mismatch));
        }
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE shipments SET received_at = $1, received_by = $2 WHERE id = $3 AND received_at IS NULL",
                &[now.into(), actor.officer.as_str().into(), to_i64(id)?.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        let rows = tx
            .fetch_all(
                "SELECT c.id, c.resident_id, a.id, a.version FROM cards c JOIN applications a ON a.id = c.application_id WHERE c.shipment_id = $1 AND c.status = $2 ORDER BY c.id",
                &[to_i64(id)?.into(), CardState::Shipped.code().into()],
            )
            .await?;
        if rows.len() != shipment.manifest.len() {
            return Err(StoreError::Illegal(format!(
                "shipment {id}: {} of its {} cards are no longer in transit",
                shipment.manifest.len().saturating_sub(rows.len()),
                shipment.manifest.len()
            )));
        }
        let mut audits = Vec::with_capacity(rows.len());
        for row in &rows {
            let card_id = row.text(0)?;
            self.transition_card_in(
                &mut tx,
                &card_id,
                CardTransition::Receive,
                actor,
                "",
                Some(&format!("shipment {id}")),
                now,
            )
            .await?;
            self.advance_application_in(
                &mut tx,
                row.key(2)?,
                row.key(3)?,
                ApplicationStatus::Shipped,
                &ApplicationEvent::Receive,
                actor,
                now,
            )
            .await?;
            audits.push((
                format!("card.receive {card_id} shipment {id}"),
                row.opt_key(1)?,
            ));
        }
        let events: Vec<(&Actor, &str, Option<u64>)> = audits
            .iter()
            .map(|(action, resident)| (actor, action.as_str(), *resident))
            .collect();
        Self::audit_batch_in(&mut tx, &self.audit_key, &events).await?;
        tx.commit().await?;
        Ok(Ok(self.shipment(id).await?))
    }

    /// A card's rendered face (front and back), opened for printing or display.
    pub async fn card_face(&self, card_id: &str) -> Result<Vec<u8>> {
        let row = self
            .read_found(
                "card",
                "SELECT face FROM cards WHERE id = $1",
                &[card_id.into()],
            )
            .await?;
        let sealed = row
            .opt_bytes(0)?
            .ok_or_else(|| StoreError::NotFound("card face"))?;
        self.open_record(&face_place(card_id), &sealed)
    }
}
