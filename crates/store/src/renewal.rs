//! Reissue and renewal (issue 13): a new card's application linked to the card it
//! replaces (`replacements`), the old card abolished in the new card's hand-over
//! transaction ([`Store::replace_old_card_in`]), and the expiry letters written
//! once per card and end (`expiry_letters`). Sealed here: a replacement's police
//! report (`replacement/ID/police`) and a letter's renewal form ID
//! (`expiry-letter/CARD/ENDS/DAY`).

use crate::applications::{ApplicationRecord, NewApplication};
use crate::backend::{now_micros, to_i64, Query, Row, Tx, Value};
use crate::{Result, Store, StoreError};
use maina_core::card::{
    CardEventKind, CardState, CardTransition, ReissueFee, ReissueReason, RevocationReason,
};
use maina_core::officer::Actor;
use maina_core::{ApplicationFormId, ReceiptNumber};
use serde::{Deserialize, Serialize};

pub(crate) fn police_place(application_id: u64) -> String {
    format!("replacement/{application_id}/police")
}

pub(crate) fn expiry_letter_place(card_id: &str, ends: &str, ends_on: &str) -> String {
    format!("expiry-letter/{card_id}/{ends}/{ends_on}")
}

/// The police report of a card lost outside home (sealed with the replacement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoliceReport {
    pub receipt_number: String,
    pub station: String,
}

/// A reissue or renewal to record: the new card's application and what links it to
/// the old card.
#[derive(Debug, Clone)]
pub struct NewReplacement {
    pub old_card_id: String,
    /// The old card's state as the use case read and checked it; a change since
    /// is a [`StoreError::Conflict`].
    pub old_state: CardState,
    pub reason: ReissueReason,
    /// The fee the counter recorded (checked against the rule by the use case).
    pub fee: ReissueFee,
    pub police: Option<PoliceReport>,
    pub application: NewApplication,
}

/// A replacement as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacementRecord {
    pub application_id: u64,
    pub old_card_id: String,
    pub reason: String,
    pub card_fee_yen: i64,
    pub certificates_fee_yen: i64,
    pub police: Option<PoliceReport>,
    pub officer: String,
    pub created_at: i64,
    /// When the new card was handed over and the old one abolished.
    pub replaced_at: Option<i64>,
}

/// An active card whose end (or whose certificates' end) is near.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearingEnd {
    pub card_id: String,
    pub resident_key: u64,
    pub municipality: String,
    /// YYYY-MM-DD, the card's last day.
    pub expires_on: String,
    /// Seconds since the Unix epoch: the earliest end of the card's good
    /// certificates, if it has any.
    pub certificates_end: Option<i64>,
    pub application_id: Option<u64>,
}

const REPLACEMENT_COLUMNS: &str = "application_id, old_card_id, reason, card_fee_yen, certificates_fee_yen, police, officer, created_at, replaced_at";

impl Store {
    fn replacement_record(&self, row: &Row) -> Result<ReplacementRecord> {
        let application_id = row.key(0)?;
        let police = row
            .opt_bytes(5)?
            .map(|sealed| self.open_record(&police_place(application_id), &sealed))
            .transpose()?;
        Ok(ReplacementRecord {
            application_id,
            old_card_id: row.text(1)?,
            reason: row.text(2)?,
            card_fee_yen: row.int(3)?,
            certificates_fee_yen: row.int(4)?,
            police,
            officer: row.text(6)?,
            created_at: row.int(7)?,
            replaced_at: row.opt_int(8)?,
        })
    }

    /// Records a reissue or renewal in one transaction: a lost card still active
    /// is suspended first (its authentication certificate on hold, its signature
    /// certificate revoked, as the helpline does); the new card's application
    /// (received, at the counter); the link to the old card with the fee and the
    /// police report; the old card's `replacement-applied` event; the audit event.
    /// Refused when the old card changed since it was read
    /// ([`StoreError::Conflict`]) or already has a replacement under way
    /// ([`StoreError::Duplicate`]).
    pub async fn apply_replacement(
        &self,
        new: &NewReplacement,
        resident_key: u64,
        actor: &Actor,
        mut next_receipt: impl FnMut() -> Option<ReceiptNumber>,
    ) -> Result<ApplicationRecord> {
        let now = now_micros();
        let old = new.old_card_id.as_str();
        let mut tx = self.pool.begin().await?;
        let state = Self::card_state_in(&mut tx, old).await?;
        if state.state != new.old_state || state.resident_key != Some(resident_key) {
            return Err(StoreError::Conflict);
        }
        let under_way = tx
            .fetch_optional(
                "SELECT r.application_id FROM replacements r JOIN applications a ON a.id = r.application_id \
                 WHERE r.old_card_id = $1 AND a.status NOT IN ('cancelled', 'destroyed') AND r.replaced_at IS NULL",
                &[old.into()],
            )
            .await?;
        if under_way.is_some() {
            return Err(StoreError::Duplicate("a replacement of this card"));
        }
        if new.reason == ReissueReason::Lost && state.state == CardState::Active {
            self.suspend_lost_in(&mut tx, old, actor, now).await?;
        }
        let (id, _) = self
            .insert_application_in(
                &mut tx,
                resident_key,
                &new.application,
                actor,
                &mut next_receipt,
                now,
            )
            .await?;
        let police = new
            .police
            .as_ref()
            .map(|report| self.seal_record(&police_place(id), report))
            .transpose()?;
        tx.execute(
            "INSERT INTO replacements (application_id, old_card_id, reason, card_fee_yen, certificates_fee_yen, police, officer, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                to_i64(id)?.into(),
                old.into(),
                new.reason.code().into(),
                i64::from(new.fee.card_yen).into(),
                i64::from(new.fee.certificates_yen).into(),
                police.map_or(Value::NullBytes, Into::into),
                actor.officer.as_str().into(),
                now.into(),
            ],
        )
        .await?;
        let mut details = format!("application {id}");
        if !new.fee.is_free() {
            details.push_str(&format!("; fee ¥{}", new.fee.total()));
        }
        if let Some(report) = &new.police {
            details.push_str(&format!(
                "; police report {} ({})",
                report.receipt_number, report.station
            ));
        }
        self.card_event_in(
            &mut tx,
            old,
            CardEventKind::ReplacementApplied,
            actor,
            new.reason.code(),
            Some(&details),
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            actor,
            &format!("card.replacement-applied:{}", new.reason.code()),
            Some(resident_key),
        )
        .await?;
        tx.commit().await?;
        self.application(id).await
    }

    /// A lost card reported at the counter as it applies for the new one: the card
    /// suspended, its authentication certificate on hold and its signature
    /// certificate revoked, in the caller's transaction.
    async fn suspend_lost_in(
        &self,
        tx: &mut Tx<'_>,
        card_id: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        self.transition_card_in(
            tx,
            card_id,
            CardTransition::Suspend,
            actor,
            RevocationReason::LostCard.code(),
            None,
            now,
        )
        .await?;
        for (ca, reason) in [
            ("auth", RevocationReason::CertificateHold),
            ("sign", RevocationReason::LostCard),
        ] {
            tx.execute(
                "UPDATE certificates SET revoked_at = $1, reason = $2 WHERE card_id = $3 AND ca = $4 AND revoked_at IS NULL",
                &[now.into(), reason.code().into(), card_id.into(), ca.into()],
            )
            .await?;
        }
        Self::crls_stale(tx, &["auth", "sign"]).await
    }

    /// The old card of the application's replacement, if the application is one,
    /// abolished as its new card is handed over (or delivered home), in that
    /// transaction: its certificates revoked for good (a hold on a lost card's
    /// becomes a permanent revocation), the replacement marked done.
    pub(crate) async fn replace_old_card_in(
        &self,
        tx: &mut Tx<'_>,
        application_id: u64,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        let row = tx
            .fetch_optional(
                "SELECT old_card_id, reason FROM replacements WHERE application_id = $1 AND replaced_at IS NULL",
                &[to_i64(application_id)?.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(()) };
        let old = row.text(0)?;
        let reason = match ReissueReason::from_code(&row.text(1)?) {
            Some(ReissueReason::Lost) => RevocationReason::LostCard,
            _ => RevocationReason::CardEnded,
        };
        let before = Self::card_state_in(tx, &old).await?;
        if !before.state.is_final() {
            self.transition_card_in(
                tx,
                &old,
                CardTransition::Abolish,
                actor,
                "replaced",
                Some(&format!("by the card of application {application_id}")),
                now,
            )
            .await?;
        }
        let permanent = tx
            .execute(
                "UPDATE certificates SET reason = $1 WHERE card_id = $2 AND reason = $3",
                &[
                    reason.code().into(),
                    old.as_str().into(),
                    RevocationReason::CertificateHold.code().into(),
                ],
            )
            .await?;
        let revoked = tx
            .execute(
                "UPDATE certificates SET revoked_at = $1, reason = $2 WHERE card_id = $3 AND revoked_at IS NULL",
                &[now.into(), reason.code().into(), old.as_str().into()],
            )
            .await?;
        if permanent + revoked > 0 {
            Self::crls_stale(tx, &["auth", "sign"]).await?;
        }
        tx.execute(
            "UPDATE replacements SET replaced_at = $1 WHERE application_id = $2",
            &[now.into(), to_i64(application_id)?.into()],
        )
        .await?;
        self.audit_in(tx, actor, "card.replaced", before.resident_key)
            .await
    }

    /// The replacement an application is, if any.
    pub async fn replacement(&self, application_id: u64) -> Result<Option<ReplacementRecord>> {
        self.read_optional(
            &format!("SELECT {REPLACEMENT_COLUMNS} FROM replacements WHERE application_id = $1"),
            &[to_i64(application_id)?.into()],
        )
        .await?
        .map(|row| self.replacement_record(&row))
        .transpose()
    }

    /// The replacements applied for a card, oldest first.
    pub async fn replacements_of_card(&self, card_id: &str) -> Result<Vec<ReplacementRecord>> {
        let rows = self
            .read_all(
                &format!(
                    "SELECT {REPLACEMENT_COLUMNS} FROM replacements WHERE old_card_id = $1 ORDER BY created_at, application_id"
                ),
                &[card_id.into()],
            )
            .await?;
        rows.iter().map(|row| self.replacement_record(row)).collect()
    }

    /// Active cards of residents (of `municipality`, or all) that end on or
    /// before `horizon` (YYYY-MM-DD), or whose good certificates end by
    /// `horizon_seconds`; by card id.
    pub async fn cards_nearing_end(
        &self,
        horizon: &str,
        horizon_seconds: i64,
        municipality: Option<&str>,
    ) -> Result<Vec<NearingEnd>> {
        let rows = self
            .read_all(
                "SELECT c.id, c.resident_id, r.municipality, c.expires_on, \
                 (SELECT MIN(s.not_after) FROM certificates s WHERE s.card_id = c.id AND s.revoked_at IS NULL), \
                 c.application_id \
                 FROM cards c JOIN residents r ON r.id = c.resident_id \
                 WHERE c.status = 'active' AND c.expires_on IS NOT NULL AND ($1 = '' OR r.municipality = $1) \
                 AND (c.expires_on <= $2 OR EXISTS (SELECT 1 FROM certificates s WHERE s.card_id = c.id \
                      AND s.revoked_at IS NULL AND s.not_after <= $3)) \
                 ORDER BY c.id",
                &[
                    municipality.unwrap_or("").into(),
                    horizon.into(),
                    horizon_seconds.into(),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                decode_row!(row => NearingEnd {
                    card_id: text, resident_key: key, municipality: text, expires_on: text,
                    certificates_end: opt_int, application_id: opt_key,
                })
            })
            .collect()
    }

    /// Records an expiry letter with its renewal form ID, its card event and audit
    /// event, in one transaction; `false` (nothing recorded) when this card's
    /// letter for this end was already written.
    pub async fn record_expiry_letter(
        &self,
        card_id: &str,
        ends: &str,
        ends_on: &str,
        form_id: &ApplicationFormId,
        actor: &Actor,
    ) -> Result<bool> {
        let sealed = self.seal_record(
            &expiry_letter_place(card_id, ends, ends_on),
            &form_id.as_digits(),
        )?;
        let now = now_micros();
        let mut tx = self.pool.begin().await?;
        let card = Self::card_state_in(&mut tx, card_id).await?;
        let inserted = tx
            .execute(
                "INSERT INTO expiry_letters (card_id, ends, ends_on, form_key, form_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (card_id, ends, ends_on) DO NOTHING",
                &[
                    card_id.into(),
                    ends.into(),
                    ends_on.into(),
                    self.blind_index.form_key(form_id).into(),
                    sealed.into(),
                    now.into(),
                ],
            )
            .await?;
        if inserted != 1 {
            return Ok(false);
        }
        self.card_event_in(
            &mut tx,
            card_id,
            CardEventKind::ExpiryLetter,
            actor,
            ends,
            Some(ends_on),
            now,
        )
        .await?;
        self.audit_in(&mut tx, actor, "card.expiry-letter", card.resident_key)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The renewal form ID of the card's latest expiry letter about the card's own
    /// end, if one was written.
    pub async fn renewal_form(&self, card_id: &str) -> Result<Option<ApplicationFormId>> {
        let row = self
            .read_optional(
                "SELECT ends, ends_on, form_id FROM expiry_letters WHERE card_id = $1 AND ends = 'card' \
                 ORDER BY ends_on DESC LIMIT 1",
                &[card_id.into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let place = expiry_letter_place(card_id, &row.text(0)?, &row.text(1)?);
        let digits: String = self.open_record(&place, &row.bytes(2)?)?;
        digits
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("expiry letter of {card_id}")))
    }
}
