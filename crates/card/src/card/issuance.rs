//! Making a card at the bureau: the holder's data, the keys generated inside the
//! card and the PINs set at the counter; then the certificates written after issuance.

use super::files::{Content, File, FileBody};
use super::pins::{PinFile, PinSlot};
use super::{jpki_ef, residence_ef, support_ef, App, Card, Session, JPKI_TOKEN};
use crate::tlv;
use maina_core::card::{Pin, PinKind};
use maina_pki::KeyPair;
use zeroize::Zeroizing;

/// What a card is made with at the card bureau (the holder's data) and the PINs set at
/// the counter.
pub struct Personalisation<'a> {
    pub my_number: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    /// YYYYMMDD.
    pub birth_date: &'a str,
    /// ISO 5218: "1", "2" or "9".
    pub sex: &'a str,
    pub resident_code: &'a str,
    pub auth_pin: &'a Pin,
    pub sign_pin: &'a Pin,
    pub residence_pin: &'a Pin,
    pub support_pin: &'a Pin,
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
        let pins = [
            (p.auth_pin, PinKind::Authentication),
            (p.sign_pin, PinKind::Signature),
            (p.residence_pin, PinKind::Residence),
            (p.support_pin, PinKind::Support),
        ];
        if pins.iter().any(|(pin, kind)| pin.kind() != *kind) {
            return Err(CardError::Invalid(
                "each PIN must be of its own kind".into(),
            ));
        }
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
                p.auth_pin.as_bytes(),
            ),
            pin_file(
                App::Support,
                support_ef::PIN,
                PinSlot::Support,
                p.support_pin.as_bytes(),
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
                p.residence_pin.as_bytes(),
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
            p.sign_pin.as_bytes(),
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

    /// Writes the issued certificates (the bureau's personalisation step).
    pub fn install_certificates(&mut self, certificates: Certificates) {
        let mut put = |fid: u16, bytes: Vec<u8>, guard: Vec<PinSlot>| {
            self.content
                .files
                .retain(|f| !(f.app == App::Jpki && f.fid == fid));
            self.content.files.push(data(App::Jpki, fid, bytes, guard));
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
