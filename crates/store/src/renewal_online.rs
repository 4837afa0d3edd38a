//! Renewal online with the expiry letter's form ID (issue 13): the renewal form ID
//! an expiry letter prints is an application form ID like a notice's, taken by the
//! same online, smartphone, booth and mailed channels. An application made with it
//! is the renewal of the card the letter was about: linked to that card (reason
//! `expiry`, free) in the application's own transaction, so the old card is
//! abolished when the new one is handed over, exactly as after a renewal at the
//! counter. A letter about the certificates alone sends the resident to the
//! counter: its form ID is not one.

use crate::backend::{to_i64, Query, Tx, Value};
use crate::renewal::expiry_letter_place;
use crate::{Result, Store, StoreError};
use maina_core::card::{CardEventKind, ReissueReason};
use maina_core::officer::Actor;
use maina_core::ApplicationFormId;

/// Whose form ID this is, and what applying with it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormHolder {
    pub resident_key: u64,
    /// `Some` for an expiry letter's renewal form ID: the card it renews.
    pub renews: Option<RenewedCard>,
}

/// The card an expiry letter's form ID renews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewedCard {
    pub card_id: String,
    /// The card's last day, `YYYY-MM-DD`.
    pub expires_on: Option<String>,
}

impl RenewedCard {
    /// Whether the renewal is open on `today` (from three months before the card's
    /// last day; [`maina_core::card::check_renewal`]). A card without a last day
    /// (a demonstration card) is never renewed this way.
    pub fn renewal_open(&self, today: chrono::NaiveDate) -> bool {
        self.expires_on
            .as_deref()
            .and_then(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
            .is_some_and(|last| maina_core::card::check_renewal(last, today).is_ok())
    }
}

impl Store {
    /// The holder of an application form ID: a notice's (a first card), or an
    /// expiry letter's about the card's own end (its renewal).
    pub async fn form_holder(&self, form_id: &ApplicationFormId) -> Result<Option<FormHolder>> {
        if let Some(notice) = self.notice_by_form(form_id).await? {
            return Ok(Some(FormHolder {
                resident_key: notice.resident_key,
                renews: None,
            }));
        }
        let rows = self
            .read_all(
                "SELECT l.card_id, l.ends, l.ends_on, l.form_id, c.resident_id, c.expires_on \
                 FROM expiry_letters l JOIN cards c ON c.id = l.card_id \
                 WHERE l.form_key = $1 AND l.ends = 'card'",
                &[self.blind_index.form_key(form_id).into()],
            )
            .await?;
        for row in rows {
            let card_id = row.text(0)?;
            let place = expiry_letter_place(&card_id, &row.text(1)?, &row.text(2)?);
            let digits: String = self.open_record(&place, &row.bytes(3)?)?;
            // The keyed hash is 64 bits: the sealed digits decide.
            if digits.parse::<ApplicationFormId>().ok().as_ref() != Some(form_id) {
                continue;
            }
            let Some(resident_key) = row.opt_key(4)? else {
                continue;
            };
            return Ok(Some(FormHolder {
                resident_key,
                renews: Some(RenewedCard {
                    card_id,
                    expires_on: row.opt_text(5)?,
                }),
            }));
        }
        Ok(None)
    }

    /// In the transaction recording application `application_id`: links it to the
    /// card it renews (free), with the card's event and the audit event. Refused
    /// when the card is no longer the resident's or a replacement of it is under
    /// way ([`StoreError::Duplicate`]).
    pub(crate) async fn link_renewal_in(
        &self,
        tx: &mut Tx<'_>,
        application_id: u64,
        renews: &RenewedCard,
        resident_key: u64,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        let card = renews.card_id.as_str();
        let holder = tx
            .fetch_optional(
                "SELECT resident_id FROM cards WHERE id = $1",
                &[card.into()],
            )
            .await?
            .map(|row| row.opt_key(0))
            .transpose()?
            .flatten();
        // The letter is written two to three months before the end; a form ID kept
        // from an earlier letter, or a card handed back, is not a renewal now.
        if holder != Some(resident_key) || !renews.renewal_open(chrono::Local::now().date_naive()) {
            return Err(StoreError::NotFound("application form ID"));
        }
        let under_way = tx
            .fetch_optional(
                "SELECT r.application_id FROM replacements r JOIN applications a ON a.id = r.application_id \
                 WHERE r.old_card_id = $1 AND a.status NOT IN ('cancelled', 'destroyed') AND r.replaced_at IS NULL",
                &[card.into()],
            )
            .await?;
        if under_way.is_some() {
            return Err(StoreError::Duplicate("a replacement of this card"));
        }
        let reason = ReissueReason::Expiry.code();
        tx.execute(
            "INSERT INTO replacements (application_id, old_card_id, reason, card_fee_yen, certificates_fee_yen, police, officer, created_at) \
             VALUES ($1, $2, $3, 0, 0, $4, $5, $6)",
            &[
                to_i64(application_id)?.into(),
                card.into(),
                reason.into(),
                Value::NullBytes,
                actor.officer.as_str().into(),
                now.into(),
            ],
        )
        .await?;
        self.card_event_in(
            tx,
            card,
            CardEventKind::ReplacementApplied,
            actor,
            reason,
            Some(&format!(
                "application {application_id}; online with the expiry letter's renewal form ID"
            )),
            now,
        )
        .await?;
        self.audit_in(
            tx,
            actor,
            &format!("card.replacement-applied:{reason}"),
            Some(resident_key),
        )
        .await
    }
}
