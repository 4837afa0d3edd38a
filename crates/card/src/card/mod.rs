//! The card: its applications and files, the keys generated inside it, the four PINs
//! with their retry counters, and the security state that power cycles, resets and
//! re-selects clear. `Card::transmit` answers every command APDU as REFERENCE section 5
//! says; it never panics and never changes state on a refused command.
//!
//! This file holds the chip itself: its identifiers, the session, power, storage and
//! the dispatch of commands with SELECT. The files, the PINs, signing and the making
//! of a card are submodules.

use crate::apdu::{Command, Response, StatusWord};
use crate::issuer as protocol;
use maina_pki::KeyPair;
use serde::{Deserialize, Serialize};

mod files;
mod issuance;
mod issuer;
mod pins;
mod signing;

use files::Content;
pub use issuance::{CardError, Certificates, InitialPins, Personalisation, PublicKeys};
pub use pins::{PinSlot, PinState};

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
    /// The digests of EF 0001 and 0002 and the issuer's signature over them
    /// (*our design*, written by the issuer; see `maina_card::issuer`).
    pub const SIGNED_FACTS: u16 = 0x0003;
    pub const PIN: u16 = 0x0011;
    /// PIN-A: the My Number itself.
    pub const PIN_A: u16 = 0x0014;
}

/// Residence-information AP files (*our design*).
pub mod residence_ef {
    pub const RESIDENT_CODE: u16 = 0x0001;
    /// The address (tag `D1`, UTF-8), written by the issuer after a move.
    pub const ADDRESS: u16 = 0x0002;
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

/// The session: what is selected and which PINs are verified. Never persisted.
#[derive(Default, Clone)]
struct Session {
    app: Option<App>,
    file: Option<usize>,
    verified: Vec<PinSlot>,
    /// The last GET CHALLENGE's answer, spent by the next issuer command.
    challenge: Option<[u8; crate::issuer::CHALLENGE_LEN]>,
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

impl Card {
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
            (0x00, protocol::INS_GET_CHALLENGE) => self.get_challenge(&command),
            (protocol::CLA_ISSUER, protocol::INS_RESET_RETRY_COUNTER) => {
                self.reset_retry_counter(&command)
            }
            (protocol::CLA_ISSUER, protocol::INS_UPDATE_BINARY) => self.issuer_update(&command),
            (protocol::CLA_ISSUER, protocol::INS_GENERATE_KEY_PAIR) => {
                self.generate_key_pair(&command)
            }
            (0x00 | 0x80 | protocol::CLA_ISSUER, _) => {
                Response::status(StatusWord::INS_NOT_SUPPORTED)
            }
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
                    self.content.files.iter().position(|file| {
                        file.app == app
                            && file.fid == fid
                            && !matches!(file.body, files::FileBody::IssuerKey(_))
                    })
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
}
