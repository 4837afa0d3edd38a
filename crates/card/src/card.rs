//! The card: its applications and files, the keys generated inside it, the four PINs
//! with their retry counters, and the security state that power cycles, resets and
//! re-selects clear. `Card::transmit` answers every command APDU as REFERENCE section 5
//! says; it never panics and never changes state on a refused command.

use crate::apdu::{Command, Response, StatusWord};
use crate::tlv;
use maina_core::card::{Pin, PinKind};
use maina_pki::KeyPair;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The ATR of the real card (OpenSC's jpki driver knows it).
pub const ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

/// The applications' identifiers.
pub const AID_JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
pub const AID_SUPPORT: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
/// *Our design*: public tools only guess this AID.
pub const AID_RESIDENCE: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x01];

/// JPKI-AP files.
pub mod jpki_ef {
    pub const SIGN_CERT: u16 = 0x0001;
    pub const SIGN_CA_CERT: u16 = 0x0002;
    pub const TOKEN: u16 = 0x0006;
    pub const AUTH_CERT: u16 = 0x000A;
    pub const AUTH_CA_CERT: u16 = 0x000B;
    pub const AUTH_KEY: u16 = 0x0017;
    pub const AUTH_PIN: u16 = 0x0018;
    pub const SIGN_KEY: u16 = 0x001A;
    pub const SIGN_PIN: u16 = 0x001B;
}

/// Card-information-input-support AP files.
pub mod support_ef {
    pub const MY_NUMBER: u16 = 0x0001;
    pub const FACTS: u16 = 0x0002;
    pub const PIN: u16 = 0x0011;
    /// PIN-A: the My Number itself.
    pub const PIN_A: u16 = 0x0014;
}

/// Residence-information AP files (*our design*).
pub mod residence_ef {
    pub const RESIDENT_CODE: u16 = 0x0001;
    pub const PIN: u16 = 0x001C;
}

/// The token the JPKI application carries.
pub const JPKI_TOKEN: &[u8; 15] = b"JPKIAPICCTOKEN2";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum App {
    Jpki,
    Support,
    Residence,
}

impl App {
    fn from_aid(aid: &[u8]) -> Option<Self> {
        match aid {
            a if a == AID_JPKI => Some(Self::Jpki),
            a if a == AID_SUPPORT => Some(Self::Support),
            a if a == AID_RESIDENCE => Some(Self::Residence),
            _ => None,
        }
    }
}

/// Which PIN file: the four PINs plus PIN-A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PinSlot {
    Authentication,
    Signature,
    Residence,
    Support,
    /// The support application's PIN-A (the My Number; 12 digits).
    SupportA,
}

impl PinSlot {
    fn kind(self) -> Option<PinKind> {
        match self {
            Self::Authentication => Some(PinKind::Authentication),
            Self::Signature => Some(PinKind::Signature),
            Self::Residence => Some(PinKind::Residence),
            Self::Support => Some(PinKind::Support),
            Self::SupportA => None,
        }
    }

    fn max_tries(self) -> u8 {
        self.kind().map_or(3, PinKind::max_tries)
    }

    fn shape_ok(self, candidate: &[u8]) -> bool {
        match self.kind() {
            Some(kind) => kind.shape_ok(candidate),
            None => candidate.len() == 12 && candidate.iter().all(u8::is_ascii_digit),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::SupportA => "support-a",
            other => other.kind().map_or("", PinKind::code),
        }
    }
}

/// One PIN file: the reference value and the tries left.
#[derive(Clone, Serialize, Deserialize)]
struct PinFile {
    slot: PinSlot,
    value: Zeroizing<Vec<u8>>,
    tries_left: u8,
}

impl PinFile {
    fn new(slot: PinSlot, value: &[u8]) -> Self {
        Self {
            slot,
            value: Zeroizing::new(value.to_vec()),
            tries_left: slot.max_tries(),
        }
    }

    /// Constant-time comparison: the time taken tells nothing of how much matched.
    fn matches(&self, candidate: &[u8]) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            self.value.as_slice(),
            candidate,
        ))
    }
}

/// A file's content and who may read it.
#[derive(Clone, Serialize, Deserialize)]
enum FileBody {
    /// Readable data; `guard` names the PIN that must be verified first, if any.
    Data {
        bytes: Vec<u8>,
        guard: Vec<PinSlot>,
    },
    /// A private key (PKCS#8, never readable); signing needs `pin` verified.
    Key {
        pkcs8: Zeroizing<Vec<u8>>,
        pin: PinSlot,
    },
    Pin(PinFile),
}

#[derive(Clone, Serialize, Deserialize)]
struct File {
    app: App,
    fid: u16,
    body: FileBody,
}

/// The persistent content of a card: what survives power-off (and a restart of maina,
/// sealed in the card store).
#[derive(Clone, Serialize, Deserialize)]
struct Content {
    id: String,
    files: Vec<File>,
}

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

/// A PIN's state, for `maina card show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinState {
    pub slot: PinSlot,
    pub tries_left: u8,
    pub max_tries: u8,
}

/// The session: what is selected and which PINs are verified. Never persisted.
#[derive(Default, Clone)]
struct Session {
    app: Option<App>,
    file: Option<usize>,
    verified: Vec<PinSlot>,
}

/// A My Number card.
#[derive(Clone)]
pub struct Card {
    content: Content,
    session: Session,
    /// Keys parsed once per load (signing should not re-parse PKCS#8 each time).
    keys: Vec<(usize, KeyPair)>,
    /// Whether the persistent content changed since it was last saved.
    dirty: bool,
    powered: bool,
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

    fn from_content(content: Content) -> Result<Self, CardError> {
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

    pub fn id(&self) -> &str {
        &self.content.id
    }

    /// The persistent content, for the card store (which seals it).
    pub fn to_bytes(&self) -> Result<Vec<u8>, CardError> {
        postcard::to_stdvec(&self.content).map_err(|e| CardError::Corrupt(e.to_string()))
    }

    /// A card from its stored content, powered on with a fresh session.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CardError> {
        let content: Content =
            postcard::from_bytes(bytes).map_err(|e| CardError::Corrupt(e.to_string()))?;
        let mut card = Self::from_content(content)?;
        card.dirty = false;
        Ok(card)
    }

    /// Whether the persistent content changed (a PIN counter, a new PIN) since the last
    /// [`Card::mark_saved`].
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn mark_saved(&mut self) {
        self.dirty = false;
    }

    /// The PINs' counters.
    pub fn pin_states(&self) -> Vec<PinState> {
        self.content
            .files
            .iter()
            .filter_map(|file| match &file.body {
                FileBody::Pin(pin) => Some(PinState {
                    slot: pin.slot,
                    tries_left: pin.tries_left,
                    max_tries: pin.slot.max_tries(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Resets a blocked or forgotten PIN (done at the municipal office, outside the
    /// card's command set).
    pub fn reset_pin(&mut self, pin: &Pin) {
        let slot = match pin.kind() {
            PinKind::Authentication => PinSlot::Authentication,
            PinKind::Signature => PinSlot::Signature,
            PinKind::Residence => PinSlot::Residence,
            PinKind::Support => PinSlot::Support,
        };
        for file in &mut self.content.files {
            if let FileBody::Pin(existing) = &mut file.body {
                if existing.slot == slot {
                    *existing = PinFile::new(slot, pin.as_bytes());
                }
            }
        }
        self.session.verified.retain(|s| *s != slot);
        self.dirty = true;
    }

    /// The certificate in a JPKI file, if written (for tests and `card show`).
    pub fn jpki_file(&self, fid: u16) -> Option<&[u8]> {
        self.content.files.iter().find_map(|file| match &file.body {
            FileBody::Data { bytes, .. } if file.app == App::Jpki && file.fid == fid => {
                Some(bytes.as_slice())
            }
            _ => None,
        })
    }

    /// Power off: the session is lost.
    pub fn power_off(&mut self) {
        self.session = Session::default();
        self.powered = false;
    }

    /// Power on (or a warm reset): a fresh session; returns the ATR.
    pub fn power_on(&mut self) -> &'static [u8] {
        self.session = Session::default();
        self.powered = true;
        &ATR
    }

    /// Answers one command APDU (the bytes of the response APDU).
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.respond(apdu).to_bytes()
    }

    /// Answers one command APDU.
    pub fn respond(&mut self, apdu: &[u8]) -> Response {
        if !self.powered {
            self.power_on();
        }
        let command = match Command::parse(apdu) {
            Ok(command) => command,
            Err(status) => return Response::status(status),
        };
        match (command.cla, command.ins) {
            (0x00, 0xA4) => self.select(&command),
            (0x00, 0xB0) => self.read_binary(&command),
            (0x00, 0x20) => self.verify(&command),
            (0x00, 0x24) => self.change_reference_data(&command),
            (0x80, 0x2A) => self.sign(&command),
            (0x00 | 0x80, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, command: &Command<'_>) -> Response {
        if !matches!(command.p2, 0x00 | 0x0C) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        match command.p1 {
            // By DF name: an application. Selecting one (even the same one again)
            // clears the security state.
            0x04 => match App::from_aid(command.data) {
                Some(app) => {
                    self.session = Session {
                        app: Some(app),
                        ..Session::default()
                    };
                    Response::status(StatusWord::OK)
                }
                None => Response::status(StatusWord::FILE_NOT_FOUND),
            },
            // By file identifier, inside the selected application.
            0x02 => {
                let &[hi, lo] = command.data else {
                    return Response::status(StatusWord::WRONG_LENGTH);
                };
                let fid = u16::from_be_bytes([hi, lo]);
                let found = self.session.app.and_then(|app| {
                    self.content
                        .files
                        .iter()
                        .position(|file| file.app == app && file.fid == fid)
                });
                match found {
                    Some(index) => {
                        self.session.file = Some(index);
                        Response::status(StatusWord::OK)
                    }
                    None => Response::status(StatusWord::FILE_NOT_FOUND),
                }
            }
            // The master file.
            0x00 if command.data.is_empty() || command.data == [0x3F, 0x00] => {
                self.session = Session::default();
                Response::status(StatusWord::OK)
            }
            0x00 => Response::status(StatusWord::FILE_NOT_FOUND),
            _ => Response::status(StatusWord::WRONG_P1P2),
        }
    }

    fn current(&self) -> Option<&File> {
        self.session
            .file
            .and_then(|index| self.content.files.get(index))
    }

    fn read_binary(&mut self, command: &Command<'_>) -> Response {
        if command.p1 & 0x80 != 0 {
            // Short EF identifiers are not used by this card.
            return Response::status(StatusWord::WRONG_P1P2);
        }
        let (false, Some(le)) = (!command.data.is_empty(), command.le) else {
            return Response::status(StatusWord::WRONG_LENGTH);
        };
        let Some(file) = self.current() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let FileBody::Data { bytes, guard } = &file.body else {
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        if !guard.is_empty()
            && !guard
                .iter()
                .any(|slot| self.session.verified.contains(slot))
        {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        let offset = usize::from(u16::from_be_bytes([command.p1, command.p2]));
        match bytes.get(offset..) {
            Some(rest) if !rest.is_empty() || offset == 0 => {
                Response::ok(rest.iter().take(le).copied().collect())
            }
            _ => Response::status(StatusWord::OFFSET_OUTSIDE_FILE),
        }
    }

    /// The selected PIN file's index, for VERIFY and CHANGE REFERENCE DATA.
    fn current_pin(&self) -> Option<usize> {
        let index = self.session.file?;
        matches!(self.content.files.get(index)?.body, FileBody::Pin(_)).then_some(index)
    }

    fn verify(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if command.le.is_some() {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(index) = self.current_pin() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileBody::Pin(pin)) = self.content.files.get_mut(index).map(|f| &mut f.body)
        else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        // No data: the number of tries left, always as 63Cx.
        if command.data.is_empty() {
            return Response::status(StatusWord::tries_left(pin.tries_left));
        }
        if pin.tries_left == 0 {
            return Response::status(StatusWord::PIN_BLOCKED);
        }
        if !pin.slot.shape_ok(command.data) {
            // A PIN of the wrong shape is not compared and costs no try.
            return Response::status(StatusWord::WRONG_DATA);
        }
        let slot = pin.slot;
        if pin.matches(command.data) {
            if pin.tries_left != slot.max_tries() {
                pin.tries_left = slot.max_tries();
                self.dirty = true;
            }
            if !self.session.verified.contains(&slot) {
                self.session.verified.push(slot);
            }
            Response::status(StatusWord::OK)
        } else {
            pin.tries_left = pin.tries_left.saturating_sub(1);
            let left = pin.tries_left;
            self.dirty = true;
            self.session.verified.retain(|s| *s != slot);
            Response::status(StatusWord::tries_left(left))
        }
    }

    fn change_reference_data(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x01, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if command.data.is_empty() || command.le.is_some() {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(index) = self.current_pin() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let verified = &self.session.verified;
        let Some(FileBody::Pin(pin)) = self.content.files.get_mut(index).map(|f| &mut f.body)
        else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(kind) = pin.slot.kind() else {
            // PIN-A is the My Number: it cannot be changed.
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        if !verified.contains(&pin.slot) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        let Ok(text) = std::str::from_utf8(command.data) else {
            return Response::status(StatusWord::WRONG_DATA);
        };
        match Pin::new(kind, text) {
            Ok(new) if new.as_bytes() == command.data => {
                *pin = PinFile::new(pin.slot, new.as_bytes());
                self.dirty = true;
                Response::status(StatusWord::OK)
            }
            _ => Response::status(StatusWord::WRONG_DATA),
        }
    }

    fn sign(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if command.data.is_empty() || command.data.len() > 245 {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(index) = self.session.file else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileBody::Key { pin, .. }) = self.content.files.get(index).map(|f| &f.body) else {
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        let slot = *pin;
        if !self.session.verified.contains(&slot) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        let Some((_, key)) = self.keys.iter().find(|(i, _)| *i == index) else {
            return Response::status(StatusWord::UNKNOWN_ERROR);
        };
        match key.sign_digest_info(command.data) {
            Ok(signature) => {
                if slot == PinSlot::Signature {
                    // The signature key needs a fresh VERIFY before each signature.
                    self.session.verified.retain(|s| *s != PinSlot::Signature);
                }
                Response::ok(signature)
            }
            Err(_) => Response::status(StatusWord::WRONG_DATA),
        }
    }
}
