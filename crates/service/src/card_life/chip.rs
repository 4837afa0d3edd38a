//! The counter's work on a card's chip (issue 13, *our design*; see
//! `maina_card::issuer`): the issuer's protected commands carried to the card in
//! the counter's reader, each bound to the chip's fresh challenge and answered
//! with a receipt this module checks before anything is recorded. The stored card
//! is never edited here: the card in the reader changes itself and is saved by
//! whoever holds it (`maina card attach` for the emulated card).
//!
//! This file holds what the three use cases share ([`ChipSession`]: the link and
//! the card's issuer key; the checks of a card the counter may work on) and the
//! chip's facts rewritten after a change in the registry
//! ([`Service::update_chip`]). `pin_reset.rs`: PINs reset or unblocked;
//! `renew.rs`: certificates renewed on the same chip.

use super::CardOfResident;
use crate::{ErrorKind, Result, Service, ServiceError};
use maina_card::issuer::{self, Area, CardKey, IssuerError, Protected};
use maina_card::personalise::ApduTransport;
use maina_card::{residence_ef, support_ef, tlv, Card, StatusWord, AID_RESIDENCE};
use maina_core::card::{CardEventKind, CardState, Pin, PinKind};
use maina_core::officer::{Actor, Permission};
use maina_proto::ChipUpdateResponse;

/// A card in the counter's reader, with the issuer key of the card it should be.
pub(crate) struct ChipSession<'a, T: ApduTransport> {
    link: &'a mut T,
    key: CardKey,
}

fn refused(status: StatusWord) -> ServiceError {
    let (code, message) = match status {
        StatusWord::REFERENCE_NOT_FOUND => (
            "no_issuer_key",
            "this card was made without an issuer key: its chip cannot be changed at the counter (reissue the card)".to_owned(),
        ),
        StatusWord::SECURE_MESSAGING_WRONG => (
            "wrong_card",
            "the card in the reader refused the issuer's command: is it this card?".to_owned(),
        ),
        StatusWord::SECURITY_NOT_SATISFIED => (
            "pin_not_verified",
            "the card needs the residence PIN verified first".to_owned(),
        ),
        other => ("chip_refused", format!("the card refused the command: {other}")),
    };
    ServiceError::new(ErrorKind::Conflict, code, message)
}

impl<'a, T: ApduTransport> ChipSession<'a, T> {
    pub(crate) fn new(link: &'a mut T, key: CardKey) -> Self {
        Self { link, key }
    }

    /// One APDU there and back.
    fn send(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        self.link.transmit_apdu(apdu).map_err(|error| {
            ServiceError::new(
                ErrorKind::Unavailable,
                "card_reader",
                format!("the card reader failed: {error}"),
            )
        })
    }

    fn status(response: &[u8]) -> StatusWord {
        match response {
            [.., hi, lo] => StatusWord(u16::from_be_bytes([*hi, *lo])),
            _ => StatusWord::UNKNOWN_ERROR,
        }
    }

    /// SELECT of an application, then of one of its files.
    pub(crate) fn select(&mut self, aid: &[u8], fid: u16) -> Result<()> {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x0C, 10];
        apdu.extend_from_slice(aid);
        let [hi, lo] = fid.to_be_bytes();
        for apdu in [apdu, vec![0x00, 0xA4, 0x02, 0x0C, 2, hi, lo]] {
            let status = Self::status(&self.send(&apdu)?);
            if status != StatusWord::OK {
                return Err(refused(status));
            }
        }
        Ok(())
    }

    /// VERIFY of the selected PIN file; a wrong PIN names the tries left.
    pub(crate) fn verify(&mut self, field: &str, pin: &Pin) -> Result<()> {
        let mut apdu = vec![0x00, 0x20, 0x00, 0x80];
        apdu.push(u8::try_from(pin.as_bytes().len()).unwrap_or(u8::MAX));
        apdu.extend_from_slice(pin.as_bytes());
        match Self::status(&self.send(&apdu)?) {
            StatusWord::OK => Ok(()),
            StatusWord::PIN_BLOCKED | StatusWord::REFERENCE_DATA_NOT_USABLE => {
                Err(ServiceError::invalid(
                    field,
                    "the PIN is blocked: reset or unblock it first (maina card reset-pin)",
                ))
            }
            status if status.0 & 0xFFF0 == 0x63C0 => Err(ServiceError::invalid(
                field,
                format!("wrong PIN: {} tries left", status.0 & 0x0F),
            )),
            status => Err(refused(status)),
        }
    }

    /// One issuer command: the chip's challenge, the command built for it, the
    /// answer's receipt checked. Returns the data before the receipt.
    pub(crate) fn run(
        &mut self,
        build: impl FnOnce(&CardKey, &[u8; issuer::CHALLENGE_LEN]) -> Protected,
    ) -> Result<Vec<u8>> {
        let challenge = issuer::challenge_of(&self.send(&issuer::GET_CHALLENGE)?).map_err(
            |error| match error {
                IssuerError::Refused(status) => refused(status),
                other => ServiceError::internal(&other),
            },
        )?;
        let command = build(&self.key, &challenge);
        let response = self.send(&command.apdu)?;
        self.key
            .check(&command, &response)
            .map_err(|error| match error {
                IssuerError::Refused(status) => refused(status),
                IssuerError::BadReceipt | IssuerError::Malformed => ServiceError::new(
                    ErrorKind::Conflict,
                    "no_receipt",
                    "the card's answer carries no valid receipt: nothing was recorded",
                ),
            })
    }
}

/// A PIN's code as typed (`auth`, `sign`, `residence`, `support`).
pub(crate) fn pin_kind(field: &str, code: &str) -> Result<PinKind> {
    PinKind::ALL
        .into_iter()
        .find(|kind| kind.code() == code.trim())
        .ok_or_else(|| {
            ServiceError::invalid(field, "expected one of auth, sign, residence, support")
        })
}

impl Service {
    /// The card the counter works on: found through [`Service::card_for`]
    /// (`ServiceCard`), active, and made with an issuer key (read from the stored
    /// chip, never changed); with the key for the issuer's commands.
    pub(crate) async fn card_at_service(
        &self,
        actor: &Actor,
        card_id: &str,
    ) -> Result<(CardOfResident, CardKey)> {
        let found = self
            .card_for(actor, Permission::ServiceCard, card_id)
            .await?;
        if found.state != CardState::Active {
            return Err(ServiceError::new(
                ErrorKind::Conflict,
                "card_not_active",
                format!(
                    "the card is {}: only an active card's chip is changed at the counter",
                    found.state.code()
                ),
            ));
        }
        let (_, stored) = self.store.card(&found.card.id).await?;
        let chip = Card::from_bytes(&stored).map_err(|e| ServiceError::internal(&e))?;
        if !chip.has_issuer_key() {
            return Err(refused(StatusWord::REFERENCE_NOT_FOUND));
        }
        let key = CardKey::new(*self.store.card_issuer_key(&found.card.id));
        Ok((found, key))
    }

    /// Rewrites the chip's facts from the registry (after a move, an address or a
    /// name change): the support AP's four facts (EF 0002) and the digests with the
    /// issuer's signature (EF 0003), the residence AP's resident code and address,
    /// each by the issuer's UPDATE BINARY after the **residence PIN** the resident
    /// typed. The history entry `chip-updated` is recorded once every file's receipt
    /// checked.
    pub async fn update_chip<T: ApduTransport>(
        &self,
        actor: &Actor,
        card_id: &str,
        residence_pin: &str,
        link: &mut T,
    ) -> Result<ChipUpdateResponse> {
        // The PIN's rule first: a PIN of the wrong shape never reaches the chip.
        let pin = Pin::new(PinKind::Residence, residence_pin.trim())
            .map_err(|e| ServiceError::invalid("residence_pin", e.to_string()))?;
        let (found, key) = self.card_at_service(actor, card_id).await?;
        let authorities = self
            .authorities
            .as_ref()
            .ok_or_else(ServiceError::unavailable)?;
        let record = &found.resident.record;
        let person = &record.person;
        let address = record.address.as_str().to_owned();
        let number_file = tlv::encode(&[0xD0], found.resident.my_number.as_digits().as_bytes());
        let facts_file = tlv::facts(
            &person.name.to_string(),
            &address,
            &person.birth_date.format("%Y%m%d").to_string(),
            &person.sex.iso5218().to_string(),
        );
        let digests = issuer::facts_digests(&number_file, &facts_file);
        let signature = authorities
            .auth
            .issuing()
            .sign_sha256(&digests)
            .map_err(|e| ServiceError::internal(&e))?;
        let files = [
            (Area::Support, support_ef::FACTS, facts_file, "support/0002"),
            (
                Area::Support,
                support_ef::SIGNED_FACTS,
                issuer::signed_facts_file(&digests, &signature),
                "support/0003",
            ),
            (
                Area::Residence,
                residence_ef::RESIDENT_CODE,
                tlv::encode(&[0xD0], found.resident.resident_code.as_digits().as_bytes()),
                "residence/0001",
            ),
            (
                Area::Residence,
                residence_ef::ADDRESS,
                tlv::encode(&[0xD1], address.as_bytes()),
                "residence/0002",
            ),
        ];
        let mut chip = ChipSession::new(link, key);
        chip.select(&AID_RESIDENCE, residence_ef::PIN)?;
        chip.verify("residence_pin", &pin)?;
        let mut written = Vec::new();
        for (area, fid, content, name) in files {
            chip.run(|key, challenge| key.update_file(challenge, area, fid, &content))?;
            written.push(name.to_owned());
        }
        self.store
            .record_card_event(
                &found.card.id,
                CardEventKind::ChipUpdated,
                actor,
                "registry",
                Some(&written.join(",")),
            )
            .await?;
        Ok(ChipUpdateResponse {
            card_id: found.card.id,
            files: written,
            address,
        })
    }
}
