//! The counter's side of a card fresh from the bureau, spoken in APDUs only, so the
//! same code drives an in-process [`Card`] and a card in a reader: setting the four
//! initial PINs (SELECT the application, SELECT the PIN file, CHANGE REFERENCE DATA
//! with P1 = 01, P2 = 80 and only the new PIN), and reading the public keys the chip
//! generated.
//!
//! Every PIN is checked against its rule before the first command is sent: a PIN that
//! breaks its rule is refused and nothing reaches the chip. (A card in a reader
//! cannot be rolled back; the counter works on the stored card and saves it only when
//! all four were accepted.)

use crate::apdu::StatusWord;
use crate::card::{
    jpki_ef, residence_ef, support_ef, Card, InitialPins, AID_JPKI, AID_RESIDENCE, AID_SUPPORT,
};
use maina_core::card::{Pin, PinError, PinKind};
use std::convert::Infallible;
use std::fmt;

/// Something that carries command APDUs to a card and brings back its response
/// (data followed by SW1 SW2).
pub trait ApduTransport {
    type Error: fmt::Display;
    fn transmit_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Self::Error>;
}

impl ApduTransport for Card {
    type Error = Infallible;
    fn transmit_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Infallible> {
        Ok(self.transmit(apdu))
    }
}

/// Why the PINs were not set.
#[derive(Debug, thiserror::Error)]
pub enum PersonaliseError<E: fmt::Display> {
    /// A PIN breaks its rule: nothing was sent to the chip.
    #[error("{kind:?}: {error}")]
    Rule { kind: PinKind, error: PinError },
    /// The chip refused a command (a PIN already set answers 6982).
    #[error("the card refused {step} for the {} PIN: {status}", kind.code())]
    Refused {
        kind: PinKind,
        step: &'static str,
        status: StatusWord,
    },
    #[error("the reader failed: {0}")]
    Transport(E),
    #[error("the card's answer is not a response APDU")]
    Malformed,
}

/// Where each PIN lives: its application and PIN file.
pub fn pin_location(kind: PinKind) -> (&'static [u8; 10], u16) {
    match kind {
        PinKind::Authentication => (&AID_JPKI, jpki_ef::AUTH_PIN),
        PinKind::Signature => (&AID_JPKI, jpki_ef::SIGN_PIN),
        PinKind::Residence => (&AID_RESIDENCE, residence_ef::PIN),
        PinKind::Support => (&AID_SUPPORT, support_ef::PIN),
    }
}

fn status_of(response: &[u8]) -> Option<StatusWord> {
    let [.., hi, lo] = response else {
        return None;
    };
    Some(StatusWord(u16::from_be_bytes([*hi, *lo])))
}

fn short_apdu(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut apdu = header.to_vec();
    // Every command here carries at most 16 bytes of data.
    apdu.push(u8::try_from(data.len()).unwrap_or(u8::MAX));
    apdu.extend_from_slice(data);
    apdu
}

fn send<T: ApduTransport>(
    transport: &mut T,
    kind: PinKind,
    step: &'static str,
    apdu: &[u8],
) -> Result<(), PersonaliseError<T::Error>> {
    let response = transport
        .transmit_apdu(apdu)
        .map_err(PersonaliseError::Transport)?;
    match status_of(&response) {
        Some(StatusWord::OK) => Ok(()),
        Some(status) => Err(PersonaliseError::Refused { kind, step, status }),
        None => Err(PersonaliseError::Malformed),
    }
}

/// Sets the four PINs of a card whose PIN files are unset, by APDUs.
pub fn set_initial_pins<T: ApduTransport>(
    transport: &mut T,
    pins: &InitialPins<'_>,
) -> Result<(), PersonaliseError<T::Error>> {
    let ordered = [
        pins.authentication,
        pins.signature,
        pins.residence,
        pins.support,
    ];
    // Each PIN of its own kind, each still meeting its rule (a `Pin` does by type;
    // the check costs nothing and keeps a mix-up from reaching the chip).
    for (pin, kind) in ordered.iter().zip(PinKind::ALL) {
        if pin.kind() != kind {
            return Err(PersonaliseError::Rule {
                kind,
                error: PinError::FourDigits(kind.code()),
            });
        }
        let text = std::str::from_utf8(pin.as_bytes()).unwrap_or_default();
        Pin::new(kind, text).map_err(|error| PersonaliseError::Rule { kind, error })?;
    }
    for pin in ordered {
        let kind = pin.kind();
        let (aid, fid) = pin_location(kind);
        send(
            transport,
            kind,
            "SELECT application",
            &short_apdu([0x00, 0xA4, 0x04, 0x0C], aid),
        )?;
        send(
            transport,
            kind,
            "SELECT PIN file",
            &short_apdu([0x00, 0xA4, 0x02, 0x0C], &fid.to_be_bytes()),
        )?;
        send(
            transport,
            kind,
            "CHANGE REFERENCE DATA",
            &short_apdu([0x00, 0x24, 0x01, 0x80], pin.as_bytes()),
        )?;
    }
    Ok(())
}

/// The four PINs as typed (a PIN pad, standard input): each is checked against its
/// rule, all before anything is sent, then set with [`set_initial_pins`].
pub struct TypedPins<'a> {
    pub authentication: &'a str,
    pub signature: &'a str,
    pub residence: &'a str,
    pub support: &'a str,
}

/// The four PINs, each checked against its rule (the first that breaks one is named).
pub fn parse_pins(typed: &TypedPins<'_>) -> Result<[Pin; 4], (PinKind, PinError)> {
    let one = |kind: PinKind, text: &str| Pin::new(kind, text).map_err(|error| (kind, error));
    Ok([
        one(PinKind::Authentication, typed.authentication)?,
        one(PinKind::Signature, typed.signature)?,
        one(PinKind::Residence, typed.residence)?,
        one(PinKind::Support, typed.support)?,
    ])
}

/// [`parse_pins`] then [`set_initial_pins`]: a PIN that breaks its rule is refused
/// before any command reaches the chip.
pub fn set_typed_pins<T: ApduTransport>(
    transport: &mut T,
    typed: &TypedPins<'_>,
) -> Result<(), PersonaliseError<T::Error>> {
    let [authentication, signature, residence, support] =
        parse_pins(typed).map_err(|(kind, error)| PersonaliseError::Rule { kind, error })?;
    set_initial_pins(
        transport,
        &InitialPins {
            authentication: &authentication,
            signature: &signature,
            residence: &residence,
            support: &support,
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::card::Personalisation;

    fn fresh() -> Card {
        let (card, _) = Card::manufacture(
            "00112233445566AA",
            &Personalisation {
                my_number: "123456789018",
                name: "山田 花子",
                address: "東京都千代田区千代田1-1",
                birth_date: "19900401",
                sex: "2",
                resident_code: "12345678901",
                pins: None,
                with_signature: true,
            },
        )
        .unwrap();
        card
    }

    fn typed<'a>(sign: &'a str) -> TypedPins<'a> {
        TypedPins {
            authentication: "1234",
            signature: sign,
            residence: "1234",
            support: "5678",
        }
    }

    /// Counts the APDUs that reach the card.
    struct Counting(Card, usize);
    impl ApduTransport for Counting {
        type Error = Infallible;
        fn transmit_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, Infallible> {
            self.1 += 1;
            Ok(self.0.transmit(apdu))
        }
    }

    #[test]
    fn the_four_pins_are_set_by_apdus_once() {
        let mut card = fresh();
        card.mark_saved();
        assert!(!card.pins_set());
        set_typed_pins(&mut card, &typed("abc123")).unwrap();
        assert!(card.pins_set());
        assert!(card.is_dirty());
        // VERIFY with the PIN typed works (the password upper-cased).
        assert_eq!(
            card.transmit(&[0, 0xA4, 4, 0x0C, 10, 0xD3, 0x92, 0xF0, 0, 0x26, 1, 0, 0, 0, 1]),
            [0x90, 0]
        );
        assert_eq!(card.transmit(&[0, 0xA4, 2, 0x0C, 2, 0, 0x1B]), [0x90, 0]);
        assert_eq!(
            card.transmit(&[0, 0x20, 0, 0x80, 6, b'A', b'B', b'C', b'1', b'2', b'3']),
            [0x90, 0]
        );
        // A second setting is refused: a set PIN changes only after its VERIFY.
        let again = set_typed_pins(&mut fresh_copy(&card), &typed("XYZ789")).unwrap_err();
        assert!(matches!(
            again,
            PersonaliseError::Refused {
                status: StatusWord::SECURITY_NOT_SATISFIED,
                ..
            }
        ));
    }

    fn fresh_copy(card: &Card) -> Card {
        Card::from_bytes(&card.to_bytes().unwrap()).unwrap()
    }

    #[test]
    fn a_pin_breaking_its_rule_is_refused_and_nothing_is_written() {
        for bad in [
            typed("ABCDEF"),
            typed("AB1"),
            TypedPins {
                authentication: "12345",
                ..typed("ABC123")
            },
            TypedPins {
                support: "12a4",
                ..typed("ABC123")
            },
        ] {
            let mut card = Counting(fresh(), 0);
            card.0.mark_saved();
            let error = set_typed_pins(&mut card, &bad).unwrap_err();
            assert!(matches!(error, PersonaliseError::Rule { .. }), "{error}");
            assert_eq!(card.1, 0, "no APDU may reach the card");
            assert!(!card.0.is_dirty());
            assert!(!card.0.pins_set());
        }
    }
}
