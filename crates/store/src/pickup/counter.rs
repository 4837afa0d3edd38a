//! Pickup at the counter: the card as the counter sees it, the PIN pad sessions
//! (a one-time code's SHA-256; PINs sealed only while held for a card delivered
//! home, erased once written) and the hand-over, which records the certificates,
//! the chip, the card's and the application's new states and the hand-over row in
//! one transaction.

use crate::backend::{now_micros, to_i64, Query, Row, Tx};
use crate::cards::{chip_place, NewCertificate};
use crate::{Result, Store, StoreError};
use maina_core::application::ApplicationEvent;
use maina_core::card::{CardEventKind, CardTransition};
use maina_core::officer::Actor;
use maina_core::pickup::identity::PickupChecks;

/// A card as the counter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterCard {
    pub id: String,
    pub resident_key: Option<u64>,
    /// A [`maina_core::card::CardState`] code.
    pub status: String,
    pub application_id: Option<u64>,
    pub card_number: Option<String>,
    /// YYYY-MM-DD.
    pub expires_on: Option<String>,
    pub chip_version: i64,
}

/// A PIN pad session, found by its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinpadSession {
    pub code_hash: Vec<u8>,
    pub application_id: u64,
    /// The card whose chip the PINs go to; `None` for a home delivery's session opened
    /// when the resident applied (the PINs are held, sealed, until the card is made).
    pub card_id: Option<String>,
    /// The officer who opened it.
    pub officer: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `open`, `pins-set`, `pins-held`, `written` or `expired`.
    pub state: String,
    /// For the reset of one PIN of an active card: its code (`auth`, `sign`,
    /// `residence`, `support`); `None` for the pickup's four PINs.
    pub reset_pin: Option<String>,
}

/// What a hand-over (or a posting home) records, all at once.
#[derive(Debug, Clone)]
pub struct HandOverRecord {
    pub card_id: String,
    pub application_id: u64,
    /// `counter` or `home`.
    pub kind: &'static str,
    /// The chip with its certificates (and PINs) written, and the version it was
    /// read at.
    pub chip: Vec<u8>,
    pub chip_version: i64,
    pub certificates: Vec<NewCertificate>,
    /// The checks made (documents, proxy, representative): sealed whole; the proxy
    /// reason, the cards surrendered and a refusal of certificates also in clear.
    pub checks: PickupChecks,
    pub express_fee_yen: Option<i64>,
}

pub(crate) fn pinpad_place(code_hash: &[u8]) -> String {
    format!("pinpad/{}/pins", hex::encode(code_hash))
}

pub(crate) fn handover_place(card_id: &str) -> String {
    format!("handover/{card_id}/checks")
}

const COUNTER_CARD_COLUMNS: &str =
    "id, resident_id, status, application_id, card_number, expires_on, chip_version";
const PINPAD_COLUMNS: &str =
    "code_hash, application_id, card_id, officer, created_at, expires_at, state, reset_pin";

fn counter_card(row: &Row) -> Result<CounterCard> {
    decode_row!(row => CounterCard {
        id: text, resident_key: opt_key, status: text, application_id: opt_key,
        card_number: opt_text, expires_on: opt_text, chip_version: int,
    })
}

fn pinpad_session(row: &Row) -> Result<PinpadSession> {
    decode_row!(row => PinpadSession {
        code_hash: bytes, application_id: key, card_id: opt_text, officer: text, created_at: int, expires_at: int,
        state: text, reset_pin: opt_text,
    })
}

impl Store {
    /// A card and its opened chip, as the counter sees it.
    pub async fn counter_card(&self, card_id: &str) -> Result<(CounterCard, Vec<u8>)> {
        let row = self
            .read_found(
                "card",
                &format!("SELECT {COUNTER_CARD_COLUMNS}, chip FROM cards WHERE id = $1"),
                &[card_id.into()],
            )
            .await?;
        let card = counter_card(&row)?;
        let chip = self.open_record(&chip_place(card_id), &row.bytes(7)?)?;
        Ok((card, chip))
    }

    /// Records a card received at its municipality from a chip made elsewhere (for
    /// tests and demonstrations, until the manufacture job made it): status
    /// `received`, linked to its application, with an audit event.
    pub async fn put_received_card(
        &self,
        card_id: &str,
        resident_key: u64,
        application_id: u64,
        chip: &[u8],
        actor: &Actor,
    ) -> Result<()> {
        let sealed = self.seal_record(&chip_place(card_id), chip)?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "INSERT INTO cards (id, resident_id, status, created_at, updated_at, chip, application_id) VALUES ($1, $2, 'received', $3, $3, $4, $5)",
            &[
                card_id.into(),
                to_i64(resident_key)?.into(),
                now.into(),
                sealed.into(),
                to_i64(application_id)?.into(),
            ],
        )
        .await?;
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::State(CardTransition::Receive),
            actor,
            "",
            None,
            now,
        )
        .await?;
        self.audit_in(&mut tx, actor, "card.receive", Some(resident_key))
            .await?;
        tx.commit().await
    }

    /// Opens a PIN pad session for an application (and its card, at the counter)
    /// under a one-time code's hash; earlier open sessions of the application end.
    /// Audited.
    pub async fn open_pinpad(
        &self,
        code_hash: &[u8; 32],
        application_id: u64,
        card_id: Option<&str>,
        expires_at: i64,
        resident_key: u64,
        actor: &Actor,
    ) -> Result<()> {
        let now = now_micros();
        let application = to_i64(application_id)?;
        let mut tx = self.pool.begin().await?;
        tx.execute(
            "UPDATE pinpad_sessions SET state = 'expired' WHERE application_id = $1 AND state = 'open'",
            &[application.into()],
        )
        .await?;
        let sql = match card_id {
            Some(_) => "INSERT INTO pinpad_sessions (code_hash, application_id, officer, created_at, expires_at, state, card_id) VALUES ($1, $2, $3, $4, $5, 'open', $6)",
            None => "INSERT INTO pinpad_sessions (code_hash, application_id, officer, created_at, expires_at, state) VALUES ($1, $2, $3, $4, $5, 'open')",
        };
        let mut params = vec![
            code_hash.to_vec().into(),
            application.into(),
            actor.officer.as_str().into(),
            now.into(),
            expires_at.into(),
        ];
        if let Some(card_id) = card_id {
            params.push(card_id.into());
        }
        tx.execute(sql, &params).await?;
        self.audit_in(&mut tx, actor, "pickup.pinpad-open", Some(resident_key))
            .await?;
        tx.commit().await
    }

    /// The open, unexpired PIN pad session with this code's hash.
    pub async fn open_pinpad_session(&self, code_hash: &[u8; 32]) -> Result<PinpadSession> {
        self.read_optional(
            &format!(
                "SELECT {PINPAD_COLUMNS} FROM pinpad_sessions WHERE code_hash = $1 AND state = 'open' AND expires_at > $2"
            ),
            &[code_hash.to_vec().into(), now_micros().into()],
        )
        .await?
        .as_ref()
        .map(pinpad_session)
        .transpose()?
        .ok_or(StoreError::NotFound("PIN pad session"))
    }

    /// The latest PIN pad session of an application, if any.
    pub async fn application_pinpad(&self, application_id: u64) -> Result<Option<PinpadSession>> {
        self.read_optional(
            &format!(
                "SELECT {PINPAD_COLUMNS} FROM pinpad_sessions WHERE application_id = $1 ORDER BY created_at DESC LIMIT 1"
            ),
            &[to_i64(application_id)?.into()],
        )
        .await?
        .as_ref()
        .map(pinpad_session)
        .transpose()
    }

    /// The PINs were written to the chip: saves it (at the version read) and closes
    /// the session, with the audit event, in one transaction. The PINs themselves are
    /// never stored.
    pub async fn pinpad_pins_written(
        &self,
        session: &PinpadSession,
        chip: &[u8],
        chip_version: i64,
        resident_key: Option<u64>,
        actor: &Actor,
    ) -> Result<()> {
        let card_id = session
            .card_id
            .as_deref()
            .ok_or(StoreError::NotFound("card"))?;
        let sealed = self.seal_record(&chip_place(card_id), chip)?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        Self::close_pinpad(&mut tx, &session.code_hash, "pins-set", now).await?;
        let saved = tx
            .execute(
                "UPDATE cards SET chip = $1, updated_at = $2, chip_version = chip_version + 1 WHERE id = $3 AND chip_version = $4",
                &[
                    sealed.into(),
                    now.into(),
                    card_id.into(),
                    chip_version.into(),
                ],
            )
            .await?;
        if saved != 1 {
            return Err(StoreError::Conflict);
        }
        self.audit_in(&mut tx, actor, "pickup.pins-set", resident_key)
            .await?;
        tx.commit().await
    }

    /// Holds PINs typed on the PIN pad for a card delivered home: sealed until
    /// written at issue. Audited.
    pub async fn pinpad_hold_pins(
        &self,
        session: &PinpadSession,
        pins: &[u8],
        resident_key: Option<u64>,
        actor: &Actor,
    ) -> Result<()> {
        let sealed = self.seal_record(&pinpad_place(&session.code_hash), pins)?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        Self::close_pinpad(&mut tx, &session.code_hash, "pins-held", now).await?;
        tx.execute(
            "UPDATE pinpad_sessions SET pins = $1 WHERE code_hash = $2",
            &[sealed.into(), session.code_hash.clone().into()],
        )
        .await?;
        self.audit_in(&mut tx, actor, "pickup.pins-held", resident_key)
            .await?;
        tx.commit().await
    }

    /// The PINs held for an application delivered home (opened), if any.
    pub async fn held_pins(&self, application_id: u64) -> Result<Option<Vec<u8>>> {
        let row = self
            .read_optional(
                "SELECT code_hash, pins FROM pinpad_sessions WHERE application_id = $1 AND state = 'pins-held' AND pins IS NOT NULL ORDER BY created_at DESC LIMIT 1",
                &[to_i64(application_id)?.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hash = row.bytes(0)?;
        let pins: Vec<u8> = self.open_record(&pinpad_place(&hash), &row.bytes(1)?)?;
        Ok(Some(pins))
    }

    pub(crate) async fn close_pinpad(
        tx: &mut Tx<'_>,
        code_hash: &[u8],
        state: &str,
        now: i64,
    ) -> Result<()> {
        let closed = tx
            .execute(
                "UPDATE pinpad_sessions SET state = $1, used_at = $2 WHERE code_hash = $3 AND state = 'open' AND expires_at > $2",
                &[state.into(), now.into(), code_hash.to_vec().into()],
            )
            .await?;
        if closed != 1 {
            return Err(StoreError::NotFound("PIN pad session"));
        }
        Ok(())
    }

    /// Hands a card over (at the counter) or posts it home, in one transaction: the
    /// certificates, the chip (at the version read), the card `received` → `active`
    /// (counter) or left for delivery (home), the application's step with its event,
    /// the hand-over row (a card is handed over once), the held PINs erased, and an
    /// audit event per step.
    pub async fn hand_over(&self, record: &HandOverRecord, actor: &Actor) -> Result<()> {
        let application = self.application(record.application_id).await?;
        let (event, card_from, card_to): (ApplicationEvent, &[&str], &str) = match record.kind {
            "home" => (
                ApplicationEvent::PostHome,
                &["shipped", "received"],
                "received",
            ),
            _ => (ApplicationEvent::HandOver, &["received"], "active"),
        };
        application.status.apply(&event).map_err(|_| {
            StoreError::Illegal(format!(
                "an application that is {} cannot {}",
                application.status,
                event.code()
            ))
        })?;
        let now = now_micros();
        let resident = Some(application.resident_key);
        let mut tx = self.pool.begin().await?;
        let done = tx
            .fetch_optional(
                "SELECT card_id FROM handovers WHERE card_id = $1 OR application_id = $2",
                &[
                    record.card_id.as_str().into(),
                    to_i64(record.application_id)?.into(),
                ],
            )
            .await?;
        if done.is_some() {
            return Err(StoreError::Illegal(
                "this card has already been handed over".into(),
            ));
        }
        let sealed = self.seal_record(&chip_place(&record.card_id), &record.chip)?;
        let states = card_from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let changed = tx
            .execute(
                &format!(
                    "UPDATE cards SET chip = $1, status = $2, updated_at = $3, chip_version = chip_version + 1 \
                     WHERE id = $4 AND chip_version = $5 AND application_id = $6 AND status IN ({states})"
                ),
                &[
                    sealed.into(),
                    card_to.into(),
                    now.into(),
                    record.card_id.as_str().into(),
                    record.chip_version.into(),
                    to_i64(record.application_id)?.into(),
                ],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Conflict);
        }
        self.insert_certificates_in(&mut tx, &record.card_id, &record.certificates)
            .await?;
        if !record.certificates.is_empty() {
            let serials: Vec<&str> = record
                .certificates
                .iter()
                .map(|c| c.serial.as_str())
                .collect();
            self.card_event_in(
                &mut tx,
                &record.card_id,
                CardEventKind::CertificatesIssued,
                actor,
                record.kind,
                Some(&serials.join(" ")),
                now,
            )
            .await?;
        }
        if card_to == "active" {
            self.card_event_in(
                &mut tx,
                &record.card_id,
                CardEventKind::State(CardTransition::Activate),
                actor,
                "handed-over",
                None,
                now,
            )
            .await?;
            self.replace_old_card_in(&mut tx, record.application_id, actor, now)
                .await?;
        }
        self.advance_application_in(
            &mut tx,
            application.id,
            application.version,
            application.status,
            &event,
            actor,
            now,
        )
        .await?;
        let checks = &record.checks;
        let surrendered: Vec<&str> = checks.surrendered().iter().map(|c| c.code()).collect();
        let proxy_reason = checks.proxy().map_or("", |p| p.reason.code());
        let sealed_checks = self.seal_record(&handover_place(&record.card_id), checks)?;
        tx.execute(
            "INSERT INTO handovers (card_id, application_id, kind, officer, at, checks, proxy_reason, representative, surrendered, certificates_declined, express_fee_yen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                record.card_id.as_str().into(),
                to_i64(record.application_id)?.into(),
                record.kind.into(),
                actor.officer.as_str().into(),
                now.into(),
                sealed_checks.into(),
                proxy_reason.into(),
                i64::from(checks.representative().is_some()).into(),
                surrendered.join(",").into(),
                i64::from(checks.certificates_declined()).into(),
                record.express_fee_yen.into(),
            ],
        )
        .await?;
        // Held PINs (home delivery) are erased once written.
        tx.execute(
            "UPDATE pinpad_sessions SET pins = NULL, state = 'written', used_at = $1 WHERE application_id = $2 AND state = 'pins-held'",
            &[now.into(), to_i64(record.application_id)?.into()],
        )
        .await?;
        let step = format!("application.{}", event.code());
        let mut events: Vec<(&Actor, &str, Option<u64>)> = vec![
            (actor, "pickup.documents-checked", resident),
            (actor, &step, resident),
        ];
        if !record.certificates.is_empty() {
            events.push((actor, "pickup.certificates-issued", resident));
        }
        let last = if record.kind == "home" {
            "pickup.posted-home"
        } else {
            "pickup.handed-over"
        };
        events.push((actor, last, resident));
        Self::audit_batch_in(&mut tx, &self.audit_key, &events).await?;
        tx.commit().await
    }

    /// A card posted home reached its holder: card `active`, application delivered
    /// (→ handed over), in one transaction with its audit event.
    pub async fn delivered(&self, card_id: &str, actor: &Actor) -> Result<()> {
        let (card, _) = self.counter_card(card_id).await?;
        let application_id = card.application_id.ok_or(StoreError::NotFound("card"))?;
        let application = self.application(application_id).await?;
        let event = ApplicationEvent::Deliver;
        application.status.apply(&event).map_err(|_| {
            StoreError::Illegal(format!(
                "an application that is {} cannot be delivered",
                application.status
            ))
        })?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE handovers SET delivered_at = $1 WHERE card_id = $2 AND kind = 'home' AND delivered_at IS NULL",
                &[now.into(), card_id.into()],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Illegal("this card was not posted home".into()));
        }
        self.transition_card_in(
            &mut tx,
            card_id,
            CardTransition::Activate,
            actor,
            "delivered",
            None,
            now,
        )
        .await?;
        self.replace_old_card_in(&mut tx, application.id, actor, now)
            .await?;
        self.advance_application_in(
            &mut tx,
            application.id,
            application.version,
            application.status,
            &event,
            actor,
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            "pickup.delivered",
            Some(application.resident_key),
        )
        .await?;
        tx.commit().await
    }

    /// Whether a card was handed over (or posted home).
    pub async fn handed_over(&self, card_id: &str) -> Result<bool> {
        Ok(self
            .read_optional(
                "SELECT card_id FROM handovers WHERE card_id = $1",
                &[card_id.into()],
            )
            .await?
            .is_some())
    }
}
