//! The chip's side of the issuer's commands (see [`crate::issuer`] for the design):
//! the issuer key written at manufacture, GET CHALLENGE, RESET RETRY COUNTER,
//! the issuer's UPDATE BINARY and GENERATE KEY PAIR. Every refusal is a status word
//! and changes nothing (only the challenge is spent).

use super::files::{File, FileBody};
use super::pins::{PinFile, PinSlot};
use super::{jpki_ef, residence_ef, support_ef, App, Card, CardError};
use crate::apdu::{Command, Response, StatusWord};
use crate::issuer::{pin_code, Area, CardKey, CHALLENGE_LEN, P1_NEW_PIN, P1_UNBLOCK};
use maina_core::card::Pin;
use maina_pki::KeyPair;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// An issuer command opened: the card's key, the challenge it spent, its header and
/// its plaintext.
struct Opened {
    key: CardKey,
    challenge: [u8; CHALLENGE_LEN],
    header: [u8; 4],
    plaintext: Zeroizing<Vec<u8>>,
}

/// Where the issuer key lives. It is never selectable nor readable.
const ISSUER_KEY_FID: u16 = 0xFFFE;

/// A file the issuer may write: its guard for reading and whether the residence
/// PIN must be verified first (the facts: REFERENCE section 7).
fn writable(area: Area, fid: u16) -> Option<(App, Vec<PinSlot>, bool)> {
    let support_guard = || vec![PinSlot::Support, PinSlot::SupportA];
    match (area, fid) {
        (Area::Support, support_ef::FACTS | support_ef::SIGNED_FACTS) => {
            Some((App::Support, support_guard(), true))
        }
        (Area::Residence, residence_ef::RESIDENT_CODE | residence_ef::ADDRESS) => {
            Some((App::Residence, vec![PinSlot::Residence], true))
        }
        (Area::Jpki, jpki_ef::AUTH_CERT | jpki_ef::AUTH_CA_CERT | jpki_ef::SIGN_CA_CERT) => {
            Some((App::Jpki, vec![], false))
        }
        (Area::Jpki, jpki_ef::SIGN_CERT) => Some((App::Jpki, vec![PinSlot::Signature], false)),
        _ => None,
    }
}

impl Card {
    /// Writes the card's issuer key (the bureau's personalisation step, once).
    pub fn install_issuer_key(&mut self, key: &CardKey) -> Result<(), CardError> {
        if self.has_issuer_key() {
            return Err(CardError::Invalid(
                "the card already holds an issuer key".into(),
            ));
        }
        self.content.files.push(File {
            app: App::Jpki,
            fid: ISSUER_KEY_FID,
            body: FileBody::IssuerKey(Zeroizing::new(key.as_bytes().to_vec())),
        });
        self.dirty = true;
        Ok(())
    }

    /// Whether the card holds an issuer key (cards made before issue 13 do not).
    pub fn has_issuer_key(&self) -> bool {
        self.issuer_key().is_some()
    }

    fn issuer_key(&self) -> Option<CardKey> {
        self.content.files.iter().find_map(|file| match &file.body {
            FileBody::IssuerKey(bytes) => CardKey::from_slice(bytes),
            _ => None,
        })
    }

    /// Writes a data file in place (or adds it), so no other file's index moves
    /// (the session and the parsed keys point at files by index).
    pub(super) fn put_data(&mut self, app: App, fid: u16, bytes: Vec<u8>, guard: Vec<PinSlot>) {
        let body = FileBody::Data { bytes, guard };
        match self
            .content
            .files
            .iter_mut()
            .find(|f| f.app == app && f.fid == fid)
        {
            Some(file) => file.body = body,
            None => self.content.files.push(File { app, fid, body }),
        }
        self.dirty = true;
    }

    pub(super) fn get_challenge(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0, 0) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if !command.data.is_empty() || command.le != Some(CHALLENGE_LEN) {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let mut challenge = [0u8; CHALLENGE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        self.session.challenge = Some(challenge);
        Response::ok(challenge.to_vec())
    }

    /// Spends the challenge and opens the command's protection: the key, the
    /// challenge, the header and the plaintext; or the status word to answer.
    fn open_protected(&mut self, command: &Command<'_>) -> Result<Opened, StatusWord> {
        let challenge = self
            .session
            .challenge
            .take()
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let key = self.issuer_key().ok_or(StatusWord::REFERENCE_NOT_FOUND)?;
        let header = [command.cla, command.ins, command.p1, command.p2];
        let plaintext = key
            .open(&challenge, &header, command.data)
            .ok_or(StatusWord::SECURE_MESSAGING_WRONG)?;
        Ok(Opened {
            key,
            challenge,
            header,
            plaintext,
        })
    }

    fn receipt(
        key: &CardKey,
        challenge: &[u8; CHALLENGE_LEN],
        header: &[u8; 4],
        plaintext: &[u8],
        answer: Vec<u8>,
    ) -> Response {
        let digest: [u8; 32] = Sha256::digest(plaintext).into();
        let receipt = key.receipt(challenge, header, &digest, &answer);
        let mut data = answer;
        data.extend_from_slice(&receipt);
        Response::ok(data)
    }

    /// RESET RETRY COUNTER on the selected PIN file.
    pub(super) fn reset_retry_counter(&mut self, command: &Command<'_>) -> Response {
        if command.p2 != 0x80 || !matches!(command.p1, P1_NEW_PIN | P1_UNBLOCK) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Opened {
            key,
            challenge,
            header,
            plaintext,
        } = match self.open_protected(command) {
            Ok(opened) => opened,
            Err(status) => return Response::status(status),
        };
        let Some(index) = self.current_pin_file() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileBody::Pin(pin)) = self.content.files.get_mut(index).map(|f| &mut f.body)
        else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let slot = pin.slot();
        let Some(kind) = slot.pin_kind() else {
            // PIN-A is the My Number: never reset.
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        let [target, new @ ..] = plaintext.as_slice() else {
            return Response::status(StatusWord::WRONG_DATA);
        };
        if *target != pin_code(kind) {
            // Built for another PIN: refused, so a command cannot be moved to a
            // PIN file it was not meant for.
            return Response::status(StatusWord::WRONG_DATA);
        }
        let replacement = match command.p1 {
            P1_NEW_PIN => {
                let Ok(text) = std::str::from_utf8(new) else {
                    return Response::status(StatusWord::WRONG_DATA);
                };
                match Pin::new(kind, text) {
                    Ok(pin) if pin.as_bytes() == new => PinFile::new(slot, new),
                    _ => return Response::status(StatusWord::WRONG_DATA),
                }
            }
            _ => {
                if !new.is_empty() {
                    return Response::status(StatusWord::WRONG_DATA);
                }
                if !pin.is_set() {
                    return Response::status(StatusWord::REFERENCE_DATA_NOT_USABLE);
                }
                pin.unblocked()
            }
        };
        *pin = replacement;
        self.session.verified.retain(|s| *s != slot);
        self.dirty = true;
        Self::receipt(&key, &challenge, &header, &plaintext, Vec::new())
    }

    /// The issuer's UPDATE BINARY: a whole file replaced (or created).
    pub(super) fn issuer_update(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0, 0) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Opened {
            key,
            challenge,
            header,
            plaintext,
        } = match self.open_protected(command) {
            Ok(opened) => opened,
            Err(status) => return Response::status(status),
        };
        let [area, hi, lo, content @ ..] = plaintext.as_slice() else {
            return Response::status(StatusWord::WRONG_DATA);
        };
        let fid = u16::from_be_bytes([*hi, *lo]);
        let Some((app, guard, needs_residence_pin)) =
            Area::from_byte(*area).and_then(|area| writable(area, fid))
        else {
            return Response::status(StatusWord::WRONG_DATA);
        };
        if content.is_empty() {
            return Response::status(StatusWord::WRONG_DATA);
        }
        if needs_residence_pin && !self.session.verified.contains(&PinSlot::Residence) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        self.put_data(app, fid, content.to_vec(), guard);
        Self::receipt(&key, &challenge, &header, &plaintext, Vec::new())
    }

    /// GENERATE KEY PAIR: a new RSA-2048 key in place of a JPKI key (the old one is
    /// gone); answers its public key.
    pub(super) fn generate_key_pair(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0, 0) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let Opened {
            key,
            challenge,
            header,
            plaintext,
        } = match self.open_protected(command) {
            Ok(opened) => opened,
            Err(status) => return Response::status(status),
        };
        let fid = match plaintext.as_slice() {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            _ => return Response::status(StatusWord::WRONG_DATA),
        };
        let pin = match fid {
            jpki_ef::AUTH_KEY => PinSlot::Authentication,
            jpki_ef::SIGN_KEY => PinSlot::Signature,
            _ => return Response::status(StatusWord::WRONG_DATA),
        };
        let generated = KeyPair::generate().and_then(|pair| {
            let pkcs8 = pair.to_pkcs8_der()?;
            let public = pair.public_key_der()?;
            Ok((pair, pkcs8, public))
        });
        let Ok((pair, pkcs8, public)) = generated else {
            return Response::status(StatusWord::UNKNOWN_ERROR);
        };
        let body = FileBody::Key {
            pkcs8: Zeroizing::new(pkcs8),
            pin,
        };
        let index = match self
            .content
            .files
            .iter()
            .position(|f| f.app == App::Jpki && f.fid == fid)
        {
            Some(index) => {
                if let Some(file) = self.content.files.get_mut(index) {
                    file.body = body;
                }
                index
            }
            None => {
                self.content.files.push(File {
                    app: App::Jpki,
                    fid,
                    body,
                });
                self.content.files.len() - 1
            }
        };
        self.keys.retain(|(i, _)| *i != index);
        self.keys.push((index, pair));
        self.session.verified.retain(|s| *s != pin);
        self.dirty = true;
        Self::receipt(&key, &challenge, &header, &plaintext, public)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::card::Personalisation;
    use crate::issuer::{CLA_ISSUER, INS_RESET_RETRY_COUNTER};
    use crate::personalise::pin_location;
    use maina_core::card::PinKind;

    #[test]
    fn a_new_pin_that_breaks_its_rule_is_refused_even_when_well_protected() {
        let key = CardKey::new([1; 32]);
        let (mut card, _) = Card::manufacture(
            "00112233445566AA",
            &Personalisation {
                my_number: "123456789018",
                name: "山田 花子",
                address: "東京都千代田区千代田1-1",
                birth_date: "19900401",
                sex: "2",
                resident_code: "12345678901",
                pins: None,
                with_signature: false,
            },
        )
        .unwrap();
        card.install_issuer_key(&key).unwrap();
        let before = card.to_bytes().unwrap();
        let (aid, fid) = pin_location(PinKind::Support);
        let mut select = vec![0x00, 0xA4, 0x04, 0x0C, 10];
        select.extend_from_slice(aid);
        card.transmit(&select);
        let [hi, lo] = fid.to_be_bytes();
        card.transmit(&[0x00, 0xA4, 0x02, 0x0C, 2, hi, lo]);
        for bad in [&b"12a4"[..], b"12345", b"", b"ABC123"] {
            let response = card.transmit(&crate::issuer::GET_CHALLENGE);
            let challenge = crate::issuer::challenge_of(&response).unwrap();
            let plaintext = [&[pin_code(PinKind::Support)][..], bad].concat();
            let command = key.protect(
                &challenge,
                [CLA_ISSUER, INS_RESET_RETRY_COUNTER, P1_NEW_PIN, 0x80],
                &plaintext,
            );
            assert_eq!(card.respond(&command.apdu).status, StatusWord::WRONG_DATA);
        }
        assert_eq!(card.to_bytes().unwrap(), before);
    }
}
