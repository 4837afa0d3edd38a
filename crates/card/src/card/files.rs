//! The card's files: data (with the PINs that guard reading), private keys and PIN
//! files; the persistent content they make up; READ BINARY.

use super::pins::{PinFile, PinSlot};
use super::{App, Card};
use crate::apdu::{Command, Response, StatusWord};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A file's content and who may read it.
#[derive(Clone, Serialize, Deserialize)]
pub(super) enum FileBody {
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
    /// The card's issuer key (never selectable nor readable). Added after the
    /// first cards were stored: new variants go at the end only, so stored cards
    /// still decode.
    IssuerKey(Zeroizing<Vec<u8>>),
}

#[derive(Clone, Serialize, Deserialize)]
pub(super) struct File {
    pub(super) app: App,
    pub(super) fid: u16,
    pub(super) body: FileBody,
}

/// The persistent content of a card: what survives power-off (and a restart of maina,
/// sealed in the card store).
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Content {
    pub(super) id: String,
    pub(super) files: Vec<File>,
}

impl Card {
    /// The certificate in a JPKI file, if written (for tests and `card show`).
    pub fn jpki_file(&self, fid: u16) -> Option<&[u8]> {
        self.content.files.iter().find_map(|file| match &file.body {
            FileBody::Data { bytes, .. } if file.app == App::Jpki && file.fid == fid => {
                Some(bytes.as_slice())
            }
            _ => None,
        })
    }

    fn current(&self) -> Option<&File> {
        self.session
            .file
            .and_then(|index| self.content.files.get(index))
    }

    pub(super) fn read_binary(&mut self, command: &Command<'_>) -> Response {
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
}
