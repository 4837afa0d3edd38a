//! Making a card at the bureau: the holder's data, the keys generated inside the
//! card and the PINs set at the counter; then the certificates written after issuance.

use super::files::{Content, File, FileBody};
use super::pins::{PinFile, PinSlot};
use super::{jpki_ef, residence_ef, support_ef, App, Card, Session, JPKI_TOKEN};
use crate::tlv;
use maina_core::card::{Pin, PinKind};
use maina_pki::KeyPair;
use zeroize::Zeroizing;

/// The four PINs, as the resident sets them (on the counter's PIN pad).
#[derive(Clone, Copy)]
pub struct InitialPins<'a> {
    pub authentication: &'a Pin,
    pub signature: &'a Pin,
    pub residence: &'a Pin,
    pub support: &'a Pin,
}

/// What a card is made with at the card bureau (the holder's data) and, when the card
/// is made and set in one step (a demonstration card), the PINs.
pub struct Personalisation<'a> {
    pub my_number: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    /// YYYYMMDD.
    pub birth_date: &'a str,
    /// ISO 5218: "1", "2" or "9".
    pub sex: &'a str,
    pub resident_code: &'a str,
    /// `None` at the card bureau: the PIN files are made unset, and each PIN is set
    /// once, by CHANGE REFERENCE DATA with only the new value (P1 = 01), from the
    /// counter's PIN pad. Until then VERIFY answers 6984 (reference data not usable).
    pub pins: Option<InitialPins<'a>>,
    /// No signature key is made for children under 15.
    pub with_signature: bool,
}

/// Why a card cannot be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{0}")]
    Pki(#[from] maina_pki::PkiError),
    #[error("the stored card is unreadable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
}

/// The public keys generated inside a new card, for the CAs to certify.
pub struct PublicKeys {
    pub authentication: Vec<u8>,
    pub signature: Option<Vec<u8>>,
}

/// The certificates written to a card after issuance.
pub struct Certificates {
    pub authentication: Vec<u8>,
    pub authentication_ca: Vec<u8>,
    pub signature: Option<Vec<u8>>,
    pub signature_ca: Vec<u8>,
}

fn data(app: App, fid: u16, bytes: Vec<u8>, guard: Vec<PinSlot>) -> File {
    File {
        app,
        fid,
        body: FileBody::Data { bytes, guard },
    }
}

fn pin_file(app: App, fid: u16, slot: PinSlot, value: &[u8]) -> File {
    File {
        app,
        fid,
        body: FileBody::Pin(PinFile::new(slot, value)),
    }
}

impl Card {
    /// Makes a card: generates its keys inside it, writes the holder's data and sets the
    /// four PINs. Certificates are written later with [`Card::install_certificates`].
    pub fn manufacture(id: &str, p: &Personalisation<'_>) -> Result<(Self, PublicKeys), CardError> {
        if !(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(CardError::Invalid(
                "a card id is 16 hexadecimal digits".into(),
            ));
        }
        if let Some(pins) = &p.pins {
            let pairs = [
                (pins.authentication, PinKind::Authentication),
                (pins.signature, PinKind::Signature),
                (pins.residence, PinKind::Residence),
                (pins.support, PinKind::Support),
            ];
            if pairs.iter().any(|(pin, kind)| pin.kind() != *kind) {
                return Err(CardError::Invalid(
                    "each PIN must be of its own kind".into(),
                ));
            }
        }
        let value = |pin: Option<&Pin>| pin.map_or(&[][..], Pin::as_bytes).to_vec();
        let pins = p.pins;
        let auth_key = KeyPair::generate()?;
        let sign_key = if p.with_signature {
            Some(KeyPair::generate()?)
        } else {
            None
        };
        let public = PublicKeys {
            authentication: auth_key.public_key_der()?,
            signature: sign_key.as_ref().map(KeyPair::public_key_der).transpose()?,
        };
        let mut token = JPKI_TOKEN.to_vec();
        token.resize(32, b' ');
        let mut files = vec![
            data(App::Jpki, jpki_ef::TOKEN, token, vec![]),
            File {
                app: App::Jpki,
                fid: jpki_ef::AUTH_KEY,
                body: FileBody::Key {
                    pkcs8: Zeroizing::new(auth_key.to_pkcs8_der()?),
                    pin: PinSlot::Authentication,
                },
            },
            pin_file(
                App::Jpki,
                jpki_ef::AUTH_PIN,
                PinSlot::Authentication,
                &value(pins.map(|p| p.authentication)),
            ),
            pin_file(
                App::Support,
                support_ef::PIN,
                PinSlot::Support,
                &value(pins.map(|p| p.support)),
            ),
            pin_file(
                App::Support,
                support_ef::PIN_A,
                PinSlot::SupportA,
                p.my_number.as_bytes(),
            ),
            data(
                App::Support,
                support_ef::MY_NUMBER,
                tlv::encode(&[0xD0], p.my_number.as_bytes()),
                vec![PinSlot::Support, PinSlot::SupportA],
            ),
            data(
                App::Support,
                support_ef::FACTS,
                tlv::facts(p.name, p.address, p.birth_date, p.sex),
                vec![PinSlot::Support, PinSlot::SupportA],
            ),
            pin_file(
                App::Residence,
                residence_ef::PIN,
                PinSlot::Residence,
                &value(pins.map(|p| p.residence)),
            ),
            data(
                App::Residence,
                residence_ef::RESIDENT_CODE,
                tlv::encode(&[0xD0], p.resident_code.as_bytes()),
                vec![PinSlot::Residence],
            ),
        ];
        if let Some(sign_key) = &sign_key {
            files.push(File {
                app: App::Jpki,
                fid: jpki_ef::SIGN_KEY,
                body: FileBody::Key {
                    pkcs8: Zeroizing::new(sign_key.to_pkcs8_der()?),
                    pin: PinSlot::Signature,
                },
            });
        }
        // The signature password is set even when no signature certificate is issued
        // (REFERENCE section 4): the holder may ask for one later.
        files.push(pin_file(
            App::Jpki,
            jpki_ef::SIGN_PIN,
            PinSlot::Signature,
            &value(pins.map(|p| p.signature)),
        ));
        let card = Self::from_content(Content {
            id: id.to_owned(),
            files,
        })?;
        Ok((card, public))
    }

    pub(super) fn from_content(content: Content) -> Result<Self, CardError> {
        let mut keys = Vec::new();
        for (index, file) in content.files.iter().enumerate() {
            if let FileBody::Key { pkcs8, .. } = &file.body {
                keys.push((index, KeyPair::from_pkcs8_der(pkcs8)?));
            }
        }
        Ok(Self {
            content,
            session: Session::default(),
            keys,
            dirty: true,
            powered: true,
        })
    }

    /// The public keys of the keys generated inside the card (for the CAs to certify
    /// at the counter); no signature key on a card made for a child under 15.
    pub fn public_keys(&self) -> Result<PublicKeys, CardError> {
        let key_in = |fid: u16| -> Result<Option<Vec<u8>>, CardError> {
            let index = self
                .content
                .files
                .iter()
                .position(|f| f.app == App::Jpki && f.fid == fid);
            match index.and_then(|i| self.keys.iter().find(|(k, _)| *k == i)) {
                Some((_, key)) => Ok(Some(key.public_key_der()?)),
                None => Ok(None),
            }
        };
        Ok(PublicKeys {
            authentication: key_in(jpki_ef::AUTH_KEY)?
                .ok_or_else(|| CardError::Corrupt("no authentication key".into()))?,
            signature: key_in(jpki_ef::SIGN_KEY)?,
        })
    }

    /// Wipes the card's private keys (a card never collected is destroyed; its
    /// record stays, its keys can never sign again).
    pub fn wipe_keys(&mut self) {
        self.content
            .files
            .retain(|file| !matches!(file.body, FileBody::Key { .. } | FileBody::IssuerKey(_)));
        self.keys.clear();
        self.dirty = true;
    }

    /// Writes the issued certificates (the bureau's personalisation step).
    pub fn install_certificates(&mut self, certificates: Certificates) {
        // In place: removing a file would move the parsed keys' indices.
        let mut put = |fid: u16, bytes: Vec<u8>, guard: Vec<PinSlot>| {
            self.put_data(App::Jpki, fid, bytes, guard);
        };
        put(jpki_ef::AUTH_CERT, certificates.authentication, vec![]);
        put(
            jpki_ef::AUTH_CA_CERT,
            certificates.authentication_ca,
            vec![],
        );
        put(jpki_ef::SIGN_CA_CERT, certificates.signature_ca, vec![]);
        if let Some(signature) = certificates.signature {
            // The signature certificate carries the four facts: readable only after
            // the signature password.
            put(jpki_ef::SIGN_CERT, signature, vec![PinSlot::Signature]);
        }
        self.dirty = true;
    }
}
